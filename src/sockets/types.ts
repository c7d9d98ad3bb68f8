/**
 * Socket snapshots: what `ss -tnoi` (or `-tnoie`, `-tan -o`) and /proc/net/tcp{,6} say about each
 * TCP connection at one moment. The evidence a team has when it cannot capture packets.
 */

/** A kernel socket timer, as `ss -o` prints it (`timer:(keepalive,119min,0)`) or /proc/net/tcp's `tr:tm->when`. */
export interface SocketTimer {
  /** `on` is the retransmission timer (unacknowledged data), `keepalive` the keepalive timer, `persist` the zero-window probe. */
  readonly kind: 'on' | 'keepalive' | 'timewait' | 'persist' | 'off' | 'unknown';
  /**
   * Time left on the timer, as a range in seconds: ss rounds what it prints (whole minutes past
   * 10 min, whole seconds past 10 s), so `119min` is [7140, 7200). Both 0 when ss printed nothing
   * (the timer is due: ss prints an empty field for 0 ms).
   */
  readonly remainingSeconds: { readonly min: number; readonly max: number };
  /** The text as printed, e.g. `119min`, `9.808ms`. */
  readonly text: string;
  /** Third field: retransmissions (`on`) or unanswered keepalive probes (`keepalive`). */
  readonly count: number;
}

export type SocketSource = 'ss' | 'proc-net-tcp';

/** A socket's address as data: IPv6 without brackets or zone, lower case; parsed once, where the text is read. */
export interface SocketEndpoint {
  readonly host: string;
  readonly port: number;
  readonly ipVersion: 4 | 6;
}

/** One TCP socket in one snapshot. */
export interface SocketRow {
  /** `ESTAB`, `TIME-WAIT`, … (ss's names; /proc/net/tcp's state codes are mapped to them). */
  readonly state: string;
  /** `ip:port` (`[v6]:port`), as in the analysis report (made from `endpoints`). */
  readonly local: string;
  readonly peer: string;
  /** The two addresses as data. */
  readonly endpoints: { readonly local: SocketEndpoint; readonly peer: SocketEndpoint };
  readonly recvQ: number;
  readonly sendQ: number;
  readonly timer: SocketTimer | null;
  /** ms since the last data sent / data received / ACK received (`ss -i`); null without -i (and in /proc/net/tcp). */
  readonly lastsndMs: number | null;
  readonly lastrcvMs: number | null;
  readonly lastackMs: number | null;
  /** `retrans:a/b` (a: now outstanding, b: total) from ss -i; /proc/net/tcp's retrnsmt as `current`. */
  readonly retransCurrent: number | null;
  readonly retransTotal: number | null;
  /** Segments sent and not yet acknowledged (`unacked:` from ss -i; absent there means 0). */
  readonly unacked: number | null;
  /** `ino:` (ss -e) or /proc/net/tcp's inode; `uid:`. */
  readonly inode: number | null;
  readonly uid: number | null;
  /** 1-based line of the connection in its file. */
  readonly line: number;
}

/** One snapshot: the sockets listed under one header (one `ss` run, one /proc/net/tcp dump). */
export interface Snapshot {
  readonly source: SocketSource;
  /** µs since the epoch, from a `date` line just before it; null when there was none (or its zone is not UTC/an offset). */
  readonly micros: number | null;
  /** The `date` line as written. */
  readonly dateText: string | null;
  /** 1-based line of its header. */
  readonly line: number;
  readonly rows: readonly SocketRow[];
}

/** A line that was neither a header, a date, a socket nor its detail line. */
export interface SkippedLine {
  readonly line: number;
  readonly reason: string;
  readonly text: string;
}

export interface SocketDump {
  readonly file: string;
  readonly snapshots: readonly Snapshot[];
  readonly lines: number;
  readonly skipped: number;
  /** The first few skipped lines, with why. */
  readonly skippedSamples: readonly SkippedLine[];
}

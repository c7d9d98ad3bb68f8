import type { AppKeepalive } from './app-ping.js';
import type { SegmentTrace } from './trace.js';

/**
 * The record flowdoc keeps per TCP connection once it is finished (closed and lingered, evicted,
 * or still open at the end of the capture). Modelled on Zeek's conn.log: flat, documented,
 * JSON-serializable, with a history string and a summary state worked out once, at the end.
 */

/** Zeek's conn_state vocabulary (scripts/base/protocols/conn/main.zeek). */
export type ConnState = 'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH';

export const CONN_STATE_MEANINGS: Readonly<Record<ConnState, string>> = {
  S0: 'connection attempt seen, no reply',
  S1: 'established, not terminated',
  SF: 'normal establishment and termination',
  REJ: 'connection attempt rejected',
  S2: 'established, client sent FIN, no FIN from the server',
  S3: 'established, server sent FIN, no FIN from the client',
  RSTO: 'established, client aborted (sent RST)',
  RSTR: 'server side sent RST',
  RSTOS0: 'client sent SYN then RST, no SYN-ACK seen',
  RSTRH: 'server sent SYN-ACK then RST, no SYN seen',
  SH: 'client sent SYN then FIN, no SYN-ACK seen (half open)',
  SHR: 'server sent SYN-ACK then FIN, no SYN seen',
  OTH: 'no SYN seen: midstream traffic',
};

/**
 * History letters (Zeek's, a subset): upper case = client, lower case = server.
 * s SYN without ACK · h SYN-ACK · a pure ACK · d payload · f FIN · r RST · t retransmitted payload ·
 * w zero window · g content gap (previous segment not captured) · k keepalive probe · ^ the roles
 * were guessed (no SYN seen).
 * a, d, k appear at most once per direction; f, r, s, h repeat only with a new sequence number
 * (up to 10 times, then on a log scale: 100th, 1000th …); t, w, g repeat on a log scale (1st,
 * 10th, 100th … occurrence). So the history stays short whatever the traffic.
 */
export const HISTORY_LETTERS: Readonly<Record<string, string>> = {
  s: 'SYN without ACK', h: 'SYN-ACK', a: 'pure ACK', d: 'packet with payload', f: 'FIN', r: 'RST',
  t: 'retransmitted payload', w: 'zero window', g: 'content gap (previous segment not captured)',
  k: 'keepalive probe', '^': 'client/server roles guessed (handshake not captured)',
};

/** How the client was told from the server. */
export type RoleSource = 'syn' | 'syn-ack' | 'port-heuristic';

/** Why the connection record was handed on. */
export type EndReason = 'closed' | 'reset' | 'capture-end' | 'evicted' | 'port-reuse' | 'idle-expired' | 'attempt-expired';

/** One named oddity, with the frame where it was seen (Zeek's "weird"). */
export interface Anomaly {
  /**
   * Stable code: 'previous-segment-not-captured', 'zero-window', 'data-after-fin', 'data-after-rst', 'syn-on-open-connection',
   * 'http-head-too-long' / 'tls-hello-too-long' (read only up to the sniffer's 16 KiB), 'idle-gap-dropped' /
   * 'idle-gap-not-recorded' (idleGaps was full), …
   */
  readonly code: string;
  readonly frame: number;
}

/** A FIN or RST as it was seen. */
export interface CloseEvent {
  readonly frame: number;
  /** µs since the epoch. */
  readonly micros: number;
  /** IPv4 TTL / IPv6 hop limit of this packet. */
  readonly ttl: number;
  /** IPv4 identification (-1 for IPv6). */
  readonly ipId: number;
  /** Whether the segment carried the ACK flag (RSTs to data usually do). */
  readonly ack: boolean;
}

/** What one direction of the connection did. */
export interface EndpointStats {
  /** `ip:port`, `[v6]:port` for IPv6. */
  readonly endpoint: string;
  readonly packets: number;
  /** TCP payload bytes as the IP length says (counts bytes cut by the snap length too). */
  readonly payloadBytes: number;
  /** Segments that re-sent data already sent (Wireshark's tcp.analysis.retransmission, minus keepalives). */
  readonly retransmissions: number;
  /** Keepalive probes sent by this side (Wireshark's rule: 0/1 byte, seq = next expected − 1, no SYN/FIN/RST). */
  readonly keepaliveProbes: number;
  /** ACKs this side sent in answer to the peer's keepalive probes. */
  readonly keepaliveAcks: number;
  /** Segments announcing a zero receive window. */
  readonly zeroWindows: number;
  /** Times a segment started beyond the next expected sequence number (data missing from the capture). */
  readonly segmentsNotCaptured: number;
  /** Most common TTL / hop limit on this side's non-RST packets (null when it sent only RSTs). */
  readonly ttl: number | null;
  /** All distinct TTL / hop-limit values on its non-RST packets, ascending (at most 8 kept). */
  readonly ttls: readonly number[];
  readonly firstFin: CloseEvent | null;
  readonly firstRst: CloseEvent | null;
  /** Shortest time from the last real packet to this side's first keepalive probe (≈ its TCP_KEEPIDLE). */
  readonly keepaliveIdleSeconds: number | null;
  /** Shortest time between two of its consecutive probes (≈ TCP_KEEPINTVL; probes are answered, so usually the idle again). */
  readonly keepaliveIntervalSeconds: number | null;
  readonly rsts: number;
  readonly fins: number;
}

/**
 * A stretch with no payload and no SYN/FIN/RST in either direction that lasted at least the idle
 * threshold. Without keepalive it is simply the gap between two packets; with keepalive probes
 * (which do not end it) `maxPacketGapSeconds` says how long the link itself was silent.
 */
export interface IdleGap {
  /** Seconds from `fromFrame` to `toFrame`. */
  readonly seconds: number;
  /** Longest time between two consecutive packets inside the gap (equals `seconds` without probes). */
  readonly maxPacketGapSeconds: number;
  /** Last packet before the gap (not a keepalive). */
  readonly fromFrame: number;
  readonly fromMicros: number;
  /** First packet after it that is not a keepalive probe or keepalive ACK. */
  readonly toFrame: number;
  readonly toMicros: number;
  /** Which side sent the packet that ended the gap. */
  readonly endedBy: 'client' | 'server';
  /** Keepalive probes sent during the gap by each side, and the first probe's frame. */
  readonly clientProbes: number;
  readonly serverProbes: number;
  readonly firstProbeFrame: number | null;
  /** When the first probe of the gap was sent (µs; null without probes): its distance from `fromMicros` ≈ the sender's TCP_KEEPIDLE. */
  readonly firstProbeMicros: number | null;
  /** The last probe of the gap: the one an RST that ends the gap answers. */
  readonly lastProbeFrame: number | null;
  readonly lastProbeMicros: number | null;
  readonly lastProbeFrom: 'client' | 'server' | null;
  /** Seconds of silence on the wire just before the last probe (the packet gap it had to survive). */
  readonly lastProbeGapSeconds: number | null;
  /** Keepalive ACKs inside the gap (the peer answered a probe: the path and the peer still held the connection). */
  readonly probeAcks: number;
  /** What happened after the gap, until the server sent payload, the connection closed or the next gap. */
  readonly after: GapAftermath;
}

/** The facts about the packets after an idle gap that the incident rules need. */
export interface GapAftermath {
  /** First client payload segment after the gap (the request sent on the idle connection). */
  readonly requestFrame: number | null;
  readonly requestMicros: number | null;
  /** Retransmissions of client payload after the request, before any server payload. */
  readonly requestRetransmissions: number;
  readonly lastRetransmissionFrame: number | null;
  readonly lastRetransmissionMicros: number | null;
  /** First server payload after the gap (a response: the connection was still alive). */
  readonly replyFrame: number | null;
  /**
   * Whether the server side acknowledged every byte of the request before any RST (its ACK
   * number reached the request's end): the peer received it and may have acted on it, so a blind
   * retry of a non-idempotent request is not safe. False when nothing acknowledged it.
   */
  readonly requestAcked: boolean;
  readonly requestAckFrame: number | null;
  /** Packets the server side sent after the request (RSTs included): 0 means nothing came back. */
  readonly serverPackets: number;
  /** First RST after the gap, from either side. */
  readonly rst: (CloseEvent & { readonly from: 'client' | 'server' }) | null;
  /** First FIN after the gap, from either side. */
  readonly fin: (CloseEvent & { readonly from: 'client' | 'server' }) | null;
  /** Last packet of the aftermath window (its end: a reply, a close, the next gap or the end of the connection). */
  readonly lastFrame: number;
  readonly lastMicros: number;
}

/** What followed a side's first FIN: the other side's data after it (the keep-alive race) and the RST it drew. */
export interface AfterFin {
  readonly by: 'client' | 'server';
  readonly fin: CloseEvent;
  /** Seconds of silence (keepalives aside) before this FIN: for a server, its idle/keep-alive timeout as it acted. */
  readonly idleBeforeSeconds: number;
  /** First payload segment the OTHER side sent after this FIN. */
  readonly dataFrame: number | null;
  readonly dataMicros: number | null;
  /** Seconds between the packet before that data segment and the data segment (its idle gap). */
  readonly dataGapSeconds: number | null;
  /** Frame of the packet before that data segment. */
  readonly dataPrevFrame: number | null;
  /** First RST after that data, and who sent it. */
  readonly rst: (CloseEvent & { readonly from: 'client' | 'server' }) | null;
}

/** The connection's first RST and what was going on when it came. */
export interface RstContext {
  readonly from: 'client' | 'server';
  readonly event: CloseEvent;
  /** Frame of the oldest client payload not yet answered by server payload when the RST came (null: none pending). */
  readonly pendingRequestFrame: number | null;
  /** Seconds between the packet before the RST and the RST. */
  readonly gapBeforeSeconds: number;
  /** Index into idleGaps when this RST is in the aftermath of an idle gap. */
  readonly afterIdleGap: number | null;
}

/** An HTTP/1.x or HTTP/2 request or response, an HTTP/2 GOAWAY / RST_STREAM, or a TLS record, seen on the payload. */
export interface AppMessage {
  /** Frame of the segment where the message starts. */
  readonly frame: number;
  readonly micros: number;
  readonly kind: 'http-request' | 'http-response' | 'tls-client-hello' | 'tls-application-data' | 'h2-goaway' | 'h2-rst-stream';
  readonly method?: string;
  readonly path?: string;
  /** Host header, or HTTP/2 :authority. */
  readonly host?: string;
  readonly requestId?: string;
  readonly userAgent?: string;
  readonly status?: number;
  /** TLS ClientHello server name (never a prefix: a cut that fell inside it leaves it out, `truncated.cutIn` 'sni'). */
  readonly sni?: string;
  /** TLS ClientHello legacy_version, e.g. 'TLS 1.2' (TLS 1.3 clients send that too; their version is in an extension). */
  readonly tlsLegacyVersion?: string;
  /** TLS ClientHello: how many cipher suites it offers. */
  readonly cipherSuiteCount?: number;
  /** 'h2' for HTTP/2 messages (absent for HTTP/1.x). */
  readonly protocol?: 'h2';
  /** HTTP/2 stream of a request, response, or RST_STREAM. */
  readonly streamId?: number;
  readonly contentType?: string;
  /** gRPC `service/method` (from the path of an application/grpc request). */
  readonly grpc?: string;
  /** gRPC status from a response's trailers (or a trailers-only response). */
  readonly grpcStatus?: number;
  /** HTTP/2 GOAWAY: the last stream the sender will process; GOAWAY / RST_STREAM: the error code's name. */
  readonly lastStreamId?: number;
  readonly errorCode?: string;
  /** HTTP/2 GOAWAY / RST_STREAM: which side sent it. */
  readonly from?: 'client' | 'server';
  /** Header fields of this block that referenced HPACK entries from before the capture (unknown). */
  readonly unknownHeaderFields?: number;
  /** The snap length cut the message: what is here is only what its captured prefix held. */
  readonly truncated?: Truncation;
}

/**
 * A message cut by the capture's snap length (`tcpdump -s 96`): the segment it was read from had
 * `wireBytes` of payload on the wire (from the IP length) of which `capturedBytes` were captured.
 * `cutIn` names the field whose value is only a prefix (HTTP/1: `path` when the request line was
 * cut inside it, else the header the cut fell in; HTTP/2: the HPACK field name, e.g. `:path`;
 * TLS ClientHello: the hello field, e.g. `session-id`, `cipher-suites`, `extensions`, `sni`;
 * absent when the cut fell between fields or in a TLS record).
 */
export interface Truncation {
  readonly capturedBytes: number;
  readonly wireBytes: number;
  readonly cutIn?: string;
}

/** The application protocol of a connection, as its bytes showed it. */
export type AppProtocol = 'http/1.1' | 'h2c' | 'h2' | 'grpc' | 'tls';

/** What the HTTP/2 frames of a connection said (see docs/http2.md). */
export interface H2Summary {
  /** How HTTP/2 was recognised: the client preface, an `Upgrade: h2c` answered 101, or frames on a connection whose start was not captured. */
  readonly via: 'prior-knowledge' | 'upgrade' | 'midstream';
  /** Whether HPACK saw every header block from the connection start (false: some fields may be unknown). */
  readonly hpackFromStart: boolean;
  /** Header fields that referenced HPACK entries from before the capture (skipped, not guessed). */
  readonly unknownHeaderFields: number;
  /** Streams the client opened (HEADERS seen), and the highest stream id. */
  readonly streams: number;
  readonly highestStreamId: number;
  /** PING frames (not ACKs) sent by each side, ACKs seen, and the spread of intervals between one side's PINGs. */
  readonly pings: {
    readonly client: number;
    readonly server: number;
    readonly acks: number;
    readonly minIntervalSeconds: number | null;
    readonly maxIntervalSeconds: number | null;
    readonly firstFrame: number | null;
    readonly lastFrame: number | null;
  };
  /** The first GOAWAY (either side), and streams the client opened after the server's first GOAWAY above its last stream id (the h2 keep-alive race). */
  readonly goaway: { readonly frame: number; readonly micros: number; readonly from: 'client' | 'server'; readonly lastStreamId: number; readonly errorCode: string } | null;
  readonly streamsAfterGoaway: readonly { readonly frame: number; readonly streamId: number }[];
}

/** An address and a port as data (IPv6 without brackets, RFC 5952 text). */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface Connection {
  /** 1-based, in order of each connection's first packet in the capture. */
  readonly id: number;
  /** `ip:port` (or `[v6]:port`) of the side that opened the connection, for display; `endpoints` has them as data. */
  readonly client: string;
  readonly server: string;
  /** The two ends as data: what later stages read (never `client` / `server` parsed back). */
  readonly endpoints: { readonly client: HostPort; readonly server: HostPort };
  readonly ipVersion: 4 | 6;
  /** VLAN ids (outer first) when the packets were tagged; connections are keyed by them too. */
  readonly vlan: readonly number[];
  /** True when the handshake was not captured (roles come from a SYN-ACK or the port heuristic). */
  readonly partial: boolean;
  readonly roleSource: RoleSource;
  readonly firstMicros: number;
  readonly lastMicros: number;
  readonly firstFrame: number;
  readonly lastFrame: number;
  /** Frames of the handshake packets (null when not captured). */
  readonly synFrame: number | null;
  readonly synAckFrame: number | null;
  readonly state: ConnState;
  readonly history: string;
  readonly clientStats: EndpointStats;
  readonly serverStats: EndpointStats;
  /** Longest time between two consecutive packets, and the frame before it (0 with one packet). */
  readonly maxIdleSeconds: number;
  readonly maxIdleAfterFrame: number | null;
  /**
   * The longest quiet stretch (any length) after which a request was sent and answered with
   * payload: proof that the path still held the connection after that long. Null when none.
   */
  readonly longestSurvivedIdle: { readonly seconds: number; readonly maxPacketGapSeconds: number; readonly requestFrame: number; readonly replyFrame: number } | null;
  /**
   * The longest silence on the wire before a keepalive probe that the peer answered: the path
   * (and any NAT or load balancer on it) still held the connection after that long. Null when
   * no probe was answered.
   */
  readonly longestAnsweredProbeGap: { readonly seconds: number; readonly probeFrame: number; readonly ackFrame: number } | null;
  /**
   * Application-level keepalive: the longest steady run of small request/response exchanges after
   * quiet (Redis PING, MySQL COM_PING, HTTP/2 PING, SELECT 1, or an unrecognised small exchange) —
   * traffic that keeps middlebox state warm without being the application's work. Null when none.
   */
  readonly appKeepalive: AppKeepalive | null;
  /** Every idle gap ≥ the idle threshold, in time order. */
  readonly idleGaps: readonly IdleGap[];
  /** HTTP requests/responses and TLS records recognised (bounded: see `appMessagesDropped`). */
  readonly app: readonly AppMessage[];
  readonly appMessagesDropped: number;
  /** TLS server name from the ClientHello, when seen. */
  readonly sni: string | null;
  /** ALPN (RFC 7301): the protocols the ClientHello offered and the one the ServerHello selected. */
  readonly alpn: { readonly offered: readonly string[]; readonly selected: string | null } | null;
  /** The application protocol seen: http/1.1, h2c (cleartext HTTP/2), h2 (HTTP/2 over TLS, by ALPN), grpc, tls; null when none. */
  readonly appProtocol: AppProtocol | null;
  /** HTTP/2 frames seen on the connection (null when it was not HTTP/2 in clear text). */
  readonly h2: H2Summary | null;
  /** The first FIN of each side and what followed it (null when that side sent none). */
  readonly afterClientFin: AfterFin | null;
  readonly afterServerFin: AfterFin | null;
  /** The first RST of the connection, with context (null when none). */
  readonly firstRst: RstContext | null;
  readonly anomalies: readonly Anomaly[];
  /** Count per anomaly code (the list above is bounded; these counts are not). */
  readonly anomalyCounts: Readonly<Record<string, number>>;
  readonly endReason: EndReason;
  /** `-i any` captures show some packets twice (once per interface): copies skipped. */
  readonly duplicatesSkipped: number;
  /** Only when the table was asked to trace segments (several captures to align): the first and last segments, bounded. */
  readonly trace?: SegmentTrace;
}

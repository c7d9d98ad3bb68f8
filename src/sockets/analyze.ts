/**
 * Verdicts from socket snapshots. Per connection in the latest snapshot: its keepalive (the
 * kernel's keepalive timer shown, or not), how long it has been idle, and whether it is at risk
 * against the middlebox idle timeout — the one the user states (--lb-timeout) or, without it, the
 * known cloud defaults (KNOWN_IDLE_TIMEOUTS). Per destination: counts, the longest idle, the
 * keepalive timing the timers imply. Across snapshots: connections that vanished, and how idle
 * they were when last seen.
 *
 * Why `elapsed + remaining`: Linux's keepalive timer (net/ipv4/tcp_timer.c tcp_keepalive_timer)
 * fires when a connection has been idle for keepalive_time, idle counted from the later of the
 * last data received and the last ACK received (keepalive_time_elapsed) — `min(lastrcv, lastack)`
 * in ss -i. So `min(lastrcv, lastack) + the timer's remaining time` is the idle at which the next
 * probe goes out; it equals the keepalive time once the timer has re-armed after the last packet,
 * and is below it otherwise, so it is a lower bound of the keepalive time.
 */
import { fmtSeconds, KNOWN_IDLE_TIMEOUTS, type KnownTimeout } from '../detect/index.js';
import type { Snapshot, SocketDump, SocketEndpoint, SocketRow, SocketTimer } from './types.js';

/** Share of the timeout past which an unprotected idle connection is at risk (the remedies' margin: they keep idles under half the timeout). */
export const AT_RISK_SHARE = 0.5;
/** Linux's net.ipv4.tcp_keepalive_time default: what SO_KEEPALIVE alone gives. */
export const KERNEL_KEEPALIVE_SECONDS = 7200;

export interface SocketsOptions {
  /** --lb-timeout: for every destination, and per `ip:port` (`[v6]:port`). */
  readonly lbTimeouts?: { readonly any: number | null; readonly byServer: ReadonlyMap<string, number> };
}

export type SocketKeepalive =
  /** The keepalive timer is armed. */
  | 'on'
  /** No timer: SO_KEEPALIVE is off (ss -o shows the keepalive timer whenever it is armed and nothing else is pending). */
  | 'off'
  /** Another timer hides it (retransmission, zero-window probe) or the snapshot shows no timers at all (ss without -o). */
  | 'unknown';

export interface SocketConnection {
  readonly local: string;
  readonly peer: string;
  /** Which side this socket is: the lower port is taken as the server's (ss does not say who connected). */
  readonly role: 'client' | 'server';
  /** The server side's `ip:port`. */
  readonly destination: string;
  readonly state: string;
  readonly keepalive: SocketKeepalive;
  readonly timer: SocketTimer | null;
  /** Idle at which the next keepalive probe is due (see the module comment), [min, max) s; null when not known. */
  readonly nextProbeAtIdleSeconds: { readonly min: number; readonly max: number } | null;
  /** Since any data or ACK (min of lastsnd, lastrcv, lastack), and since any payload (min of lastsnd, lastrcv); null without ss -i. */
  readonly idleSeconds: number | null;
  readonly dataIdleSeconds: number | null;
  readonly lastsndMs: number | null;
  readonly lastrcvMs: number | null;
  readonly lastackMs: number | null;
  readonly retransmits: { readonly current: number | null; readonly total: number | null };
  readonly unacked: number | null;
  readonly sendQ: number;
  readonly recvQ: number;
  /**
   * failing: retransmitting unanswered data, or keepalive probes unanswered — the path or peer
   * already forgot it. will-fail: unprotected and idle at or past the stated timeout. at-risk:
   * unprotected and idle past half the stated timeout, or past a known default without one.
   */
  readonly level: 'failing' | 'will-fail' | 'at-risk' | null;
  readonly text: string | null;
  /** Snapshot (0-based) and line it was read from. */
  readonly snapshot: number;
  readonly line: number;
}

export interface SocketDestination {
  readonly destination: string;
  /**
   * `destination` as data, for the report's remedies. Not in the JSON (the sockets schema v1 has
   * the text only): the report's JSON renderer leaves it out.
   */
  readonly endpoint: SocketEndpoint;
  /** Whether the snapshot is the client's side of these connections or the server's. */
  readonly role: 'client' | 'server';
  readonly connections: number;
  readonly keepaliveOn: number;
  readonly keepaliveOff: number;
  readonly keepaliveUnknown: number;
  readonly longestIdleSeconds: number | null;
  /** The keepalive time the timers imply: the largest lower bound seen, [min, max) s; null when no timer tells. */
  readonly impliedKeepaliveSeconds: { readonly min: number; readonly max: number } | null;
  /** True when the implied time is Linux's 7200 s default (SO_KEEPALIVE without TCP_KEEPIDLE). */
  readonly kernelDefault: boolean;
  /** The timeout it is judged against. */
  readonly timeoutSeconds: number;
  readonly basis: 'lb-timeout' | 'known-default';
  readonly failing: number;
  readonly willFail: number;
  readonly atRisk: number;
  readonly vanished: number;
  readonly vanishedAfterLongIdle: number;
}

export interface VanishedConnection {
  readonly local: string;
  readonly peer: string;
  readonly destination: string;
  readonly keepalive: SocketKeepalive;
  /** Snapshot it was last seen in (0-based), its time, and the first snapshot without it. */
  readonly lastSeenSnapshot: number;
  readonly lastSeen: string | null;
  readonly goneBy: string | null;
  readonly idleSecondsWhenLastSeen: number | null;
  /** Idle at least half the timeout (stated) or past the shortest known default when last seen. */
  readonly afterLongIdle: boolean;
}

export interface SocketsReport {
  readonly files: readonly { readonly file: string; readonly lines: number; readonly snapshots: number; readonly skipped: number; readonly skippedSamples: SocketDump['skippedSamples'] }[];
  readonly snapshots: readonly { readonly file: string; readonly source: string; readonly time: string | null; readonly dateText: string | null; readonly line: number; readonly sockets: number; readonly established: number }[];
  readonly summary: {
    readonly connections: number;
    readonly keepaliveOff: number;
    readonly failing: number;
    readonly willFail: number;
    readonly atRisk: number;
    readonly vanished: number;
    readonly vanishedAfterLongIdle: number;
  };
  /** Established connections of the latest snapshot, most urgent first. */
  readonly connections: readonly SocketConnection[];
  readonly destinations: readonly SocketDestination[];
  readonly vanished: readonly VanishedConnection[];
  /** Known defaults consulted without --lb-timeout (the shortest is the one judged against). */
  readonly knownTimeouts: readonly KnownTimeout[];
  readonly notes: readonly string[];
}

const SHORTEST_KNOWN = Math.min(...KNOWN_IDLE_TIMEOUTS.map((k) => k.seconds));
const iso = (micros: number | null) => (micros === null ? null : new Date(Math.floor(micros / 1000)).toISOString());
const round3 = (x: number) => Math.round(x * 1000) / 1000;

function roleOf(row: SocketRow): 'client' | 'server' {
  return row.endpoints.local.port < row.endpoints.peer.port ? 'server' : 'client';
}

function minOrNull(...xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? Math.min(...v) : null;
}

function keepaliveOf(row: SocketRow, timersShown: boolean): SocketKeepalive {
  if (row.timer?.kind === 'keepalive') return 'on';
  if (row.timer && row.timer.kind !== 'off') return 'unknown';
  return timersShown ? 'off' : 'unknown';
}

function nextProbe(row: SocketRow): { min: number; max: number } | null {
  const t = row.timer;
  if (!t || t.kind !== 'keepalive' || t.count > 0 || t.remainingSeconds.max === 0) return null;
  const elapsed = minOrNull(row.lastrcvMs, row.lastackMs);
  if (elapsed === null) return null;
  return { min: round3(elapsed / 1000 + t.remainingSeconds.min), max: round3(elapsed / 1000 + t.remainingSeconds.max) };
}

function knownPassed(idle: number): KnownTimeout[] {
  return KNOWN_IDLE_TIMEOUTS.filter((k) => k.seconds <= idle);
}

function judge(row: SocketRow, c: Omit<SocketConnection, 'level' | 'text'>, timeout: number, basis: 'lb-timeout' | 'known-default'): { level: SocketConnection['level']; text: string | null } {
  const who = `${c.local} → ${c.peer}`;
  const t = row.timer;
  if (t?.kind === 'on' && t.count > 0 && (row.unacked ?? 1) > 0) {
    return { level: 'failing', text: `${who} is retransmitting (${t.count} time${t.count === 1 ? '' : 's'}, ${row.sendQ} bytes unacknowledged): the peer or the path does not answer — a request sent on a forgotten connection, failing now` };
  }
  if (t?.kind === 'keepalive' && t.count > 0) {
    return { level: 'failing', text: `${who} has ${t.count} unanswered keepalive probe${t.count === 1 ? '' : 's'}: the peer or the path has already forgotten it` };
  }
  const idle = c.idleSeconds;
  if (idle === null) return { level: null, text: null };
  const probe = c.nextProbeAtIdleSeconds;
  // Protected: its next probe comes before the box forgets it (a due timer is being sent now).
  if (c.keepalive === 'on' && ((probe !== null && probe.max <= timeout) || (probe === null && idle < timeout))) return { level: null, text: null };
  if (c.keepalive === 'unknown') return { level: null, text: null };
  const why = c.keepalive === 'off'
    ? 'no keepalive timer'
    : `keepalive too slow (next probe at ${fmtSeconds(probe?.min ?? idle)} idle${probe && Math.abs(probe.min - KERNEL_KEEPALIVE_SECONDS) <= 60 ? ', the kernel\'s 7200 s default' : ''})`;
  if (basis === 'lb-timeout') {
    if (idle >= timeout) return { level: 'will-fail', text: `${who} has been idle ${fmtSeconds(idle)}, at or past the stated load-balancer timeout of ${fmtSeconds(timeout)}; ${why}: it will fail on next use` };
    if (idle >= timeout * AT_RISK_SHARE) return { level: 'at-risk', text: `${who} has been idle ${fmtSeconds(idle)}, past half the stated load-balancer timeout of ${fmtSeconds(timeout)}; ${why}: it will be forgotten if it idles ${fmtSeconds(timeout - idle)} more` };
    return { level: null, text: null };
  }
  const passed = knownPassed(idle);
  if (!passed.length) return { level: null, text: null };
  const names = passed.slice(0, 3).map((k) => `${k.name} ${fmtSeconds(k.seconds)}`).join(', ');
  return { level: 'at-risk', text: `${who} has been idle ${fmtSeconds(idle)}, past the default idle timeout of ${names}${passed.length > 3 ? ` and ${passed.length - 3} more` : ''}; ${why}: behind any of them it fails on next use` };
}

const LEVEL_ORDER = { 'failing': 0, 'will-fail': 1, 'at-risk': 2 } as const;

export function analyzeSockets(dumps: readonly SocketDump[], options: SocketsOptions = {}): SocketsReport {
  const lb = options.lbTimeouts ?? { any: null, byServer: new Map<string, number>() };
  const timeoutFor = (dest: string): { seconds: number; basis: 'lb-timeout' | 'known-default' } => {
    const s = lb.byServer.get(dest) ?? lb.any;
    return s !== null && s !== undefined ? { seconds: s, basis: 'lb-timeout' } : { seconds: SHORTEST_KNOWN, basis: 'known-default' };
  };
  // /proc/net/tcp and /proc/net/tcp6 dumped together (`cat /proc/net/tcp /proc/net/tcp6`, or two
  // files) are two halves of one moment: a /proc dump with no date of its own joins the one before.
  const snaps: { file: string; s: Snapshot }[] = [];
  for (const d of dumps) {
    for (const s of d.snapshots) {
      const prev = snaps[snaps.length - 1];
      if (prev && prev.s.source === 'proc-net-tcp' && s.source === 'proc-net-tcp' && s.dateText === null) {
        prev.s = { ...prev.s, rows: [...prev.s.rows, ...s.rows] };
        if (prev.file !== d.file) prev.file = `${prev.file} + ${d.file}`;
        continue;
      }
      snaps.push({ file: d.file, s });
    }
  }
  const notes: string[] = [];
  // Per connection, its sightings across snapshots (key: both ends; a port reused by a new connection shows a new inode).
  const seen = new Map<string, { last: number; row: SocketRow; conn: SocketConnection }>();
  const built: SocketConnection[][] = [];
  let noTimers = 0;
  snaps.forEach(({ s }, index) => {
    const est = s.rows.filter((r) => r.state === 'ESTAB');
    // ss -o prints TIME-WAIT's timer always: one without it proves -o was not given. Otherwise a
    // snapshot without any timer is taken at its word (no keepalive anywhere), with a note.
    const timersShown = s.source === 'proc-net-tcp' || !s.rows.some((r) => r.state === 'TIME-WAIT' && r.timer === null);
    if (!s.rows.some((r) => r.timer !== null) && est.length) noTimers++;
    const conns: SocketConnection[] = [];
    for (const row of est) {
      const role = roleOf(row);
      const destination = role === 'client' ? row.peer : row.local;
      const base: Omit<SocketConnection, 'level' | 'text'> & { nextProbeAtIdleSeconds: SocketConnection['nextProbeAtIdleSeconds'] } = {
        local: row.local, peer: row.peer, role, destination, state: row.state,
        keepalive: keepaliveOf(row, timersShown), timer: row.timer, nextProbeAtIdleSeconds: nextProbe(row),
        idleSeconds: row.lastsndMs === null ? null : round3(minOrNull(row.lastsndMs, row.lastrcvMs, row.lastackMs)! / 1000),
        dataIdleSeconds: row.lastsndMs === null ? null : round3(minOrNull(row.lastsndMs, row.lastrcvMs)! / 1000),
        lastsndMs: row.lastsndMs, lastrcvMs: row.lastrcvMs, lastackMs: row.lastackMs,
        retransmits: { current: row.retransCurrent, total: row.retransTotal }, unacked: row.unacked,
        sendQ: row.sendQ, recvQ: row.recvQ, snapshot: index, line: row.line,
      };
      const key = `${row.local} ${row.peer} ${row.inode ?? ''}`;
      // A due timer (or one counting probes) says nothing of the keepalive time: an earlier sighting may.
      if (base.nextProbeAtIdleSeconds === null && base.keepalive === 'on') base.nextProbeAtIdleSeconds = seen.get(key)?.conn.nextProbeAtIdleSeconds ?? null;
      const t = timeoutFor(destination);
      const conn: SocketConnection = { ...base, ...judge(row, base, t.seconds, t.basis) };
      conns.push(conn);
      seen.set(key, { last: index, row, conn });
    }
    built.push(conns);
  });
  if (noTimers) notes.push(`${noTimers} snapshot${noTimers === 1 ? ' shows' : 's show'} no timer on any socket: no keepalive anywhere — or ss was run without -o (use ss -tnoi), and then keepalive cannot be told`);
  const lastIndex = snaps.length - 1;
  const current = lastIndex >= 0 ? built[lastIndex]! : [];
  if (current.length && current.every((c) => c.idleSeconds === null)) notes.push('No idle times in the latest snapshot (ss without -i, or /proc/net/tcp): keepalive is reported, but not how long connections have idled — use ss -tnoi for at-risk verdicts');

  // Vanished: seen in some snapshot, absent from every later one. Only the ss snapshots of the same
  // source are compared (a /proc dump does not list what ss lists in the same way).
  const vanished: VanishedConnection[] = [];
  for (const { last, conn } of seen.values()) {
    if (last === lastIndex) continue;
    const dest = conn.destination;
    const t = timeoutFor(dest);
    const idle = conn.idleSeconds;
    const long = idle !== null && (t.basis === 'lb-timeout' ? idle >= t.seconds * AT_RISK_SHARE : idle >= SHORTEST_KNOWN);
    vanished.push({
      local: conn.local, peer: conn.peer, destination: dest, keepalive: conn.keepalive,
      lastSeenSnapshot: last, lastSeen: iso(snaps[last]!.s.micros), goneBy: iso(snaps[last + 1]!.s.micros),
      idleSecondsWhenLastSeen: idle, afterLongIdle: long,
    });
  }
  vanished.sort((a, b) => a.lastSeenSnapshot - b.lastSeenSnapshot || (b.idleSecondsWhenLastSeen ?? 0) - (a.idleSecondsWhenLastSeen ?? 0));

  const byDest = new Map<string, SocketConnection[]>();
  for (const c of current) byDest.set(c.destination, [...(byDest.get(c.destination) ?? []), c]);
  // Each destination's address as data, from the row it was read from.
  const endpointOf = new Map<string, SocketEndpoint>();
  for (const { row, conn } of seen.values()) endpointOf.set(conn.destination, conn.role === 'client' ? row.endpoints.peer : row.endpoints.local);
  const destinations: SocketDestination[] = [];
  for (const [destination, cs] of byDest) {
    const t = timeoutFor(destination);
    // The largest lower bound over every sighting of its connections, in every snapshot.
    let implied: { min: number; max: number } | null = null;
    for (const conns of built) for (const c of conns) {
      if (c.destination !== destination || !c.nextProbeAtIdleSeconds) continue;
      if (!implied || c.nextProbeAtIdleSeconds.min > implied.min) implied = c.nextProbeAtIdleSeconds;
    }
    const idles = cs.map((c) => c.idleSeconds).filter((x): x is number => x !== null);
    const v = vanished.filter((x) => x.destination === destination);
    destinations.push({
      destination, endpoint: endpointOf.get(destination)!, role: cs[0]!.role, connections: cs.length,
      keepaliveOn: cs.filter((c) => c.keepalive === 'on').length,
      keepaliveOff: cs.filter((c) => c.keepalive === 'off').length,
      keepaliveUnknown: cs.filter((c) => c.keepalive === 'unknown').length,
      longestIdleSeconds: idles.length ? Math.max(...idles) : null,
      impliedKeepaliveSeconds: implied,
      kernelDefault: implied !== null && implied.min <= KERNEL_KEEPALIVE_SECONDS && implied.max >= KERNEL_KEEPALIVE_SECONDS - 60,
      timeoutSeconds: t.seconds, basis: t.basis,
      failing: cs.filter((c) => c.level === 'failing').length,
      willFail: cs.filter((c) => c.level === 'will-fail').length,
      atRisk: cs.filter((c) => c.level === 'at-risk').length,
      vanished: v.length, vanishedAfterLongIdle: v.filter((x) => x.afterLongIdle).length,
    });
  }
  const urgency = (d: SocketDestination) => d.failing * 1e6 + d.willFail * 1e3 + d.atRisk;
  destinations.sort((a, b) => urgency(b) - urgency(a) || b.keepaliveOff - a.keepaliveOff || a.destination.localeCompare(b.destination));
  const connections = [...current].sort((a, b) => (a.level ? LEVEL_ORDER[a.level] : 9) - (b.level ? LEVEL_ORDER[b.level] : 9) || (b.idleSeconds ?? -1) - (a.idleSeconds ?? -1) || a.line - b.line);

  return {
    files: dumps.map((d) => ({ file: d.file, lines: d.lines, snapshots: d.snapshots.length, skipped: d.skipped, skippedSamples: d.skippedSamples })),
    snapshots: snaps.map(({ file, s }) => ({ file, source: s.source, time: iso(s.micros), dateText: s.dateText, line: s.line, sockets: s.rows.length, established: s.rows.filter((r) => r.state === 'ESTAB').length })),
    summary: {
      connections: current.length,
      keepaliveOff: current.filter((c) => c.keepalive === 'off').length,
      failing: current.filter((c) => c.level === 'failing').length,
      willFail: current.filter((c) => c.level === 'will-fail').length,
      atRisk: current.filter((c) => c.level === 'at-risk').length,
      vanished: vanished.length,
      vanishedAfterLongIdle: vanished.filter((v) => v.afterLongIdle).length,
    },
    connections, destinations, vanished,
    knownTimeouts: lb.any === null ? KNOWN_IDLE_TIMEOUTS : [],
    notes,
  };
}

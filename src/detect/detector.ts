import { isoWithPrecision } from '../shared/time.js';
import type { AppMessage, Connection, IdleGap } from '../flows/index.js';
import { candidatesIn } from './middleboxes.js';
import type {
  Destination, Incident, IncidentKind, KeepaliveVerdict, RequestEvidence, RstEvidence, TimeoutBracket,
} from './incident.js';
import { rstOrigin } from './ttl.js';

export interface DetectOptions {
  /** Idle gaps at least this long (seconds) before a request make a stale-reuse incident possible. */
  idleThresholdSeconds: number;
  /** Decimal digits for the times in the evidence (the capture's precision). */
  precision: number;
}

/** A small per-destination aggregate: bounded, whatever the number of connections. */
interface DestinationAcc {
  server: string;
  connections: number;
  ttlCounts: Map<number, number>;
  withProbes: number;
  withoutProbes: number;
  maxIdleWithoutProbes: number;
  probeIdle: number | null;
  probeInterval: number | null;
  survived: { packetGap: number; idle: number; frame: number } | null;
  survivedPacketGap: { value: number; frame: number } | null;
  survivedIdle: { value: number; frame: number } | null;
}

interface PendingIncident {
  kind: IncidentKind;
  conn: Connection;
  gap: IdleGap | null;
  rstFrame: number | null;
  rstMicros: number | null;
  rstTtl: number | null;
  rstFromServer: boolean;
  requestFrame: number | null;
  requestMicros: number | null;
  lastBeforeFrame: number | null;
  lastBeforeMicros: number | null;
  idleSeconds: number | null;
  maxPacketGapSeconds: number | null;
  retransmissions: number;
  lastRetransmission?: number;
  gaveUp?: 'client-rst' | 'client-fin' | 'capture-end';
  serverFin?: number;
  serverFinMicros?: number;
  serverIdleBeforeFinSeconds?: number;
}

/**
 * Incident rules over finished connections. Fed one connection at a time (memory: the incidents
 * and a small aggregate per destination, never the connections); `finish()` resolves RST origins
 * against each destination's usual TTL and brackets the idle timeouts.
 */
export class Detector {
  private readonly pending: PendingIncident[] = [];
  private readonly destinations = new Map<string, DestinationAcc>();
  private readonly serverIpTtl = new Map<string, Map<number, number>>();

  constructor(private readonly options: DetectOptions) {}

  onConnection(c: Connection): void {
    this.aggregate(c);
    const thresholdMicros = this.options.idleThresholdSeconds * 1e6;
    let foundStale = false;
    for (const gap of c.idleGaps) {
      if (gap.seconds * 1e6 < thresholdMicros) continue;
      const a = gap.after;
      if (a.requestFrame === null) continue;
      // A FIN before the gap makes it a different story (reuse-after-fin), not a forgotten connection.
      // A FIN that ends the gap counts too: a server closing an idle connection is the keep-alive race.
      const finBefore = (c.clientStats.firstFin && c.clientStats.firstFin.frame <= gap.toFrame) ||
        (c.serverStats.firstFin && c.serverStats.firstFin.frame <= gap.toFrame);
      if (finBefore) continue;
      const base = {
        conn: c, gap, requestFrame: a.requestFrame, requestMicros: a.requestMicros,
        lastBeforeFrame: gap.fromFrame, lastBeforeMicros: gap.fromMicros, idleSeconds: gap.seconds,
        maxPacketGapSeconds: gap.maxPacketGapSeconds, retransmissions: a.requestRetransmissions,
      };
      const replyFirst = a.replyFrame !== null && (a.rst === null || a.replyFrame < a.rst.frame);
      if (a.rst && a.rst.from === 'server' && !replyFirst) {
        this.pending.push({ ...base, kind: 'stale-reuse-rst', rstFrame: a.rst.frame, rstMicros: a.rst.micros, rstTtl: a.rst.ttl, rstFromServer: true });
        foundStale = true;
      } else if (a.replyFrame === null && a.serverPackets === 0 && (a.requestRetransmissions > 0 || (a.rst && a.rst.from === 'client') || (a.fin && a.fin.from === 'client'))) {
        const gaveUp = a.rst && a.rst.from === 'client' ? 'client-rst' : a.fin && a.fin.from === 'client' ? 'client-fin' : 'capture-end';
        this.pending.push({
          ...base, kind: 'stale-reuse-timeout', rstFrame: null, rstMicros: null, rstTtl: null, rstFromServer: false, gaveUp,
          ...(a.lastRetransmissionFrame !== null && { lastRetransmission: a.lastRetransmissionFrame }),
        });
        foundStale = true;
      }
    }
    const sf = c.afterServerFin;
    if (sf && sf.dataFrame !== null && sf.rst && sf.rst.from === 'server') {
      this.pending.push({
        kind: 'reuse-after-fin', conn: c, gap: null, rstFrame: sf.rst.frame, rstMicros: sf.rst.micros, rstTtl: sf.rst.ttl, rstFromServer: true,
        requestFrame: sf.dataFrame, requestMicros: sf.dataMicros, lastBeforeFrame: sf.dataPrevFrame, lastBeforeMicros: null,
        idleSeconds: sf.dataGapSeconds, maxPacketGapSeconds: sf.dataGapSeconds, retransmissions: 0, serverFin: sf.fin.frame, serverFinMicros: sf.fin.micros, serverIdleBeforeFinSeconds: sf.idleBeforeSeconds,
      });
      return;
    }
    const r = c.firstRst;
    if (!foundStale && r && r.from === 'server' && r.afterIdleGap === null && r.pendingRequestFrame !== null && c.synAckFrame !== r.event.frame) {
      this.pending.push({
        kind: 'reset-in-flight', conn: c, gap: null, rstFrame: r.event.frame, rstMicros: r.event.micros, rstTtl: r.event.ttl, rstFromServer: true,
        requestFrame: r.pendingRequestFrame, requestMicros: null, lastBeforeFrame: null, lastBeforeMicros: null,
        idleSeconds: null, maxPacketGapSeconds: null, retransmissions: 0,
      });
    }
  }

  finish(): { incidents: Incident[]; destinations: Destination[] } {
    const incidents = this.pending
      .map((p) => this.resolve(p))
      .sort((a, b) => (a.frames.request ?? a.frames.rst ?? 0) - (b.frames.request ?? b.frames.rst ?? 0) || a.connection - b.connection);
    const destinations = [...this.destinations.values()]
      .map((d) => this.destination(d, incidents.filter((i) => i.server === d.server)))
      .sort((a, b) => b.incidents - a.incidents || b.connections - a.connections || a.server.localeCompare(b.server));
    return { incidents, destinations };
  }

  private aggregate(c: Connection): void {
    let d = this.destinations.get(c.server);
    if (!d) {
      d = {
        server: c.server, connections: 0, ttlCounts: new Map(), withProbes: 0, withoutProbes: 0, maxIdleWithoutProbes: 0,
        probeIdle: null, probeInterval: null, survived: null, survivedPacketGap: null, survivedIdle: null,
      };
      this.destinations.set(c.server, d);
    }
    d.connections++;
    const ttl = c.serverStats.ttl;
    if (ttl !== null) {
      d.ttlCounts.set(ttl, (d.ttlCounts.get(ttl) ?? 0) + c.serverStats.packets);
      const ip = hostOf(c.server);
      const m = this.serverIpTtl.get(ip) ?? new Map<number, number>();
      m.set(ttl, (m.get(ttl) ?? 0) + c.serverStats.packets);
      this.serverIpTtl.set(ip, m);
    }
    const probes = c.clientStats.keepaliveProbes + c.serverStats.keepaliveProbes;
    if (probes > 0) {
      d.withProbes++;
      for (const s of [c.clientStats, c.serverStats]) {
        if (s.keepaliveIdleSeconds !== null) d.probeIdle = d.probeIdle === null ? s.keepaliveIdleSeconds : Math.min(d.probeIdle, s.keepaliveIdleSeconds);
        if (s.keepaliveIntervalSeconds !== null) d.probeInterval = d.probeInterval === null ? s.keepaliveIntervalSeconds : Math.min(d.probeInterval, s.keepaliveIntervalSeconds);
      }
    } else {
      d.withoutProbes++;
      d.maxIdleWithoutProbes = Math.max(d.maxIdleWithoutProbes, c.maxIdleSeconds);
    }
    const s = c.longestSurvivedIdle;
    if (s) {
      if (!d.survivedPacketGap || s.maxPacketGapSeconds > d.survivedPacketGap.value) d.survivedPacketGap = { value: s.maxPacketGapSeconds, frame: s.requestFrame };
      if (!d.survivedIdle || s.seconds > d.survivedIdle.value) d.survivedIdle = { value: s.seconds, frame: s.requestFrame };
    }
  }

  private resolve(p: PendingIncident): Incident {
    const c = p.conn;
    const prec = this.options.precision;
    const t = (m: number | null) => (m === null ? null : isoWithPrecision(m, 0, Math.min(prec, 6)));
    let rst: RstEvidence | null = null;
    if (p.rstFrame !== null && p.rstTtl !== null) {
      const serverTtl = c.serverStats.ttl ?? mostCommon(this.serverIpTtl.get(hostOf(c.server)));
      const v = rstOrigin(p.rstTtl, serverTtl);
      rst = {
        frame: p.rstFrame, time: t(p.rstMicros)!, from: p.rstFromServer ? c.server : c.client, ttl: p.rstTtl, serverTtl,
        origin: v.origin, rstHops: v.rstHops, serverHops: v.serverHops, reason: v.reason,
      };
    }
    const request = requestEvidence(c, p.requestFrame, t);
    const frames: Incident['frames'] = {
      lastBeforeIdle: p.lastBeforeFrame, request: p.requestFrame, rst: p.rstFrame,
      ...(p.serverFin !== undefined && { serverFin: p.serverFin }),
      ...(p.lastRetransmission !== undefined && { lastRetransmission: p.lastRetransmission }),
    };
    const lastBeforeMicros = p.lastBeforeMicros;
    const incident: Incident = {
      kind: p.kind,
      connection: c.id,
      client: c.client,
      server: c.server,
      idleSeconds: p.idleSeconds === null ? null : round6(p.idleSeconds),
      maxPacketGapSeconds: p.maxPacketGapSeconds === null ? null : round6(p.maxPacketGapSeconds),
      keepaliveProbes: { client: p.gap?.clientProbes ?? 0, server: p.gap?.serverProbes ?? 0 },
      frames,
      times: {
        lastBeforeIdle: t(lastBeforeMicros), request: t(p.requestMicros) ?? (request?.time || null), rst: rst?.time ?? null,
        ...(p.serverFinMicros !== undefined && { serverFin: t(p.serverFinMicros) }),
      },
      retransmissions: p.retransmissions,
      ...(p.serverIdleBeforeFinSeconds !== undefined && { serverIdleBeforeFinSeconds: round6(p.serverIdleBeforeFinSeconds) }),
      ...(p.gaveUp !== undefined && { gaveUp: p.gaveUp }),
      request,
      rst,
      displayFilter: displayFilter(c, [p.lastBeforeFrame, p.requestFrame, p.rstFrame, p.serverFin ?? null, p.lastRetransmission ?? null]),
      history: c.history,
      summary: '',
    };
    return { ...incident, summary: summarise(incident) };
  }

  private destination(d: DestinationAcc, incidents: Incident[]): Destination {
    const byKind: Partial<Record<IncidentKind, number>> = {};
    for (const i of incidents) byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
    const keepalive = keepaliveVerdict(d);
    return {
      server: d.server,
      connections: d.connections,
      incidents: incidents.length,
      incidentsByKind: byKind,
      serverTtl: mostCommon(d.ttlCounts),
      keepalive,
      idleTimeout: bracket(d, incidents),
    };
  }
}

function keepaliveVerdict(d: DestinationAcc): KeepaliveVerdict {
  const parts: string[] = [];
  if (d.withoutProbes > 0) parts.push(`no keepalive probes on ${d.withoutProbes} connection${d.withoutProbes === 1 ? '' : 's'} with idle gaps up to ${fmtSeconds(d.maxIdleWithoutProbes)}`);
  if (d.withProbes > 0) {
    const every = d.probeInterval ?? d.probeIdle;
    parts.push(`probes on ${d.withProbes} connection${d.withProbes === 1 ? '' : 's'}${d.probeIdle !== null ? ` after ${fmtSeconds(d.probeIdle)} idle` : ''}${every !== null ? `, every ${fmtSeconds(every)}` : ''}`);
  }
  return {
    connectionsWithProbes: d.withProbes,
    connectionsWithoutProbes: d.withoutProbes,
    maxIdleWithoutProbesSeconds: round6(d.maxIdleWithoutProbes),
    probeIdleSeconds: d.probeIdle === null ? null : round6(d.probeIdle),
    probeIntervalSeconds: d.probeInterval === null ? null : round6(d.probeInterval),
    text: parts.join('; '),
  };
}

/**
 * The idle timeout of whatever forgot the connections: above the longest idle that still worked,
 * at or below the shortest that failed. A box that counts keepalive probes as activity (an L4 load
 * balancer, a NAT) is measured on packet gaps; when a failed connection had probes during its
 * gap, the box ignored them (an L7 proxy): it is measured on data silence.
 */
function bracket(d: DestinationAcc, incidents: Incident[]): TimeoutBracket | null {
  const stale = incidents.filter((i) => i.kind === 'stale-reuse-rst' || i.kind === 'stale-reuse-timeout');
  if (stale.length === 0) return null;
  const ignoredProbes = stale.some((i) => i.keepaliveProbes.client + i.keepaliveProbes.server > 0);
  const measure: TimeoutBracket['measure'] = ignoredProbes ? 'data-idle' : 'packet-gap';
  let failed: Incident | null = null;
  let failedValue = Infinity;
  for (const i of stale) {
    const v = (measure === 'packet-gap' ? i.maxPacketGapSeconds : i.idleSeconds) ?? Infinity;
    if (v < failedValue) { failedValue = v; failed = i; }
  }
  const survived = measure === 'packet-gap' ? d.survivedPacketGap : d.survivedIdle;
  const failedSeconds = failed ? round3(failedValue) : null;
  const survivedSeconds = survived ? round3(survived.value) : null;
  const consistent = survivedSeconds === null || failedSeconds === null || survivedSeconds < failedSeconds;
  const candidates = consistent ? candidatesIn(survivedSeconds, failedSeconds).map((k) => ({ name: k.name, seconds: k.seconds, note: k.note })) : [];
  let text: string;
  if (!consistent) {
    text = `inconsistent: a connection survived ${fmtSeconds(survivedSeconds!)} idle but one failed after ${fmtSeconds(failedSeconds!)} — not a single idle timer (several paths or boxes, or state lost for another reason)`;
  } else if (survivedSeconds !== null) {
    text = `idle timeout between ${fmtSeconds(survivedSeconds)} and ${fmtSeconds(failedSeconds!)}`;
  } else {
    text = `idle timeout at most ${fmtSeconds(failedSeconds!)} (no longer idle was seen to survive)`;
  }
  if (candidates.length) text += `; known defaults in range: ${candidates.slice(0, 3).map((k) => `${k.name} ${k.seconds} s`).join(', ')} (hints, not facts)`;
  if (ignoredProbes) text += '; keepalive probes did not keep it alive: the box counts only payload (an L7 proxy)';
  return {
    survivedSeconds, survivedFrame: survived?.frame ?? null, failedSeconds, failedFrame: failed?.frames.request ?? null,
    consistent, candidates, measure, text,
  };
}

function requestEvidence(c: Connection, frame: number | null, t: (m: number | null) => string | null): RequestEvidence | null {
  if (frame === null) return null;
  const m: AppMessage | undefined = c.app.find((x) => x.frame === frame && (x.kind === 'http-request' || x.kind === 'tls-application-data'));
  if (m && m.kind === 'http-request') {
    return {
      frame, time: t(m.micros)!, protocol: 'http', method: m.method!, path: m.path!,
      ...(m.host !== undefined && { host: m.host }), ...(m.requestId !== undefined && { requestId: m.requestId }),
      ...(m.userAgent !== undefined && { userAgent: m.userAgent }),
    };
  }
  if (m) return { frame, time: t(m.micros)!, protocol: 'tls', ...(c.sni ? { sni: c.sni } : {}) };
  return { frame, time: '', protocol: c.sni ? 'tls' : 'data', ...(c.sni ? { sni: c.sni } : {}) };
}

/** A Wireshark display filter for the connection's packets around the evidence. */
export function displayFilter(c: Connection, frames: (number | null)[]): string {
  const [cHost, cPort] = splitEndpoint(c.client);
  const [sHost, sPort] = splitEndpoint(c.server);
  const ip = c.ipVersion === 6 ? 'ipv6.addr' : 'ip.addr';
  const known = frames.filter((f): f is number => f !== null);
  const lo = known.length ? Math.min(...known) : c.firstFrame;
  const hi = known.length ? Math.max(...known) : c.lastFrame;
  return `${ip} == ${cHost} && ${ip} == ${sHost} && tcp.port == ${cPort} && tcp.port == ${sPort} && frame.number >= ${lo} && frame.number <= ${hi}`;
}

function summarise(i: Incident): string {
  const req = i.request?.protocol === 'http' ? `${i.request.method} ${i.request.path}` : i.request?.protocol === 'tls' ? `a TLS request${i.request.sni ? ` to ${i.request.sni}` : ''}` : 'a request';
  const idle = i.idleSeconds !== null ? fmtSeconds(i.idleSeconds) : '';
  const ka = i.keepaliveProbes.client + i.keepaliveProbes.server === 0 ? 'no keepalive probes' : `${i.keepaliveProbes.client + i.keepaliveProbes.server} keepalive probes`;
  const closer = i.rst ? hopsCloser(i.rst) : null;
  const who = i.rst ? (i.rst.origin === 'middlebox' ? `a middlebox${closer !== null ? ` ${closer} hop${closer === 1 ? '' : 's'} closer than the server` : ''}` : i.rst.origin === 'server' ? 'the server' : 'an unknown sender') : '';
  switch (i.kind) {
    case 'stale-reuse-rst':
      return `${req} on ${i.client} → ${i.server} after ${idle} idle (${ka}) was reset by ${who} (frame ${i.frames.rst}); no FIN had been seen`;
    case 'stale-reuse-timeout':
      return `${req} on ${i.client} → ${i.server} after ${idle} idle (${ka}) got no answer: ${i.retransmissions} retransmission(s), then ${i.gaveUp === 'client-rst' ? 'the client reset it' : i.gaveUp === 'client-fin' ? 'the client closed it' : 'the capture ended'}`;
    case 'reuse-after-fin':
      return `the server closed ${i.client} → ${i.server} (FIN, frame ${i.frames.serverFin}) but the client sent ${req} on it anyway; reset by ${who} (frame ${i.frames.rst})`;
    case 'reset-in-flight':
      return `${who.charAt(0).toUpperCase() + who.slice(1)} reset ${i.client} → ${i.server} (frame ${i.frames.rst}) while ${req} (frame ${i.frames.request}) was unanswered`;
  }
}

/**
 * How many hops closer than the server the RST's sender is, when both TTLs start from the same
 * initial value (otherwise the counts are not comparable and this is null).
 */
export function hopsCloser(rst: RstEvidence): number | null {
  if (rst.rstHops === null || rst.serverHops === null) return null;
  const d = rst.serverHops - rst.rstHops;
  return d > 0 && rst.ttl > (rst.serverTtl ?? 0) && rst.ttl - (rst.serverTtl ?? 0) === d ? d : null;
}

export function splitEndpoint(ep: string): [string, string] {
  const i = ep.lastIndexOf(':');
  const host = ep.slice(0, i);
  return [host.startsWith('[') ? host.slice(1, -1) : host, ep.slice(i + 1)];
}

function hostOf(ep: string): string {
  return splitEndpoint(ep)[0];
}

function mostCommon(m: Map<number, number> | undefined): number | null {
  if (!m || m.size === 0) return null;
  let best = -1, bestCount = -1;
  for (const [v, n] of m) if (n > bestCount || (n === bestCount && v > best)) { best = v; bestCount = n; }
  return best;
}

export function fmtSeconds(s: number): string {
  if (s >= 100) return `${s.toFixed(0)} s`;
  if (s >= 10) return `${s.toFixed(1)} s`;
  return `${s.toFixed(3)} s`;
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function round3(n: number): number {
  return Math.round(n * 1e3) / 1e3;
}

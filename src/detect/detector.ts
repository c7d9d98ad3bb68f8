import { isoWithPrecision } from '../shared/time.js';
import type { AppMessage, Connection, HandedOnAttempt, IdleGap } from '../flows/index.js';
import { fmtSeconds, makeBracket } from './bracket.js';
import type {
  AtRiskConnection, Destination, GoawayEvidence, Incident, IncidentKind, KeepaliveVerdict, ProbeEvidence, RequestEvidence, RetrySafety, RstEvidence, StreamEvidence, TimeoutBracket,
  HostPort,
} from './incident.js';
import { hopsFromTtl, rstOrigin } from './ttl.js';
import { sameHostPort } from './incident.js';

export interface DetectOptions {
  /** Idle gaps at least this long (seconds) before a request make a stale-reuse incident possible. */
  idleThresholdSeconds: number;
  /** Decimal digits for the times in the evidence (the capture's precision). */
  precision: number;
  /** Idle timeouts the user knows (`--lb-timeout`): for every destination, and per `ip:port`. */
  lbTimeouts?: LbTimeouts;
}

export interface LbTimeouts {
  readonly any: number | null;
  readonly byServer: ReadonlyMap<string, number>;
}

/** At most this many killed HTTP/2 streams are listed per incident (the rest are counted). */
export const MAX_INCIDENT_STREAMS = 64;

/** At most this many still-open connections are remembered for the at-risk check (the rest are counted). */
export const MAX_OPEN_AT_END = 10_000;

/** What the at-risk check needs of a connection still open when the capture ended. */
interface OpenAtEnd {
  id: number;
  /** The destination's key (`ip:port`, as destinations and --lb-timeout are keyed). */
  server: string;
  endpoints: AtRiskConnection['endpoints'];
  lastFrame: number;
  lastMicros: number;
  /** Its own probes (first-probe idle and interval, in s), when it sent any. */
  probes: AtRiskConnection['probes'];
}

/** A small per-destination aggregate: bounded, whatever the number of connections. */
interface DestinationAcc {
  server: string;
  endpoint: HostPort & { readonly ipVersion: 4 | 6 };
  connections: number;
  ttlCounts: Map<number, number>;
  withProbes: number;
  withoutProbes: number;
  maxIdleWithoutProbes: number;
  probeIdle: number | null;
  probeInterval: number | null;
  probes: number;
  probesAnswered: number;
  probesFromClient: boolean;
  probesFromServer: boolean;
  /** Connections kept warm by application pings (and no TCP probes), their kind and shortest interval. */
  withApp: number;
  appKind: string | null;
  appInterval: number | null;
  /** Longest idle gap (≥ threshold) seen at all, probes or not: enough to tell whether keepalive runs. */
  maxGap: number;
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
  lastRetransmissionMicros?: number;
  gaveUp?: 'client-rst' | 'client-fin' | 'capture-end' | 'keepalive-timeout';
  probe?: { frame: number; micros: number; side: 'client' | 'server'; idleBefore: number; packetGap: number; probes: number; answered: number };
  laterRequest?: number;
  requestAcked: boolean | null;
  requestAckFrame: number | null;
  serverFin?: number;
  serverFinMicros?: number;
  serverIdleBeforeFinSeconds?: number;
  /** reuse-after-goaway: the server's GOAWAY message. */
  goaway?: AppMessage;
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
  private readonly openAtEnd: OpenAtEnd[] = [];
  private openAtEndNotChecked = 0;
  private lastMicros = -Infinity;
  /** Destinations of attempts taken as data, by numeric key (IPv4 address × 65536 + port), and the last one used. */
  private readonly attemptDestinations = new Map<number, DestinationAcc>();
  private lastAttemptKey = -1;
  private lastAttemptDestination: DestinationAcc | null = null;

  constructor(private readonly options: DetectOptions) {}

  /** The idle timeout the user stated for this destination, if any. */
  statedTimeout(server: string): number | null {
    const t = this.options.lbTimeouts;
    return t ? t.byServer.get(server) ?? t.any : null;
  }

  onConnection(c: Connection): void {
    this.aggregate(c);
    if (c.lastMicros > this.lastMicros) this.lastMicros = c.lastMicros;
    this.rememberIfOpen(c);
    this.pending.push(...this.rules(c));
  }

  /**
   * A connection attempt taken as data (one bare IPv4 SYN, never answered; see HandedOnAttempt):
   * exactly what `onConnection` does with its record — one more connection to its destination,
   * without probes or idle gaps (no incident rule can match one packet, and no server TTL), open
   * at the end when the capture ended — without the record. Nothing allocated but the
   * destination's first time and, for attempts open at the end, the at-risk check's entry.
   */
  onAttempt(a: HandedOnAttempt): void {
    const key = a.serverV4 * 65536 + a.serverPort;
    let d = this.lastAttemptKey === key ? this.lastAttemptDestination : null;
    if (d === null) {
      d = this.attemptDestinations.get(key) ?? this.destinationFor(a.serverText(), a.serverEndpoint(), 4);
      this.attemptDestinations.set(key, d);
      this.lastAttemptKey = key;
      this.lastAttemptDestination = d;
    }
    d.connections++;
    d.withoutProbes++; // its longest idle is 0: maxIdleWithoutProbes and maxGap stay
    if (a.micros > this.lastMicros) this.lastMicros = a.micros;
    if (a.endReason !== 'capture-end') return;
    if (this.openAtEnd.length >= MAX_OPEN_AT_END) {
      this.openAtEndNotChecked++;
      return;
    }
    const endpoints = { client: a.clientEndpoint(), server: a.serverEndpoint(), ipVersion: 4 as const };
    this.openAtEnd.push({ id: a.id, server: d.server, endpoints, lastFrame: a.frame, lastMicros: a.micros, probes: null });
  }

  /**
   * The incidents a connection shows, resolved now and not remembered (`flowdoc watch` asks at the
   * moment a connection closes; the connection is fed to `onConnection` later, when it finishes).
   * The same objects `finish()` gives for it, except that an RST's origin is judged against the
   * server TTLs seen so far when the connection itself has none.
   */
  peek(c: Connection): Incident[] {
    return this.rules(c).map((p) => this.resolve(p));
  }

  /** The incident rules over one connection: what it shows, not yet resolved. */
  private rules(c: Connection): PendingIncident[] {
    const found: PendingIncident[] = [];
    const thresholdMicros = this.options.idleThresholdSeconds * 1e6;
    let foundStale = false;
    /** After a keepalive probe met an RST the connection is dead: what follows belongs to that incident. */
    let deadAfterFrame = Infinity;
    for (const gap of c.idleGaps) {
      if (gap.fromFrame >= deadAfterFrame) continue;
      const a = gap.after;
      const ka = this.keepaliveTooSlow(c, gap, thresholdMicros);
      if (ka) {
        found.push(ka);
        foundStale = true;
        deadAfterFrame = ka.rstFrame ?? gap.toFrame;
        continue;
      }
      if (gap.seconds * 1e6 < thresholdMicros) continue;
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
        requestAcked: a.requestAcked, requestAckFrame: a.requestAckFrame,
      };
      const replyFirst = a.replyFrame !== null && (a.rst === null || a.replyFrame < a.rst.frame);
      if (a.rst && a.rst.from === 'server' && !replyFirst) {
        found.push({ ...base, kind: 'stale-reuse-rst', rstFrame: a.rst.frame, rstMicros: a.rst.micros, rstTtl: a.rst.ttl, rstFromServer: true });
        foundStale = true;
      } else if (a.replyFrame === null && a.serverPackets === 0 && (a.requestRetransmissions > 0 || (a.rst && a.rst.from === 'client') || (a.fin && a.fin.from === 'client'))) {
        const gaveUp = a.rst && a.rst.from === 'client' ? 'client-rst' : a.fin && a.fin.from === 'client' ? 'client-fin' : 'capture-end';
        found.push({
          ...base, kind: 'stale-reuse-timeout', rstFrame: null, rstMicros: null, rstTtl: null, rstFromServer: false, gaveUp,
          ...(a.lastRetransmissionFrame !== null && { lastRetransmission: a.lastRetransmissionFrame }),
          ...(a.lastRetransmissionMicros !== null && { lastRetransmissionMicros: a.lastRetransmissionMicros }),
        });
        foundStale = true;
      }
    }
    const sf = c.afterServerFin;
    const race = this.reuseAfterGoaway(c);
    if (race) {
      found.push(race);
      return found;
    }
    if (sf && sf.dataFrame !== null && sf.rst && sf.rst.from === 'server') {
      found.push({
        kind: 'reuse-after-fin', conn: c, gap: null, rstFrame: sf.rst.frame, rstMicros: sf.rst.micros, rstTtl: sf.rst.ttl, rstFromServer: true,
        requestFrame: sf.dataFrame, requestMicros: sf.dataMicros, lastBeforeFrame: sf.dataPrevFrame, lastBeforeMicros: null,
        idleSeconds: sf.dataGapSeconds, maxPacketGapSeconds: sf.dataGapSeconds, retransmissions: 0, requestAcked: null, requestAckFrame: null, serverFin: sf.fin.frame, serverFinMicros: sf.fin.micros, serverIdleBeforeFinSeconds: sf.idleBeforeSeconds,
      });
      return found;
    }
    const r = c.firstRst;
    if (!foundStale && r && r.from === 'server' && r.afterIdleGap === null && r.pendingRequestFrame !== null && c.synAckFrame !== r.event.frame) {
      found.push({
        kind: 'reset-in-flight', conn: c, gap: null, rstFrame: r.event.frame, rstMicros: r.event.micros, rstTtl: r.event.ttl, rstFromServer: true,
        requestFrame: r.pendingRequestFrame, requestMicros: null, lastBeforeFrame: null, lastBeforeMicros: null,
        idleSeconds: null, maxPacketGapSeconds: null, retransmissions: 0, requestAcked: null, requestAckFrame: null,
      });
    }
    return found;
  }

  /**
   * A keepalive probe after a long silence that met an RST from the peer's direction (no FIN
   * before it), or probes the peer never answered until the prober gave up with an RST: the
   * connection had already been forgotten when keepalive finally ran.
   */
  private keepaliveTooSlow(c: Connection, gap: IdleGap, thresholdMicros: number): PendingIncident | null {
    const a = gap.after;
    if (gap.lastProbeFrame === null || gap.lastProbeFrom === null || gap.lastProbeMicros === null || gap.firstProbeMicros === null) return null;
    if (!a.rst || a.rst.frame !== gap.toFrame) return null; // the gap must end in the RST itself
    if ((gap.lastProbeGapSeconds ?? 0) * 1e6 < thresholdMicros && (gap.firstProbeMicros - gap.fromMicros) < thresholdMicros) return null;
    const finBefore = (c.clientStats.firstFin && c.clientStats.firstFin.frame <= gap.toFrame) || (c.serverStats.firstFin && c.serverStats.firstFin.frame <= gap.toFrame);
    if (finBefore) return null;
    const prober = gap.lastProbeFrom;
    const answeredByRst = a.rst.from !== prober;
    // The prober's own RST ends it only when the peer answered none of its probes (it gave up).
    if (!answeredByRst && gap.probeAcks > 0) return null;
    // Unanswered probes prove a forgotten connection only when the capture point sits on the
    // prober's side of the path (its packets travelled fewer hops than the peer's): probes from
    // the far side that reached a capture next to a silent peer say that peer went quiet instead.
    if (!answeredByRst) {
      const mine = prober === 'client' ? c.clientStats.ttl : c.serverStats.ttl;
      const theirs = prober === 'client' ? c.serverStats.ttl : c.clientStats.ttl;
      if (mine === null || theirs === null || hopsFromTtl(mine) >= hopsFromTtl(theirs)) return null;
    }
    const probes = prober === 'client' ? gap.clientProbes : gap.serverProbes;
    const later = c.anomalies.find((x) => x.code === 'data-after-rst' && x.frame > a.rst!.frame);
    return {
      kind: 'keepalive-too-slow', conn: c, gap,
      rstFrame: a.rst.frame, rstMicros: a.rst.micros, rstTtl: a.rst.ttl, rstFromServer: a.rst.from === 'server',
      requestFrame: null, requestMicros: null,
      lastBeforeFrame: gap.fromFrame, lastBeforeMicros: gap.fromMicros,
      idleSeconds: (gap.lastProbeMicros - gap.fromMicros) / 1e6,
      maxPacketGapSeconds: gap.lastProbeGapSeconds ?? gap.maxPacketGapSeconds,
      retransmissions: 0,
      ...(answeredByRst ? {} : { gaveUp: 'keepalive-timeout' as const }),
      probe: {
        frame: gap.lastProbeFrame, micros: gap.lastProbeMicros, side: prober,
        idleBefore: (gap.firstProbeMicros - gap.fromMicros) / 1e6, packetGap: gap.lastProbeGapSeconds ?? 0, probes, answered: gap.probeAcks,
      },
      ...(later && { laterRequest: later.frame }),
      requestAcked: null, requestAckFrame: null,
    };
  }

  /**
   * HTTP/2's keep-alive race: the server said GOAWAY (Envoy's idle_timeout, gRPC's
   * max_connection_idle: it will process no stream above its last stream id, then close) and the
   * client opened a stream above it anyway. The stream is lost whether the server then refuses it
   * (RST_STREAM) or its kernel resets the closed socket (RST).
   */
  private reuseAfterGoaway(c: Connection): PendingIncident | null {
    const first = c.h2?.streamsAfterGoaway[0];
    if (!first) return null;
    const goaway = c.app.find((m) => m.kind === 'h2-goaway' && m.from === 'server' && m.frame <= first.frame);
    if (!goaway) return null;
    const request = c.app.find((m) => m.kind === 'http-request' && m.frame === first.frame && m.streamId === first.streamId);
    const sf = c.afterServerFin;
    const fr = c.firstRst;
    const rst = fr && fr.from === 'server' && fr.event.frame >= first.frame ? fr.event
      : sf?.rst && sf.rst.from === 'server' && sf.rst.frame >= first.frame ? sf.rst : null;
    const finBefore = sf && sf.fin.frame <= first.frame ? sf : null;
    return {
      kind: 'reuse-after-goaway', conn: c, gap: null, rstFrame: rst?.frame ?? null, rstMicros: rst?.micros ?? null, rstTtl: rst?.ttl ?? null, rstFromServer: rst !== null,
      requestFrame: first.frame, requestMicros: request?.micros ?? null, lastBeforeFrame: goaway.frame, lastBeforeMicros: goaway.micros,
      idleSeconds: request ? (request.micros - goaway.micros) / 1e6 : null, maxPacketGapSeconds: finBefore?.dataGapSeconds ?? null,
      retransmissions: 0, requestAcked: null, requestAckFrame: null, goaway,
      ...(finBefore && { serverFin: finBefore.fin.frame, serverFinMicros: finBefore.fin.micros, serverIdleBeforeFinSeconds: finBefore.idleBeforeSeconds }),
    };
  }

  /** Connections open at the end (no FIN, no RST, handed on because the capture ended) are checked for risk in finish(). */
  private rememberIfOpen(c: Connection): void {
    if (c.endReason !== 'capture-end') return;
    const cs = c.clientStats, ss = c.serverStats;
    if (cs.firstFin || ss.firstFin || cs.firstRst || ss.firstRst) return;
    if (this.openAtEnd.length >= MAX_OPEN_AT_END) {
      this.openAtEndNotChecked++;
      return;
    }
    this.openAtEnd.push(openAtEndOf(c));
  }

  /**
   * Which of these still-open connections (snapshots) are at risk at `nowMicros`, judged as
   * `finish()` judges the ones open at the end: against the stated timeout or the brackets of the
   * connections handed on so far (`flowdoc watch`, while the stream runs).
   */
  atRiskNow(open: readonly Connection[], nowMicros: number): AtRiskConnection[] {
    const incidents = this.pending.map((p) => this.resolve(p));
    const brackets = new Map<string, TimeoutBracket | null>();
    const out: AtRiskConnection[] = [];
    for (const c of open) {
      if (!brackets.has(c.server)) {
        const d = this.destinations.get(c.server);
        brackets.set(c.server, d ? bracket(d, incidents.filter((i) => sameHostPort(i.endpoints.server, c.endpoints.server)), this.statedTimeout(c.server)) : null);
      }
      const b = brackets.get(c.server)!;
      if (b === null && this.statedTimeout(c.server) === null) continue;
      const r = this.risk(openAtEndOf(c), b, nowMicros);
      if (r) out.push(r);
    }
    return out.sort((a, b) => b.idleSeconds - a.idleSeconds || a.connection - b.connection);
  }

  /**
   * `captureEndMicros`: when the capture ended (its last packet); connections still open then are
   * checked for risk against it (default: the last packet of any connection seen).
   */
  finish(captureEndMicros?: number): { incidents: Incident[]; destinations: Destination[]; atRisk: AtRiskConnection[]; atRiskNotChecked: number } {
    const incidents = this.pending
      .map((p) => this.resolve(p))
      .sort((a, b) => (a.frames.request ?? a.frames.probe ?? a.frames.rst ?? 0) - (b.frames.request ?? b.frames.probe ?? b.frames.rst ?? 0) || a.connection - b.connection);
    const end = captureEndMicros ?? this.lastMicros;
    const atRisk: AtRiskConnection[] = [];
    const partial = [...this.destinations.values()].map((d) => {
      const mine = incidents.filter((i) => sameHostPort(i.endpoints.server, d.endpoint));
      return { d, mine, bracket: bracket(d, mine, this.statedTimeout(d.server)) };
    });
    const byServer = new Map(partial.map((x) => [x.d.server, x]));
    for (const o of this.openAtEnd) {
      const x = byServer.get(o.server);
      const r = x ? this.risk(o, x.bracket, end) : null;
      if (r) atRisk.push(r);
    }
    atRisk.sort((a, b) => b.idleSeconds - a.idleSeconds || a.connection - b.connection);
    const destinations = partial
      .map((x) => this.destination(x.d, x.mine, x.bracket, atRisk.filter((r) => sameHostPort(r.endpoints.server, x.d.endpoint)).length))
      .sort((a, b) => b.incidents - a.incidents || b.connections - a.connections || a.server.localeCompare(b.server));
    return { incidents, destinations, atRisk, atRiskNotChecked: this.openAtEndNotChecked };
  }

  /**
   * A still-open connection is at risk when its silence at the end already reaches the
   * destination's timeout (stated, else the shortest idle that failed: "will fail on next use"),
   * or passes the longest idle known to have survived. Its own keepalive protects it only when its
   * probes start before that timeout.
   */
  private risk(o: OpenAtEnd, b: TimeoutBracket | null, end: number): AtRiskConnection | null {
    const idle = Math.max(0, (end - o.lastMicros) / 1e6);
    const stated = this.statedTimeout(o.server);
    const hard = stated ?? b?.failedSeconds ?? null;
    const basisHard = stated !== null ? 'lb-timeout' : 'failed-idle';
    const soft = b && b.consistent && !b.survivedTrivial ? b.survivedSeconds : null;
    if (hard === null && soft === null) return null;
    if (o.probes !== null && hard !== null && o.probes.idleSeconds < hard) return null; // its probes come in time
    const base = { connection: o.id, endpoints: o.endpoints, lastFrame: o.lastFrame, lastMicros: o.lastMicros, checkedMicros: end, idleSeconds: round3(idle) };
    if (hard !== null && idle >= hard) return { ...base, level: 'will-fail', timeoutSeconds: hard, basis: basisHard, failSeconds: hard, probes: o.probes };
    if (soft !== null && idle > soft) return { ...base, level: 'at-risk', timeoutSeconds: soft, basis: 'survived-idle', failSeconds: hard, probes: o.probes };
    return null;
  }

  /** The aggregate of one destination (`ip:port`), made the first time it is seen. */
  private destinationFor(server: string, endpoint: HostPort, ipVersion: 4 | 6): DestinationAcc {
    let d = this.destinations.get(server);
    if (!d) {
      d = {
        server, endpoint: { ...endpoint, ipVersion }, connections: 0, ttlCounts: new Map(), withProbes: 0, withoutProbes: 0, maxIdleWithoutProbes: 0,
        probeIdle: null, probeInterval: null, probes: 0, probesAnswered: 0, probesFromClient: false, probesFromServer: false, withApp: 0, appKind: null, appInterval: null, maxGap: 0,
        survived: null, survivedPacketGap: null, survivedIdle: null,
      };
      this.destinations.set(server, d);
    }
    return d;
  }

  private aggregate(c: Connection): void {
    const d = this.destinationFor(c.server, c.endpoints.server, c.ipVersion);
    d.connections++;
    const ttl = c.serverStats.ttl;
    if (ttl !== null) {
      d.ttlCounts.set(ttl, (d.ttlCounts.get(ttl) ?? 0) + c.serverStats.packets);
      const ip = c.endpoints.server.host;
      const m = this.serverIpTtl.get(ip) ?? new Map<number, number>();
      m.set(ttl, (m.get(ttl) ?? 0) + c.serverStats.packets);
      this.serverIpTtl.set(ip, m);
    }
    const probes = c.clientStats.keepaliveProbes + c.serverStats.keepaliveProbes;
    for (const g of c.idleGaps) if (g.seconds > d.maxGap) d.maxGap = g.seconds;
    if (c.maxIdleSeconds > d.maxGap && c.maxIdleSeconds * 1e6 >= this.options.idleThresholdSeconds * 1e6) d.maxGap = c.maxIdleSeconds;
    if (probes > 0) {
      d.withProbes++;
      d.probes += probes;
      d.probesAnswered += c.clientStats.keepaliveAcks + c.serverStats.keepaliveAcks;
      if (c.clientStats.keepaliveProbes > 0) d.probesFromClient = true;
      if (c.serverStats.keepaliveProbes > 0) d.probesFromServer = true;
      for (const s of [c.clientStats, c.serverStats]) {
        if (s.keepaliveIdleSeconds !== null) d.probeIdle = d.probeIdle === null ? s.keepaliveIdleSeconds : Math.min(d.probeIdle, s.keepaliveIdleSeconds);
        if (s.keepaliveIntervalSeconds !== null) d.probeInterval = d.probeInterval === null ? s.keepaliveIntervalSeconds : Math.min(d.probeInterval, s.keepaliveIntervalSeconds);
      }
    } else if (c.appKeepalive) {
      d.withApp++;
      const a = c.appKeepalive;
      if (d.appInterval === null || a.intervalSeconds < d.appInterval) { d.appInterval = a.intervalSeconds; d.appKind = a.kind; }
    } else {
      d.withoutProbes++;
      d.maxIdleWithoutProbes = Math.max(d.maxIdleWithoutProbes, c.maxIdleSeconds);
    }
    const s = c.longestSurvivedIdle;
    if (s) {
      if (!d.survivedPacketGap || s.maxPacketGapSeconds > d.survivedPacketGap.value) d.survivedPacketGap = { value: s.maxPacketGapSeconds, frame: s.requestFrame };
      if (!d.survivedIdle || s.seconds > d.survivedIdle.value) d.survivedIdle = { value: s.seconds, frame: s.requestFrame };
    }
    // A probe the peer answered after a silence proves the path still held the connection that long
    // (on packet gaps: a box that counts probes as activity is measured on them).
    const pg = c.longestAnsweredProbeGap;
    if (pg && (!d.survivedPacketGap || pg.seconds > d.survivedPacketGap.value)) d.survivedPacketGap = { value: pg.seconds, frame: pg.probeFrame };
  }

  private resolve(p: PendingIncident): Incident {
    const c = p.conn;
    const prec = this.options.precision;
    const t = (m: number | null) => (m === null ? null : isoWithPrecision(m, 0, Math.min(prec, 6)));
    let rst: RstEvidence | null = null;
    if (p.rstFrame !== null && p.rstTtl !== null) {
      const serverTtl = c.serverStats.ttl ?? mostCommon(this.serverIpTtl.get(c.endpoints.server.host));
      const v = rstOrigin(p.rstTtl, serverTtl);
      rst = {
        frame: p.rstFrame, time: t(p.rstMicros)!, from: p.rstFromServer ? c.server : c.client, ttl: p.rstTtl, serverTtl,
        origin: v.origin, rstHops: v.rstHops, serverHops: v.serverHops,
      };
    }
    const request = requestEvidence(c, p.requestFrame, t);
    const streams = killedStreams(c, p, t);
    const goaway: GoawayEvidence | undefined = p.goaway && { frame: p.goaway.frame, time: t(p.goaway.micros)!, lastStreamId: p.goaway.lastStreamId ?? 0, errorCode: p.goaway.errorCode ?? 'NO_ERROR' };
    const frames: Incident['frames'] = {
      lastBeforeIdle: p.lastBeforeFrame, request: p.requestFrame, rst: p.rstFrame,
      ...(p.serverFin !== undefined && { serverFin: p.serverFin }),
      ...(p.lastRetransmission !== undefined && { lastRetransmission: p.lastRetransmission }),
      ...(p.probe !== undefined && { probe: p.probe.frame }),
      ...(p.laterRequest !== undefined && { laterRequest: p.laterRequest }),
      ...(goaway !== undefined && { goaway: goaway.frame }),
    };
    const probe: ProbeEvidence | undefined = p.probe && {
      frame: p.probe.frame, time: t(p.probe.micros)!, from: p.probe.side === 'client' ? c.client : c.server, side: p.probe.side,
      idleBeforeFirstProbeSeconds: round6(p.probe.idleBefore), packetGapSeconds: round6(p.probe.packetGap),
      probes: p.probe.probes, answered: p.probe.answered,
      intervalSeconds: (p.probe.side === 'client' ? c.clientStats : c.serverStats).keepaliveIntervalSeconds,
    };
    const lastBeforeMicros = p.lastBeforeMicros;
    const requestMicros = p.requestMicros ?? (p.requestFrame === null ? null : requestMessage(c, p.requestFrame)?.micros ?? null);
    const incident: Incident = {
      kind: p.kind,
      connection: c.id,
      endpoints: { client: c.endpoints.client, server: c.endpoints.server, ipVersion: c.ipVersion },
      idleSeconds: p.idleSeconds === null ? null : round6(p.idleSeconds),
      maxPacketGapSeconds: p.maxPacketGapSeconds === null ? null : round6(p.maxPacketGapSeconds),
      keepaliveProbes: { client: p.gap?.clientProbes ?? 0, server: p.gap?.serverProbes ?? 0 },
      frames,
      micros: {
        lastBeforeIdle: lastBeforeMicros, request: requestMicros, rst: p.rstMicros,
        ...(p.serverFinMicros !== undefined && { serverFin: p.serverFinMicros }),
        ...(p.lastRetransmissionMicros !== undefined && { lastRetransmission: p.lastRetransmissionMicros }),
      },
      retransmissions: p.retransmissions,
      ...(p.serverIdleBeforeFinSeconds !== undefined && { serverIdleBeforeFinSeconds: round6(p.serverIdleBeforeFinSeconds) }),
      ...(p.gaveUp !== undefined && { gaveUp: p.gaveUp }),
      ...(probe !== undefined && { probe }),
      ...(streams && { streams: streams.listed, ...(streams.notListed > 0 && { streamsNotListed: streams.notListed }) }),
      ...(goaway !== undefined && { goaway }),
      retry: retrySafety(p, request),
      request,
      rst,
      history: c.history,
    };
    return incident;
  }

  private destination(d: DestinationAcc, incidents: Incident[], idleTimeout: TimeoutBracket | null, atRisk: number): Destination {
    const byKind: Partial<Record<IncidentKind, number>> = {};
    for (const i of incidents) byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
    const keepalive = keepaliveVerdict(d, incidents, idleTimeout, this.statedTimeout(d.server), this.options.idleThresholdSeconds);
    return {
      server: d.server,
      endpoint: d.endpoint,
      connections: d.connections,
      incidents: incidents.length,
      incidentsByKind: byKind,
      serverTtl: mostCommon(d.ttlCounts),
      keepalive,
      idleTimeout,
      atRisk,
    };
  }
}

/** What the at-risk check keeps of a connection still open. */
function openAtEndOf(c: Connection): OpenAtEnd {
  const cs = c.clientStats, ss = c.serverStats;
  const idle = [cs.keepaliveIdleSeconds, ss.keepaliveIdleSeconds].filter((x): x is number => x !== null);
  const every = [cs.keepaliveIntervalSeconds, ss.keepaliveIntervalSeconds].filter((x): x is number => x !== null);
  const probes = idle.length ? { idleSeconds: Math.min(...idle), intervalSeconds: every.length ? Math.min(...every) : null } : null;
  return { id: c.id, server: c.server, endpoints: { ...c.endpoints, ipVersion: c.ipVersion }, lastFrame: c.lastFrame, lastMicros: c.lastMicros, probes };
}

/** RFC 9110 §9.2.2: methods whose repetition has the same effect as one request. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

function retrySafety(p: PendingIncident, request: RequestEvidence | null): RetrySafety {
  const method = request?.protocol === 'http' ? request.method ?? null : null;
  const idempotent = method === null ? null : IDEMPOTENT.has(method.toUpperCase());
  // A keepalive probe found the connection dead: no request was lost with it.
  if (p.kind === 'keepalive-too-slow' && p.requestFrame === null) return { requestAcked: null, ackFrame: null, method: null, idempotent: null, safe: true };
  // GOAWAY promised the stream would not be processed (RFC 9113 §6.8).
  if (p.kind === 'reuse-after-goaway') return { requestAcked: null, ackFrame: null, method, idempotent, safe: true };
  // The server had closed (FIN): its application never read the request.
  if (p.kind === 'reuse-after-fin') return { requestAcked: false, ackFrame: null, method, idempotent, safe: true };
  if (p.requestAcked === null) return { requestAcked: null, ackFrame: null, method, idempotent, safe: idempotent === true ? true : null };
  if (!p.requestAcked) return { requestAcked: false, ackFrame: null, method, idempotent, safe: true };
  const safe = idempotent === true ? true : idempotent === false ? false : null;
  return { requestAcked: true, ackFrame: p.requestAckFrame, method, idempotent, safe };
}

function keepaliveVerdict(d: DestinationAcc, incidents: readonly Incident[], b: TimeoutBracket | null, stated: number | null, threshold: number): KeepaliveVerdict {
  const parts: string[] = [];
  if (d.withoutProbes > 0) parts.push(`no keepalive probes on ${d.withoutProbes} connection${d.withoutProbes === 1 ? '' : 's'} with idle gaps up to ${fmtSeconds(d.maxIdleWithoutProbes)}`);
  if (d.withProbes > 0) {
    const every = d.probeInterval ?? d.probeIdle;
    parts.push(`probes on ${d.withProbes} connection${d.withProbes === 1 ? '' : 's'}${d.probeIdle !== null ? ` after ${fmtSeconds(d.probeIdle)} idle` : ''}${every !== null ? `, every ${fmtSeconds(every)}` : ''}`);
  }
  const tooSlow = incidents.filter((i) => i.kind === 'keepalive-too-slow');
  const limit = stated ?? b?.failedSeconds ?? null;
  const limitText = stated !== null ? `the stated load-balancer timeout ${fmtSeconds(stated)}` : limit !== null ? `the ${fmtSeconds(limit)} after which a connection to it was forgotten` : '';
  let verdict: KeepaliveVerdict['verdict'];
  let head: string;
  if (tooSlow.length > 0) {
    verdict = 'too-slow';
    const p = tooSlow[0]!.probe!;
    head = `too slow: keepalive is on but its first probe comes after ${fmtSeconds(p.idleBeforeFirstProbeSeconds)} idle; ${tooSlow.length} probe${tooSlow.length === 1 ? '' : 's'} met a forgotten connection (first: frame ${p.frame})`;
  } else if (d.withProbes > 0 && d.probeIdle !== null && limit !== null && d.probeIdle >= limit) {
    verdict = 'too-slow';
    head = `too slow: probes start after ${fmtSeconds(d.probeIdle)} idle, not before ${limitText}`;
  } else if (d.withProbes === 0 && d.withApp > 0 && d.appInterval !== null && limit !== null && d.appInterval >= limit) {
    verdict = 'too-slow';
    head = `too slow: application pings (${d.appKind}) every ${fmtSeconds(d.appInterval)}, not before ${limitText}`;
  } else if (d.withProbes > 0) {
    verdict = 'on';
    const every = d.probeInterval ?? d.probeIdle;
    head = `on (${every !== null ? `every ${fmtSeconds(every)} ` : ''}after ${d.probeIdle !== null ? fmtSeconds(d.probeIdle) : '?'} idle${limit !== null ? `, before ${limitText}` : ''})`;
  } else if (d.withApp > 0 && d.appInterval !== null) {
    verdict = 'app-level';
    head = `app-level (${d.appKind} every ${fmtSeconds(d.appInterval)} on ${d.withApp} connection${d.withApp === 1 ? '' : 's'}${limit !== null ? `, before ${limitText}` : ''})`;
  } else if (d.maxGap >= threshold && d.withoutProbes > 0) {
    verdict = 'off';
    head = 'off';
  } else {
    verdict = 'unknown';
    head = `unknown: no idle gap of ${fmtSeconds(threshold)} or more to tell`;
  }
  const probesFrom: ('client' | 'server')[] = [];
  if (d.probesFromClient) probesFrom.push('client');
  if (d.probesFromServer) probesFrom.push('server');
  return {
    connectionsWithProbes: d.withProbes,
    connectionsWithoutProbes: d.withoutProbes,
    maxIdleWithoutProbesSeconds: round6(d.maxIdleWithoutProbes),
    probeIdleSeconds: d.probeIdle === null ? null : round6(d.probeIdle),
    probeIntervalSeconds: d.probeInterval === null ? null : round6(d.probeInterval),
    verdict,
    probesFrom,
    probes: d.probes,
    probesAnswered: d.probesAnswered,
    appLevel: d.withApp > 0 && d.appInterval !== null ? { kind: d.appKind!, intervalSeconds: round6(d.appInterval), connections: d.withApp } : null,
    text: verdict === 'off' ? `off: ${parts.join('; ')}` : [head, ...parts].join('; '),
  };
}

/**
 * The idle timeout of whatever forgot the connections: above the longest idle that still worked,
 * at or below the shortest that failed (see bracket.ts). A box that counts keepalive probes as
 * activity (an L4 load balancer, a NAT) is measured on packet gaps — a probe it answered counts
 * as a survival, a probe it met with an RST as a failure; when a failed request's gap had probes
 * the box ignored them (an L7 proxy): it is measured on data silence.
 */
function bracket(d: DestinationAcc, incidents: readonly Incident[], stated: number | null): TimeoutBracket | null {
  const stale = incidents.filter((i) => i.kind === 'stale-reuse-rst' || i.kind === 'stale-reuse-timeout' || i.kind === 'keepalive-too-slow');
  if (stale.length === 0) return null;
  const ignoredProbes = stale.some((i) => i.kind !== 'keepalive-too-slow' && i.keepaliveProbes.client + i.keepaliveProbes.server > 0);
  const measure: TimeoutBracket['measure'] = ignoredProbes ? 'data-idle' : 'packet-gap';
  let failed: Incident | null = null;
  let failedValue = Infinity;
  for (const i of stale) {
    if (measure === 'data-idle' && i.kind === 'keepalive-too-slow') continue;
    const v = (measure === 'packet-gap' ? i.maxPacketGapSeconds : i.idleSeconds) ?? Infinity;
    if (v < failedValue) { failedValue = v; failed = i; }
  }
  if (!failed) return null;
  const survived = measure === 'packet-gap' ? d.survivedPacketGap : d.survivedIdle;
  const b = makeBracket({
    failedSeconds: round3(failedValue), failedFrame: failed.frames.request ?? failed.frames.probe ?? null,
    survivedSeconds: survived ? round3(survived.value) : null, survivedFrame: survived?.frame ?? null,
    measure, statedSeconds: stated,
  });
  const text = ignoredProbes ? `${b.text}; keepalive probes did not keep it alive: the box counts only payload (an L7 proxy)` : b.text;
  return { ...b, text };
}

/**
 * The HTTP/2 streams an incident killed: every request the client opened from the incident's
 * request up to the RST (or the end: silence), left without a response before it; for
 * reuse-after-goaway only the streams above the GOAWAY's last stream id. Null when the
 * connection is not HTTP/2 in clear text.
 */
function killedStreams(c: Connection, p: PendingIncident, t: (m: number | null) => string | null): { listed: StreamEvidence[]; notListed: number } | null {
  if (c.h2 === null || p.requestFrame === null) return null;
  const from = p.requestFrame;
  const until = p.rstFrame ?? Infinity;
  const above = p.goaway ? p.goaway.lastStreamId ?? 0 : -1;
  const answered = new Set<number>();
  for (const m of c.app) if (m.kind === 'http-response' && m.protocol === 'h2' && m.frame <= until && m.streamId !== undefined) answered.add(m.streamId);
  const listed: StreamEvidence[] = [];
  let notListed = 0;
  for (const m of c.app) {
    if (m.kind !== 'http-request' || m.protocol !== 'h2' || m.streamId === undefined || m.frame < from || m.frame > until) continue;
    if (answered.has(m.streamId) || m.streamId <= above) continue;
    if (listed.length >= MAX_INCIDENT_STREAMS) { notListed++; continue; }
    listed.push({
      streamId: m.streamId, frame: m.frame, time: t(m.micros)!, method: m.method ?? '?', path: m.path ?? '?',
      ...(m.host !== undefined && { authority: m.host }), ...(m.requestId !== undefined && { requestId: m.requestId }), ...(m.grpc !== undefined && { grpc: m.grpc }),
      ...(m.truncated !== undefined && { truncated: m.truncated }),
    });
  }
  return { listed, notListed };
}

/** The request the application sent in `frame` (an HTTP head or TLS application data), if sniffed. */
function requestMessage(c: Connection, frame: number): AppMessage | undefined {
  return c.app.find((x) => x.frame === frame && (x.kind === 'http-request' || x.kind === 'tls-application-data'));
}

function requestEvidence(c: Connection, frame: number | null, t: (m: number | null) => string | null): RequestEvidence | null {
  if (frame === null) return null;
  const m = requestMessage(c, frame);
  if (m && m.kind === 'http-request') {
    return {
      frame, time: t(m.micros)!, protocol: 'http', method: m.method!, path: m.path!,
      ...(m.host !== undefined && { host: m.host }), ...(m.requestId !== undefined && { requestId: m.requestId }),
      ...(m.userAgent !== undefined && { userAgent: m.userAgent }),
      ...(m.streamId !== undefined && { streamId: m.streamId }), ...(m.grpc !== undefined && { grpc: m.grpc }),
      ...(m.truncated !== undefined && { truncated: m.truncated }),
    };
  }
  if (m) return { frame, time: t(m.micros)!, protocol: 'tls', ...(c.sni ? { sni: c.sni } : {}), ...(m.truncated !== undefined && { truncated: m.truncated }) };
  return { frame, time: '', protocol: c.sni ? 'tls' : 'data', ...(c.sni ? { sni: c.sni } : {}) };
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


function mostCommon(m: Map<number, number> | undefined): number | null {
  if (!m || m.size === 0) return null;
  let best = -1, bestCount = -1;
  for (const [v, n] of m) if (n > bestCount || (n === bestCount && v > best)) { best = v; bestCount = n; }
  return best;
}


function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function round3(n: number): number {
  return Math.round(n * 1e3) / 1e3;
}

/** What flowdoc found: incidents (failed requests with their cause) and per-destination verdicts. */
import type { Truncation } from '../flows/index.js';

export type IncidentKind = 'stale-reuse-rst' | 'stale-reuse-timeout' | 'keepalive-too-slow' | 'reuse-after-fin' | 'reuse-after-goaway' | 'reset-in-flight';

export const INCIDENT_KIND_MEANINGS: Readonly<Record<IncidentKind, string>> = {
  'stale-reuse-rst': 'a request sent on a connection idle past a middlebox timeout was answered with an RST (no FIN before it)',
  'stale-reuse-timeout': 'a request sent on a connection idle past a middlebox timeout was never answered (silently dropped: retransmissions, then the client gave up)',
  'keepalive-too-slow': 'TCP keepalive was on but its first probe came only after the connection had idled past a middlebox timeout: the probe was answered with an RST (no FIN before it), or never answered',
  'reuse-after-fin': 'the server had closed the idle connection (FIN) and the client sent a request on it anyway (keep-alive race): the server reset it',
  'reuse-after-goaway': 'HTTP/2: the server had said GOAWAY (it would process no stream above its last stream id, then close) and the client opened a new stream on the connection anyway — the h2 form of the keep-alive race, reuse-after-fin\'s sibling',
  'reset-in-flight': 'the server side reset the connection while a request was outstanding (not after idle)',
};

export type RstOrigin = 'server' | 'middlebox' | 'unknown';

export interface RstEvidence {
  readonly frame: number;
  /** ISO-8601 UTC time of the RST. */
  readonly time: string;
  /** `ip:port` the RST came from (the server's address, even when a middlebox forged it). */
  readonly from: string;
  readonly ttl: number;
  /** The server's usual TTL (its non-RST packets on this connection, else on its other connections); null when never seen. */
  readonly serverTtl: number | null;
  readonly origin: RstOrigin;
  /** Hops between the capture point and the RST's sender, and the server, inferred from TTLs (null when unknown). */
  readonly rstHops: number | null;
  readonly serverHops: number | null;
  // No sentence here: report words why (report/evidence-text.ts `rstReason`, the JSON `reason`).
}

export interface RequestEvidence {
  readonly frame: number;
  readonly time: string;
  /** 'http' with method/path/…, 'tls' (encrypted application data, SNI when the ClientHello was seen), or 'data' (unrecognised payload). */
  readonly protocol: 'http' | 'tls' | 'data';
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly requestId?: string;
  readonly userAgent?: string;
  readonly sni?: string;
  /** HTTP/2: the stream the request was sent on (absent for HTTP/1.x). */
  readonly streamId?: number;
  /** gRPC `service/method`. */
  readonly grpc?: string;
  /**
   * The capture's snap length cut the request (`tcpdump -s 96`): the fields above are what the
   * captured prefix held (HTTP/1 method and path prefix, HTTP/2 stream and what HPACK gave, the
   * TLS record type), with the captured and wire lengths of the segment.
   */
  readonly truncated?: Truncation;
}

/**
 * An HTTP/2 stream an incident killed: opened on the connection after the idle gap (or after the
 * server's GOAWAY) and never answered before the RST or silence. Each is one failed request —
 * one 503 UC line in the client sidecar's access log.
 */
export interface StreamEvidence {
  readonly streamId: number;
  /** Frame of the segment that carried the stream's HEADERS. */
  readonly frame: number;
  readonly time: string;
  readonly method: string;
  readonly path: string;
  /** :authority. */
  readonly authority?: string;
  readonly requestId?: string;
  readonly grpc?: string;
  /** The snap length cut the stream's HEADERS: method and path are what its captured prefix held ('?' when not captured). */
  readonly truncated?: Truncation;
}

/** reuse-after-goaway: the server's GOAWAY that came before the new stream. */
export interface GoawayEvidence {
  readonly frame: number;
  readonly time: string;
  /** The highest stream the server said it would still process. */
  readonly lastStreamId: number;
  /** The error code's name (NO_ERROR for a graceful close, ENHANCE_YOUR_CALM for gRPC's too_many_pings). */
  readonly errorCode: string;
}

/** keepalive-too-slow: the probe that found the connection already forgotten. */
export interface ProbeEvidence {
  readonly frame: number;
  readonly time: string;
  /** `ip:port` of the side that sent the probes. */
  readonly from: string;
  readonly side: 'client' | 'server';
  /** Seconds from the last real packet to the first probe of the gap (≈ the sender's TCP_KEEPIDLE / tcp_keepalive_time). */
  readonly idleBeforeFirstProbeSeconds: number;
  /** Silence on the wire before this probe (what the middlebox had to remember across). */
  readonly packetGapSeconds: number;
  /** Probes sent in the gap, and how many the peer answered with an ACK. */
  readonly probes: number;
  readonly answered: number;
  /**
   * The sender's keepalive interval (TCP_KEEPINTVL), its shortest gap between probes on this
   * connection; null when it sent one probe. What the figures imply about its configuration is
   * worded by report (`probeImplies`, the JSON `implies`); the v2 JSON carries only that wording.
   */
  readonly intervalSeconds: number | null;
}

/**
 * Whether the failed request can be retried blindly. When the peer acknowledged its bytes before
 * the RST, the server side received it and may have acted on it: retrying a non-idempotent
 * request (POST, PATCH) could do it twice. When nothing acknowledged it, a middlebox or a dead
 * connection swallowed it: a retry on a new connection is safe.
 */
export interface RetrySafety {
  /** True/false when the capture shows it; null when there was no request to judge. */
  readonly requestAcked: boolean | null;
  readonly ackFrame: number | null;
  readonly method: string | null;
  /** RFC 9110 §9.2.2 idempotent methods; null when the method is unknown (TLS, raw data). */
  readonly idempotent: boolean | null;
  /** Safe to retry on a new connection (null: cannot tell). */
  readonly safe: boolean | null;
  // No sentence here: report words it from these fields and the incident's kind, frames and GOAWAY (`retryText`, the JSON `text`).
}

import type { HostPort } from '../flows/index.js';
export type { HostPort };

/**
 * Whether two ends are the same (an incident's server and a destination's `endpoint`), compared
 * as data, not as their text: an IPv4 and an IPv6 host never spell alike, so host and port decide.
 */
export function sameHostPort(a: HostPort, b: HostPort): boolean {
  return a.port === b.port && a.host === b.host;
}

export interface Incident {
  readonly kind: IncidentKind;
  /** Id of the connection (as in `flowdoc flows`). */
  readonly connection: number;
  /** The two ends as data; the report writes them (`10.0.0.1:80`, `[2001:db8::1]:443`). */
  readonly endpoints: { readonly client: HostPort; readonly server: HostPort; readonly ipVersion: 4 | 6 };
  /** Silence before the request, in seconds (null for reset-in-flight when no gap applies). */
  readonly idleSeconds: number | null;
  /** Longest silence between two packets within it (smaller than idleSeconds only when keepalive probes were sent). */
  readonly maxPacketGapSeconds: number | null;
  /** Keepalive probes sent during the idle gap by each side: none from both ⇒ keepalive was off. */
  readonly keepaliveProbes: { readonly client: number; readonly server: number };
  /** Key frames, 1-based as Wireshark numbers them. */
  readonly frames: {
    /** Last packet before the idle gap. */
    readonly lastBeforeIdle: number | null;
    /** The request sent after the gap. */
    readonly request: number | null;
    readonly rst: number | null;
    /** For reuse-after-fin: the server's FIN that came before the request. */
    readonly serverFin?: number;
    /** For stale-reuse-timeout: the last retransmission of the request seen. */
    readonly lastRetransmission?: number;
    /** For keepalive-too-slow: the probe the RST answered (or the last unanswered one). */
    readonly probe?: number;
    /** For keepalive-too-slow: the first request the application sent later on the dead connection. */
    readonly laterRequest?: number;
    /** For reuse-after-goaway: the server's GOAWAY. */
    readonly goaway?: number;
  };
  /**
   * When the key frames were captured, in microseconds since the epoch (exact integers; null when
   * the evidence has no time for it). No ISO text here: the report writes it (the JSON's `times`,
   * just before this, is `lastBeforeIdle`…`serverFin` in ISO — src/report/json.ts).
   */
  readonly micros: {
    readonly lastBeforeIdle: number | null;
    readonly request: number | null;
    readonly rst: number | null;
    /** reuse-after-fin only: when the server's FIN came. */
    readonly serverFin?: number;
    /** stale-reuse-timeout only: the last retransmission of the request seen. */
    readonly lastRetransmission?: number;
  };
  /** reuse-after-fin only: how long the connection was idle when the server closed it (≈ its keep-alive timeout). */
  readonly serverIdleBeforeFinSeconds?: number;
  /** Retransmissions of the request (stale-reuse-timeout). */
  readonly retransmissions: number;
  /** How the attempt ended for stale-reuse-timeout: the client's RST or FIN, or the capture ended first; keepalive-too-slow: the prober gave up ('keepalive-timeout'). */
  readonly gaveUp?: 'client-rst' | 'client-fin' | 'capture-end' | 'keepalive-timeout';
  /** keepalive-too-slow only: the probe that met the forgotten connection. */
  readonly probe?: ProbeEvidence;
  /**
   * HTTP/2 connections only: every stream the incident killed (opened after the idle gap or the
   * GOAWAY, unanswered), in frame order, at most MAX_INCIDENT_STREAMS (`streamsNotListed` counts the rest).
   */
  readonly streams?: readonly StreamEvidence[];
  readonly streamsNotListed?: number;
  /** reuse-after-goaway only. */
  readonly goaway?: GoawayEvidence;
  /** Whether a blind retry of the failed request is safe. */
  readonly retry: RetrySafety;
  readonly request: RequestEvidence | null;
  readonly rst: RstEvidence | null;
  /** Connection history letters, for reference (see HISTORY_LETTERS). */
  readonly history: string;
  // No sentence here: the report words the incident from these fields (src/report/incident-summary.ts).
  // Nor a Wireshark filter: the report makes it from `endpoints` and `frames` (src/report/wireshark-filter.ts).
}

export interface TimeoutBracket {
  /** True when the survived idle is too short to say anything about the timer (then the text says "at most"). */
  readonly survivedTrivial: boolean;
  /** A timeout given with --lb-timeout and whether the capture agrees (null when none was given). */
  readonly stated: { readonly seconds: number; readonly consistent: boolean; readonly note: string } | null;
  /** Longest idle after which the connection still worked (null: none seen). */
  readonly survivedSeconds: number | null;
  readonly survivedFrame: number | null;
  /** Shortest idle that ended in a stale-reuse incident. */
  readonly failedSeconds: number | null;
  readonly failedFrame: number | null;
  /** Whether the two are consistent with a single idle timer (survived < failed). */
  readonly consistent: boolean;
  /** Known defaults that fall inside the bracket: hints, never facts. */
  readonly candidates: readonly { readonly name: string; readonly seconds: number; readonly note: string }[];
  /** Measured on packet gaps (the box counts keepalives as activity) or on data silence (it ignored them). */
  readonly measure: 'packet-gap' | 'data-idle';
  readonly text: string;
}

export interface KeepaliveVerdict {
  /** Connections to this destination whose client or server sent keepalive probes. */
  readonly connectionsWithProbes: number;
  readonly connectionsWithoutProbes: number;
  /** Longest idle gap on a connection without probes. */
  readonly maxIdleWithoutProbesSeconds: number;
  /** Observed keepalive idle time / interval (shortest seen), when probes were sent. */
  readonly probeIdleSeconds: number | null;
  readonly probeIntervalSeconds: number | null;
  /**
   * One word: 'off' (idle gaps, no probes), 'on' (probes early enough), 'app-level' (kept warm by
   * application pings, no TCP probes), 'too-slow' (probes or pings start
   * later than the measured or stated idle timeout, or a probe met an RST), 'unknown' (no idle gap
   * long enough to tell).
   */
  readonly verdict: 'off' | 'on' | 'app-level' | 'too-slow' | 'unknown';
  /** Which sides sent probes. */
  readonly probesFrom: readonly ('client' | 'server')[];
  /** Probes seen and keepalive ACKs answering them, over the destination's connections. */
  readonly probes: number;
  readonly probesAnswered: number;
  /**
   * Application-level keepalive on connections without TCP probes: small request/response pings
   * at a steady interval (Redis PING, MySQL COM_PING, HTTP/2 PING, SELECT 1, or unrecognised) —
   * the kind and the shortest interval seen. Null when none.
   */
  readonly appLevel: { readonly kind: string; readonly intervalSeconds: number; readonly connections: number } | null;
  readonly text: string;
}

/**
 * A connection still open at the end of the capture, already idle past what the path allows.
 * Data only: the report writes its ends, its time, its keepalive and its sentence
 * (src/report/at-risk-text.ts; the JSON's `client`, `server`, `lastTime`, `keepalive`, `text`).
 */
export interface AtRiskConnection {
  readonly connection: number;
  readonly endpoints: { readonly client: HostPort; readonly server: HostPort; readonly ipVersion: 4 | 6 };
  /** Its last packet, and when the check was made (the capture's end, or `watch`'s now). */
  readonly lastFrame: number;
  readonly lastMicros: number;
  readonly checkedMicros: number;
  /** How long it had been silent then (ms resolution; the words use checkedMicros − lastMicros). */
  readonly idleSeconds: number;
  /** 'will-fail': idle at or past the timeout (stated, or the shortest idle that failed); 'at-risk': past the longest idle known to survive. */
  readonly level: 'will-fail' | 'at-risk';
  readonly timeoutSeconds: number;
  readonly basis: 'lb-timeout' | 'failed-idle' | 'survived-idle';
  /** The idle after which a connection to it fails (stated, else the shortest that failed); null when unknown (only 'at-risk'). */
  readonly failSeconds: number | null;
  /** This connection's own keepalive probes (either side's shortest idle before the first, and interval); null when none was seen. */
  readonly probes: { readonly idleSeconds: number; readonly intervalSeconds: number | null } | null;
}

export interface Destination {
  /** `ip:port` of the server side, for display and as the key destinations are grouped by. */
  readonly server: string;
  /** The server side as data (what `server` displays). */
  readonly endpoint: HostPort & { readonly ipVersion: 4 | 6 };
  readonly connections: number;
  readonly incidents: number;
  readonly incidentsByKind: Readonly<Partial<Record<IncidentKind, number>>>;
  /** Most common TTL of the server's packets across its connections. */
  readonly serverTtl: number | null;
  readonly keepalive: KeepaliveVerdict;
  /** The idle timeout of whatever forgot the connections, bracketed from the evidence (null without incidents or survivals). */
  readonly idleTimeout: TimeoutBracket | null;
  /** Connections to it still open at the end of the capture and idle past what the path allows. */
  readonly atRisk: number;
}

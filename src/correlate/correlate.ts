import { endpointText } from '../decode/index.js';
import type { Incident, StreamEvidence } from '../detect/index.js';
import type { LogEntry } from '../logs/index.js';
import { describeEntry, isSignature } from './meaning.js';
import { MATCH_KEY_STRENGTH, type CorrelatedIncident, type CorrelatedStream, type HopEvidence, type LogMatch, type MatchKey, type UnexplainedSignatures, type Verdict } from './types.js';
import { decideVerdict } from './verdict.js';

/** One hop's parsed log entries, in path order (the order the user gave the hops). */
export interface HopLogs {
  readonly hop: string;
  readonly file: string;
  readonly entries: readonly LogEntry[];
}

export interface CorrelateOptions {
  /** Clock-skew allowance between the capture and the logs, ms (default 1000). */
  skewMs: number;
}

/**
 * Ties each incident to the log entries of every hop, strongest key first, chains hops by request
 * id and address, and decides where the fault lies. Pure: entries in, correlated incidents out.
 */
export function correlate(incidents: readonly Incident[], hops: readonly HopLogs[], options: CorrelateOptions): { incidents: CorrelatedIncident[]; unexplained: UnexplainedSignatures[] } {
  const used = new Set<LogEntry>();
  const out = incidents.map((incident) => {
    const matches = matchIncident(incident, hops, options.skewMs);
    for (const m of matches) used.add(m.entry);
    const hopEvidence: HopEvidence[] = hops.map((h) => {
      const mine = matches.filter((m) => m.hop === h.hop);
      const keys = new Set(mine.flatMap((m) => m.keys));
      const role: HopEvidence['role'] = mine.length === 0 ? 'none'
        : keys.has('upstream-4-tuple') || keys.has('upstream-local-address') ? 'client-side'
        : keys.has('downstream-4-tuple') ? 'server-side' : 'related';
      return { hop: h.hop, sawRequest: mine.length > 0, role, lines: mine.map((m) => m.line) };
    });
    const verdict: Verdict = decideVerdict(incident, hopEvidence, matches, hops.length > 0);
    const { streams: killed, ...rest } = incident;
    const streams: CorrelatedStream[] | undefined = killed?.map((s) => ({ ...s, logs: streamLines(s, matches) }));
    const out: CorrelatedIncident = { ...rest, ...(streams && { streams }), logs: matches, hops: hopEvidence, verdict };
    return out;
  });
  return { incidents: out, unexplained: unexplainedSignatures(hops, used) };
}

function matchIncident(i: Incident, hops: readonly HopLogs[], skewMs: number): LogMatch[] {
  const t = requestTimeMs(i);
  // HTTP/2: every stream the incident killed is its own request (one log line per stream and hop).
  const requestIds = new Set<string>();
  if (i.request?.requestId !== undefined) requestIds.add(i.request.requestId);
  for (const s of i.streams ?? []) if (s.requestId !== undefined) requestIds.add(s.requestId);
  const found = new Map<LogEntry, { hop: HopLogs; keys: Set<MatchKey> }>();
  const add = (hop: HopLogs, e: LogEntry, key: MatchKey) => {
    const f = found.get(e) ?? { hop, keys: new Set<MatchKey>() };
    f.keys.add(key);
    found.set(e, f);
  };
  // The capture's two ends in decode's one spelling, compared with the logs' by sameEndpoint.
  const { client, server, ipVersion } = i.endpoints;
  const clientText = endpointText(client.host, client.port, ipVersion);
  const serverText = endpointText(server.host, server.port, ipVersion);
  for (const hop of hops) {
    for (const e of hop.entries) {
      const fits = timeFits(e, t, skewMs);
      if (e.upstreamLocalAddress !== null && sameEndpoint(e.upstreamLocalAddress, clientText) && fits) {
        // A pooled connection carries many requests: the 4-tuple names the connection, the time the request.
        add(hop, e, e.upstreamHost !== null && sameEndpoint(e.upstreamHost, serverText) ? 'upstream-4-tuple' : 'upstream-local-address');
      }
      // A hop that received the connection logs its peer as DOWNSTREAM_REMOTE_ADDRESS. Its local
      // address may differ from the capture's server when a VIP was DNATed, so the peer decides.
      if (e.downstreamRemoteAddress !== null && sameEndpoint(e.downstreamRemoteAddress, clientText) && fits) {
        add(hop, e, 'downstream-4-tuple');
      }
      if (e.requestId !== null && requestIds.has(e.requestId)) add(hop, e, 'request-id');
    }
  }
  // Chain hops: the same request id, and UPSTREAM_LOCAL_ADDRESS of one hop = DOWNSTREAM_REMOTE_ADDRESS of the next.
  for (let round = 0; round < 2; round++) {
    const seeds = [...found.entries()];
    for (const [seed] of seeds) {
      for (const hop of hops) {
        for (const e of hop.entries) {
          if (found.has(e)) continue;
          if (seed.requestId !== null && e.requestId === seed.requestId) add(hop, e, 'request-id');
          else if (seed.upstreamLocalAddress !== null && e.downstreamRemoteAddress !== null &&
            sameEndpoint(seed.upstreamLocalAddress, e.downstreamRemoteAddress) && timeFits(e, t, skewMs)) add(hop, e, 'downstream-4-tuple');
        }
      }
    }
  }
  // Time alone, per hop that nothing else tied: the closest entry whose window holds the request,
  // agreeing on method/path/authority when the capture knows them (or a failure when it does not).
  if (t !== null) {
    for (const hop of hops) {
      if ([...found.values()].some((f) => f.hop === hop)) continue;
      let best: LogEntry | null = null, bestDist = Infinity;
      for (const e of hop.entries) {
        if (!timeFits(e, t, skewMs) || !agrees(i, e)) continue;
        const dist = Math.abs(t - (e.startMs ?? t));
        if (dist < bestDist) { best = e; bestDist = dist; }
      }
      if (best) add(hop, best, 'time');
    }
  }
  const matches: LogMatch[] = [...found.entries()].map(([entry, f]) => {
    const keys = MATCH_KEY_STRENGTH.filter((k) => f.keys.has(k));
    return {
      hop: f.hop.hop, file: f.hop.file, line: entry.line, key: keys[0]!, keys,
      offsetMs: t !== null && entry.startMs !== null ? Math.round(t - entry.startMs) : null,
      meaning: describeEntry(entry), entry,
    };
  });
  const order = new Map(hops.map((h, n) => [h.hop, n]));
  return matches.sort((a, b) => MATCH_KEY_STRENGTH.indexOf(a.key) - MATCH_KEY_STRENGTH.indexOf(b.key) || order.get(a.hop)! - order.get(b.hop)! || a.line - b.line);
}

/**
 * The matched lines that are this HTTP/2 stream's: its x-request-id, or — without one — the same
 * method and path (a pooled connection's lines share the 4-tuple; the request names the stream).
 */
function streamLines(s: StreamEvidence, matches: readonly LogMatch[]): { hop: string; line: number }[] {
  return matches
    .filter((m) => s.requestId !== undefined ? m.entry.requestId === s.requestId
      : m.entry.requestId === null && m.entry.method === s.method && m.entry.path === s.path)
    .map((m) => ({ hop: m.hop, line: m.line }));
}

/**
 * The request packet time in ms (the RST's when the request time is unknown), from the incident's
 * µs — never from its ISO display. Whole ms, rounded down: log START_TIMEs have ms resolution.
 */
function requestTimeMs(i: Incident): number | null {
  const micros = i.micros.request ?? i.micros.rst;
  return micros === null ? null : Math.floor(micros / 1000);
}

/** The request packet inside [START_TIME, START_TIME + DURATION] widened by the skew allowance. */
function timeFits(e: LogEntry, t: number | null, skewMs: number): boolean {
  if (t === null || e.startMs === null) return true; // no time on one side: other keys decide
  return t >= e.startMs - skewMs && t <= e.startMs + (e.durationMs ?? 0) + skewMs;
}

function agrees(i: Incident, e: LogEntry): boolean {
  const r = i.request;
  if (r && r.protocol === 'http') {
    if (e.method !== null && r.method !== e.method) return false;
    if (e.path !== null && r.path !== e.path) return false;
    if (e.authority !== null && r.host !== undefined && r.host !== e.authority) return false;
    return e.method !== null || e.path !== null;
  }
  return e.responseCode !== null && (e.responseCode >= 500 || e.responseCode === 0);
}

/** `ip:port` equality that tolerates `[v6]:port` vs `v6:port` spellings. */
export function sameEndpoint(a: string, b: string): boolean {
  return normalise(a) === normalise(b);
}

function normalise(ep: string): string {
  const s = ep.trim().replace(/^tcp:\/\//, '');
  if (s.startsWith('[')) return s.toLowerCase();
  const colons = s.split(':').length - 1;
  if (colons > 1) { const i = s.lastIndexOf(':'); return `[${s.slice(0, i)}]:${s.slice(i + 1)}`.toLowerCase(); }
  return s;
}

function unexplainedSignatures(hops: readonly HopLogs[], used: ReadonlySet<LogEntry>): UnexplainedSignatures[] {
  const groups = new Map<string, { hop: string; file: string; e: LogEntry }[]>();
  for (const h of hops) {
    for (const e of h.entries) {
      if (used.has(e) || !isSignature(e)) continue;
      const key = e.upstreamHost ?? '-';
      const g = groups.get(key) ?? [];
      g.push({ hop: h.hop, file: h.file, e });
      groups.set(key, g);
    }
  }
  return [...groups.entries()]
    .map(([upstreamHost, g]) => ({
      upstreamHost,
      count: g.length,
      samples: g.slice(0, 5).map(({ hop, file, e }) => ({
        hop, file, line: e.line, startMs: e.startMs, responseCode: e.responseCode, flags: e.flags, details: e.responseCodeDetails,
      })),
    }))
    .sort((a, b) => b.count - a.count || a.upstreamHost.localeCompare(b.upstreamHost));
}

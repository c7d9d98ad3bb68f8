/**
 * Sentences and small facts every format shares: what a request was, who reset it, which hop is
 * at fault, the overview, the commands that let a reader check an incident. Plain text; the
 * renderers escape it.
 */
import { INCIDENT_KIND_MEANINGS, type IncidentKind } from '../detect/index.js';
import { rstReason } from './evidence-text.js';
import { httpRequestText } from './request-text.js';
import type { LogMatch } from '../correlate/index.js';
import { isStale, lastRetransmissionTime, maxOf, minOf, serverFinTime, type ReportIncident, type ReportInput } from './input.js';
import type { Remedy } from './remedies/index.js';
import { fmtDuration } from './time.js';
import { displayFilter } from './wireshark-filter.js';
import { sameHostPort } from '../detect/index.js';

export const KIND_TITLES: Readonly<Record<IncidentKind, string>> = {
  'stale-reuse-rst': 'reset after idle',
  'stale-reuse-timeout': 'no answer after idle',
  'keepalive-too-slow': 'keepalive too slow',
  'reuse-after-fin': 'reused after the server\'s FIN',
  'reuse-after-goaway': 'HTTP/2 stream after the server\'s GOAWAY',
  'reset-in-flight': 'reset in flight',
};

export { INCIDENT_KIND_MEANINGS };

/** `GET /api/items/4`, `TLS to api.example.com`, `TLS`, `unrecognised payload`, or `-`. */
export function requestLabel(i: ReportIncident): string {
  const r = i.request;
  if (!r) return '-';
  if (r.protocol === 'http') return httpRequestText(r.method, r.path, r.truncated);
  if (r.protocol === 'tls') return r.sni ? `TLS to ${r.sni}` : 'TLS';
  return 'unrecognised payload';
}

/** Who reset it, short: `middlebox (TTL 64 vs 63)`, `server (TTL 64)`, `no RST: 5 retx`. */
export function rstShort(i: ReportIncident): string {
  if (i.rst) return `${i.rst.origin} (TTL ${i.rst.ttl}${i.rst.serverTtl !== null && i.rst.serverTtl !== i.rst.ttl ? ` vs ${i.rst.serverTtl}` : ''})`;
  if (i.kind === 'stale-reuse-timeout') return `no RST: ${i.retransmissions} retx`;
  return '-';
}

/** Who broke the connection, from the packets alone. */
export function packetCulprit(i: ReportIncident): string {
  if (i.kind === 'stale-reuse-timeout') return 'something between the capture point and the server dropped the request silently (retransmissions, no answer, no RST)';
  if (!i.rst) return 'unknown (no RST in the evidence)';
  const r = i.rst;
  if (r.origin === 'middlebox') {
    const closer = r.rstHops !== null && r.serverHops !== null ? r.serverHops - r.rstHops : null;
    return `a middlebox${closer !== null && closer > 0 ? ` ${closer} hop${closer === 1 ? '' : 's'} closer than the server` : ''} forged the RST with the server's address (TTL ${r.ttl}, the server's is ${r.serverTtl})`;
  }
  if (r.origin === 'server') {
    return i.kind === 'reuse-after-fin'
      ? `the server's own stack reset the request it received after closing (TTL ${r.ttl} = the server's)`
      : `the RST came from the server's distance (TTL ${r.ttl} = the server's): the server itself, or a proxy terminating TCP at its address, had forgotten the connection`;
  }
  return `unknown sender (${rstReason(r)})`;
}

/** Which hop is at fault: the logs' verdict when there is one, else what the packets say. */
export function whichHop(i: ReportIncident): string {
  const v = i.verdict;
  if (!v) return packetCulprit(i);
  const where = v.faultyHop ? `hop at fault: ${v.faultyHop}` : v.segment ? `between ${v.segment.after ?? 'the client'} and ${v.segment.before ?? 'the server'}` : null;
  return `${v.reason}${where && !v.reason.includes(where) ? ` (${where})` : ''} — confidence ${v.confidence}`;
}

/** Time of the last packet before the idle gap: given, or the request time minus the idle. */
export function lastBeforeMicros(i: ReportIncident): number | null {
  const t = i.micros.lastBeforeIdle;
  if (t !== null) return t;
  const req = i.micros.request;
  return req !== null && i.idleSeconds !== null ? req - Math.round(i.idleSeconds * 1e6) : null;
}

export { serverFinTime, lastRetransmissionTime };

/** A string as one shell word. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Commands that show the incident's packets: the connection, then the key frames with their TTLs. */
export function checkCommands(i: ReportIncident, file: string): string[] {
  const f = shellQuote(file);
  const frames = [i.frames.lastBeforeIdle, i.frames.serverFin ?? null, i.frames.request, i.frames.rst, i.frames.lastRetransmission ?? null]
    .filter((n): n is number => n !== null)
    .sort((a, b) => a - b);
  const v6 = i.endpoints.ipVersion === 6;
  return [
    `tshark -r ${f} -Y ${shellQuote(displayFilter(i))}`,
    `tshark -r ${f} -Y ${shellQuote(`frame.number in {${[...new Set(frames)].join(' ')}}`)} -T fields -e frame.number -e frame.time_epoch -e frame.time_delta_displayed -e ${v6 ? 'ipv6.src' : 'ip.src'} -e ${v6 ? 'ipv6.hlim' : 'ip.ttl'} -e tcp.flags.str`,
  ];
}

export interface Overview {
  readonly whatBroke: string;
  readonly howOften: string;
  readonly whichHop: string;
  readonly fix: string;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function range(values: number[]): string {
  const lo = minOf(values), hi = maxOf(values);
  return lo === hi ? fmtDuration(lo) : `${fmtDuration(lo)}–${fmtDuration(hi)}`;
}

/** The four lines a postmortem opens with. */
export function overview(r: ReportInput, remedies: readonly Remedy[]): Overview {
  const incidents = r.incidents;
  if (incidents.length === 0) {
    return {
      whatBroke: `Nothing: no request met a connection the network had forgotten (idle threshold ${r.options.idleThresholdSeconds} s).`,
      howOften: `0 incidents on ${plural(r.summary.connections, 'TCP connection')}${r.capture.durationSeconds !== null ? ` over ${fmtDuration(r.capture.durationSeconds)}` : ''}.`,
      whichHop: '-',
      fix: 'None needed from this capture.',
    };
  }
  const parts: string[] = [];
  for (const d of r.destinations.filter((x) => x.incidents > 0)) {
    const mine = incidents.filter((i) => sameHostPort(i.endpoints.server, d.endpoint));
    const bits: string[] = [];
    const rst = mine.filter((i) => i.kind === 'stale-reuse-rst');
    const to = mine.filter((i) => i.kind === 'stale-reuse-timeout');
    const fin = mine.filter((i) => i.kind === 'reuse-after-fin');
    const fl = mine.filter((i) => i.kind === 'reset-in-flight');
    const ga = mine.filter((i) => i.kind === 'reuse-after-goaway');
    const idles = (xs: ReportIncident[]) => range(xs.map((i) => i.idleSeconds ?? 0));
    if (rst.length) bits.push(`${plural(rst.length, 'request')} sent after ${idles(rst)} idle ${rst.length === 1 ? 'was' : 'were'} answered by an RST with no FIN before it`);
    if (to.length) bits.push(`${plural(to.length, 'request')} sent after ${idles(to)} idle got no answer at all`);
    if (fin.length) bits.push(`${plural(fin.length, 'request')} ${fin.length === 1 ? 'was' : 'were'} sent on a connection the server had already closed (FIN) and reset`);
    if (ga.length) bits.push(`${plural(ga.length, 'connection')} got new HTTP/2 streams after the server's GOAWAY (${plural(ga.reduce((n, i) => n + (i.streams?.length ?? 1), 0), 'stream')} lost)`);
    if (fl.length) bits.push(`${plural(fl.length, 'request')} ${fl.length === 1 ? 'was' : 'were'} reset in flight`);
    const name = remedies.find((x) => x.destination === d.server)?.host;
    parts.push(`to ${name ? `${name} (${d.server})` : d.server}: ${bits.join('; ')}`);
  }
  const failed = incidents.length;
  const conns = r.destinations.filter((x) => x.incidents > 0).reduce((n, d) => n + d.connections, 0);
  const span = r.capture.durationSeconds;
  const perHour = span !== null && span >= 600 ? ` (about ${(failed / (span / 3600)).toFixed(failed / (span / 3600) >= 10 ? 0 : 1)} per hour)` : '';
  const unexplained = r.logs?.unexplained.reduce((n, u) => n + u.count, 0) ?? 0;
  const hops = [...new Set(incidents.map(whichHop))];
  const stale = incidents.filter(isStale);
  return {
    whatBroke: `${cap(parts.join('. '))}.`,
    howOften: `${plural(failed, 'incident')} on ${plural(conns, 'connection')} to ${plural(r.destinations.filter((x) => x.incidents > 0).length, 'destination')}${span !== null ? ` in ${fmtDuration(span)} of capture${perHour}` : ''}${stale.length ? `; every stale request had been idle at least ${fmtDuration(minOf(stale.map((i) => i.idleSeconds ?? Infinity)))}` : ''}.${unexplained ? ` The logs hold ${plural(unexplained, 'more line')} with the same signature that this capture does not explain.` : ''}`,
    whichHop: `${cap(hops.slice(0, 3).join('; '))}${hops.length > 3 ? ` (and ${hops.length - 3} more)` : ''}.`,
    fix: remedies.length ? remedies.map((x) => x.headline).join(' ') : 'No configuration fix applies.',
  };
}

export const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** `503 UC upstream_reset_before_response_started{connection_termination}`, from a matched log line. */
export function logResponse(m: LogMatch): string {
  const e = m.entry;
  return [e.responseCode ?? '-', e.flags.length ? e.flags.join(',') : '-', e.responseCodeDetails ?? ''].join(' ').trim();
}

/** A log line's outcome failed (5xx, 0, or any response flag). */
export function logFailed(m: LogMatch): boolean {
  const c = m.entry.responseCode;
  return c === 0 || (c !== null && c >= 500) || m.entry.flags.length > 0;
}

/** Times shown for the incident, for a timeline: [µs, frame, event] in order. */
export function incidentEvents(i: ReportIncident): { micros: number; frame: number | null; event: string }[] {
  const ev: { micros: number; frame: number | null; event: string }[] = [];
  const last = lastBeforeMicros(i);
  if (last !== null && i.frames.lastBeforeIdle !== null) ev.push({ micros: last, frame: i.frames.lastBeforeIdle, event: i.idleSeconds !== null ? `last packet before ${fmtDuration(i.idleSeconds)} of silence` : 'last packet before the request' });
  const fin = (i.micros.serverFin ?? null);
  if (fin !== null) ev.push({ micros: fin, frame: i.frames.serverFin ?? null, event: 'server FIN: the server closed the idle connection' });
  const req = i.micros.request;
  const probes = i.keepaliveProbes.client + i.keepaliveProbes.server;
  if (req !== null) ev.push({ micros: req, frame: i.frames.request, event: `request ${requestLabel(i)}${i.idleSeconds !== null && i.kind !== 'reset-in-flight' ? ` after ${fmtDuration(i.idleSeconds)} idle (${probes ? `${probes} keepalive probes` : 'no keepalive probes'})` : ''}` });
  const retx = i.micros.lastRetransmission ?? null;
  if (retx !== null) ev.push({ micros: retx, frame: i.frames.lastRetransmission ?? null, event: `last of ${i.retransmissions} retransmissions, no answer` });
  const rst = i.micros.rst;
  if (rst !== null && i.rst) ev.push({ micros: rst, frame: i.rst.frame, event: `RST from ${i.rst.from} (TTL ${i.rst.ttl}, ${i.rst.origin})` });
  for (const m of i.logs ?? []) {
    if (m.entry.startMs === null) continue;
    ev.push({ micros: m.entry.startMs * 1000, frame: null, event: `${m.hop} logged ${logResponse(m)} (${m.file}:${m.line}${m.entry.durationMs !== null ? `, ${m.entry.durationMs} ms` : ''})` });
  }
  return ev.sort((a, b) => a.micros - b.micros);
}

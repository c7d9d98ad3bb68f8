/**
 * The postmortem attachment as a document: summary (what broke, how often, which hop, the fix),
 * a UTC timeline, one section per incident with its evidence, the matched log lines per hop, the
 * verdict and the commands to check it, then destinations, logs and the remedies.
 */
import type { HopEvidence, VantageEvidence, VantageVerdict } from '../correlate/index.js';
import { probeImplies, retryText, rstReason } from './evidence-text.js';
import { incidentSummary } from './incident-summary.js';
import { httpRequestText, truncationText } from './request-text.js';
import { code, link, rich, strong, type Block, type IncidentTimeline, type Rich, type TimelinePoint, type TimelineVantage } from './document.js';
import {
  cap, checkCommands, incidentEvents, INCIDENT_KIND_MEANINGS, KIND_TITLES, lastBeforeMicros, logFailed, logResponse, overview, packetCulprit,
  requestLabel, whichHop,
} from './facts.js';
import { incidentFile, lastRetransmissionTime, serverFinTime, type ReportIncident, type ReportInput } from './input.js';
import type { Remedy, RemedyLayer } from './remedies/index.js';
import { offsetText } from './vantage-table.js';
import { evidenceTime, fmtDuration, isoToMicros, microsToIso, msToIso } from './time.js';
import { displayFilter } from './wireshark-filter.js';
import { formatPath } from './address.js';
import { atRiskKeepalive, atRiskLastTime } from './at-risk-text.js';

export interface PostmortemOptions {
  /** How to name the capture (and the file in the tshark commands); default the capture's own path. */
  readonly captureLabel?: string;
  /** Incidents given a full section; the rest are counted (they are all in the JSON). Default 50. */
  readonly maxIncidentSections?: number;
}

export interface Postmortem {
  readonly title: string;
  readonly blocks: readonly Block[];
}

const LAYER_TITLES: Readonly<Record<RemedyLayer, string>> = {
  'application': 'In the application',
  'client-sidecar': 'In the client sidecar (Istio)',
  'server-side': 'On the server side',
};

export function buildPostmortem(r: ReportInput, remedies: readonly Remedy[], o: PostmortemOptions = {}): Postmortem {
  const file = o.captureLabel ?? r.capture.file;
  const maxSections = o.maxIncidentSections ?? 50;
  const b: Block[] = [];
  const title = `flowdoc postmortem: ${file}`;
  b.push({ kind: 'heading', level: 1, text: title, id: 'top' });

  // ---- summary ----------------------------------------------------------------------------
  const ov = overview(r, remedies);
  b.push({ kind: 'heading', level: 2, text: 'Summary', id: 'summary' });
  b.push({
    kind: 'list',
    items: [
      rich(strong('What broke: '), ov.whatBroke),
      rich(strong('How often: '), ov.howOften),
      rich(strong('Which hop: '), ov.whichHop),
      rich(strong('The fix: '), ov.fix),
    ],
  });
  const c = r.capture;
  b.push({
    kind: 'table',
    head: ['capture', ''],
    rows: [
      [rich('file'), rich(code(file))],
      [rich('format'), rich(`${c.format ?? 'not a capture'}${c.gzip ? ' (gzip)' : ''}, ${c.linkTypeNames.join(', ') || '-'}`)],
      [rich('packets'), rich(`${c.packets} (${r.summary.tcpSegments} TCP segments, ${r.summary.connections} connections)`)],
      [rich('time (UTC)'), rich(c.first ? `${c.first} → ${c.last} (${fmtDuration(c.durationSeconds ?? 0)})` : '-')],
      [rich('idle threshold'), rich(`${r.options.idleThresholdSeconds} s`)],
      [rich('logs'), rich(r.logs ? `${r.logs.hops.length} hop${r.logs.hops.length === 1 ? '' : 's'}: ${r.logs.hops.map((h) => h.hop).join(', ')}` : 'none given (the verdicts use the packets alone)')],
      [rich('analysed by'), rich(`${r.tool.name} ${r.tool.version}`)],
    ],
  });
  if (r.captures && r.captures.length > 1) b.push(...capturesBlocks(r));
  if (r.warnings.length) b.push({ kind: 'list', items: r.warnings.map((w) => rich(strong('Warning: '), w)) });

  if (r.incidents.length === 0) {
    b.push({ kind: 'para', tone: 'good', content: rich(ov.whatBroke) });
  } else {
    // ---- index: one row per incident, linking to its section -----------------------------------
    b.push({ kind: 'heading', level: 2, text: 'Incidents at a glance', id: 'index' });
    b.push({
      kind: 'table',
      head: ['#', 'time (UTC)', 'kind', 'connection', 'idle', 'broken by'],
      rows: r.incidents.slice(0, maxSections).map((i, n) => [
        rich(link(String(n + 1), `incident-${n + 1}`)),
        rich(code(incidentTime(i))),
        rich(code(i.kind)),
        rich(code(formatPath(i.endpoints))),
        rich(i.idleSeconds !== null && i.kind !== 'reset-in-flight' ? fmtDuration(i.idleSeconds) : '-'),
        rich(brokenBy(i)),
      ]),
    });
    if (r.incidents.length > maxSections) b.push({ kind: 'para', tone: 'note', content: rich(`… and ${r.incidents.length - maxSections} more, all in the JSON report (--format json).`) });

    // ---- timeline ---------------------------------------------------------------------------
    b.push({ kind: 'heading', level: 2, text: 'Timeline (UTC)', id: 'timeline' });
    const rows: Rich[][] = [];
    r.incidents.slice(0, maxSections).forEach((i, n) => {
      for (const e of incidentEvents(i)) rows.push([rich(code(microsToIso(e.micros))), rich(String(n + 1)), rich(e.frame !== null ? String(e.frame) : '-'), rich(e.event)]);
    });
    rows.sort((x, y) => (x[0][0].text < y[0][0].text ? -1 : x[0][0].text > y[0][0].text ? 1 : 0));
    b.push({ kind: 'table', head: ['time (UTC)', 'incident', 'frame', 'event'], rows });

    // ---- incidents --------------------------------------------------------------------------
    b.push({ kind: 'heading', level: 2, text: 'Incidents', id: 'incidents' });
    r.incidents.slice(0, maxSections).forEach((i, n) => b.push(...incidentSection(i, n + 1, incidentFile(r, i, file))));
    if (r.incidents.length > maxSections) {
      b.push({ kind: 'para', tone: 'note', content: rich(`… and ${r.incidents.length - maxSections} more incidents, all in the JSON report (--format json).`) });
    }
  }

  // ---- destinations -------------------------------------------------------------------------
  const dests = r.destinations.filter((d) => d.incidents > 0);
  if (dests.length) {
    b.push({ kind: 'heading', level: 2, text: 'Destinations', id: 'destinations' });
    b.push({
      kind: 'table',
      head: ['destination', 'connections', 'incidents', 'server TTL', 'keepalive', 'idle timeout'],
      rows: dests.map((d) => [
        rich(code(d.server)), rich(String(d.connections)), rich(String(d.incidents)), rich(d.serverTtl !== null ? String(d.serverTtl) : '-'),
        rich(d.keepalive.text || '-'), rich(d.idleTimeout?.text ?? '-'),
      ]),
    });
    const others = r.destinations.length - dests.length;
    if (others > 0) b.push({ kind: 'para', content: rich(`${others} other destination${others === 1 ? '' : 's'} had no incidents.`) });
  }

  // ---- connections at risk -----------------------------------------------------------------
  const atRisk = r.atRisk ?? [];
  if (atRisk.length) {
    b.push({ kind: 'heading', level: 2, text: 'Connections at risk', id: 'at-risk' });
    b.push({ kind: 'para', tone: 'bad', content: rich(`${atRisk.length} connection${atRisk.length === 1 ? ' was' : 's were'} still open when the capture ended and already idle past what the path allows: the next request on ${atRisk.length === 1 ? 'it' : 'them'} will meet a forgotten connection unless the pool closes ${atRisk.length === 1 ? 'it' : 'them'} first.`) });
    b.push({
      kind: 'table',
      head: ['connection', 'idle at end', 'timeout', 'level', 'keepalive', 'last frame'],
      rows: atRisk.slice(0, maxSections).map((a) => [
        rich(code(formatPath(a.endpoints))), rich(fmtDuration(a.idleSeconds)),
        rich(`${fmtDuration(a.timeoutSeconds)} (${a.basis === 'lb-timeout' ? '--lb-timeout' : a.basis === 'failed-idle' ? 'shortest idle that failed' : 'longest idle that survived'})`),
        rich(a.level === 'will-fail' ? strong('will fail on next use') : 'at risk'), rich(atRiskKeepalive(a)), rich(`${a.lastFrame} at ${atRiskLastTime(a)}`),
      ]),
    });
    if (atRisk.length > maxSections) b.push({ kind: 'para', tone: 'note', content: rich(`… and ${atRisk.length - maxSections} more, all in the JSON report.`) });
  }

  // ---- logs ---------------------------------------------------------------------------------
  if (r.logs) b.push(...logsSection(r));

  // ---- remedies -----------------------------------------------------------------------------
  if (remedies.length) {
    b.push({ kind: 'heading', level: 2, text: 'Remedies', id: 'remedies' });
    b.push({ kind: 'para', content: rich('Every number below was computed from this capture\'s measurements; the list under each destination says from which.') });
    for (const rem of remedies) b.push(...remedySection(rem));
  }
  return { title, blocks: b };
}

function incidentSection(i: ReportIncident, n: number, file: string): Block[] {
  const b: Block[] = [];
  b.push({ kind: 'heading', level: 3, text: `${n}. ${KIND_TITLES[i.kind]}: ${formatPath(i.endpoints)}`, id: `incident-${n}` });
  b.push({ kind: 'para', content: rich(code(i.kind), `: ${INCIDENT_KIND_MEANINGS[i.kind]}.`) });
  b.push({ kind: 'para', tone: 'bad', content: rich(`${cap(incidentSummary(i))}.`) });
  b.push({ kind: 'timeline', timeline: timelineOf(i, n) });

  const rows: Rich[][] = [];
  const ev = (label: string, ...value: (string | ReturnType<typeof code>)[]) => rows.push([rich(label), rich(...value)]);
  ev('connection', `#${i.connection} `, code(formatPath(i.endpoints)), ', history ', code(i.history));
  const last = lastBeforeMicros(i);
  if (i.idleSeconds !== null && i.kind !== 'reset-in-flight') {
    const probes = i.keepaliveProbes.client + i.keepaliveProbes.server;
    ev('idle gap', `${fmtDuration(i.idleSeconds)}: frame ${i.frames.lastBeforeIdle ?? '?'}${last !== null ? ` at ${microsToIso(last)}` : ''} → frame ${i.frames.request ?? '?'}${i.micros.request !== null ? ` at ${evidenceTime(i.micros.request)}` : ''}`);
    ev('keepalive probes', probes === 0
      ? 'none from either side: keepalive was off'
      : `${i.keepaliveProbes.client} from the client, ${i.keepaliveProbes.server} from the server; the longest silence between packets was ${fmtDuration(i.maxPacketGapSeconds ?? 0)}`);
  }
  if (i.frames.serverFin !== undefined) {
    const fin = serverFinTime(i);
    ev('server FIN', `frame ${i.frames.serverFin}${fin ? ` at ${fin}` : ''}: the server closed the connection before the request`);
  }
  const req = i.request;
  if (req) {
    const parts: (string | ReturnType<typeof code>)[] = [`frame ${req.frame}${req.time ? ` at ${req.time}` : ''}: `];
    if (req.protocol === 'http') {
      parts.push(code(httpRequestText(req.method, req.path, req.truncated)));
      if (req.host) parts.push(', Host ', code(req.host));
      if (req.requestId) parts.push(', x-request-id ', code(req.requestId));
      if (req.userAgent) parts.push(', User-Agent ', code(req.userAgent));
    } else parts.push(req.protocol === 'tls' && req.truncated ? `TLS application data${req.sni ? ` to ${req.sni}` : ''}` : requestLabel(i));
    if (req.truncated) parts.push(` (${truncationText(req.truncated)})`);
    ev('request', ...parts);
  }
  if (i.goaway) ev('GOAWAY', `frame ${i.goaway.frame} at ${i.goaway.time}: the server will process no stream above `, code(String(i.goaway.lastStreamId)), ` (${i.goaway.errorCode}), then closes the connection`);
  if (i.streams && i.streams.length > 0) {
    const parts: (string | ReturnType<typeof code>)[] = [];
    i.streams.forEach((s, n) => {
      if (n > 0) parts.push('; ');
      parts.push(`${s.streamId} `, code(httpRequestText(s.method, s.path, s.truncated)));
      const extra: (string | ReturnType<typeof code>)[] = [];
      if (s.truncated) extra.push(truncationText(s.truncated));
      if (s.requestId) extra.push('x-request-id ', code(s.requestId));
      if (s.grpc) extra.push(extra.length ? ', gRPC ' : 'gRPC ', code(s.grpc));
      const logs = (s.logs ?? []).map((l) => `${l.hop} line ${l.line}`).join(', ');
      if (logs) extra.push(`${extra.length ? ', ' : ''}${logs}`);
      if (extra.length) parts.push(' (', ...extra, ')');
    });
    if (i.streamsNotListed) parts.push(`; and ${i.streamsNotListed} more`);
    ev('HTTP/2 streams', `${i.streams.length + (i.streamsNotListed ?? 0)} killed: `, ...parts);
  }
  if (i.probe) {
    const p = i.probe;
    ev('keepalive probe', `frame ${p.frame} at ${p.time} from `, code(p.from), `: the first probe came ${fmtDuration(p.idleBeforeFirstProbeSeconds)} after the last real packet; ${p.probes} probe${p.probes === 1 ? '' : 's'}, ${p.answered} answered; ${fmtDuration(p.packetGapSeconds)} of silence before this one`);
    ev('keepalive setting', `${cap(probeImplies(p))}. When only SO_KEEPALIVE is set, Linux (and Envoy's tcpKeepalive without \`time\`) waits tcp_keepalive_time = 7200 s before the first probe.`);
    if (i.frames.laterRequest !== undefined) ev('later request', `frame ${i.frames.laterRequest}: the application sent a request on the dead connection afterwards (part of this incident)`);
  }
  ev('retry', i.retry ? `${cap(retryText(i))}.` : '-');
  if (i.kind === 'stale-reuse-timeout') {
    const lr = lastRetransmissionTime(i);
    ev('retransmissions', `${i.retransmissions}${i.frames.lastRetransmission !== undefined ? `, the last frame ${i.frames.lastRetransmission}${lr ? ` at ${lr}` : ''}` : ''}; then ${i.gaveUp === 'client-rst' ? 'the client reset the connection' : i.gaveUp === 'client-fin' ? 'the client closed it' : 'the capture ended'}`);
  }
  if (i.rst) {
    ev('RST', `frame ${i.rst.frame} at ${i.rst.time} from `, code(i.rst.from), `, TTL ${i.rst.ttl} vs the server's ${i.rst.serverTtl ?? 'unknown'}: ${i.rst.origin}`);
    ev('RST origin', rstReason(i.rst));
  }
  ev('who broke it (packets)', packetCulprit(i));
  b.push({ kind: 'table', head: ['evidence', ''], rows });

  // Logs per hop.
  if (i.hops && i.hops.length) {
    b.push({ kind: 'heading', level: 4, text: 'What each hop logged' });
    const lrows: Rich[][] = [];
    for (const h of i.hops) {
      const matches = (i.logs ?? []).filter((m) => m.hop === h.hop);
      if (!matches.length) {
        lrows.push([rich(h.hop), rich(roleText(h)), rich('-'), rich('-'), rich(h.sawRequest ? 'logged it (line not kept)' : 'no line: this hop never saw the request')]);
        continue;
      }
      for (const m of matches) {
        lrows.push([
          rich(h.hop), rich(roleText(h)), rich(code(`${baseName(m.file)}:${m.line}`)),
          rich(m.entry.startMs !== null ? code(msToIso(m.entry.startMs)) : '-', m.entry.durationMs !== null ? ` +${m.entry.durationMs} ms` : ''),
          rich(code(logResponse(m)), ': ', m.meaning.startsWith(logResponse(m)) ? m.meaning.slice(logResponse(m).length).replace(/^[;:,]\s*/, '') : m.meaning,
            ` (matched by ${m.keys.join(', ')}${m.offsetMs !== null ? `; the request packet is ${m.offsetMs >= 0 ? '+' : ''}${m.offsetMs} ms from START_TIME` : ''})`),
        ]);
      }
    }
    b.push({ kind: 'table', head: ['hop', 'role', 'line', 'START_TIME', 'what it says'], rows: lrows });
  } else if (i.logs && i.logs.length) {
    b.push({ kind: 'heading', level: 4, text: 'Matched log lines' });
    b.push({ kind: 'list', items: i.logs.map((m) => rich(code(`${m.hop} ${m.file}:${m.line}`), ' ', code(logResponse(m)), `: ${m.meaning}`)) });
  }
  if (i.verdict) {
    const v = i.verdict;
    const seg = v.segment ? ` The fault lies between ${v.segment.after ?? 'the client'} and ${v.segment.before ?? 'the server'}.` : '';
    b.push({
      kind: 'para', tone: 'bad',
      content: rich(
        strong('Verdict: '), `${cap(v.reason)}${/[.!]$/.test(v.reason) ? '' : '.'}`,
        v.faultyHop ? ' Hop at fault: ' : '', v.faultyHop ? code(v.faultyHop) : '', v.faultyHop ? '.' : '',
        `${seg} Culprit: ${v.culprit}; confidence ${v.confidence}.`,
      ),
    });
  } else {
    b.push({ kind: 'para', content: rich(strong('Verdict (packets only): '), `${cap(whichHop(i))}.`) });
  }

  if (i.vantages && i.vantageVerdict) b.push(...vantageBlocks(i.vantages, i.vantageVerdict, i.vantage ?? null));

  b.push({ kind: 'heading', level: 4, text: 'Check it yourself' });
  b.push({ kind: 'code', language: 'sh', code: checkCommands(i, file).join('\n') + '\n' });
  b.push({ kind: 'para', content: rich('Wireshark display filter: ', code(displayFilter(i))) });
  return b;
}

/** Several captures: a row per vantage point (what its capture shows) and the verdict from all of them. */
/** Several captures: a row per vantage point's capture and how it lines up with the first. */
function capturesBlocks(r: ReportInput): Block[] {
  const rows = r.captures!.map((c, n): Rich[] => {
    const a = n === 0 ? null : r.alignment?.vantages.find((v) => v.vantage === c.vantage) ?? null;
    return [
      rich(strong(c.vantage)), rich(code(c.file)),
      rich(c.format === null ? 'not a capture' : `${c.format}, ${c.linkTypeNames.join(', ') || '-'}`, c.error ? ` (read error: ${c.error.message})` : ''),
      rich(`${c.packets} packets, ${c.connections} connections`),
      rich(a ? `${a.matched} of ${a.connections} connections found in ${r.captures![0]!.vantage}'s` : 'the first capture: its clock is the report\'s'),
      rich(a ? offsetText(a) : '0'),
    ];
  });
  return [
    { kind: 'heading', level: 3, text: 'Vantage points', id: 'vantage-points' },
    { kind: 'table', head: ['vantage point', 'file', 'format', 'size', 'matched', 'clock offset'], rows },
    { kind: 'list', items: (r.alignment?.vantages ?? []).map((v) => rich(strong(`${v.vantage}: `), v.text, '. ', v.clock.text, '.')) },
  ];
}

function vantageBlocks(vs: readonly VantageEvidence[], v: VantageVerdict, own: string | null): Block[] {
  const rows = vs.map((e): Rich[] => {
    const req = e.legs.find((l) => l.request)?.request;
    const rst = e.legs.find((l) => l.rst)?.rst;
    const none = e.legs.length === 0 ? (e.covered ? 'connection not in this capture' : 'capture not running then') : null;
    return [
      rich(e.vantage === own ? strong(e.vantage) : e.vantage, ' ', code(baseName(e.file))),
      rich(none ?? (req ? `frame ${req.frame}${req.transmissions > 1 ? ` (sent ${req.transmissions} times)` : ''}` : 'not seen')),
      rich(rst ? code(`${rst.from} TTL ${rst.ttl}`) : '-', rst ? ` frame ${rst.frame}` : ''),
      rich(rst ? code(rst.commonTime ?? rst.time) : req ? code(req.commonTime ?? req.time) : '-'),
      rich(e.legs.map((l) => (l.method === 'itself' ? 'itself' : `${l.method}${l.confidence !== 'high' ? ` (${l.confidence})` : ''}`)).join(', ') || '-'),
    ];
  });
  const b: Block[] = [
    { kind: 'heading', level: 4, text: 'What each vantage point captured' },
    { kind: 'table', head: ['vantage point', 'request', 'RST from (TTL)', 'RST (else request) on the first capture\'s clock', 'matched by'], rows },
    { kind: 'para', tone: v.locus === 'unknown' ? 'note' : 'bad', content: rich(strong('Verdict from the captures: '), `${cap(v.reason)}.`) },
  ];
  if (v.caveats.length) b.push({ kind: 'list', items: v.caveats.map((c) => rich(strong('Caveat: '), c)) });
  return b;
}

/** `a/b/client.log` → `client.log` (the Logs section has the full path). */
function baseName(file: string): string {
  return file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1) || file;
}

function roleText(h: HopEvidence): string {
  return h.role === 'client-side' ? 'sent it upstream' : h.role === 'server-side' ? 'received it' : h.role === 'related' ? 'same request id' : '-';
}

function logsSection(r: ReportInput): Block[] {
  const l = r.logs!;
  const b: Block[] = [{ kind: 'heading', level: 2, text: 'Logs', id: 'logs' }];
  b.push({
    kind: 'table',
    head: ['hop', 'file', 'format', 'lines', 'entries', 'rejected', 'error'],
    rows: l.hops.map((h) => [rich(h.hop), rich(code(h.file)), rich(h.format ?? '-'), rich(String(h.lines)), rich(String(h.entries)), rich(String(h.rejected)), rich(h.error ?? '-')]),
  });
  b.push({ kind: 'para', content: rich(`Times were matched with ±${l.skewMs} ms of clock skew allowed.`) });
  const rejected = l.hops.flatMap((h) => h.rejectedSamples.map((s) => ({ h, s })));
  if (rejected.length) {
    b.push({ kind: 'heading', level: 4, text: 'Lines that did not parse (first few)' });
    b.push({ kind: 'list', items: rejected.map(({ h, s }) => rich(code(`${h.file}:${s.line}`), ' ', code(s.text), `: ${s.reason}`)) });
  }
  if (l.unexplained.length) {
    b.push({ kind: 'heading', level: 4, text: 'Idle-drop signatures the capture does not explain' });
    b.push({
      kind: 'table',
      head: ['upstream host', 'lines', 'samples'],
      rows: l.unexplained.map((u) => [
        rich(code(u.upstreamHost)), rich(String(u.count)),
        rich(...u.samples.slice(0, 3).flatMap((s, k) => [k ? '; ' : '', code(`${s.hop} ${s.file}:${s.line}`), ` ${s.responseCode ?? '-'} ${s.flags.join(',') || '-'}${s.startMs !== null ? ` at ${msToIso(s.startMs)}` : ''}`])),
      ]),
    });
  }
  return b;
}

export function remedySection(rem: Remedy): Block[] {
  const b: Block[] = [];
  b.push({ kind: 'heading', level: 3, text: rem.host ? `${rem.host} (${rem.destination})` : rem.destination, id: `remedy-${rem.destination.replace(/[^A-Za-z0-9]+/g, '-')}` });
  b.push({ kind: 'para', tone: 'good', content: rich(strong('Fix: '), rem.headline) });
  b.push({ kind: 'heading', level: 4, text: 'How the numbers were chosen' });
  b.push({ kind: 'list', items: rem.rationale.map((x) => rich(x)) });
  if (rem.notes.length) b.push({ kind: 'list', items: rem.notes.map((x) => rich(strong('Note: '), x)) });
  const layers: RemedyLayer[] = rem.primaryLayer === 'client-sidecar' ? ['client-sidecar', 'application', 'server-side'] : ['application', 'client-sidecar', 'server-side'];
  for (const layer of layers) {
    const snippets = rem.snippets.filter((s) => s.layer === layer);
    if (!snippets.length) continue;
    b.push({ kind: 'heading', level: 4, text: `${LAYER_TITLES[layer]}${layer === rem.primaryLayer ? ' — the layer that owns this connection' : ''}` });
    for (const s of snippets) {
      b.push({ kind: 'code', language: s.language, code: s.code, title: s.title });
      b.push({ kind: 'para', content: rich(s.note) });
    }
  }
  return b;
}

/** What the SVG draws for one incident, from the key frames and times in the evidence. */
export function timelineOf(i: ReportIncident, n: number): IncidentTimeline {
  const points: TimelinePoint[] = [];
  const last = lastBeforeMicros(i);
  if (i.frames.lastBeforeIdle !== null) points.push({ lane: 'both', micros: last, frame: i.frames.lastBeforeIdle, mark: 'last', label: 'last packet' });
  if (i.frames.serverFin !== undefined) points.push({ lane: 'server', micros: (i.micros.serverFin ?? null), frame: i.frames.serverFin, mark: 'fin', label: 'FIN' });
  if (i.frames.request !== null) points.push({ lane: 'client', micros: i.micros.request, frame: i.frames.request, mark: 'request', label: requestLabel(i) });
  if (i.rst) points.push({ lane: 'server', micros: i.micros.rst, frame: i.rst.frame, mark: 'rst', label: `RST TTL ${i.rst.ttl}${i.rst.serverTtl !== null ? ` (server ${i.rst.serverTtl})` : ''}: ${i.rst.origin}` });
  const req = i.micros.request;
  const gap = i.kind !== 'reset-in-flight' && i.idleSeconds !== null && last !== null && req !== null
    ? { fromMicros: last, toMicros: req, seconds: i.idleSeconds, probes: i.keepaliveProbes }
    : null;
  const hopsOrder = i.hops?.map((h) => h.hop) ?? [...new Set((i.logs ?? []).map((m) => m.hop))];
  const hops = hopsOrder.map((hop) => ({
    hop,
    logs: (i.logs ?? []).filter((m) => m.hop === hop).map((m) => ({
      hop, line: m.line, startMicros: m.entry.startMs !== null ? m.entry.startMs * 1000 : null, durationMs: m.entry.durationMs,
      label: `${m.entry.responseCode ?? '-'} ${m.entry.flags.join(',') || '-'}`, failed: logFailed(m),
    })),
  }));
  return {
    number: n,
    title: `Incident ${n}: ${KIND_TITLES[i.kind]} on ${formatPath(i.endpoints)}`,
    points,
    gap,
    retransmissions: i.kind === 'stale-reuse-timeout' ? { count: i.retransmissions, lastFrame: i.frames.lastRetransmission ?? null, lastMicros: i.micros.lastRetransmission ?? null } : null,
    hops,
    ...(i.vantages ? { vantages: i.vantages.map(timelineVantage) } : {}),
  };
}

function timelineVantage(v: VantageEvidence): TimelineVantage {
  const marks: { micros: number; frame: number; mark: 'request' | 'rst'; label: string }[] = [];
  const req = v.legs.find((l) => l.request)?.request;
  const rst = v.legs.find((l) => l.rst)?.rst;
  const at = (s: { commonTime: string | null; time: string }) => isoToMicros(s.commonTime ?? s.time);
  if (req && at(req) !== null) marks.push({ micros: at(req)!, frame: req.frame, mark: 'request', label: `request${req.transmissions > 1 ? ` ×${req.transmissions}` : ''}` });
  if (rst && at(rst) !== null) marks.push({ micros: at(rst)!, frame: rst.frame, mark: 'rst', label: `RST TTL ${rst.ttl}` });
  const missing = [!req ? 'request not seen' : '', !rst ? 'no RST' : ''].filter(Boolean).join(', ');
  const note = v.legs.length === 0 ? (v.covered ? 'connection not in this capture' : 'capture not running then') : missing || null;
  return { name: v.vantage, marks, note };
}


/** When the incident struck: the request that met the dead connection, else the RST or the probe. */
function incidentTime(i: ReportIncident): string {
  if (i.micros.request !== null) return evidenceTime(i.micros.request);
  return i.rst?.time ?? i.probe?.time ?? '-';
}

/** Who broke the connection, in a few words for the index (the section says it in full). */
function brokenBy(i: ReportIncident): string {
  const v = i.verdict;
  if (v?.faultyHop) return v.faultyHop;
  // A segment between two named hops says where; one between the capture's own ends says nothing more than the packets.
  if (v?.segment && (v.segment.after !== null || v.segment.before !== null)) return `between ${v.segment.after ?? 'the client'} and ${v.segment.before ?? 'the server'}`;
  if (i.kind === 'stale-reuse-timeout') return 'silent drop on the path';
  if (!i.rst) return 'unknown';
  return i.rst.origin === 'middlebox' ? 'a middlebox (forged RST)' : i.rst.origin === 'server' ? 'the server' : 'unknown';
}

import Table from 'cli-table3';
import type { Destination } from '../detect/index.js';
import { probeImplies, retryText, rstReason } from './evidence-text.js';
import { incidentSummary } from './incident-summary.js';
import { httpRequestText, truncationText } from './request-text.js';
import { checkCommands, packetCulprit, requestLabel, rstShort } from './facts.js';
import { incidentFile, type ReportIncident, type ReportInput } from './input.js';
import { capturesTable, vantageTable } from './vantage-table.js';
import { computeRemedies, type Remedy } from './remedies/index.js';
import { makeStyle, type Style } from './style.js';
import { fmtDuration } from './time.js';
import { displayFilter } from './wireshark-filter.js';
import { formatEnds } from './address.js';
import { atRiskText } from './at-risk-text.js';

/** Terminal width every line of the table report fits in. */
export const TABLE_WIDTH = 100;
/** Incidents listed in the terminal; the rest are counted (all are in the JSON). */
const MAX_INCIDENTS = 50;
const MAX_DESTINATIONS = 20;

const TABLE_STYLE = (colour: boolean) => ({ head: colour ? ['cyan'] : [], border: colour ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 });

/** Control characters (escape sequences above all) from captures and logs, shown as `\xNN` instead of acting on the terminal. */
export function safe(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Wraps text to `width` columns at spaces, the first line after `first`, the rest after `rest`; words too long are cut. */
export function wrap(textIn: string, width: number, first: string, rest = ' '.repeat(first.length)): string[] {
  const words = textIn.split(/ +/).filter(Boolean);
  const lines: string[] = [];
  let line = first;
  let empty = true;
  const room = () => width - line.length;
  for (let w of words) {
    if (!empty && w.length + 1 > room()) { lines.push(line); line = rest; empty = true; }
    while (w.length > room()) {
      const cut = Math.max(1, room());
      if (!empty && cut < 8) { lines.push(line); line = rest; empty = true; continue; }
      lines.push(line + (empty ? '' : ' ') + w.slice(0, cut - (empty ? 0 : 1)));
      w = w.slice(cut - (empty ? 0 : 1));
      line = rest;
      empty = true;
    }
    line += (empty ? '' : ' ') + w;
    empty = false;
  }
  if (!empty || lines.length === 0) lines.push(line);
  return lines;
}

/**
 * The terminal report: a headline, incidents, destinations, hops (when logs were given), then the
 * fixes. Short values go in the tables; long ones (the request, the RST's reason, log lines, the
 * display filter, the remedy) in wrapped lines below them. Every line fits 100 columns; colour
 * only when `colour` is true.
 */
export function renderAnalysisTable(r: ReportInput, colour: boolean, remedies: readonly Remedy[] = computeRemedies(r), captureLabel?: string): string {
  const st = makeStyle(colour);
  const out: string[] = [];
  const say = (textIn: string, first = '', style: (s: string) => string = (s) => s) => {
    for (const l of wrap(textIn, TABLE_WIDTH, first)) out.push(style(l));
  };
  const c = r.capture;
  const file = captureLabel ?? c.file;
  say(`${safe(file)}: ${c.packets} packets, ${r.summary.connections} TCP connections${c.first ? `, ${c.first} → ${c.last}` : ''}`, '', st.bold);
  if (r.captures && r.captures.length > 1) {
    say(`${r.captures.length} captures of one path (times on ${safe(r.captures[0]!.vantage)}'s clock):`);
    out.push(capturesTable(r, colour));
    for (const v of r.alignment?.vantages ?? []) say(safe(v.text), '', st.dim);
  }
  if (r.incidents.length === 0) {
    say(`No incidents: no request met a connection the network had forgotten (idle threshold ${r.options.idleThresholdSeconds} s).`, '', st.green);
  } else {
    const kinds = Object.entries(r.summary.incidentsByKind).map(([k, n]) => `${n} ${k}`).join(', ');
    say(`${r.incidents.length} incident${r.incidents.length === 1 ? '' : 's'}: ${kinds}`, '', (s) => st.red(st.bold(s)));
    out.push(incidentTable(r.incidents.slice(0, MAX_INCIDENTS), colour));
    r.incidents.slice(0, MAX_INCIDENTS).forEach((i, n) => incidentNarrative(i, n + 1, incidentFile(r, i, file), st, say, out, colour));
    if (r.incidents.length > MAX_INCIDENTS) say(`… and ${r.incidents.length - MAX_INCIDENTS} more incidents (see --format json)`, '', st.dim);
  }
  if (r.destinations.length) {
    out.push('');
    out.push(destinationTable(r.destinations.slice(0, MAX_DESTINATIONS), colour));
    for (const d of r.destinations.filter((x) => x.incidents > 0).slice(0, MAX_DESTINATIONS)) {
      say(`${d.server}: ${d.keepalive.text || 'no keepalive data'}${d.idleTimeout ? `; ${d.idleTimeout.text}` : ''}.`, '', st.dim);
    }
    if (r.destinations.length > MAX_DESTINATIONS) say(`… and ${r.destinations.length - MAX_DESTINATIONS} more destinations (see --format json)`, '', st.dim);
  }
  const atRisk = r.atRisk ?? [];
  if (atRisk.length) {
    out.push('');
    say(`${atRisk.length} connection${atRisk.length === 1 ? '' : 's'} at risk: open at the end of the capture and already idle past what the path allows`, '', (s) => st.yellow(st.bold(s)));
    for (const a of atRisk.slice(0, MAX_INCIDENTS)) say(`${safe(atRiskText(a))}.`, a.level === 'will-fail' ? '  will fail: ' : '  at risk: ', a.level === 'will-fail' ? st.red : st.yellow);
    if (atRisk.length > MAX_INCIDENTS) say(`… and ${atRisk.length - MAX_INCIDENTS} more (see --format json)`, '', st.dim);
  }
  if (r.logs) {
    out.push('');
    out.push(hopTable(r, colour));
    for (const h of r.logs.hops) if (h.error) say(`${safe(h.hop)}: ${safe(h.error)}`, 'warning: ', st.yellow);
    const unexplained = r.logs.unexplained.reduce((n, u) => n + u.count, 0);
    if (unexplained) say(`${unexplained} log line${unexplained === 1 ? '' : 's'} with the idle-drop signature (${r.logs.unexplained.map((u) => `${safe(u.upstreamHost)}: ${u.count}`).join(', ')}) are not explained by this capture.`, '', st.yellow);
  }
  if (remedies.length) {
    out.push('');
    say('Fix', '', st.bold);
    remedies.forEach((rem, n) => {
      say(safe(rem.headline), `${n + 1}. `, st.green);
      for (const x of rem.rationale) say(safe(x), '   - ');
      for (const x of rem.notes) say(safe(x), '   note: ', st.dim);
      const layers = [...new Set(rem.snippets.map((s) => s.title))];
      if (layers.length) say(`Config for ${layers.join('; ')}: flowdoc analyze … --format markdown (or html).`, '   ', st.dim);
    });
  }
  for (const w of r.warnings) say(safe(w), 'warning: ', st.yellow);
  return out.join('\n') + '\n';
}

function incidentTable(incidents: readonly ReportIncident[], colour: boolean): string {
  const t = new Table({
    head: ['#', 'kind', 'connection', 'idle', 'reset by (TTL)', 'frames'],
    style: TABLE_STYLE(colour),
    colWidths: [4, 21, 26, 9, 17, 15],
    wordWrap: true,
    wrapOnWordBoundary: true,
  });
  incidents.forEach((i, n) => {
    const frames = [
      i.frames.lastBeforeIdle !== null ? `last ${i.frames.lastBeforeIdle}` : '',
      i.frames.serverFin !== undefined ? `FIN ${i.frames.serverFin}` : '',
      i.frames.probe !== undefined ? `probe ${i.frames.probe}` : '',
      i.frames.request !== null ? `req ${i.frames.request}` : '',
      i.frames.rst !== null ? `RST ${i.frames.rst}` : '',
      i.frames.lastRetransmission !== undefined ? `retx ${i.frames.lastRetransmission}` : '',
    ].filter(Boolean).join('\n');
    const rst = rstShort(i).replace(' (', '\n(');
    const ends = formatEnds(i.endpoints);
    t.push([String(n + 1), i.kind, `${ends.client}\n→ ${ends.server}`, i.idleSeconds !== null && i.kind !== 'reset-in-flight' ? fmtDuration(i.idleSeconds) : '-', rst, frames]);
  });
  return t.toString();
}

function incidentNarrative(i: ReportIncident, n: number, file: string, st: Style, say: (t: string, first?: string, style?: (s: string) => string) => void, out: string[], colour: boolean): void {
  say(`${safe(incidentSummary(i))}.`, `${n}. `);
  if (i.vantage && i.vantages) {
    say(`frames in ${safe(i.vantage)}'s capture (${safe(file)}); what each vantage point saw:`, '   ');
    out.push(vantageTable(i.vantages, colour));
  }
  const req = i.request;
  if (req?.protocol === 'http') {
    say(`${safe(requestLabel(i))}${req.host ? `  Host ${safe(req.host)}` : ''}${req.requestId ? `  x-request-id ${safe(req.requestId)}` : ''}${req.truncated ? `  (${truncationText(req.truncated)})` : ''}`, '   request: ');
  } else if (req?.protocol === 'tls' && req.truncated) {
    say(`TLS application data${req.sni ? ` to ${safe(req.sni)}` : ''}  (${truncationText(req.truncated)})`, '   request: ');
  }
  if (i.goaway) say(`frame ${i.goaway.frame}: the server will process no stream above ${i.goaway.lastStreamId} (${safe(i.goaway.errorCode)})`, '   GOAWAY: ');
  for (const s of i.streams ?? []) {
    const logs = (s.logs ?? []).map((l) => `${safe(l.hop)}:${l.line}`).join(', ');
    say(`${safe(httpRequestText(s.method, s.path, s.truncated))}${s.truncated ? ` (${truncationText(s.truncated)})` : ''}${s.requestId ? `  x-request-id ${safe(s.requestId)}` : ''}${s.grpc ? `  gRPC ${safe(s.grpc)}` : ''}${logs ? `  log ${logs}` : ''}`, `   stream ${s.streamId}: `);
  }
  if (i.streamsNotListed) say(`${i.streamsNotListed} more not listed`, '   streams: ', st.dim);
  if (i.probe) say(`${safe(probeImplies(i.probe))}; with only SO_KEEPALIVE set, Linux waits 7200 s before the first probe`, '   keepalive: ');
  if (i.rst) say(safe(rstReason(i.rst)), '   RST: ', st.dim);
  else say(packetCulprit(i), '   who: ', st.dim);
  if (i.retry) say(safe(retryText(i)), '   retry: ', i.retry.safe === false ? st.red : st.dim);
  for (const m of i.logs ?? []) {
    say(`${safe(m.hop)} ${safe(m.file)}:${m.line}: ${safe(m.meaning)}`, '   log: ');
  }
  for (const h of i.hops ?? []) if (!h.sawRequest) say(`${safe(h.hop)} has no line for this request: it never got there`, '   log: ', st.dim);
  if (i.verdict) say(`${safe(i.verdict.reason)} (confidence ${i.verdict.confidence})`, '   verdict: ', st.bold);
  if (i.vantageVerdict) {
    say(safe(i.vantageVerdict.reason), '   captures: ', st.bold);
    for (const c of i.vantageVerdict.caveats) say(safe(c), '   caveat: ', st.yellow);
  }
  say(displayFilter(i), '   Wireshark: ', st.dim);
  say(safe(checkCommands(i, file)[0]), '   ', st.dim);
}

function keepaliveShort(d: Destination): string {
  const k = d.keepalive;
  const parts: string[] = [];
  if (k.verdict === 'too-slow') parts.push('TOO SLOW');
  if (k.appLevel) parts.push(`app ${k.appLevel.kind} every ${fmtDuration(k.appLevel.intervalSeconds)}`);
  if (k.connectionsWithoutProbes) parts.push(`off on ${k.connectionsWithoutProbes}, idle ≤ ${fmtDuration(k.maxIdleWithoutProbesSeconds)}`);
  if (k.connectionsWithProbes) parts.push(`on ${k.connectionsWithProbes}${k.probeIdleSeconds !== null ? ` after ${fmtDuration(k.probeIdleSeconds)}` : ''}`);
  return parts.join('; ') || '-';
}

function timeoutShort(d: Destination): string {
  const b = d.idleTimeout;
  if (!b) return '-';
  if (!b.consistent) return 'inconsistent';
  const f = b.failedSeconds !== null ? fmtDuration(b.failedSeconds) : '?';
  const range = b.survivedSeconds !== null && !b.survivedTrivial ? `${fmtDuration(b.survivedSeconds)} < T ≤ ${f}` : `T ≤ ${f}`;
  return `${range}${b.measure === 'data-idle' ? ' (payload)' : ''}`;
}

function destinationTable(ds: readonly Destination[], colour: boolean): string {
  const t = new Table({
    head: ['destination', 'conns', 'incidents', 'keepalive', 'idle timeout T'],
    style: TABLE_STYLE(colour),
    colWidths: [24, 7, 11, 26, 26],
    wordWrap: true,
    wrapOnWordBoundary: true,
  });
  for (const d of ds) t.push([d.server, String(d.connections), String(d.incidents), keepaliveShort(d), timeoutShort(d)]);
  return t.toString();
}

function hopTable(r: ReportInput, colour: boolean): string {
  const t = new Table({
    head: ['hop', 'file', 'format', 'entries', 'rejected', 'saw request'],
    style: TABLE_STYLE(colour),
    colWidths: [16, 28, 13, 9, 10, 17],
    wordWrap: true,
    wrapOnWordBoundary: false,
  });
  for (const h of r.logs!.hops) {
    const seen = r.incidents.filter((i) => (i.hops ?? []).some((x) => x.hop === h.hop && x.sawRequest)).length;
    t.push([safe(h.hop), safe(h.file), h.format ?? '-', String(h.entries), String(h.rejected), `${seen} of ${r.incidents.length}`]);
  }
  return t.toString();
}

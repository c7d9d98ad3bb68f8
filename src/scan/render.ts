/**
 * The scan's three outputs: a table for a terminal (100 columns), the JSON report, and ndjson
 * (one line per capture as it is ready, then the summary line). `flowdoc merge` prints through
 * the same functions, so a merge of shards prints what a single run would have.
 */
import Table from 'cli-table3';
import type { IncidentKind } from '../detect/index.js';
import { shellQuote } from '../report/facts.js';
import { makeStyle } from '../report/style.js';
import type { BracketRow, CaptureRow, KindCounts, ScanReport, ShardSpec, SummaryLine } from './types.js';
import { formatBytes } from '../shared/format.js';

export { formatBytes };

export const TABLE_WIDTH = 100;

export function renderScanJson(report: ScanReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}

export function ndjsonRow(row: CaptureRow): string {
  return JSON.stringify(row) + '\n';
}

export function ndjsonSummary(report: Omit<ScanReport, 'captures'>, shard: ShardSpec | null): string {
  const line: SummaryLine = { type: 'summary', tool: report.tool, options: report.options, shard, ...report.summary };
  return JSON.stringify(line) + '\n';
}

/** The whole ndjson output of a report (merge prints this; scan streams the same lines). */
export function renderScanNdjson(report: ScanReport, shard: ShardSpec | null): string {
  return report.captures.map(ndjsonRow).join('') + ndjsonSummary(report, shard);
}

const SHORT: Record<IncidentKind, string> = {
  'stale-reuse-rst': 'rst',
  'stale-reuse-timeout': 'timeout',
  'keepalive-too-slow': 'ka-slow',
  'reuse-after-fin': 'after-fin',
  'reuse-after-goaway': 'after-goaway',
  'reset-in-flight': 'in-flight',
};

function kindsText(k: KindCounts, sep = '\n'): string {
  return Object.entries(k).map(([kind, n]) => `${n} ${SHORT[kind as IncidentKind]}`).join(sep);
}

function bracketShort(b: BracketRow | null): string {
  if (!b) return '-';
  if (!b.consistent) return 'inconsistent';
  if (b.failedSeconds === null) return '-';
  if (b.survivedSeconds === null) return `≤ ${secs(b.failedSeconds)}`;
  return `${secs(b.survivedSeconds)}–${secs(b.failedSeconds)}`;
}

function secs(s: number): string {
  return s >= 100 ? `${s.toFixed(0)} s` : `${s.toFixed(1)} s`;
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}


const tableStyle = (colour: boolean) => ({ head: colour ? ['cyan'] : [], border: colour ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 });

/** Incidents listed under the tables at most (the JSON has every row's list). */
const EVIDENCE_LINES = 10;

/** The terminal report: a headline, one row per capture, totals, the ranked destinations, the first incidents. */
export function renderScanTable(report: ScanReport, colour: boolean): string {
  const st = makeStyle(colour);
  const t = report.summary.totals;
  const out: string[] = [];
  const skipped = t.skipped.notCapture + t.skipped.empty;
  out.push(st.bold(wrap(`flowdoc scan: ${num(t.captures)} capture${t.captures === 1 ? '' : 's'}, ${formatBytes(t.bytes)}, ${num(t.packets)} packets, ${num(t.connections)} TCP connections`
    + (skipped ? `; ${num(skipped)} file${skipped === 1 ? '' : 's'} skipped (${skippedText(t.skipped.notCapture, t.skipped.empty)})` : ''))));
  if (t.incidents === 0) {
    out.push(st.green(wrap(`No incidents in any capture (idle threshold ${report.options.idleThresholdSeconds} s).`)));
  } else {
    out.push(st.red(st.bold(wrap(`${num(t.incidents)} incident${t.incidents === 1 ? '' : 's'} in ${num(t.capturesWithIncidents)} capture${t.capturesWithIncidents === 1 ? '' : 's'}: ${kindsText(t.incidentsByKind, ', ')}`))));
  }
  if (t.atRisk) out.push(st.yellow(wrap(`${num(t.atRisk)} connection${t.atRisk === 1 ? '' : 's'} at risk in ${num(t.capturesWithAtRisk)} capture${t.capturesWithAtRisk === 1 ? '' : 's'} (open at the end and idle past what the path allows; ${num(t.willFail)} will fail on next use): flowdoc analyze CAPTURE lists them`)));
  if (t.capturesWithErrors) out.push(st.yellow(`${num(t.capturesWithErrors)} capture${t.capturesWithErrors === 1 ? '' : 's'} could not be read to the end (what was read is analysed; see the rows)`));

  if (report.captures.length) {
    const prefix = commonDirectory(report.captures.map((r) => r.path));
    if (prefix) out.push(wrap(`Captures under ${prefix}:`));
    const table = new Table({
      head: ['capture', 'packets', 'conns', 'incidents', 'destinations', 'idle timeout'],
      style: tableStyle(colour),
      colWidths: [26, 10, 7, 13, 23, 14],
      wordWrap: true,
      wrapOnWordBoundary: false,
    });
    for (const r of report.captures) {
      const path = r.path.slice(prefix.length);
      const name = r.files ? `${path}\n+${r.files.length - 1} rotated file${r.files.length === 2 ? '' : 's'}` : path;
      const cells: Table.Cell[] = [name, num(r.packets), num(r.connections)];
      if (r.error && r.incidents === 0) {
        // Plain text: cli-table3 cuts the escape codes of a coloured cell it wraps (a literal `[39m`
        // on screen). The line above the table is coloured, and stderr repeats each error.
        cells.push({ colSpan: 3, content: errorText(r, prefix) });
      } else {
        const dests = r.destinations.slice(0, 2).map((d) => `${d.server} ×${d.incidents}`);
        if (r.destinations.length > 2) dests.push(`+${r.destinations.length - 2} more`);
        if (r.error) dests.push(`${r.error.code}${r.error.frame > 0 ? ` at frame ${r.error.frame}` : ''}`);
        cells.push(r.incidents ? kindsText(r.incidentsByKind) : '-', dests.join('\n') || '-', bracketShort(r.destinations[0]?.idleTimeout ?? null));
      }
      table.push(cells);
    }
    const nd = report.summary.destinations.length;
    table.push([st.bold('total'), num(t.packets), num(t.connections), t.incidents ? kindsText(t.incidentsByKind) : '-', nd ? `${nd} with incidents` : '-', '']);
    out.push(table.toString());
    out.push(st.dim(wrap('kinds: rst = stale-reuse-rst, timeout = stale-reuse-timeout, ka-slow = keepalive-too-slow, after-fin = reuse-after-fin, after-goaway = reuse-after-goaway, in-flight = reset-in-flight')));
  }

  const dests = report.summary.destinations;
  if (dests.length) {
    out.push(st.bold('Destinations by captures with incidents (one that fails in many captures is the lead):'));
    const table = new Table({
      head: ['destination', 'captures', 'incidents', 'kinds', 'idle timeout (archive)'],
      style: tableStyle(colour),
      colWidths: [24, 10, 11, 14, 35],
      wordWrap: true,
    });
    for (const d of dests.slice(0, 20)) {
      table.push([d.server, `${d.captures} of ${t.captures}`, num(d.incidents), kindsText(d.incidentsByKind), d.idleTimeout?.text ?? '-']);
    }
    out.push(table.toString());
    if (dests.length > 20) out.push(st.dim(`… and ${dests.length - 20} more destinations with incidents (see --format json)`));
  }

  const evidence = report.captures.flatMap((r) => r.incidentList.map((i) => ({ r, i })));
  if (evidence.length) {
    out.push(st.bold(`First incidents${t.incidents > EVIDENCE_LINES ? ` (${EVIDENCE_LINES} of ${num(t.incidents)}; --format json lists them per capture)` : ''}:`));
    evidence.slice(0, EVIDENCE_LINES).forEach(({ r, i }, n) => {
      out.push(wrap(`${n + 1}. ${r.path}: ${i.summary}.`, '   '));
      // A command is never wrapped: a line break inside its quotes breaks it when pasted (the
      // terminal folds a long line for the eye and copies it whole).
      for (const w of i.wireshark) out.push(st.dim(`   tshark -r ${shellQuote(w.file)} -Y ${shellQuote(w.filter)}`));
      if (i.verdict) out.push(st.dim(wrap(`verdict: ${i.verdict.reason}`, '   ', '   ')));
    });
  }
  return out.join('\n') + '\n';
}

function skippedText(notCapture: number, empty: number): string {
  const parts: string[] = [];
  if (notCapture) parts.push(`${num(notCapture)} not ${notCapture === 1 ? 'a capture' : 'captures'}`);
  if (empty) parts.push(`${num(empty)} empty`);
  return parts.join(', ');
}

function errorText(r: CaptureRow, prefix: string): string {
  const e = r.error!;
  const where = e.frame > 0 && e.code !== 'io' && e.code !== 'empty' && e.code !== 'not-a-capture' ? ` (frame ${e.frame})` : '';
  const file = r.files && e.file !== r.path ? `${e.file.slice(e.file.startsWith(prefix) ? prefix.length : 0)}: ` : '';
  return `error: ${file}${e.message}${where}`;
}

/** The directory all paths share (with its trailing `/`), '' when none: printed once above the rows. */
function commonDirectory(paths: readonly string[]): string {
  if (paths.length === 0) return '';
  let prefix = paths[0]!.slice(0, paths[0]!.lastIndexOf('/') + 1);
  for (const p of paths) {
    while (prefix && !p.startsWith(prefix)) prefix = prefix.slice(0, prefix.slice(0, -1).lastIndexOf('/') + 1);
  }
  return prefix;
}

/** Wraps free text at the table width (ANSI-free input; colour is applied around it). */
export function wrap(text: string, indent = '', first = ''): string {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(' ')) {
    const start = line === first || line === indent;
    if (!start && line.length + 1 + word.length > TABLE_WIDTH) {
      lines.push(line);
      line = indent + word;
    } else {
      line += (start ? '' : ' ') + word;
    }
  }
  lines.push(line);
  // Words longer than a line (paths, filters) are cut hard.
  return lines.flatMap((l) => {
    const parts: string[] = [];
    let rest = l;
    while (rest.length > TABLE_WIDTH) { parts.push(rest.slice(0, TABLE_WIDTH)); rest = indent + rest.slice(TABLE_WIDTH); }
    parts.push(rest);
    return parts;
  }).join('\n');
}


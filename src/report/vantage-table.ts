import Table from 'cli-table3';
import type { VantageAlignment, VantageEvidence } from '../correlate/index.js';
import type { ReportInput } from './input.js';

const STYLE = (colour: boolean) => ({ head: colour ? ['cyan'] : [], border: colour ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 });

/** `2026-11-21T01:45:43.489612Z` → `01:45:43.489612` (the date is in the headline). */
export function clockTime(iso: string | null): string {
  return iso ? iso.replace(/^.*T/, '').replace(/Z$/, '') : '-';
}

/** Offset ± uncertainty for a table cell. */
export function offsetText(a: VantageAlignment): string {
  const c = a.clock;
  if (c.offsetSeconds === null) return 'unknown';
  const f = (s: number) => (Math.abs(s) < 1e-3 ? `${Math.round(s * 1e6)} µs` : Math.abs(s) < 1 ? `${(s * 1e3).toFixed(3)} ms` : `${s.toFixed(3)} s`);
  if (c.uncertaintySeconds === null) return `≈ ${f(c.offsetSeconds)} (one way)`;
  return `${f(c.offsetSeconds)} ± ${f(c.uncertaintySeconds)}${c.method === 'inconsistent' ? ' (?)' : ''}`;
}

/** One row per capture: what it is and how it lines up with the first. */
export function capturesTable(r: ReportInput, colour: boolean): string {
  const t = new Table({
    head: ['vantage', 'file', 'packets', 'conns', 'matched', 'clock vs first'],
    style: STYLE(colour), colWidths: [14, 30, 9, 7, 15, 21], wordWrap: true, wrapOnWordBoundary: false,
  });
  (r.captures ?? []).forEach((c, n) => {
    const a = n === 0 ? null : r.alignment?.vantages.find((v) => v.vantage === c.vantage) ?? null;
    const matched = a ? `${a.matched} of ${a.connections}` : 'anchor';
    t.push([c.vantage, c.file, String(c.packets), String(c.connections), matched, a ? offsetText(a) : '0']);
  });
  return t.toString();
}

/** One row per vantage point of an incident: the request and the RST there, on the first capture's clock. */
export function vantageTable(vs: readonly VantageEvidence[], colour: boolean): string {
  const t = new Table({
    head: ['vantage', 'request', 'RST from (TTL)', 'RST at (common)', 'matched by'],
    style: STYLE(colour), colWidths: [14, 16, 26, 20, 20], wordWrap: true, wrapOnWordBoundary: false,
  });
  for (const v of vs) {
    const req = v.legs.find((l) => l.request)?.request;
    const rstLeg = v.legs.find((l) => l.rst);
    const rst = rstLeg?.rst;
    const absent = v.legs.length === 0 ? (v.covered ? 'no connection' : 'not running') : null;
    t.push([
      v.vantage,
      absent ?? (req ? `frame ${req.frame}${req.transmissions > 1 ? ` ×${req.transmissions}` : ''}` : v.covered ? 'not seen' : 'not seen (not running)'),
      absent ? '-' : rst ? `${rst.from} (${rst.ttl})\nframe ${rst.frame}` : 'none',
      rst ? clockTime(rst.commonTime ?? rst.time) : '-',
      v.legs.map((l) => (l.method === 'itself' ? 'itself' : `${l.method}${l.confidence !== 'high' ? ` (${l.confidence})` : ''}`)).join('\n') || '-',
    ]);
  }
  return t.toString();
}

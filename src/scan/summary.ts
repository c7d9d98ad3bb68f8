import { makeBracket, type IncidentKind } from '../detect/index.js';
import { cmp } from './discover.js';
import { canonicalKinds } from './row.js';
import type { ArchiveBracket, CaptureRow, RankedDestination, ScanSummary, SkippedCounts } from './types.js';

/**
 * Totals and the destinations ranked over the archive — a pure function of the rows (in path
 * order) and the skipped counts, so a merge of shards computes exactly what one run did.
 */
export function summarize(rows: readonly CaptureRow[], skipped: SkippedCounts): ScanSummary {
  const kinds: Partial<Record<IncidentKind, number>> = {};
  let bytes = 0, packets = 0, connections = 0, incidents = 0, withIncidents = 0, withErrors = 0, atRisk = 0, willFail = 0, withAtRisk = 0;
  for (const r of rows) {
    bytes += r.bytes;
    packets += r.packets;
    connections += r.connections;
    incidents += r.incidents;
    if (r.incidents > 0) withIncidents++;
    if (r.error) withErrors++;
    // Rows written before at-risk counts existed (merged shards of an older flowdoc) have none.
    atRisk += r.atRisk ?? 0;
    willFail += r.willFail ?? 0;
    if ((r.atRisk ?? 0) > 0) withAtRisk++;
    for (const [k, n] of Object.entries(r.incidentsByKind) as [IncidentKind, number][]) kinds[k] = (kinds[k] ?? 0) + n;
  }
  return {
    totals: {
      captures: rows.length, capturesWithIncidents: withIncidents, capturesWithErrors: withErrors, skipped,
      bytes, packets, connections, incidents, incidentsByKind: canonicalKinds(kinds), atRisk, willFail, capturesWithAtRisk: withAtRisk,
    },
    destinations: rankDestinations(rows),
  };
}

interface Acc {
  server: string;
  captures: number;
  incidents: number;
  kinds: Partial<Record<IncidentKind, number>>;
  connections: number;
  failed: number | null;
  failedMeasures: Set<'packet-gap' | 'data-idle'>;
  paths: string[];
}

/**
 * Destinations with incidents, ranked: "a destination that fails in many captures is the lead" —
 * by captures with incidents, then incidents, then name. Their idle-timeout brackets combine
 * over the archive: the longest idle that survived anywhere, the shortest that failed anywhere.
 */
export function rankDestinations(rows: readonly CaptureRow[]): RankedDestination[] {
  const accs = new Map<string, Acc>();
  for (const r of rows) {
    for (const d of r.destinations) {
      let a = accs.get(d.server);
      if (!a) {
        a = { server: d.server, captures: 0, incidents: 0, kinds: {}, connections: 0, failed: null, failedMeasures: new Set(), paths: [] };
        accs.set(d.server, a);
      }
      a.captures++;
      a.incidents += d.incidents;
      a.connections += d.connections;
      a.paths.push(r.path);
      for (const [k, n] of Object.entries(d.incidentsByKind) as [IncidentKind, number][]) a.kinds[k] = (a.kinds[k] ?? 0) + n;
      const f = d.idleTimeout?.failedSeconds ?? null;
      if (f !== null) {
        a.failed = a.failed === null ? f : Math.min(a.failed, f);
        a.failedMeasures.add(d.idleTimeout!.measure);
      }
    }
  }
  // Survivals of every capture count, with or without incidents there.
  const survived = new Map<string, { packetGap: number; idle: number }>();
  for (const r of rows) {
    for (const s of r.survivals) {
      if (!accs.has(s.server)) continue;
      const v = survived.get(s.server);
      if (!v) survived.set(s.server, { packetGap: s.packetGapSeconds, idle: s.idleSeconds });
      else { v.packetGap = Math.max(v.packetGap, s.packetGapSeconds); v.idle = Math.max(v.idle, s.idleSeconds); }
    }
  }
  return [...accs.values()]
    .map((a): RankedDestination => ({
      server: a.server,
      captures: a.captures,
      incidents: a.incidents,
      incidentsByKind: canonicalKinds(a.kinds),
      connections: a.connections,
      idleTimeout: archiveBracket(a, survived.get(a.server) ?? null),
      capturePaths: a.paths,
    }))
    .sort((x, y) => y.captures - x.captures || y.incidents - x.incidents || cmp(x.server, y.server));
}

function archiveBracket(a: Acc, s: { packetGap: number; idle: number } | null): ArchiveBracket | null {
  if (a.failed === null) return null;
  // A box that ignored keepalive probes anywhere is measured on data silence (as the detector does per capture).
  const measure = a.failedMeasures.has('data-idle') ? 'data-idle' : 'packet-gap';
  const mixed = a.failedMeasures.size > 1;
  const b = makeBracket({
    failedSeconds: a.failed, failedFrame: null,
    survivedSeconds: s === null ? null : measure === 'packet-gap' ? s.packetGap : s.idle, survivedFrame: null,
    measure, scope: a.captures === 1 ? '' : ` (over ${a.captures} captures)`,
  });
  const text = mixed ? `${b.text}; measured on data silence in some captures and on packet gaps in others` : b.text;
  return {
    survivedSeconds: b.survivedSeconds, failedSeconds: b.failedSeconds, measure, consistent: b.consistent, text,
    candidates: b.candidates.map((k) => ({ name: k.name, seconds: k.seconds })),
  };
}

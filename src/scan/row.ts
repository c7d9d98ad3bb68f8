import type { AnalysisResult } from '../analysis/analyze.js';
import type { CorrelatedIncident } from '../correlate/index.js';
import type { Destination, IncidentKind } from '../detect/index.js';
import { citeFrame, displayFilter, filterAround, incidentSummary, type FrameCitation } from '../report/index.js';
import { cmp } from './discover.js';
import { firstPartError, locateFrame, stitchPart, type ReadPart } from './stitch.js';
import {
  INCIDENT_KINDS, MAX_INCIDENT_ROWS, type CaptureRow, type CaptureRowError, type DestinationRow, type IncidentRow,
  type KindCounts, type PairedLog, type SurvivalRow,
} from './types.js';
import { formatEnds } from '../report/address.js';

/** Counts in the canonical kind order (so equal counts print as equal JSON). */
export function canonicalKinds(counts: Partial<Record<IncidentKind, number>>): KindCounts {
  const out: KindCounts = {};
  for (const k of INCIDENT_KINDS) if (counts[k]) out[k] = counts[k];
  return out;
}

/** Longest survived idle per destination, gathered from the finished connections. */
export type SurvivalAcc = Map<string, { packetGap: number; idle: number }>;

export interface RowInput {
  readonly path: string;
  readonly bytes: number;
  readonly parts: readonly ReadPart[] | null;
  readonly logs: readonly PairedLog[] | null;
  readonly survivals: SurvivalAcc;
}

/** The scan row of one analysed capture (or stitched group). */
export function buildRow(input: RowInput, r: AnalysisResult): CaptureRow {
  const parts = input.parts;
  const threshold = r.options.idleThresholdSeconds;
  const destinations: DestinationRow[] = r.destinations.filter((d) => d.incidents > 0).map(destinationRow);
  const withIncidents = new Set(destinations.map((d) => d.server));
  const survivals: SurvivalRow[] = [...input.survivals.entries()]
    .filter(([server, s]) => withIncidents.has(server) || Math.max(s.packetGap, s.idle) >= threshold)
    .sort((a, b) => cmp(a[0], b[0]))
    .map(([server, s]) => ({ server, packetGapSeconds: round3(s.packetGap), idleSeconds: round3(s.idle) }));
  const c = r.capture;
  let error: CaptureRowError | null;
  if (parts) error = firstPartError(parts);
  else error = c.error ? { ...c.error, file: input.path } : null;
  const warnings = r.warnings.filter((w) => !w.startsWith('the capture could not be read to the end'));
  if (parts) warnings.push(...gapWarnings(parts, threshold));
  return {
    type: 'capture',
    path: input.path,
    files: parts ? parts.map(stitchPart) : null,
    format: c.format,
    gzip: c.gzip,
    bytes: input.bytes,
    packets: c.packets,
    connections: r.summary.connections,
    first: c.first,
    last: c.last,
    incidents: r.summary.incidents,
    incidentsByKind: canonicalKinds(r.summary.incidentsByKind),
    destinations,
    survivals,
    incidentList: r.incidents.slice(0, MAX_INCIDENT_ROWS).map((i) => incidentRow(i, input, r.logs !== null)),
    incidentsNotListed: Math.max(0, r.incidents.length - MAX_INCIDENT_ROWS),
    atRisk: r.summary.atRisk,
    willFail: r.summary.willFail,
    logs: input.logs,
    error,
    warnings,
  };
}

/** The row of a capture whose analysis could not run (it threw, or its worker died). */
export function failedRow(path: string, bytes: number, code: 'analysis-failed' | 'worker-crashed', message: string, files: readonly string[] | null): CaptureRow {
  return {
    type: 'capture', path, files: files ? files.map((f) => ({ path: f, packets: 0, firstFrame: 1, first: null, last: null, error: null })) : null,
    format: null, gzip: false, bytes, packets: 0, connections: 0, first: null, last: null,
    incidents: 0, incidentsByKind: {}, destinations: [], survivals: [], incidentList: [], incidentsNotListed: 0, atRisk: 0, willFail: 0, logs: null,
    error: { code, message, offset: 0, frame: 0, file: path }, warnings: [],
  };
}

function destinationRow(d: Destination): DestinationRow {
  const b = d.idleTimeout;
  return {
    server: d.server,
    connections: d.connections,
    incidents: d.incidents,
    incidentsByKind: canonicalKinds(d.incidentsByKind),
    keepalive: d.keepalive.text,
    idleTimeout: b ? { survivedSeconds: b.survivedSeconds, failedSeconds: b.failedSeconds, measure: b.measure, consistent: b.consistent, text: b.text } : null,
  };
}

function incidentRow(i: CorrelatedIncident, input: RowInput, withLogs: boolean): IncidentRow {
  const parts = input.parts;
  const request = i.request === null ? null
    : i.request.protocol === 'http' ? `${i.request.method} ${i.request.path}`
      : i.request.protocol === 'tls' ? `TLS${i.request.sni ? ` ${i.request.sni}` : ''}` : 'data';
  const frames = { lastBeforeIdle: i.frames.lastBeforeIdle, request: i.frames.request, rst: i.frames.rst };
  let wireshark: IncidentRow['wireshark'];
  // The sentence cites each frame where it can be found: in a stitched group, the file it is in
  // and its number there.
  let cite: FrameCitation = citeFrame;
  let locations: IncidentRow['locations'] = null;
  if (parts) {
    locations = {
      lastBeforeIdle: locateFrame(frames.lastBeforeIdle, parts),
      request: locateFrame(frames.request, parts),
      rst: locateFrame(frames.rst, parts),
    };
    // One filter per file the evidence lies in, with that file's own frame numbers.
    const cited = [i.frames.lastBeforeIdle, i.frames.request, i.frames.rst, i.frames.serverFin ?? null, i.frames.lastRetransmission ?? null]
      .map((f) => locateFrame(f, parts)).filter((l): l is NonNullable<typeof l> => l !== null);
    const byFile = new Map<string, number[]>();
    for (const l of cited) byFile.set(l.file, [...(byFile.get(l.file) ?? []), l.frame]);
    wireshark = parts.filter((p) => byFile.has(p.path)).map((p) => ({ file: p.path, filter: filterAround(i.endpoints, byFile.get(p.path)!) }));
    cite = (n) => {
      const l = locateFrame(n, parts);
      return l ? `${l.file} ${citeFrame(l.frame)}` : citeFrame(n);
    };
  } else {
    wireshark = [{ file: input.path, filter: displayFilter(i) }];
  }
  return {
    kind: i.kind,
    ...formatEnds(i.endpoints),
    idleSeconds: i.idleSeconds,
    request,
    rstOrigin: i.rst?.origin ?? null,
    frames,
    locations,
    wireshark,
    summary: incidentSummary(i, cite),
    verdict: withLogs ? { faultyHop: i.verdict.faultyHop, culprit: i.verdict.culprit, reason: i.verdict.reason } : null,
  };
}

function gapWarnings(parts: readonly ReadPart[], thresholdSeconds: number): string[] {
  const out: string[] = [];
  for (let k = 1; k < parts.length; k++) {
    const a = parts[k - 1]!, b = parts[k]!;
    if (a.lastMicros === null || b.firstMicros === null) continue;
    const gap = (b.firstMicros - a.lastMicros) / 1e6;
    if (gap >= thresholdSeconds) {
      out.push(`no packet for ${gap.toFixed(1)} s between ${a.path} and ${b.path}: if the capture was not running then, connections idle across it were not necessarily idle`);
    }
  }
  return out;
}

function round3(n: number): number {
  return Math.round(n * 1e3) / 1e3;
}

import type { Incident, ProbeEvidence, RetrySafety, RstEvidence } from '../detect/index.js';
import { probeImplies, retryText, rstReason } from './evidence-text.js';
import { formatEnds } from './address.js';
import { jsonAtRisk, type JsonAtRisk } from './at-risk-text.js';
import { incidentSummary } from './incident-summary.js';
import type { ReportIncident, ReportInput } from './input.js';
import { computeRemedies, type Remedy } from './remedies/index.js';
import { evidenceTime } from './time.js';
import { connectionFilter, displayFilter } from './wireshark-filter.js';

/** Version of the JSON report's shape; `schema/analysis-v2.schema.json` describes it. Bumped on any breaking change. */
export const SCHEMA_VERSION = 2 as const;

/**
 * What the JSON form adds to an incident: the Wireshark filters made from its data, and the
 * sentences worded from its evidence — each where schema v2 has always had it.
 */
export interface JsonIncidentExtras {
  /** The two ends as text (`10.0.0.1:80`, `[2001:db8::1]:443`), just before `endpoints`, which has them as data. */
  readonly client: string;
  readonly server: string;
  /** A Wireshark display filter isolating the evidence: the connection from its first key frame to its last. */
  readonly displayFilter: string;
  /** The connection's part of displayFilter, without its frame range. */
  readonly connectionFilter: string;
  /** The RST with why flowdoc says who sent it (`reason`). */
  readonly rst: (RstEvidence & { readonly reason: string }) | null;
  /** The probe with what its timing implies (`implies`, in place of the interval it is worded from). */
  readonly probe?: JsonProbe;
  /** The key frames' times in ISO-8601 UTC (µs), just before `micros`, which has them as numbers. */
  readonly times: JsonTimes;
  /** The retry safety with its sentence (`text`). */
  readonly retry: RetrySafety & { readonly text: string };
  readonly summary: string;
}

/** `micros` as ISO text, without the last retransmission (v2 has that one only in `micros`). */
export interface JsonTimes {
  readonly lastBeforeIdle: string | null;
  readonly request: string | null;
  readonly rst: string | null;
  /** reuse-after-fin only. */
  readonly serverFin?: string;
}

/** v2 carries the probe's interval only as the words it implies. */
export type JsonProbe = Omit<ProbeEvidence, 'intervalSeconds'> & { readonly implies: string };

/** An incident as JSON carries it. */
export type JsonIncident<I extends ReportIncident = ReportIncident> = Omit<I, 'rst' | 'probe' | 'retry'> & JsonIncidentExtras;

/** The JSON report: the whole analysis, its schema version first and the computed remedies last. */
export interface JsonReport extends Omit<ReportInput, 'incidents' | 'atRisk'> {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly incidents: readonly JsonIncident[];
  /** Each with its ends, last time, keepalive and sentence as text, where schema v2 has them. */
  readonly atRisk?: readonly JsonAtRisk[];
  readonly remedies: readonly Remedy[];
}

export function toJsonReport(r: ReportInput, remedies: readonly Remedy[] = computeRemedies(r)): JsonReport {
  // An own schemaVersion/remedies on the input (a re-rendered report) is replaced, not duplicated.
  const { schemaVersion: _v, remedies: _r, ...rest } = r as ReportInput & { schemaVersion?: unknown; remedies?: unknown };
  const atRisk = rest.atRisk && { atRisk: rest.atRisk.map(jsonAtRisk) }; // in place: the spread put the key where it was
  return { schemaVersion: SCHEMA_VERSION, ...rest, incidents: rest.incidents.map(jsonIncident), ...atRisk, remedies } as JsonReport;
}

/**
 * An incident as JSON carries it: the evidence, its two ends as text (`client`, `server`, just
 * before `endpoints`), its key frames' times as ISO text (`times`, just before `micros`), its Wireshark filters (just before `history`,
 * where schema v1 put them), the RST's `reason`, the probe's `implies`, the retry's `text` (last
 * in their objects) and its sentence (`summary`), all made here from that evidence.
 */
export function jsonIncident<I extends ReportIncident>(i: I): JsonIncident<I> {
  const out: Record<string, unknown> = {};
  const filters = () => { out.displayFilter = displayFilter(i); out.connectionFilter = connectionFilter(i.endpoints); };
  for (const [k, v] of Object.entries(i)) {
    if (k === 'displayFilter' || k === 'connectionFilter' || k === 'summary' || k === 'client' || k === 'server' || k === 'times') continue; // a re-rendered report's own: made again
    if (k === 'history') filters();
    if (k === 'endpoints') Object.assign(out, formatEnds(i.endpoints));
    if (k === 'micros') out.times = jsonTimes(i.micros);
    if (k === 'rst') out.rst = i.rst && { ...i.rst, reason: rstReason(i.rst) };
    else if (k === 'probe') out.probe = i.probe && jsonProbe(i.probe);
    else if (k === 'retry') out.retry = { ...i.retry, text: retryText(i) };
    else out[k] = v;
  }
  if (!('displayFilter' in out)) filters();
  out.summary = incidentSummary(i);
  return out as unknown as JsonIncident<I>;
}

function jsonTimes(m: Incident['micros']): JsonTimes {
  const iso = (v: number | null) => (v === null ? null : evidenceTime(v));
  return { lastBeforeIdle: iso(m.lastBeforeIdle), request: iso(m.request), rst: iso(m.rst), ...(m.serverFin !== undefined && { serverFin: evidenceTime(m.serverFin) }) };
}

function jsonProbe(p: ProbeEvidence): JsonProbe {
  const { intervalSeconds: _worded, ...figures } = p;
  return { ...figures, implies: probeImplies(p) };
}

/** The JSON report as text: two-space indented, ending in a newline. */
export function renderJson(r: ReportInput, remedies?: readonly Remedy[]): string {
  return JSON.stringify(toJsonReport(r, remedies), null, 2) + '\n';
}

import { incidentSummary } from './incident-summary.js';
import type { ReportIncident, ReportInput } from './input.js';
import { computeRemedies, type Remedy } from './remedies/index.js';

/** Version of the JSON report's shape; `schema/analysis-v2.schema.json` describes it. Bumped on any breaking change. */
export const SCHEMA_VERSION = 2 as const;

/** The JSON report: the whole analysis, its schema version first and the computed remedies last. */
export interface JsonReport extends Omit<ReportInput, 'incidents'> {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly incidents: readonly (ReportIncident & { readonly summary: string })[];
  readonly remedies: readonly Remedy[];
}

export function toJsonReport(r: ReportInput, remedies: readonly Remedy[] = computeRemedies(r)): JsonReport {
  // An own schemaVersion/remedies on the input (a re-rendered report) is replaced, not duplicated.
  const { schemaVersion: _v, remedies: _r, ...rest } = r as ReportInput & { schemaVersion?: unknown; remedies?: unknown };
  return { schemaVersion: SCHEMA_VERSION, ...rest, incidents: rest.incidents.map(withSummary), remedies };
}

/** An incident as JSON carries it: the evidence plus its sentence (`summary`), worded from that evidence. */
export function withSummary<I extends ReportIncident>(i: I): I & { readonly summary: string } {
  return { ...i, summary: incidentSummary(i) };
}

/** The JSON report as text: two-space indented, ending in a newline. */
export function renderJson(r: ReportInput, remedies?: readonly Remedy[]): string {
  return JSON.stringify(toJsonReport(r, remedies), null, 2) + '\n';
}

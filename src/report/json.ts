import type { ReportInput } from './input.js';
import { computeRemedies, type Remedy } from './remedies/index.js';

/** Version of the JSON report's shape; `schema/analysis-v2.schema.json` describes it. Bumped on any breaking change. */
export const SCHEMA_VERSION = 2 as const;

/** The JSON report: the whole analysis, its schema version first and the computed remedies last. */
export interface JsonReport extends ReportInput {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly remedies: readonly Remedy[];
}

export function toJsonReport(r: ReportInput, remedies: readonly Remedy[] = computeRemedies(r)): JsonReport {
  // An own schemaVersion/remedies on the input (a re-rendered report) is replaced, not duplicated.
  const { schemaVersion: _v, remedies: _r, ...rest } = r as ReportInput & { schemaVersion?: unknown; remedies?: unknown };
  return { schemaVersion: SCHEMA_VERSION, ...rest, remedies };
}

/** The JSON report as text: two-space indented, ending in a newline. */
export function renderJson(r: ReportInput, remedies?: readonly Remedy[]): string {
  return JSON.stringify(toJsonReport(r, remedies), null, 2) + '\n';
}

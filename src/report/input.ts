import type { AnalysisResult } from '../analysis/analyze.js';
import type { HopEvidence, LogMatch, LogsSummary, Verdict, VantageEvidence, VantageVerdict } from '../correlate/index.js';
import type { Incident, StreamEvidence } from '../detect/index.js';
import { evidenceTime, microsToIso } from './time.js';

/**
 * An incident as the renderers take it: the packet evidence, plus what the logs of every hop say
 * when log correlation ran (a `CorrelatedIncident`). Without logs the three extra fields are absent.
 */
export type ReportIncident = Omit<Incident, 'streams'> & {
  readonly logs?: readonly LogMatch[];
  readonly hops?: readonly HopEvidence[];
  readonly verdict?: Verdict;
  /** HTTP/2: the killed streams, each with its own log lines when logs were correlated. */
  readonly streams?: readonly (StreamEvidence & { readonly logs?: readonly { readonly hop: string; readonly line: number }[] })[];
  /** Several captures only: the vantage point whose capture the frames refer to, what each saw, and the verdict from all of them. */
  readonly vantage?: string;
  readonly vantages?: readonly VantageEvidence[];
  readonly vantageVerdict?: VantageVerdict;
};

/** The file an incident's frames are in: its vantage point's capture when there are several, else the report's. */
export function incidentFile(r: ReportInput, i: ReportIncident, fallback: string): string {
  if (!i.vantage || !r.captures || r.captures[0]?.vantage === i.vantage) return fallback;
  return r.captures.find((c) => c.vantage === i.vantage)?.file ?? fallback;
}

/**
 * What every renderer accepts: an `AnalysisResult`, whether its incidents are plain `Incident`s
 * (packets only) or `CorrelatedIncident`s with a `logs` summary beside them.
 */
export type ReportInput = Omit<AnalysisResult, 'incidents' | 'atRisk'> & {
  readonly incidents: readonly ReportIncident[];
  readonly logs?: LogsSummary | null;
  /** Connections at risk at the end of the capture (absent in reports made before schema v2). */
  readonly atRisk?: AnalysisResult['atRisk'];
};

/** Time of the server's FIN (reuse-after-fin), when the evidence has it. */
export function serverFinTime(i: Incident): string | null {
  return i.micros.serverFin !== undefined ? evidenceTime(i.micros.serverFin) : null;
}

/** Time of the last retransmission (stale-reuse-timeout), when the evidence has it. */
export function lastRetransmissionTime(i: Incident): string | null {
  return i.micros.lastRetransmission !== undefined ? microsToIso(i.micros.lastRetransmission) : null;
}

/**
 * How long the server's side of a reuse-after-fin connection was idle before its FIN (the server's
 * keep-alive timeout as it acted), when the evidence has it: `serverIdleBeforeFinSeconds`.
 */
export function serverIdleBeforeFin(i: Incident): number | null {
  const v = (i as Incident & { readonly serverIdleBeforeFinSeconds?: number | null }).serverIdleBeforeFinSeconds;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Incidents where the path forgot an idle connection (the ones the idle-timeout bracket and the keepalive fix are about). */
export const isStale = (i: Incident): boolean => i.kind === 'stale-reuse-rst' || i.kind === 'stale-reuse-timeout' || i.kind === 'keepalive-too-slow';

/** Smallest / largest of many numbers without spreading them into arguments (which overflows the stack past ~100k). */
export function minOf(values: Iterable<number>, empty = Infinity): number {
  let m = empty;
  let first = true;
  for (const v of values) { if (first || v < m) m = v; first = false; }
  return m;
}

export function maxOf(values: Iterable<number>, empty = -Infinity): number {
  let m = empty;
  let first = true;
  for (const v of values) { if (first || v > m) m = v; first = false; }
  return m;
}

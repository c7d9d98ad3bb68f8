import {
  alignCaptures, correlate, decideVantageVerdict, type CorrelatedIncident, type HopLogs, type IncidentVantages, type TracedConnection,
  type VantageInput,
} from '../correlate/index.js';
import type { IncidentKind } from '../detect/index.js';
import { readLogFile } from '../logs/index.js';
import { analyzeCapture, logsSummary, type AnalysisResult, type AnalyzeOptions, type VantageCaptureDescription } from './analyze.js';

/** One capture of several, named by its vantage point. */
export interface NamedCapture {
  readonly vantage: string;
  readonly file: string;
}

/** An incident of a several-capture analysis: its own capture's evidence, what every vantage point saw, and where that puts the fault. */
export type VantageIncident = CorrelatedIncident & IncidentVantages;

export interface MultiAnalysisResult extends AnalysisResult {
  captures: VantageCaptureDescription[];
  alignment: NonNullable<AnalysisResult['alignment']>;
  incidents: VantageIncident[];
}

/**
 * Several captures of one path taken at the same time, in path order (client side first): each is
 * analysed on its own (connections, incidents), then the connections are found across captures,
 * the clocks lined up, and every incident gets what each vantage point saw of it and a verdict
 * from all of them. The first capture is the anchor: its clock, connections and destinations are
 * the report's. A capture that cannot be read (wholly or partly) is reported in `captures[].error`
 * and the others are still analysed. Memory: besides each capture's live connections, a bounded
 * trace (~3 KB) per connection of every capture, kept until the captures are aligned.
 */
export interface MultiAnalyzeOptions extends AnalyzeOptions {
  /** Called before each capture is read (the CLI starts a progress line per file). */
  onCaptureStart?: (file: string) => void | Promise<void>;
}

export async function analyzeCaptures(captures: readonly NamedCapture[], options: MultiAnalyzeOptions = {}): Promise<MultiAnalysisResult> {
  const traced: TracedConnection[][] = [];
  const results: AnalysisResult[] = [];
  for (const c of captures) {
    const conns: TracedConnection[] = [];
    traced.push(conns);
    const { logs: _logs, onConnection, onCaptureStart, ...rest } = options;
    await onCaptureStart?.(c.file);
    results.push(await analyzeCapture(c.file, {
      ...rest,
      traceSegments: true,
      onConnection: (conn) => {
        onConnection?.(conn);
        if (!conn.trace) return;
        conns.push({
          id: conn.id, client: conn.client, server: conn.server, firstMicros: conn.firstMicros, lastMicros: conn.lastMicros,
          partial: conn.partial, segmentsNotCaptured: conn.clientStats.segmentsNotCaptured + conn.serverStats.segmentsNotCaptured,
          trace: conn.trace,
        });
      },
    }));
  }
  const inputs: VantageInput[] = captures.map((c, k) => {
    let first: number | null = null, last: number | null = null;
    for (const x of traced[k]!) {
      if (first === null || x.firstMicros < first) first = x.firstMicros;
      if (last === null || x.lastMicros > last) last = x.lastMicros;
    }
    return { name: c.vantage, file: c.file, connections: traced[k]!, firstMicros: first, lastMicros: last, kernelDrops: results[k]!.capture.kernelDrops ?? null };
  });
  const alignment = alignCaptures(inputs, results.map((r) => r.incidents));

  // The logs are read once and joined to the merged incidents (each in its own capture's terms).
  const logResults = await Promise.all((options.logs ?? []).map((l) => readLogFile(l.file, { hop: l.hop, ...(options.logFormat ? { format: options.logFormat } : {}) })));
  const skewMs = (options.skewSeconds ?? 1) * 1000;
  const hops: HopLogs[] = logResults.map((r) => ({ hop: r.hop, file: r.file, entries: r.entries }));
  // correlate() replaces the (empty) log evidence each capture's own analysis attached.
  const { incidents: correlated, unexplained } = correlate(alignment.incidents.map((a) => a.incident), hops, { skewMs });
  const incidents: VantageIncident[] = correlated.map((i, n) => {
    const a = alignment.incidents[n]!;
    return { ...i, vantage: captures[a.vantageIndex]!.vantage, vantages: a.evidence, vantageVerdict: decideVantageVerdict(i, a.evidence, i.hops) };
  });

  const anchor = results[0]!;
  const byKind: Partial<Record<IncidentKind, number>> = {};
  for (const i of incidents) byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
  const warnings = results.flatMap((r, k) => r.warnings.map((w) => (k === 0 ? w : `${captures[k]!.vantage}: ${w}`)));
  for (const v of alignment.vantages) if (v.matched === 0) warnings.push(v.text);
  return {
    ...anchor,
    captures: results.map((r, k) => ({ vantage: captures[k]!.vantage, ...r.capture, connections: r.summary.connections, incidents: r.incidents.length })),
    alignment: { anchor: captures[0]!.vantage, vantages: [...alignment.vantages] },
    summary: { ...anchor.summary, incidents: incidents.length, incidentsByKind: byKind },
    incidents,
    logs: logResults.length ? logsSummary(logResults, unexplained, skewMs) : null,
    warnings: [...warnings, ...logResults.filter((r) => r.error).map((r) => `log file ${r.error!.oneLine()}`)],
  };
}


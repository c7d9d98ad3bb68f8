import { analyzeCapture, type AnalyzeOptions, type AnalysisResult } from '../analysis/analyze.js';
import { captureSpan, pairByTime, type TimedLog } from './logs.js';
import { buildRow, failedRow, type SurvivalAcc } from './row.js';
import { orderByFirstPacket, stitchedSource, type StitchLog } from './stitch.js';
import type { CaptureRow, PairedLog } from './types.js';

/** One unit of work for a worker: a capture, or the rotated files of one (stitched). */
export interface ScanTask {
  /** The row's path: the capture, or the first file (path order) of a stitched group. */
  readonly path: string;
  /** Stitched groups of two or more files: all of them (path order; read in first-packet order). */
  readonly files: readonly string[] | null;
  readonly bytes: number;
  readonly analysis: {
    readonly idleThresholdSeconds: number;
    readonly maxConnections: number;
    readonly skewSeconds: number;
    readonly logFormat: string | null;
  };
  /** Logs paired by name or directory. */
  readonly logs: readonly PairedLog[];
  /** When `logs` is empty: log files for the time rule (their times are shared memory). */
  readonly timeLogs: readonly TimedLog[];
}

export type Analyze = (file: string, options: AnalyzeOptions) => Promise<AnalysisResult>;

export interface RunTaskOptions {
  /** Raw bytes read so far of this task's files. */
  onProgress?: (bytes: number) => void;
  /** The analysis to run (tests inject a failing one); default `analyzeCapture`. */
  analyze?: Analyze;
}

/**
 * Runs the one analysis (`analyzeCapture`) on a task and turns its result into a row. Never
 * throws: a failure of the analysis becomes a row with an `analysis-failed` error, so one bad
 * capture never ends a scan.
 */
export async function runTask(task: ScanTask, options: RunTaskOptions = {}): Promise<CaptureRow> {
  const analyze = options.analyze ?? analyzeCapture;
  try {
    const ordered = task.files ? await orderByFirstPacket(task.files) : [task.path];
    let logs: readonly PairedLog[] = task.logs;
    if (logs.length === 0 && task.timeLogs.length > 0) {
      const span = await captureSpan(ordered);
      if (span) logs = pairByTime(span.first / 1000, span.last / 1000, task.analysis.skewSeconds * 1000, task.timeLogs);
    }
    const survivals: SurvivalAcc = new Map();
    const stitch: StitchLog | null = task.files ? { parts: [] } : null;
    const a = task.analysis;
    const result = await analyze(ordered[0]!, {
      idleThresholdSeconds: a.idleThresholdSeconds,
      maxConnections: a.maxConnections,
      skewSeconds: a.skewSeconds,
      ...(a.logFormat !== null && { logFormat: a.logFormat }),
      ...(logs.length > 0 && { logs: logs.map((l) => ({ hop: l.hop, file: l.file })) }),
      ...(stitch && { source: stitchedSource(ordered, stitch) }),
      ...(options.onProgress && { onProgress: options.onProgress }),
      // A connection attempt (one bare SYN) survived no idle: its record is not needed here.
      attemptRecords: false,
      onConnection: (c) => {
        // The same survivals the detector uses per capture: answered requests, and answered keepalive probes (packet gaps only).
        const s = c.longestSurvivedIdle;
        const probe = c.longestAnsweredProbeGap;
        if (!s && !probe) return;
        const gap = Math.max(s?.maxPacketGapSeconds ?? 0, probe?.seconds ?? 0);
        const idle = s?.seconds ?? 0;
        const acc = survivals.get(c.server);
        if (!acc) survivals.set(c.server, { packetGap: gap, idle });
        else {
          if (gap > acc.packetGap) acc.packetGap = gap;
          if (idle > acc.idle) acc.idle = idle;
        }
      },
    });
    return buildRow({ path: task.path, bytes: task.bytes, parts: stitch?.parts ?? null, logs: logs.length ? logs : null, survivals }, result);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return failedRow(task.path, task.bytes, 'analysis-failed', `the analysis failed: ${message}`, task.files);
  }
}

import { flowdocVersion } from '../analysis/analyze.js';
import { cmp, findFiles, peekFile, type FoundFile, type MissingInput, type Peek } from './discover.js';
import { indexLogDir, loadLogTimes, pairByNameOrDirectory, type TimedLog } from './logs.js';
import { defaultWorkerSpec, runPool, type WorkerSpec } from './pool.js';
import { shardOf } from './shard.js';
import { groupRotations } from './stitch.js';
import { summarize } from './summary.js';
import type { ScanTask } from './task.js';
import type { CaptureRow, ScanReport, ScanReportOptions, ShardSpec, SkippedCounts } from './types.js';

export interface ScanOptions {
  /** Directories (scanned recursively), files and glob patterns. */
  readonly inputs: readonly string[];
  /** Worker threads (≥ 1). */
  readonly jobs: number;
  readonly stitch: boolean;
  readonly shard: ShardSpec | null;
  readonly idleThresholdSeconds: number;
  readonly maxConnections: number;
  readonly skewSeconds: number;
  /** Directory of access logs to pair with the captures (see logs.ts for the rules). */
  readonly logs: string | null;
  readonly logFormat: string | null;
  /** How to start workers (default: the compiled worker beside this module). */
  readonly worker?: WorkerSpec;
}

export interface ScanPlan {
  readonly captures: number;
  readonly bytes: number;
  readonly skipped: SkippedCounts;
}

export interface ScanHooks {
  /** Once the captures to scan are known. */
  onPlan?(plan: ScanPlan): void;
  /** Each row in path order, as soon as it and every row before it are done (ndjson streams these). */
  onRow?(row: CaptureRow): void;
  /** Progress: captures done, and raw bytes read (finished captures plus those being read). */
  onProgress?(p: { done: number; bytes: number }): void;
}

/** An input that does not exist, or a --logs directory that does not: the CLI makes it a usage error. */
export class ScanInputError extends Error {
  override readonly name = 'ScanInputError';
  constructor(readonly missing: readonly MissingInput[]) {
    super(missing.map((m) => `${m.input}: ${m.reason}`).join('; '));
  }
}

const PEEK_CONCURRENCY = 16;

/**
 * Scans an archive: finds the captures (by magic bytes), keeps this shard's share, pairs logs,
 * analyses every capture (or stitched group) on worker threads with `analyzeCapture`, and
 * returns the rows in path order with the archive summary. Unreadable or damaged captures are
 * rows with an error, never a failure of the scan.
 */
export async function scanArchive(options: ScanOptions, hooks: ScanHooks = {}): Promise<ScanReport> {
  const { files, missing } = await findFiles(options.inputs);
  if (missing.length) throw new ScanInputError(missing);
  const logIndex = options.logs === null ? null : await indexLogDir(options.logs);
  if (options.logs !== null && logIndex === null) throw new ScanInputError([{ input: options.logs, reason: 'no such directory (--logs)' }]);

  // Groups (by name alone, so every shard forms the same ones), then this shard's share.
  const groups = options.stitch
    ? groupRotations(files)
    : files.map((f) => ({ key: f.path, shardKey: f.rel, files: [f] }));
  const mine = options.shard ? groups.filter((g) => shardOf(g.shardKey, options.shard!.count) === options.shard!.index) : groups;

  // Magic bytes decide what is a capture.
  const own = mine.flatMap((g) => g.files);
  const peeks = await mapLimit(own, PEEK_CONCURRENCY, (f) => peekFile(f.path));
  const peekOf = new Map<string, Peek>(own.map((f, i) => [f.path, peeks[i]!]));
  let notCapture = 0, empty = 0;
  for (const p of peeks) {
    if (p.kind === 'not-capture') notCapture++;
    else if (p.kind === 'empty') empty++;
  }
  const skipped: SkippedCounts = { notCapture, empty };

  const analysis = {
    idleThresholdSeconds: options.idleThresholdSeconds, maxConnections: options.maxConnections,
    skewSeconds: options.skewSeconds, logFormat: options.logFormat,
  };
  const pending: { task: Omit<ScanTask, 'timeLogs'>; first: FoundFile }[] = [];
  for (const g of mine) {
    const members = g.files.filter((f) => { const k = peekOf.get(f.path)!.kind; return k === 'capture' || k === 'unreadable'; });
    if (members.length === 0) continue;
    const first = members[0]!;
    pending.push({
      first,
      task: {
        path: first.path,
        files: members.length > 1 ? members.map((f) => f.path) : null,
        bytes: members.reduce((n, f) => n + f.size, 0),
        analysis,
        logs: logIndex ? pairByNameOrDirectory(first.rel, logIndex) : [],
      },
    });
  }
  pending.sort((a, b) => cmp(a.task.path, b.task.path));

  // The time rule needs every log's entry times: read them once, only if some capture needs them.
  let timeLogs: TimedLog[] = [];
  if (logIndex && pending.some((p) => p.task.logs.length === 0)) timeLogs = await loadLogTimes(logIndex, options.logFormat);
  const tasks: ScanTask[] = pending.map((p) => ({ ...p.task, timeLogs: p.task.logs.length === 0 ? timeLogs : [] }));
  hooks.onPlan?.({ captures: tasks.length, bytes: tasks.reduce((n, t) => n + t.bytes, 0), skipped });

  // Rows come back in completion order; hand them on in path order.
  const rows: (CaptureRow | undefined)[] = new Array(tasks.length);
  const inFlight = new Map<number, number>();
  let emitted = 0, done = 0, doneBytes = 0;
  const progress = () => {
    let bytes = doneBytes;
    for (const b of inFlight.values()) bytes += b;
    hooks.onProgress?.({ done, bytes });
  };
  await runPool(tasks, options.jobs, options.worker ?? defaultWorkerSpec(), {
    onRow: (i, row) => {
      rows[i] = row;
      inFlight.delete(i);
      done++;
      doneBytes += tasks[i]!.bytes;
      while (emitted < rows.length && rows[emitted] !== undefined) {
        const next = rows[emitted++]!; // not inside `onRow?.(…)`: its arguments are skipped when there is no hook
        hooks.onRow?.(next);
      }
      progress();
    },
    onProgress: (i, bytes) => {
      inFlight.set(i, Math.min(bytes, tasks[i]!.bytes));
      progress();
    },
  });
  const all = rows as CaptureRow[];
  return { tool: { name: 'flowdoc', version: flowdocVersion() }, options: reportOptions(options), captures: all, summary: summarize(all, skipped) };
}

/** The options a report records (and every shard of one scan must share). */
export function reportOptions(o: ScanOptions): ScanReportOptions {
  return {
    inputs: [...o.inputs], idleThresholdSeconds: o.idleThresholdSeconds, maxConnections: o.maxConnections,
    skewSeconds: o.skewSeconds, stitch: o.stitch, logs: o.logs, logFormat: o.logFormat,
  };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

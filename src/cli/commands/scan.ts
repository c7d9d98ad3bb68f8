import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { DEFAULT_IDLE_THRESHOLD_SECONDS } from '../../analysis/analyze.js';
import {
  ndjsonRow, ndjsonSummary, renderScanJson, renderScanTable, resolveShard, scanArchive, ScanInputError,
  type CaptureRow, type ScanReport, type WorkerSpec,
} from '../../scan/index.js';
import { type Io, UsageError, useColour } from '../io.js';
import { Progress } from '../progress.js';
import { captureErrorLine, parseFormat, parseIdleThreshold, parseNumber } from './common.js';

interface ScanCliOptions {
  format: string;
  jobs?: string;
  stitch?: boolean;
  logs?: string;
  logFormat?: string;
  skew: string;
  idleThreshold: string;
  maxConnections: string;
  shard?: string;
  shards?: string;
  failOn: string;
}

/** What tests (and embedders) may change about how the scan runs. */
export interface ScanCommandDeps {
  /** How worker threads start (default: the compiled worker next to the scan module). */
  worker?: WorkerSpec;
}

export type FailOn = 'incidents' | 'errors' | 'none';

/**
 * Exit code of a scan or merge: 1 when incidents were found (`--fail-on incidents`, the default),
 * or incidents or any capture not read to the end (`--fail-on errors`); 0 otherwise and with
 * `--fail-on none`. A damaged capture alone never makes it 2: that is for usage mistakes.
 */
export function scanExitCode(report: ScanReport, failOn: FailOn): number {
  const t = report.summary.totals;
  if (failOn === 'none') return 0;
  if (t.incidents > 0) return 1;
  if (failOn === 'errors' && t.capturesWithErrors > 0) return 1;
  return 0;
}

/** One stderr line per capture that could not be read to the end (or whose analysis failed). */
export function reportRowErrors(io: Io, rows: readonly CaptureRow[]): void {
  for (const r of rows) {
    const e = r.error;
    if (!e) continue;
    if (e.code === 'analysis-failed' || e.code === 'worker-crashed') io.stderr(`flowdoc: ${r.path}: ${e.message}\n`);
    else io.stderr(captureErrorLine(e, e.file, r.files?.find((f) => f.path === e.file)?.packets ?? r.packets));
  }
}

export function registerScan(program: Command, io: Io, setExit: (code: number) => void, deps: ScanCommandDeps = {}): void {
  program
    .command('scan')
    .description('scan an archive of captures (directories, files, globs) on worker threads: one row per capture, the destinations that fail in most captures, their idle timeout')
    .argument('<paths...>', 'directories (recursive), capture files or quoted glob patterns; captures are told by magic bytes')
    .option('-f, --format <format>', 'table | json | ndjson (one line per capture as it is done, then a summary line)', 'table')
    .option('-j, --jobs <n>', `worker threads (default: the number of cores, ${availableParallelism()} here)`)
    .option('--stitch', 'read the rotated files of one capture (tcpdump -C/-G names) as one stream, in time order')
    .option('--logs <dir>', 'pair each capture with the access logs in DIR (by name, directory, or time; see docs/scan.md)')
    .option('--log-format <format>', 'Envoy format string of the logs (default: detected per file)')
    .option('--skew <seconds>', 'clock-skew allowance between captures and logs', '1')
    .option('--idle-threshold <seconds>', 'silence before a request that makes a stale-reuse incident possible', String(DEFAULT_IDLE_THRESHOLD_SECONDS))
    .option('--max-connections <n>', 'live connections kept at most per capture', '1000000')
    .option('--shard <i/n>', 'scan only shard I of N (0-based): a stable 1/N of the archive by a hash of each path')
    .option('--shards <n>', 'scan shard $JOB_COMPLETION_INDEX of N (a Kubernetes Indexed Job)')
    .option('--fail-on <what>', 'exit 1 on incidents (incidents), on incidents or damaged captures (errors), or never (none)', 'incidents')
    .action(async (paths: string[], opts: ScanCliOptions) => {
      const format = parseFormat(opts.format, ['table', 'json', 'ndjson']);
      const failOn = parseFailOn(opts.failOn);
      const jobs = opts.jobs === undefined ? availableParallelism() : parseNumber(opts.jobs, '--jobs', { min: 1, integer: true });
      const idleThresholdSeconds = parseIdleThreshold(opts.idleThreshold);
      const maxConnections = parseNumber(opts.maxConnections, '--max-connections', { min: 1, integer: true });
      const skewSeconds = parseNumber(opts.skew, '--skew', { min: 0 });
      const shard = resolveShard(opts.shard, opts.shards, io.env);
      if (typeof shard === 'string') throw new UsageError(shard);

      let progress: Progress | null = null;
      let captures = 0;
      let report: ScanReport;
      try {
        report = await scanArchive({
          inputs: paths, jobs, stitch: Boolean(opts.stitch), shard,
          idleThresholdSeconds, maxConnections, skewSeconds,
          logs: opts.logs ?? null, logFormat: opts.logFormat ?? null,
          ...(deps.worker && { worker: deps.worker }),
        }, {
          onPlan: (plan) => {
            captures = plan.captures;
            progress = new Progress(io, 'scan', plan.bytes);
          },
          onProgress: ({ done, bytes }) => progress?.update(bytes, `${done}/${captures} captures`),
          onRow: format === 'ndjson' ? (row) => io.stdout(ndjsonRow(row)) : undefined,
        });
      } catch (err) {
        if (err instanceof ScanInputError) throw new UsageError(err.message);
        throw err;
      } finally {
        (progress as Progress | null)?.done();
      }
      if (format === 'ndjson') io.stdout(ndjsonSummary(report, shard));
      else if (format === 'json') io.stdout(renderScanJson(report));
      else io.stdout(renderScanTable(report, useColour(io)));
      reportRowErrors(io, report.captures);
      setExit(scanExitCode(report, failOn));
      if (report.captures.length === 0) {
        io.stderr(`flowdoc: no captures found in ${paths.join(', ')}${shard ? ` (shard ${shard.index}/${shard.count})` : ''}\n`);
        // A scan that looked at nothing has checked nothing: a cron job over a wrong or empty
        // folder must not pass. A shard may get none of a small archive; that is fine.
        if (!shard) setExit(2);
      }
    });
}

export function parseFailOn(value: string): FailOn {
  if (value === 'incidents' || value === 'errors' || value === 'none') return value;
  throw new UsageError(`unknown --fail-on '${value}' (choose incidents, errors, none)`);
}

import type { Command } from 'commander';
import { analyzeCaptures, type NamedCapture } from '../../analysis/analyze-many.js';
import { analyzeCapture, DEFAULT_ATTEMPT_TIMEOUT_SECONDS, DEFAULT_IDLE_THRESHOLD_SECONDS, type AnalysisResult } from '../../analysis/analyze.js';
import { REPORT_FORMATS, renderAnalysis } from '../../report/index.js';
import { type Io, UsageError, useColour, writeResult } from '../io.js';
import { Progress } from '../progress.js';
import { captureErrorLine, checkLogFiles, collect, fileSize, parseFormat, parseHopFile, parseLbTimeouts, parseIdleThreshold, parseNumber, readStdinGuard } from './common.js';

interface AnalyzeCliOptions {
  format: string;
  logs: string[];
  logFormat?: string;
  skew: string;
  idleThreshold: string;
  maxConnections: string;
  attemptTimeout: string;
  out?: string;
  force?: boolean;
  failOn: string;
  lbTimeout: string[];
}

export function registerAnalyze(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('analyze')
    .description('find requests sent on connections the network had already forgotten, tell who reset them, and bracket the idle timeout')
    .argument('<captures...>', 'pcap / pcapng file (gzip too); - for standard input. Several captures of one path taken at the same time: in path order, client side first, each [vantage=]file')
    .option('-f, --format <format>', 'table | json | markdown (postmortem) | html (self-contained, with timelines)', 'table')
    .option('-l, --logs <[hop=]file>', 'Envoy/Istio access log of a hop on the path (repeat, in path order: client side first)', collect, [])
    .option('--log-format <format>', 'Envoy format string of the logs (default: detected per file)')
    .option('--skew <seconds>', 'clock-skew allowance between capture and logs', '1')
    .option('--idle-threshold <seconds>', 'silence before a request that makes a stale-reuse incident possible', String(DEFAULT_IDLE_THRESHOLD_SECONDS))
    .option('--max-connections <n>', 'live connections kept at most (the longest-idle are evicted past it)', '1000000')
    .option('--attempt-timeout <seconds>', 'let a connection attempt (SYN never answered) go after this much capture time without a packet, as Zeek does (0: never)', String(DEFAULT_ATTEMPT_TIMEOUT_SECONDS))
    .option('--lb-timeout <[ip:port=]seconds>', 'a middlebox idle timeout you know (repeat per destination): checked against the capture, used for verdicts, at-risk connections and remedies', collect, [])
    .option('--fail-on <what>', 'exit 1 on incidents or connections that will fail on next use (findings), on incidents only (incidents), or never (none)', 'findings')
    .option('-o, --out <file>', 'write the report to FILE instead of standard output')
    .option('--force', 'overwrite --out FILE if it exists')
    .action(async (args: string[], opts: AnalyzeCliOptions) => {
      const format = parseFormat(opts.format, REPORT_FORMATS);
      const failOn = parseFormat(opts.failOn, ['findings', 'incidents', 'none'], '--fail-on');
      const lbTimeouts = parseLbTimeouts(opts.lbTimeout);
      const idleThresholdSeconds = parseIdleThreshold(opts.idleThreshold);
      const maxConnections = parseNumber(opts.maxConnections, '--max-connections', { min: 1, integer: true });
      const skewSeconds = parseNumber(opts.skew, '--skew', { min: 0 });
      const attemptTimeoutSeconds = parseNumber(opts.attemptTimeout, '--attempt-timeout', { min: 0 });
      const logs = opts.logs.map(parseHopFile);
      checkLogFiles(logs);
      const captures = parseCaptureArgs(args);
      for (const c of captures) readStdinGuard(c.file, io);
      const common = { stdin: io.stdin, idleThresholdSeconds, maxConnections, attemptTimeoutSeconds, logs, skewSeconds, lbTimeouts, ...(opts.logFormat ? { logFormat: opts.logFormat } : {}) };
      let result: AnalysisResult;
      if (captures.length === 1) {
        const file = captures[0]!.file;
        const progress = new Progress(io, file, await fileSize(file));
        result = await analyzeCapture(file, { ...common, onProgress: (n) => progress.update(n) });
        progress.done();
      } else {
        let progress: Progress | null = null;
        result = await analyzeCaptures(captures, {
          ...common,
          onProgress: (n) => progress?.update(n),
          onCaptureStart: async (file) => { progress?.done(); progress = new Progress(io, file, await fileSize(file)); },
        });
        (progress as Progress | null)?.done();
      }
      const readable = (result.captures ?? [result.capture]).some((c) => c.format !== null);
      if (readable || format === 'json') {
        const text = renderAnalysis(result, format, { colour: useColour(io) && !opts.out, captureLabel: captures[0]!.file });
        writeResult(io, text, opts.out, Boolean(opts.force));
      }
      for (const h of result.logs?.hops ?? []) {
        if (h.error) {
          io.stderr(`flowdoc: ${h.error}\n`);
          setExit(2);
        } else if (h.rejected > 0) {
          const first = h.rejectedSamples[0];
          io.stderr(`flowdoc: ${h.file}: ${h.rejected} of ${h.lines} lines are not access-log entries and were skipped${first ? ` (first: line ${first.line}: ${first.reason})` : ''}\n`);
        }
      }
      let unreadable = false;
      for (const c of result.captures ?? [result.capture]) {
        if (!c.error) continue;
        io.stderr(captureErrorLine(c.error, c.file, c.packets));
        unreadable = true;
      }
      if (unreadable) setExit(2);
      else if ((result.incidents.length > 0 && failOn !== 'none') || (result.summary.willFail > 0 && failOn === 'findings')) setExit(1);
    });
}

/**
 * The captures of `analyze`: `vantage=file` or a bare file (named by its base name, extensions
 * off). A path that itself contains '=' is taken whole when the part before '=' looks like a path.
 * Two captures may not share a vantage name, nor both be standard input.
 */
export function parseCaptureArgs(args: readonly string[]): NamedCapture[] {
  const out = args.map((arg) => {
    const { hop, file } = parseHopFile(arg);
    const named = file !== arg;
    const base = (file.split('/').pop() ?? file).replace(/(\.(pcapng|pcap|cap|dmp))?(\.gz)?$/i, '');
    return { vantage: named ? hop : file === '-' ? 'stdin' : base || file, file };
  });
  if (out.filter((c) => c.file === '-').length > 1) throw new UsageError('only one capture can be read from standard input (-)');
  const seen = new Set<string>();
  for (const c of out) {
    if (seen.has(c.vantage)) throw new UsageError(`two captures are named '${c.vantage}': name each vantage point (e.g. podA=${c.file})`);
    seen.add(c.vantage);
  }
  return out;
}

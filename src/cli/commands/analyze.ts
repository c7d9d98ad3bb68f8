import type { Command } from 'commander';
import { analyzeCapture, DEFAULT_IDLE_THRESHOLD_SECONDS } from '../../analysis/analyze.js';
import { REPORT_FORMATS, renderAnalysis } from '../../report/index.js';
import { type Io, useColour, writeResult } from '../io.js';
import { Progress } from '../progress.js';
import { captureErrorLine, collect, fileSize, parseFormat, parseHopFile, parseLbTimeouts, parseNumber, readStdinGuard } from './common.js';

interface AnalyzeCliOptions {
  format: string;
  logs: string[];
  logFormat?: string;
  skew: string;
  idleThreshold: string;
  maxConnections: string;
  out?: string;
  force?: boolean;
  failOn: string;
  lbTimeout: string[];
}

export function registerAnalyze(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('analyze')
    .description('find requests sent on connections the network had already forgotten, tell who reset them, and bracket the idle timeout')
    .argument('<capture>', 'pcap / pcapng file (gzip too); - for standard input')
    .option('-f, --format <format>', 'table | json | markdown (postmortem) | html (self-contained, with timelines)', 'table')
    .option('-l, --logs <[hop=]file>', 'Envoy/Istio access log of a hop on the path (repeat, in path order: client side first)', collect, [])
    .option('--log-format <format>', 'Envoy format string of the logs (default: detected per file)')
    .option('--skew <seconds>', 'clock-skew allowance between capture and logs', '1')
    .option('--idle-threshold <seconds>', 'silence before a request that makes a stale-reuse incident possible', String(DEFAULT_IDLE_THRESHOLD_SECONDS))
    .option('--max-connections <n>', 'live connections kept at most (the longest-idle are evicted past it)', '1000000')
    .option('--lb-timeout <[ip:port=]seconds>', 'a middlebox idle timeout you know (repeat per destination): checked against the capture, used for verdicts, at-risk connections and remedies', collect, [])
    .option('--fail-on <what>', 'exit 1 on incidents or connections that will fail on next use (findings), on incidents only (incidents), or never (none)', 'findings')
    .option('-o, --out <file>', 'write the report to FILE instead of standard output')
    .option('--force', 'overwrite --out FILE if it exists')
    .action(async (file: string, opts: AnalyzeCliOptions) => {
      const format = parseFormat(opts.format, REPORT_FORMATS);
      const failOn = parseFormat(opts.failOn, ['findings', 'incidents', 'none']);
      const lbTimeouts = parseLbTimeouts(opts.lbTimeout);
      const idleThresholdSeconds = parseNumber(opts.idleThreshold, '--idle-threshold', { min: 0 });
      const maxConnections = parseNumber(opts.maxConnections, '--max-connections', { min: 1, integer: true });
      const skewSeconds = parseNumber(opts.skew, '--skew', { min: 0 });
      const logs = opts.logs.map(parseHopFile);
      readStdinGuard(file, io);
      const progress = new Progress(io, file, await fileSize(file));
      const result = await analyzeCapture(file, {
        stdin: io.stdin, idleThresholdSeconds, maxConnections, onProgress: (n) => progress.update(n),
        logs, skewSeconds, lbTimeouts, ...(opts.logFormat ? { logFormat: opts.logFormat } : {}),
      });
      progress.done();
      const notCapture = result.capture.format === null;
      if (!notCapture || format === 'json') {
        const text = renderAnalysis(result, format, { colour: useColour(io) && !opts.out, captureLabel: file });
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
      if (result.capture.error) {
        io.stderr(captureErrorLine(result.capture.error, file, result.capture.packets));
        setExit(2);
      } else if ((result.incidents.length > 0 && failOn !== 'none') || (result.summary.willFail > 0 && failOn === 'findings')) {
        setExit(1);
      }
    });
}

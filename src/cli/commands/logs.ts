import type { Command } from 'commander';
import { DEFAULT_LOG_IDLE_THRESHOLD_SECONDS, findStaleReuseInLogs, readLogFile, triageLogs, type LogEntry } from '../../logs/index.js';
import { renderLogStaleReuse } from '../../report/index.js';
import { type Io, UsageError, useColour, writeResult } from '../io.js';
import { makeTable } from '../table.js';
import { parseFormat, parseHopFile, parseNumber } from './common.js';

/** The version of `logs --format json` (schema/logs-v1.schema.json). */
export const LOGS_SCHEMA_VERSION = 1;

interface LogsOptions {
  format: string;
  logFormat?: string;
  out?: string;
  force?: boolean;
  idleThreshold: string;
}

/** `flowdoc logs`: triage access logs alone, to decide where to capture next. */
export function registerLogs(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('logs')
    .description('triage Envoy/Istio access logs alone: 5xx by flags, details, upstream host and hour, and how many carry the idle-drop signature')
    .argument('<file...>', 'access log files ([hop=]file; - for standard input)')
    .option('-f, --format <format>', 'table | json', 'table')
    .option('--log-format <format>', 'Envoy format string of the logs (default: detected per file)')
    .option('-o, --out <file>', 'write the result to FILE instead of standard output')
    .option('--force', 'overwrite --out FILE if it exists')
    .option('--idle-threshold <seconds>', 'idle since the upstream connection\'s previous request from which a UC is stale reuse (below it the connection was busy)', String(DEFAULT_LOG_IDLE_THRESHOLD_SECONDS))
    .action(async (files: string[], opts: LogsOptions) => {
      const format = parseFormat(opts.format, ['table', 'json']);
      const idleThresholdSeconds = parseNumber(opts.idleThreshold, '--idle-threshold', { min: 0 });
      const entries: LogEntry[] = [];
      const perFile = [];
      const named = files.map(parseHopFile);
      if (named.filter((n) => n.file === '-').length > 1) throw new UsageError('only one log can be read from standard input (-)');
      if (named.some((n) => n.file === '-') && io.stdin.isTTY) throw new UsageError('standard input is a terminal: pipe a log in (e.g. kubectl logs POD -c istio-proxy | flowdoc logs -) or name a file');
      for (const { hop: given, file } of named) {
        const stdin = file === '-';
        const hop = stdin && given === '-' ? 'stdin' : given;
        const r = await readLogFile(stdin ? 'stdin' : file, { hop, ...(stdin ? { input: io.stdin } : {}), ...(opts.logFormat ? { format: opts.logFormat } : {}) });
        if (r.error) {
          io.stderr(`flowdoc: ${r.error.oneLine()}\n`);
          setExit(2);
        }
        entries.push(...r.entries);
        perFile.push({ hop: r.hop, file: r.file, format: r.format, lines: r.lines, entries: r.entries.length, rejected: r.rejected, rejectedSamples: r.rejectedSamples, error: r.error ? r.error.oneLine() : null });
      }
      const triage = triageLogs(entries);
      const staleReuse = findStaleReuseInLogs(entries, { idleThresholdSeconds });
      if (format === 'json') {
        writeResult(io, JSON.stringify({ schemaVersion: LOGS_SCHEMA_VERSION, files: perFile, triage, staleReuse }, null, 2) + '\n', opts.out, Boolean(opts.force));
        return;
      }
      const colour = useColour(io) && !opts.out;
      const out: string[] = [];
      for (const f of perFile) {
        out.push(`${f.file} (${f.hop}): ${f.entries} entries${f.format ? `, format ${f.format}` : ''}${f.rejected ? `, ${f.rejected} lines skipped` : ''}`);
        for (const s of f.rejectedSamples.slice(0, 3)) out.push(`  line ${s.line}: ${s.reason}: ${s.text}`);
      }
      const sig = triage.signatures;
      out.push(`${triage.failures} failed requests (5xx or 0) of ${triage.totalLines} lines: ${sig.idleDrop} with the idle-drop signature (UC / connection_termination${sig.idleDropLocalReply ? `, ${sig.idleDropLocalReply} with Envoy's 95-byte local reply` : ''}), ${sig.timeout} timeouts (UT/504), ${sig.connectFailure} connect failures (UF), ${sig.viaUpstream} passed on from further upstream (via_upstream), ${sig.retryLimit} with retries exhausted (URX)`);
      const section = (title: string, rows: readonly { key: string; count: number }[]) => {
        if (!rows.length) return;
        const t = makeTable([title, 'count'], colour, [70, 10]);
        for (const r of rows.slice(0, 15)) t.push([r.key, String(r.count)]);
        out.push(t.toString());
      };
      section('response code', triage.byResponseCode);
      section('flags', triage.byFlag);
      section('response code details', triage.byResponseCodeDetails);
      section('upstream host', triage.byUpstreamHost);
      section('hour (UTC)', triage.byHour);
      out.push(...renderLogStaleReuse(staleReuse, { colour, idleDropFailures: sig.idleDrop }));
      writeResult(io, out.join('\n') + '\n', opts.out, Boolean(opts.force));
    });
}

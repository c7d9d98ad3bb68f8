import type { Command } from 'commander';
import { flowdocVersion } from '../../analysis/analyze.js';
import { analyzeEnvoy, EnvoyInputError, readEnvoyText, type CounterSnapshot, type EnvoyConfig } from '../../envoy/index.js';
import { REPORT_FORMATS, renderEnvoy } from '../../report/index.js';
import { type Io, UsageError, useColour, writeResult } from '../io.js';
import { collect, parseFormat, parseLbTimeouts } from './common.js';
import { readText } from './sockets.js';

interface EnvoyCliOptions {
  format: string;
  lbTimeout: string[];
  out?: string;
  force?: boolean;
}

/** `flowdoc envoy`: Envoy's own config judged per upstream cluster against the middlebox idle timeout. */
export function registerEnvoy(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('envoy')
    .description('judge Envoy\'s upstream clusters from its admin /config_dump or istioctl proxy-config … -o json (tcp_keepalive, idle_timeout, max_connection_duration, HTTP/2 PING against the load balancer\'s idle timeout) and its /stats and /clusters counters (the stale-reuse signature across two snapshots)')
    .argument('<file...>', 'Envoy /config_dump, istioctl proxy-config all|cluster POD -o json, /stats, /stats?format=json, /clusters, /clusters?format=json (told apart by content); - for standard input')
    .option('-f, --format <format>', 'table | json | markdown | html', 'table')
    .option('--lb-timeout <[ip:port=]seconds>', 'a middlebox idle timeout you know (IP:PORT matches a cluster\'s endpoint); without it, the known cloud defaults', collect, [])
    .option('-o, --out <file>', 'write the report to FILE instead of standard output')
    .option('--force', 'overwrite --out FILE if it exists')
    .action(async (files: string[], opts: EnvoyCliOptions) => {
      const format = parseFormat(opts.format, REPORT_FORMATS);
      const lbTimeouts = parseLbTimeouts(opts.lbTimeout);
      const configs: EnvoyConfig[] = [];
      const snapshots: CounterSnapshot[] = [];
      for (const file of files) {
        const label = file === '-' ? 'standard input' : file;
        try {
          const input = readEnvoyText(await readText(file, io), label);
          if (input.kind === 'config') configs.push(input.config);
          else snapshots.push(input.snapshot);
        } catch (err) {
          if (err instanceof EnvoyInputError) throw new UsageError(err.oneLine());
          throw err;
        }
      }
      const report = analyzeEnvoy(configs, { lbTimeouts }, snapshots);
      const label = files.map((f) => (f === '-' ? 'standard input' : f)).join(', ');
      writeResult(io, renderEnvoy(report, format, { colour: useColour(io) && !opts.out, label, tool: { name: 'flowdoc', version: flowdocVersion() } }), opts.out, Boolean(opts.force));
      if (report.summary.flagged > 0 || report.summary.signatureRising > 0) setExit(1);
    });
}

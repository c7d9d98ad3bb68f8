import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { flowdocVersion } from '../../analysis/analyze.js';
import { REPORT_FORMATS, renderSockets } from '../../report/index.js';
import { analyzeSockets, parseSocketDump, type SocketDump } from '../../sockets/index.js';
import { type Io, UsageError, useColour, writeResult } from '../io.js';
import { collect, parseFormat, parseLbTimeouts } from './common.js';

interface SocketsCliOptions {
  format: string;
  lbTimeout: string[];
  out?: string;
  force?: boolean;
}

/** Text of a file, or of standard input for `-`. */
export async function readText(file: string, io: Io): Promise<string> {
  if (file === '-') {
    if (io.stdin.isTTY) throw new UsageError('standard input is a terminal: pipe the output in (e.g. ss -tnoi | flowdoc sockets -) or name a file');
    const chunks: Buffer[] = [];
    for await (const c of io.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: cannot read: ${(err as Error).message.replace(/^[A-Z]+: /, '')}`);
  }
}

/** `flowdoc sockets`: verdicts from ss -tnoi snapshots and /proc/net/tcp dumps, without a capture. */
export function registerSockets(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('sockets')
    .description('judge live connections from ss -tnoi output (one or many snapshots) or /proc/net/tcp: keepalive, idle, at risk against the load balancer\'s idle timeout')
    .argument('<file...>', 'ss -tnoi / -tnoie / -tan -o output (snapshots may be concatenated, each after a `date` line) or /proc/net/tcp{,6}; - for standard input')
    .option('-f, --format <format>', 'table | json | markdown | html', 'table')
    .option('--lb-timeout <[ip:port=]seconds>', 'a middlebox idle timeout you know (repeat per destination); without it, the known cloud defaults', collect, [])
    .option('-o, --out <file>', 'write the report to FILE instead of standard output')
    .option('--force', 'overwrite --out FILE if it exists')
    .action(async (files: string[], opts: SocketsCliOptions) => {
      const format = parseFormat(opts.format, REPORT_FORMATS);
      const lbTimeouts = parseLbTimeouts(opts.lbTimeout);
      const dumps: SocketDump[] = [];
      for (const file of files) {
        const label = file === '-' ? 'standard input' : file;
        const dump = parseSocketDump(await readText(file, io), label);
        if (dump.snapshots.length === 0) {
          const first = dump.skippedSamples[0];
          throw new UsageError(`${label}${first ? `: line ${first.line}` : ''}: no ss or /proc/net/tcp output found (expected the header line 'State Recv-Q Send-Q Local Address:Port …' of ss -tnoi, or '  sl  local_address …' of /proc/net/tcp)`);
        }
        if (dump.skipped > 0) {
          const first = dump.skippedSamples[0]!;
          io.stderr(`flowdoc: ${label}: ${dump.skipped} of ${dump.lines} lines were not understood and were skipped (first: line ${first.line}: ${first.reason})\n`);
        }
        dumps.push(dump);
      }
      const report = analyzeSockets(dumps, { lbTimeouts });
      const label = files.map((f) => (f === '-' ? 'standard input' : f)).join(', ');
      writeResult(io, renderSockets(report, format, { colour: useColour(io) && !opts.out, label, tool: { name: 'flowdoc', version: flowdocVersion() } }), opts.out, Boolean(opts.force));
      const s = report.summary;
      if (s.failing + s.willFail + s.atRisk > 0) setExit(1);
    });
}

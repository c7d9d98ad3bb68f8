import type { Command } from 'commander';
import { captureInfo, type CaptureInfo } from '../../analysis/info.js';
import { type Io, UsageError, useColour, writeResult } from '../io.js';
import { Progress, formatBytes } from '../progress.js';
import { makeKeyValueTable } from '../table.js';
import { fileSize, parseFormat, readStdinGuard } from './common.js';

interface InfoOptions {
  format: string;
  out?: string;
  force?: boolean;
}

export function registerInfo(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('info')
    .description('summarise captures like capinfos: format, link types, packets, bytes, times, protocols, what was skipped')
    .argument('<capture...>', 'pcap / pcapng files, gzip-compressed or not; - for standard input')
    .option('-f, --format <format>', 'table | json', 'table')
    .option('-o, --out <file>', 'write the result to FILE instead of standard output')
    .option('--force', 'overwrite --out FILE if it exists')
    .action(async (files: string[], opts: InfoOptions) => {
      const format = parseFormat(opts.format, ['table', 'json']);
      const results: CaptureInfo[] = [];
      for (const file of files) {
        readStdinGuard(file, io);
        const progress = new Progress(io, file, await fileSize(file));
        const info = await captureInfo(file, { stdin: io.stdin, onProgress: (n) => progress.update(n) });
        progress.done();
        results.push(info);
        if (info.error) {
          io.stderr(`flowdoc: ${file}: ${info.error.message}${errorWhere(info.error)}; ${info.packets} packets read before it are reported\n`);
          setExit(2);
        }
      }
      const text = format === 'json'
        ? JSON.stringify(results.length === 1 ? results[0] : results, null, 2) + '\n'
        : results.filter((r) => r.format !== null).map((r) => renderInfoTable(r, useColour(io) && !opts.out)).join('\n');
      writeResult(io, text, opts.out, Boolean(opts.force));
    });
}

function errorWhere(e: NonNullable<CaptureInfo['error']>): string {
  return e.code === 'io' || e.code === 'empty' ? '' : ` (byte offset ${e.offset}, frame ${e.frame})`;
}

export function renderInfoTable(r: CaptureInfo, colour: boolean): string {
  const t = makeKeyValueTable(colour);
  const rows: [string, string][] = [
    ['File', r.file],
    ['Format', r.format ? `${r.format}${r.gzip ? ' (gzip)' : ''}` : 'not a capture'],
    ['Link types', r.linkTypes.map((n, i) => `${r.linkTypeNames[i]} (${n})`).join(', ') || '-'],
    ['Timestamp precision', r.precision === 9 ? 'nanoseconds' : r.precision === 6 ? 'microseconds' : `${r.precision} digits`],
    ['Packets', String(r.packets)],
    ['Captured bytes', `${r.capturedBytes} (${formatBytes(r.capturedBytes)})`],
    ['Bytes on the wire', `${r.originalBytes} (${formatBytes(r.originalBytes)})`],
    ['First packet', r.first ?? '-'],
    ['Last packet', r.last ?? '-'],
    ['Duration', r.durationSeconds === null ? '-' : `${r.durationSeconds.toFixed(r.precision === 9 ? 9 : 6)} s`],
    ['Time ordered', r.timeOrdered ? 'yes' : 'no'],
    ['TCP / UDP / other IP / non-IP', `${r.tcp} / ${r.udp} / ${r.otherIp} / ${r.nonIp}`],
  ];
  const skipped = Object.entries(r.skipped);
  rows.push(['Packets skipped', skipped.length ? skipped.map(([k, v]) => `${v} ${k}`).join('; ') : 'none']);
  const blocks = Object.entries(r.blocksSkipped);
  if (blocks.length) rows.push(['Blocks skipped', blocks.map(([k, v]) => `${v} ${k}`).join('; ')]);
  if (r.error) rows.push(['Error', `${r.error.message}${errorWhere(r.error)}`]);
  for (const row of rows) t.push({ [row[0]]: row[1] });
  return t.toString() + '\n';
}

export { UsageError };

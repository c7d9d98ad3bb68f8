import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { mergeShards, renderScanJson, renderScanNdjson, renderScanTable, type ShardInput } from '../../scan/index.js';
import { type Io, UsageError, useColour } from '../io.js';
import { parseFormat } from './common.js';
import { parseFailOn, reportRowErrors, scanExitCode } from './scan.js';

interface MergeCliOptions {
  format: string;
  partial?: boolean;
  failOn: string;
}

async function readInput(file: string, io: Io): Promise<ShardInput> {
  if (file === '-') {
    if (io.stdin.isTTY) throw new UsageError('standard input is a terminal: pipe scan --format ndjson output in, or name the shard files');
    const chunks: Buffer[] = [];
    for await (const c of io.stdin as AsyncIterable<Buffer | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
    return { file: '-', text: Buffer.concat(chunks).toString('utf8') };
  }
  try {
    return { file, text: await readFile(file, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`);
  }
}

export function registerMerge(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('merge')
    .description('combine the ndjson of the shards of one scan (scan --shard/--shards --format ndjson) into the report a single run prints')
    .argument('<ndjson...>', 'the shards\' `scan --format ndjson` outputs (- for standard input)')
    .option('-f, --format <format>', 'table | json | ndjson', 'table')
    .option('--partial', 'merge even when shards are missing, unfinished or overlap (reported as warnings)')
    .option('--fail-on <what>', 'exit 1 on incidents (incidents), on incidents or damaged captures (errors), or never (none)', 'incidents')
    .action(async (files: string[], opts: MergeCliOptions) => {
      const format = parseFormat(opts.format, ['table', 'json', 'ndjson']);
      const failOn = parseFailOn(opts.failOn);
      const inputs: ShardInput[] = [];
      for (const f of files) inputs.push(await readInput(f, io));
      const { report, problems, warnings } = mergeShards(inputs, { partial: Boolean(opts.partial) });
      for (const w of warnings) io.stderr(`flowdoc: warning: ${w}\n`);
      if (!report) {
        for (const p of problems.slice(0, 20)) io.stderr(`flowdoc: ${p}\n`);
        if (problems.length > 20) io.stderr(`flowdoc: … and ${problems.length - 20} more problems\n`);
        throw new UsageError('cannot merge these inputs (use --partial to merge what is there)');
      }
      for (const p of problems) io.stderr(`flowdoc: warning: ${p}\n`);
      if (format === 'ndjson') io.stdout(renderScanNdjson(report, null));
      else if (format === 'json') io.stdout(renderScanJson(report));
      else io.stdout(renderScanTable(report, useColour(io)));
      reportRowErrors(io, report.captures);
      setExit(scanExitCode(report, failOn));
    });
}

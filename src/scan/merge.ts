import { cmp } from './discover.js';
import { summarize } from './summary.js';
import type { CaptureRow, ScanReport, SummaryLine } from './types.js';

/** One shard's ndjson output. */
export interface ShardInput {
  readonly file: string;
  readonly text: string;
}

export interface MergeOptions {
  /** Merge what is there even when shards are missing, unfinished or duplicated (problems become warnings). */
  readonly partial?: boolean;
}

export interface MergeResult {
  /** Null when problems prevent a merge. */
  readonly report: ScanReport | null;
  /** What is wrong with the inputs: errors unless `partial`, then warnings. */
  readonly problems: readonly string[];
  /** Differences that do not change the result (e.g. flowdoc versions). */
  readonly warnings: readonly string[];
}

/**
 * Combines the ndjson of the shards of one scan into the report a single run would have made: the
 * rows in path order and the summary recomputed from them (the same `summarize`), the skipped
 * counts added up. Checks that the shards belong together: same options, every index from 0 to
 * N − 1 exactly once, each finished (its summary line present), no capture twice. An input may
 * hold several shards one after another (each ends with its summary line).
 */
export function mergeShards(inputs: readonly ShardInput[], options: MergeOptions = {}): MergeResult {
  const problems: string[] = [];
  const warnings: string[] = [];
  const rows: CaptureRow[] = [];
  const summaries: { file: string; s: SummaryLine }[] = [];
  for (const input of inputs) {
    const lines = input.text.split('\n');
    // One input may hold several shards one after the other (`cat shard-*.ndjson | flowdoc merge -`):
    // a summary line ends a shard, and the next line starts another.
    let summary: SummaryLine | null = null;
    let shardsInInput = 0;
    let rowsOfShard = 0;
    const name = () => (shardsInInput > 0 ? `${input.file} (shard ${shardsInInput + 1} in it)` : input.file);
    const endShard = () => {
      if (summary) summaries.push({ file: name(), s: summary });
      shardsInInput++;
      summary = null;
      rowsOfShard = 0;
    };
    lines.forEach((line, n) => {
      if (line.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        problems.push(`${input.file}: line ${n + 1} is not JSON (a shard cut short?)`);
        return;
      }
      const type = (v as { type?: unknown } | null)?.type;
      if (type === 'capture') {
        if (summary) endShard();
        rows.push(v as CaptureRow);
        rowsOfShard++;
      } else if (type === 'summary') {
        if (summary) endShard();
        summary = v as SummaryLine;
      } else {
        problems.push(`${input.file}: line ${n + 1} is not a flowdoc scan line (no "type": "capture" or "summary")`);
      }
    });
    if (summary) endShard();
    else if (rowsOfShard > 0 || shardsInInput === 0) problems.push(`${name()}: no summary line: the shard did not finish (or this is not \`flowdoc scan --format ndjson\` output)`);
  }

  const first = summaries[0];
  if (first) {
    const opts = JSON.stringify(first.s.options);
    for (const { file, s } of summaries.slice(1)) {
      if (JSON.stringify(s.options) !== opts) problems.push(`${file}: scanned with other options than ${first.file} (${JSON.stringify(s.options)} vs ${opts})`);
      if (s.tool?.version !== first.s.tool?.version) warnings.push(`${file}: made by flowdoc ${s.tool?.version}, ${first.file} by ${first.s.tool?.version}`);
    }
    problems.push(...shardProblems(summaries));
  } else if (inputs.length > 0) {
    problems.push('no input has a summary line: nothing to merge');
  }

  rows.sort((a, b) => cmp(a.path, b.path));
  const unique: CaptureRow[] = [];
  for (const r of rows) {
    const prev = unique[unique.length - 1];
    if (prev && prev.path === r.path) { problems.push(`${r.path} appears in more than one input`); continue; }
    unique.push(r);
  }
  if (!first || (problems.length > 0 && !options.partial)) return { report: null, problems, warnings };
  const skipped = { notCapture: 0, empty: 0 };
  for (const { s } of summaries) {
    skipped.notCapture += s.totals?.skipped?.notCapture ?? 0;
    skipped.empty += s.totals?.skipped?.empty ?? 0;
  }
  return {
    report: { tool: first.s.tool, options: first.s.options, captures: unique, summary: summarize(unique, skipped) },
    problems,
    warnings,
  };
}

function shardProblems(summaries: readonly { file: string; s: SummaryLine }[]): string[] {
  const out: string[] = [];
  const sharded = summaries.filter((x) => x.s.shard !== null);
  if (sharded.length === 0) {
    if (summaries.length > 1) out.push(`${summaries.length} whole-archive runs (no --shard): merging them would count every capture more than once`);
    return out;
  }
  if (sharded.length !== summaries.length) out.push('some inputs are shards and some whole-archive runs');
  const count = sharded[0]!.s.shard!.count;
  const seen = new Map<number, string>();
  for (const { file, s } of sharded) {
    if (s.shard!.count !== count) out.push(`${file}: shard ${s.shard!.index}/${s.shard!.count}, but ${sharded[0]!.file} is one of ${count}`);
    const before = seen.get(s.shard!.index);
    if (before) out.push(`${file}: shard ${s.shard!.index}/${count} is also in ${before}`);
    else seen.set(s.shard!.index, file);
  }
  const absent = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (absent.length) out.push(`missing shard${absent.length === 1 ? '' : 's'} ${absent.map((i) => `${i}/${count}`).join(', ')}: the report would leave part of the archive out`);
  return out;
}

import { createHash } from 'node:crypto';
import type { ShardSpec } from './types.js';

/**
 * The shard (0 … count − 1) a capture belongs to: the first 32 bits of the SHA-1 of its path
 * relative to the scanned root, modulo the shard count. Every shard computes the same answer
 * from the file name alone, so N machines split an archive without talking to each other, and a
 * file keeps its shard when other files come and go.
 */
export function shardOf(rel: string, count: number): number {
  if (count <= 1) return 0;
  const h = createHash('sha1').update(rel, 'utf8').digest();
  return h.readUInt32BE(0) % count;
}

/** Parses `I/N` (0-based I, as Kubernetes' JOB_COMPLETION_INDEX). Returns an error message when bad. */
export function parseShard(text: string): ShardSpec | string {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) return `--shard must be I/N (e.g. 0/4: the first of 4 shards, counting from 0), not '${text}'`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) return `--shard ${text}: the shard count must be at least 1`;
  if (index >= count) return `--shard ${text}: the index counts from 0, so it must be below ${count}`;
  return { index, count };
}

/**
 * The shard of a run from the options and the environment: `--shard I/N`, or `--shards N` with the
 * index from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job sets it in every pod). Null: the whole
 * archive. Returns an error message for contradictory or incomplete settings.
 */
export function resolveShard(shard: string | undefined, shards: string | undefined, env: NodeJS.ProcessEnv): ShardSpec | null | string {
  if (shard !== undefined && shards !== undefined) return 'give either --shard I/N or --shards N (with JOB_COMPLETION_INDEX), not both';
  if (shard !== undefined) return parseShard(shard);
  if (shards === undefined) return null;
  if (!/^\s*\d+\s*$/.test(shards) || Number(shards) < 1) return `--shards must be a whole number ≥ 1, not '${shards}'`;
  const index = env.JOB_COMPLETION_INDEX;
  if (index === undefined || index === '') return '--shards N needs the shard index in JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job); or use --shard I/N';
  return parseShard(`${index}/${shards.trim()}`);
}

import { describe, expect, it } from 'vitest';
import { parseShard, resolveShard, shardOf } from './shard.js';

describe('shards', () => {
  const paths = Array.from({ length: 400 }, (_, i) => `node-${i % 7}/cap-${i}.pcap`);

  it('puts every path in exactly one of N shards, the same one on every call', () => {
    for (const n of [1, 2, 3, 8]) {
      const seen = new Map<string, number>();
      for (const p of paths) {
        const s = shardOf(p, n);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(n);
        expect(shardOf(p, n)).toBe(s);
        seen.set(p, s);
      }
      expect(seen.size).toBe(paths.length);
    }
  });

  it('spreads an archive roughly evenly', () => {
    const counts = [0, 0, 0, 0];
    for (const p of paths) counts[shardOf(p, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(60);
  });

  it('keeps a file in its shard when other files come and go', () => {
    expect(shardOf('node-1/cap-5.pcap', 5)).toBe(shardOf('node-1/cap-5.pcap', 5));
    expect(shardOf('a/x.pcap', 3)).toBe(2);
  });

  it('reads I/N counting from 0, as JOB_COMPLETION_INDEX does', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    expect(parseShard('4/4')).toMatch(/counts from 0/);
    expect(parseShard('1of4')).toMatch(/must be I\/N/);
  });

  it('takes the index from JOB_COMPLETION_INDEX with --shards N, and refuses contradictions', () => {
    expect(resolveShard(undefined, '5', { JOB_COMPLETION_INDEX: '2' })).toEqual({ index: 2, count: 5 });
    expect(resolveShard(undefined, '5', {})).toMatch(/JOB_COMPLETION_INDEX/);
    expect(resolveShard(undefined, '5', { JOB_COMPLETION_INDEX: '5' })).toMatch(/below 5/);
    expect(resolveShard('0/2', '2', {})).toMatch(/not both/);
    expect(resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '1' })).toBeNull();
  });
});

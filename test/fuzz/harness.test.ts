/**
 * The fuzzer itself: reproducible from its seed, mutating at every boundary the brief names, and
 * turning each kind of failure (exception, broken promise, slow, hang, memory) into a finding
 * that is saved, reloaded and shrunk.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  loadRegressions, makeCase, memoryBound, minimizeCase, runCase, runFuzz, saveFinding, signatureOf,
} from '../../src/fuzz/harness.js';
import { scanLayout } from '../../src/fuzz/layout.js';
import { gzipMutation, mutateCapture } from '../../src/fuzz/mutate-capture.js';
import { Rng, caseSeed } from '../../src/fuzz/random.js';
import { seedCorpus } from '../../src/fuzz/seeds.js';
import { TARGET_NAMES, chunksOf, removeFuzzTempDir, type FuzzCase, type Target } from '../../src/fuzz/targets.js';
import { tempDir } from '../bounds/support.js';

const corpus = seedCorpus('bundled');

function fake(run: Target['run']): Target {
  return { name: 'capture', generate: () => { throw new Error('not used'); }, run };
}

const CASE: FuzzCase = { target: 'capture', input: new Uint8Array([1, 2, 3, 0x42, 5, 6, 7, 8]), params: {}, mutations: ['made by hand'], seedName: 'test' };

describe('the fuzz harness', () => {
  afterAll(() => removeFuzzTempDir());

  it('makes the same case from the same seed, target and index, and another from another seed', () => {
    for (const t of TARGET_NAMES) {
      const a = makeCase(t, 99, 7, corpus);
      const b = makeCase(t, 99, 7, corpus);
      expect(b.input).toEqual(a.input);
      expect(b.params).toEqual(a.params);
      expect(b.mutations).toEqual(a.mutations);
      expect(makeCase(t, 100, 7, corpus).input).not.toEqual(a.input);
    }
    expect(caseSeed(1, 'flows', 3)).not.toBe(caseSeed(1, 'flows', 4));
  });

  it('does not let one case change the seeds the next is made from', async () => {
    const before = makeCase('capture', 5, 1, corpus);
    for (let i = 0; i < 30; i++) for (const t of TARGET_NAMES) makeCase(t, 5, i, corpus);
    expect(makeCase('capture', 5, 1, corpus).input).toEqual(before.input);
  });

  it('cuts captures inside every kind of structure, and sets every kind of length field', () => {
    const rng = new Rng(3);
    const cut = new Set<string>();
    const set = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const seed = rng.pick(corpus.captures);
      const m = mutateCapture(seed.bytes, rng, { donors: [] }, { gzip: 0 });
      for (const what of m.mutations) {
        const t = /^truncate: truncate inside (\S+)/.exec(what);
        if (t) cut.add(t[1]!);
        const l = /^length: set length (\S+)@/.exec(what);
        if (l) set.add(l[1]!);
      }
    }
    expect([...cut]).toEqual(expect.arrayContaining([
      'pcap-file-header', 'pcap-record-header', 'pcap-record-data', 'mid-packet', 'shb', 'idb', 'epb-header', 'epb-body', 'epb-trailer', 'option', 'tcp-payload',
    ]));
    expect([...set]).toEqual(expect.arrayContaining([
      'pcap-caplen', 'ng-block-length', 'ng-trailer-length', 'ng-option-length', 'ng-epb-caplen', 'ipv4-ihl', 'ipv4-total-length', 'tcp-data-offset',
      'ipv6-payload-length', 'ipv6-ext-length',
    ]));
  });

  it('gzips captures intact and damaged', () => {
    const rng = new Rng(4);
    const seed = corpus.captures[0]!.bytes;
    const kinds = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const g = gzipMutation(seed, rng);
      kinds.add(g.what.replace(/\d+/g, 'N'));
      if (g.what === 'gzip') expect(new Uint8Array(gunzipSync(g.bytes))).toEqual(seed);
    }
    expect(kinds.size).toBeGreaterThanOrEqual(6);
  });

  it('feeds push parsers chunks from 1 byte to 64 KiB, covering the input exactly', () => {
    const input = new Uint8Array(200_000).map((_, i) => i);
    for (const plan of [{ mode: 'fixed', size: 1 }, { mode: 'fixed', size: 65_536 }, { mode: 'random', seed: 1, max: 65_536 }, { mode: 'whole' }] as const) {
      const chunks = chunksOf(input.subarray(0, plan.mode === 'fixed' && plan.size === 1 ? 300 : undefined), plan);
      const joined = Buffer.concat(chunks);
      expect(joined.length).toBe(plan.mode === 'fixed' && plan.size === 1 ? 300 : input.length);
      expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(plan.mode === 'whole' ? input.length : 65_536);
    }
  });

  it('scans the structure of every seed capture', () => {
    for (const s of corpus.captures) {
      const l = scanLayout(s.bytes);
      expect(['pcap', 'pcapng'], s.name).toContain(l.format);
      expect(l.units.length, s.name).toBeGreaterThan(0);
    }
  });

  describe('turns failures into findings', () => {
    it('an exception', async () => {
      const o = await runCase(CASE, { target: fake(async () => { throw new RangeError('offset is out of bounds'); }) });
      expect(o.problems).toEqual([{ kind: 'exception', message: expect.stringMatching(/^RangeError: offset is out of bounds/) }]);
    });

    it('a broken promise', async () => {
      const o = await runCase(CASE, { target: fake(async () => ['frame 3: record [0, +9) outside its 8-byte buffer']) });
      expect(o.problems).toEqual([{ kind: 'invariant', message: 'frame 3: record [0, +9) outside its 8-byte buffer' }]);
    });

    it('a slow case', async () => {
      const o = await runCase(CASE, { slowMs: 20, target: fake(async () => { const t = Date.now(); while (Date.now() - t < 40); return []; }) });
      expect(o.problems.map((p) => p.kind)).toEqual(['slow']);
    });

    it('a case that never settles', async () => {
      const o = await runCase(CASE, { hangMs: 50, target: fake(() => new Promise<string[]>(() => {})) });
      expect(o.problems.map((p) => p.kind)).toEqual(['hang']);
    });

    it('a case that holds more memory than its input allows', async () => {
      const held: Uint8Array[] = [];
      const o = await runCase(CASE, {
        target: fake(async (_c, ctx) => {
          for (let i = 0; i < 5; i++) held.push(new Uint8Array(8 * 1024 * 1024).fill(1));
          ctx.sample();
          return [];
        }),
      });
      expect(held).toHaveLength(5);
      expect(o.memoryBytes).toBeGreaterThan(memoryBound(CASE.input.length));
      expect(o.problems.map((p) => p.kind)).toEqual(['memory']);
    });
  });

  it('shrinks an input while the same problem remains', async () => {
    const target = fake(async (c) => (c.input.includes(0x42) ? ['the input holds 0x42 | somewhere'] : []));
    const small = await minimizeCase(CASE, signatureOf('invariant', 'the input holds 0x42 | somewhere'), 100, target);
    expect([...small.input]).toEqual([0x42]);
  });

  it('saves findings as regression files and loads them back', () => {
    const { dir, remove } = tempDir();
    try {
      const path = saveFinding({ target: 'capture', kind: 'invariant', message: 'm', signature: 's', seed: 1, index: 2, case: { ...CASE, params: { chunks: { mode: 'whole' } } } }, dir);
      expect(path).toMatch(/capture\/[0-9a-f]{16}\.bin$/);
      const [r] = loadRegressions(dir);
      expect(r!.case.input).toEqual(CASE.input);
      expect(r!.meta).toMatchObject({ target: 'capture', kind: 'invariant', seed: 1, index: 2, params: { chunks: { mode: 'whole' } } });
    } finally {
      remove();
    }
  });

  it('runs every target from a seed and counts what it ran', async () => {
    const r = await runFuzz({ seed: 8, cases: 3 });
    expect(r.cases).toEqual({ capture: 3, decode: 3, flows: 3, logs: 3, analyze: 3 });
    expect(r.total).toBe(15);
    expect(r.findings).toEqual([]);
  });
});

/**
 * The fuzzer itself: reproducible from its seed, mutating at every boundary the brief names, and
 * turning each kind of failure (exception, broken promise, slow, hang, memory) into a finding
 * that is saved, reloaded and shrunk.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CONNECTION_BYTES, ENVIRONMENTAL_KINDS, LOG_ENTRY_BYTES, caseInputBytes, loadRegressions, makeCase, memoryBound, minimizeCase, runCase, runFuzz,
  saveFinding, signatureOf,
} from '../../src/fuzz/harness.js';
import { scanLayout } from '../../src/fuzz/layout.js';
import { gzipMutation, mutateCapture } from '../../src/fuzz/mutate-capture.js';
import { Rng, caseSeed } from '../../src/fuzz/random.js';
import { seedCorpus } from '../../src/fuzz/seeds.js';
import { TARGET_NAMES, chunksOf, removeFuzzTempDir, type FuzzCase, type Target } from '../../src/fuzz/targets.js';
import { CaptureScript } from '../../src/writer/index.js';
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

    it("a slow case (on a clock the test drives, not the machine's)", async () => {
      let clock = 0;
      const o = await runCase(CASE, { slowMs: 20, now: () => clock, target: fake(async () => { clock += 40; return []; }) });
      expect(o.problems.map((p) => p.kind)).toEqual(['slow']);
      expect(o.ms).toBe(40);
      clock = 0;
      const quick = await runCase(CASE, { slowMs: 20, now: () => clock, target: fake(async () => { clock += 20; return []; }) });
      expect(quick.problems).toEqual([]);
    });

    it('a case that never settles', async () => {
      const o = await runCase(CASE, { hangMs: 50, target: fake(() => new Promise<string[]>(() => {})) });
      expect(o.problems.map((p) => p.kind)).toEqual(['hang']);
    });

    it("a case that retains more than its input allows, by the analysis's own count", async () => {
      const retained = { liveConnections: 3, bufferedBytes: 1000, logEntries: 2 };
      const bytes = 3 * CONNECTION_BYTES + 1000 + 2 * LOG_ENTRY_BYTES;
      const target = fake(async (_c, ctx) => { ctx.retained(retained); ctx.retained({ liveConnections: 1 }); return []; });
      const over = await runCase(CASE, { boundBytes: bytes - 1, target });
      expect(over.retained).toEqual(retained);
      expect(over.retainedBytes).toBe(bytes);
      expect(over.problems).toEqual([{
        kind: 'memory',
        message: `retained more than its input allows by its own count | ${bytes} bytes (3 live connections × ${CONNECTION_BYTES} B, 1000 bytes buffered, 2 log entries × ${LOG_ENTRY_BYTES} B) for 8 input bytes (bound ${bytes - 1} bytes)`,
      }]);
      const within = await runCase(CASE, { boundBytes: bytes, target });
      expect(within.problems).toEqual([]);
    });

    it('counts the log text of a case as input, and gives every real input at least 16 MiB', () => {
      expect(caseInputBytes({ ...CASE, params: { logs: [{ hop: 'a', text: 'é'.repeat(10) }, { hop: 'b', text: 'xy' }] } })).toBe(8 + 20 + 2);
      expect(memoryBound(8)).toBe(16 * 1024 * 1024);
      expect(memoryBound(1024 * 1024)).toBe(64 * 1024 * 1024);
    });

    it('a real flows run whose unfinished heads outgrow a tiny bound (the table counts its buffers exactly)', async () => {
      // Twenty connections, each sending a head that never ends (3000 bytes): each sniffer buffers it.
      const cap = new CaptureScript({ start: '2024-05-01T10:00:00Z', seed: 1 });
      for (let i = 0; i < 20; i++) {
        const conn = cap.tcp({ client: `10.0.0.1:${40000 + i}`, server: '10.0.0.2:80' });
        conn.handshake();
        conn.clientSends('GET /slow HTTP/1.1\r\nX-Filler: ' + 'a'.repeat(3000), { segmentSize: 1400, ack: false });
      }
      const c: FuzzCase = { target: 'flows', input: cap.toPcap(), params: { maxConnections: 1000, idleThresholdMicros: 10e6, lingerMicros: 10e6 }, mutations: [], seedName: 'test' };
      const o = await runCase(c, { boundBytes: 20 * CONNECTION_BYTES });
      expect(o.retained.liveConnections).toBe(20);
      // Each head grew its buffer from 2 × 1400 to 5600 bytes (doubling), none was given back before the end.
      expect(o.retained.bufferedBytes).toBe(20 * 5600);
      expect(o.problems.map((p) => p.kind)).toEqual(['memory']);
      const again = await runCase(c, { boundBytes: 20 * CONNECTION_BYTES });
      expect(again.retainedBytes).toBe(o.retainedBytes);
      expect((await runCase(c)).problems).toEqual([]);
    });

    it('reports process memory as a figure, and as a suspicion only when asked to watch it', async () => {
      const target = fake(async (_c, ctx) => { ctx.sample(); return []; });
      // A bound nothing stays under (the account's 0 bytes too): watched, process memory is a
      // suspicion besides the account's finding; unwatched, only the account speaks.
      const watched = await runCase(CASE, { boundBytes: -Infinity, watchProcessMemory: true, target });
      expect(watched.problems.map((p) => p.kind)).toEqual(['memory', 'process-memory']);
      expect(ENVIRONMENTAL_KINDS.has('process-memory')).toBe(true);
      const unwatched = await runCase(CASE, { boundBytes: -Infinity, target });
      expect(unwatched.problems.map((p) => p.kind)).toEqual(['memory']);
      expect(typeof unwatched.processBytes).toBe('number');
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
    // No clock-based findings here: whether a case is "slow" depends on the machine's load.
    const r = await runFuzz({ seed: 8, cases: 3, slowMs: Infinity, hangMs: Infinity });
    expect(r.cases).toEqual({ capture: 3, decode: 3, flows: 3, logs: 3, analyze: 3, h2: 3 });
    expect(r.total).toBe(18);
    expect(r.findings).toEqual([]);
  });
});

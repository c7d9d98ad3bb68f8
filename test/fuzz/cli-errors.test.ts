/**
 * A broken capture gets one line on stderr naming the file, what is wrong, the byte offset and the
 * frame — never a stack trace — from every command that reads captures, for a sample of mutated
 * captures (truncated, lengths set to 0 / huge / off by one, blocks duplicated, gzip damaged …).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/index.js';
import { mutateCapture } from '../../src/fuzz/mutate-capture.js';
import { Rng } from '../../src/fuzz/random.js';
import { seedCorpus } from '../../src/fuzz/seeds.js';
import { CAPTURE_ERROR_LINE } from '../../src/fuzz/targets.js';
import { tempDir } from '../bounds/support.js';
import { runCli } from '../support/io.js';

const SAMPLES = 120;

describe('one-line errors for broken captures', () => {
  it(`name file, byte offset and frame for ${SAMPLES} mutated captures, from analyze, flows and info`, async () => {
    const { dir, remove } = tempDir();
    try {
      const corpus = seedCorpus('bundled');
      const rng = new Rng(1234);
      const codes = new Map<string, number>();
      let broken = 0;
      for (let i = 0; i < SAMPLES * 4 && broken < SAMPLES; i++) {
        const seed = rng.pick(corpus.captures);
        const m = mutateCapture(seed.bytes, rng, { donors: [rng.pick(corpus.captures).bytes] }, { gzip: 0.2 });
        const file = join(dir, `case-${i}.pcap`);
        writeFileSync(file, m.bytes);
        const s = await readCapture(file, () => {});
        if (s.error === null || s.error.code === 'empty') continue;
        broken++;
        codes.set(s.error.code, (codes.get(s.error.code) ?? 0) + 1);
        const why = `${seed.name}: ${m.mutations.join('; ')}`;
        for (const args of [['analyze', file], ['flows', '--format', 'json', file], ['info', file]]) {
          const r = await runCli(args);
          expect(r.code, why).toBe(2);
          const lines = r.stderr.split('\n');
          expect(lines, `${args[0]} ${why}`).toHaveLength(2); // one line and its newline
          expect(lines[0], `${args[0]} ${why}`).toMatch(CAPTURE_ERROR_LINE);
          expect(lines[0]).toContain(`flowdoc: ${file}: `);
          expect(lines[0]).toContain(`(byte offset ${s.error.offset}, frame ${s.error.frame})`);
          expect(r.stderr).not.toMatch(/^\s+at /m);
        }
      }
      expect(broken).toBe(SAMPLES);
      // The sample covers the ways a capture breaks, not just one.
      expect([...codes.keys()].sort()).toEqual(expect.arrayContaining(['bad-block', 'bad-length', 'gzip', 'not-a-capture', 'truncated-record']));
    } finally {
      remove();
    }
  });
});

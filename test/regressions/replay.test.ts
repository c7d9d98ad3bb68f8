/**
 * Every input the fuzzer saved under test/regressions/<target>/ (with its .json: how it was made,
 * what went wrong, what fixed it) is run again through its target: each must now come back with
 * no problem. Each one failed before its fix.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRegressions, runCase } from '../../src/fuzz/harness.js';
import { removeFuzzTempDir } from '../../src/fuzz/targets.js';

const DIR = dirname(fileURLToPath(import.meta.url));
const saved = loadRegressions(DIR);

describe('inputs the fuzzer once broke the code with', () => {
  afterAll(() => removeFuzzTempDir());

  it('are all here, each with what fixed it', () => {
    expect(saved.length).toBeGreaterThan(0);
    for (const r of saved) expect(r.meta.fix, r.file).toMatch(/^src\/\S+\.ts: /);
  });

  for (const r of saved) {
    const name = r.file.slice(DIR.length + 1);
    it(`no longer ${r.meta.kind === 'invariant' ? 'break a promise' : `give ${r.meta.kind === 'exception' ? 'an exception' : `a ${r.meta.kind} finding`}`}: ${name} (${r.meta.message.split(' | ')[0]})`, async () => {
      const outcome = await runCase(r.case);
      expect(outcome.problems).toEqual([]);
    });
  }
});

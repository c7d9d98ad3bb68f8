/**
 * The short fuzz run of `npm test`: a few thousand cases from a fixed seed, on the captures and
 * logs in this repository and the writer's captures (not ../shared, so it is the same run on
 * every machine). Zero findings is the bar; when one shows up, reproduce it with
 * `node dist-tools/fuzz/main.js --target <t> --seed 20240501 --case <index>`, fix it, and save it as a
 * regression (see docs/robustness.md).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runFuzz, type Finding } from '../../src/fuzz/harness.js';
import { removeFuzzTempDir, type TargetName } from '../../src/fuzz/targets.js';

const SHORT_RUN_SEED = 20240501;
/** Cases per target, sized so the whole run takes about 8 s on one core. */
const SHORT_RUN_CASES: Readonly<Record<TargetName, number>> = { capture: 600, decode: 3000, flows: 250, logs: 600, analyze: 400, h2: 300 };

function describeFinding(f: Finding): string {
  return `${f.target} case ${f.index}: ${f.kind}: ${f.message} [${f.case.mutations.join('; ')}]`;
}

describe(`the short fuzz run (seed ${SHORT_RUN_SEED})`, () => {
  afterAll(() => removeFuzzTempDir());

  for (const [target, cases] of Object.entries(SHORT_RUN_CASES) as [TargetName, number][]) {
    it(`finds nothing in ${cases} ${target} cases`, async () => {
      // No clock bounds: how long a case takes depends on the machine's load, not on the input
      // (a real hang is still caught by vitest's test timeout).
      const report = await runFuzz({ seed: SHORT_RUN_SEED, targets: [target], cases, corpus: 'bundled', slowMs: Infinity, hangMs: Infinity });
      expect(report.cases[target]).toBe(cases);
      expect(report.findings.map(describeFinding)).toEqual([]);
    });
  }
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { SlowWriter, WatchRun } from '../support/watch.js';

const load = (f: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'schema', f), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addSchema(load('analysis-v2.schema.json'));
const validate = ajv.compile(load('watch-event-v1.schema.json'));

describe('flowdoc watch events follow schema/watch-event-v1', () => {
  for (const [capture, extra] of [['rst-after-idle/client-any.pcap', []], ['keepalive-too-slow/lb-any.pcap', []], ['server-fin/server.pcapng', []], ['blackhole/client-eth.pcap', []], ['at-risk/client-eth.pcap', ['--lb-timeout', '5']]] as const) {
    it(`validates every event of ${capture}, a summary asked for mid-stream included`, async () => {
      const bytes = readFileSync(join(REPO_ROOT, 'captures', capture));
      const run = new WatchRun(['-', '--stats-interval', '1', ...extra], new SlowWriter(bytes, { chunk: 256, pauseMs: 0 }).stream);
      await run.next((e) => e.event === 'stats');
      run.signals.emit('SIGHUP');
      await run.done;
      const kinds = new Set(run.events.map((e) => e.event));
      expect([...kinds]).toEqual(expect.arrayContaining(['stats', 'summary', ...(extra.length ? ['at-risk'] : [])]));
      for (const e of run.events) expect(validate(e), JSON.stringify(validate.errors?.slice(0, 5), null, 2)).toBe(true);
    });
  }
});

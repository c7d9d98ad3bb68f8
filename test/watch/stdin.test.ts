import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';
import { SlowWriter, WatchRun } from '../support/watch.js';

const CAPTURES = join(REPO_ROOT, 'captures');

/** What `analyze -f json -` says about the same bytes (the report watch's summary must equal). */
async function analyzeJson(bytes: Uint8Array): Promise<{ code: number; report: Record<string, any> }> {
  const r = await runCli(['analyze', '-f', 'json', '-'], { stdin: bytes });
  return { code: r.code, report: JSON.parse(r.stdout) };
}

const isIncident = (e: Record<string, unknown>) => e.event === 'incident';

describe('flowdoc watch - on a capture trickled through a pipe', () => {
  for (const capture of ['rst-after-idle/client-eth.pcap', 'rst-after-idle/lb-any.pcap', 'rst-after-idle-v6/client-eth.pcap', 'keepalive-too-slow/client-eth.pcap', 'server-fin/server.pcapng', 'busy/client-eth.pcap']) {
    it(`reports each incident of ${capture} before the stream ends, as analyze reports it`, async () => {
      const bytes = readFileSync(join(CAPTURES, capture));
      const expected = await analyzeJson(bytes);
      expect(expected.report.incidents.length).toBeGreaterThan(0);
      const writer = new SlowWriter(bytes, { chunk: 16, pauseMs: 1 });
      const run = new WatchRun(['-', '--stats-interval', '0'], writer.stream);
      for (let n = 0; n < expected.report.incidents.length; n++) {
        const got = await run.next(() => run.events.filter(isIncident).length > n).then(() => run.events.filter(isIncident)[n]!) as Record<string, any>;
        // The incident arrived while bytes were still being written: it was told live.
        expect(writer.finished).toBe(false);
        expect(got.incident).toEqual(expected.report.incidents[n]);
      }
      const code = await run.done;
      expect(code).toBe(expected.code);
      const summary = run.events.at(-1)!;
      expect(summary).toMatchObject({ event: 'summary', final: true });
      expect(summary.report).toEqual(expected.report);
      expect(run.stderr).toBe('');
    });
  }

  it('reports an incident that only the end of the capture completes (a blackholed request) before the final summary', async () => {
    const bytes = readFileSync(join(CAPTURES, 'blackhole/client-eth.pcap'));
    const expected = await analyzeJson(bytes);
    expect(expected.report.incidents.map((i: { gaveUp: string }) => i.gaveUp)).toEqual(['capture-end']);
    const run = new WatchRun(['-', '--stats-interval', '0'], new SlowWriter(bytes, { chunk: 64, pauseMs: 1 }).stream);
    expect(await run.done).toBe(expected.code);
    expect(run.events.map((e) => e.event)).toEqual(['incident', 'destination', 'summary']);
    expect(run.events[0]!.incident).toEqual(expected.report.incidents[0]);
    expect(run.events[2]!.report).toEqual(expected.report);
  });
});

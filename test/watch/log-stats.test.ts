import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { Watch, type WatchEvent, type WatchStats } from '../../src/analysis/watch.js';
import { REPO_ROOT } from '../corpus/shared.js';

const LAB = join(REPO_ROOT, 'captures/rst-after-idle');
const load = (f: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'schema', f), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addSchema(load('analysis-v2.schema.json'));
const validate = ajv.compile(load('watch-event-v1.schema.json'));

describe('flowdoc watch --logs says in its stats what it holds for the join', () => {
  it('counts the log lines held and the incidents waiting for their lines', async () => {
    const events: WatchEvent[] = [];
    const watch = new Watch((e) => events.push(e), {
      logs: [{ hop: 'client', file: join(LAB, 'client.log') }, { hop: 'server', file: join(LAB, 'server.log') }],
      logWaitSeconds: 600,
      statsIntervalSeconds: 1,
      wallClock: () => 0,
    });
    // The files are read once, before the stream: every line is held from the first stats on.
    await watch.pollLogs();
    await watch.run(join(LAB, 'client-eth.pcap'));
    const stats = events.filter((e): e is Extract<WatchEvent, { event: 'stats' }> => e.event === 'stats').map((e) => e.stats as Required<WatchStats>);
    const incidentAt = events.findIndex((e) => e.event === 'incident');
    expect(events.map((e) => e.event)).toEqual(['stats', 'stats', 'incident', 'destination', 'summary']);
    expect(new Set(stats.map((s) => s.logLinesHeld))).toEqual(new Set([9])); // 5 client + 4 server lines
    // Before the RST nothing waits; after it the incident waits (--log-wait 600) until the stream ends, then is told.
    expect(stats[0]!.incidentsWaitingForLogs).toBe(0);
    expect(stats.at(-1)!.incidentsWaitingForLogs).toBe(1);
    expect(stats.map((s) => [s.packets, s.incidents])).toEqual([[14, 0], [23, 0]]);
    expect(incidentAt).toBeGreaterThan(events.map((e) => e.event).lastIndexOf('stats'));
    expect(events.at(-1)).toMatchObject({ event: 'summary', final: true });
    for (const e of JSON.parse(JSON.stringify(events.filter((x) => x.event === 'stats'))) as unknown[]) expect(validate(e), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it('leaves the counts out without --logs', async () => {
    const events: WatchEvent[] = [];
    await new Watch((e) => events.push(e), { statsIntervalSeconds: 1 }).run(join(LAB, 'client-eth.pcap'));
    const stats = events.find((e) => e.event === 'stats') as Extract<WatchEvent, { event: 'stats' }>;
    expect(stats.stats).not.toHaveProperty('logLinesHeld');
    expect(stats.stats).not.toHaveProperty('incidentsWaitingForLogs');
  });
});

/**
 * The lab's `watch-rst-after-idle` run (lab/run.sh, lab/scenarios.mjs): `flowdoc watch --interface c0
 * --save DIR` ran in the client's network namespace beside the lab's own captures — real kernel,
 * real tcpdump started by watch, the LB's conntrack forgetting the pooled connection after 10 s
 * and forging the RST. What it wrote is kept in captures/watch-rst-after-idle/: its events
 * (watch-client.ndjson), how many bytes of them existed when the client finished
 * (watch-client.bytes-at-client-end), and the raw capture it kept (watch-save/).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';

const DIR = join(REPO_ROOT, 'captures/watch-rst-after-idle');
const NDJSON = readFileSync(join(DIR, 'watch-client.ndjson'), 'utf8');
const LINES = NDJSON.trimEnd().split('\n');
const EVENTS = LINES.map((l) => JSON.parse(l) as Record<string, any>);
const SAVED = join(DIR, 'watch-save/flowdoc-watch-000001.pcap');
const truth = JSON.parse(readFileSync(join(DIR, 'truth.json'), 'utf8'));

const load = (f: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'schema', f), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addSchema(load('analysis-v2.schema.json'));
const validate = ajv.compile(load('watch-event-v1.schema.json'));

const analyzed = async (file: string) => JSON.parse((await runCli(['analyze', '-f', 'json', file])).stdout);

describe('flowdoc watch --interface in the lab: the LB forgets the connection, the incident is told live', () => {
  it('told the incident before the client had finished, and ended on SIGINT with the summary', () => {
    expect(EVENTS.map((e) => e.event).filter((e) => e !== 'stats')).toEqual(['listening', 'incident', 'destination', 'summary']);
    expect(EVENTS[0]!.command).toBe('tcpdump -i c0 -U -w - tcp');
    const atClientEnd = Number(readFileSync(join(DIR, 'watch-client.bytes-at-client-end'), 'utf8'));
    const n = EVENTS.findIndex((e) => e.event === 'incident');
    const incidentEnds = LINES.slice(0, n + 1).reduce((bytes, l) => bytes + Buffer.byteLength(l) + 1, 0);
    expect(incidentEnds).toBeLessThanOrEqual(atClientEnd);
    const summary = EVENTS.at(-1)!;
    expect(summary).toMatchObject({ event: 'summary', final: true });
    expect(summary.report.incidents).toEqual([EVENTS[n]!.incident]);
    for (const s of EVENTS.filter((e) => e.event === 'stats')) expect(s.stats.tcpdumpDrops ?? 0).toBe(0);
    expect(readFileSync(join(DIR, 'watch-client.stderr'), 'utf8')).toBe('');
    for (const e of EVENTS) expect(validate(e), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it('told what the lab\'s own capture of the same interface shows: the stale reuse, the LB\'s RST, the bracket', async () => {
    const incident = EVENTS.find((e) => e.event === 'incident')!.incident;
    const want = truth.captures.find((c: { file: string }) => c.file === 'client-eth.pcap').incidents[0];
    expect(incident).toMatchObject({ kind: want.kind, client: want.client, server: want.server, frames: want.frames, request: { requestId: want.requestId } });
    expect(incident.rst).toMatchObject({ ttl: want.rst.ttl, origin: 'middlebox' });
    const lab = (await analyzed(join(DIR, 'client-eth.pcap'))).incidents[0];
    // Two tcpdumps on one interface: the same packets, timestamps a microsecond apart at most.
    for (const k of ['kind', 'frames', 'request', 'verdict', 'connectionFilter', 'endpoints'] as const) expect(incident[k], k).toEqual(lab[k]);
    expect(Math.abs(incident.idleSeconds - lab.idleSeconds)).toBeLessThanOrEqual(2e-6);
    const destination = EVENTS.find((e) => e.event === 'destination')!.destination;
    expect(destination.idleTimeout).toEqual((await analyzed(join(DIR, 'client-eth.pcap'))).destinations[0].idleTimeout);
  });

  it('kept the raw capture with --save: analyze on it gives the very incident watch told', async () => {
    const incident = EVENTS.find((e) => e.event === 'incident')!.incident;
    expect(EVENTS.find((e) => e.event === 'incident')!.saved).toMatchObject({ request: { file: expect.stringMatching(/flowdoc-watch-000001\.pcap$/), frame: incident.frames.request } });
    expect((await analyzed(SAVED)).incidents).toEqual([incident]);
  });
});

import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';
import { SlowWriter, WatchRun } from '../support/watch.js';

const LAB = join(REPO_ROOT, 'captures/rst-after-idle');
const CAPTURE = readFileSync(join(LAB, 'client-eth.pcap'));
/** The lab's own logs of that run: the client sidecar's 503 UC is line 4 (written as the RST came); the server never saw that request. */
const CLIENT = readFileSync(join(LAB, 'client.log'), 'utf8').trimEnd().split('\n').map((l) => `${l}\n`);
const SERVER = readFileSync(join(LAB, 'server.log'), 'utf8').trimEnd().split('\n').map((l) => `${l}\n`);

/** Where frame `n + 1` starts: frames 1–15 run through the RST of the first connection. */
function afterFrames(pcap: Buffer, n: number): number {
  let o = 24;
  for (let i = 0; i < n; i++) o += 16 + pcap.readUInt32LE(o + 8);
  return o;
}
const THROUGH_THE_RST = afterFrames(CAPTURE, 15);

const load = (f: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'schema', f), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addSchema(load('analysis-v2.schema.json'));
const validate = ajv.compile(load('watch-event-v1.schema.json'));

let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('flowdoc watch --logs follows the hops\' access logs while they are written', () => {
  it('joins a line written after the RST, across a rotation, as analyze --logs joins it — and tells the incident while the capture is still held', async () => {
    const analyzed = JSON.parse((await runCli(['analyze', '-f', 'json', '-', '--logs', `client=${join(LAB, 'client.log')}`, '--logs', `server=${join(LAB, 'server.log')}`], { stdin: CAPTURE })).stdout);
    const expected = analyzed.incidents[0];
    expect(expected.hops.map((h: { sawRequest: boolean }) => h.sawRequest)).toEqual([true, false]);
    dir = mkdtempSync(join(tmpdir(), 'flowdoc-watch-logs-'));
    const client = join(dir, 'client.log');
    const server = join(dir, 'server.log');
    // What the sidecars had written before the idle gap.
    writeFileSync(client, CLIENT.slice(0, 3).join(''));
    writeFileSync(server, SERVER.slice(0, 3).join(''));
    const writer = new SlowWriter(CAPTURE, { chunk: 32, pauseMs: 1, holdAt: THROUGH_THE_RST });
    // A wait of 0.3 s past the RST (13:45:43.4897): capture time stands still at the RST while the writer is held,
    // so only the logs' own clock can end it — once every hop wrote a line past it.
    const run = new WatchRun(['-', '--logs', `client=${client}`, '--logs', `server=${server}`, '--log-wait', '0.3', '--stats-interval', '0'], writer.stream);
    await writer.whenSent(THROUGH_THE_RST);
    // The 503 after the RST, in two writes (a writer caught mid-line), then the next request (43.793).
    appendFileSync(client, CLIENT[3]!.slice(0, 50));
    appendFileSync(client, CLIENT[3]!.slice(50) + CLIENT[4]!);
    // The server's log rotates (rename + create) before its next line.
    renameSync(server, `${server}.1`);
    writeFileSync(server, SERVER[3]!);
    const e = await run.next((x) => x.event === 'incident');
    expect(writer.finished).toBe(false);
    expect(writer.sent).toBeLessThan(afterFrames(CAPTURE, 16)); // held within frame 16: capture time is the RST's
    // The same incident, lines and verdict as analyze --logs on the finished files (only the log's path differs).
    expect(e.incident).toEqual(JSON.parse(JSON.stringify(expected).replaceAll(join(LAB, 'client.log'), client)));
    writer.release();
    expect(await run.done).toBe(1);
    const summary = run.events.at(-1)!;
    expect(run.events.map((x) => x.event)).toEqual(['incident', 'destination', 'summary']);
    const report = summary.report as Record<string, any>;
    expect(report.incidents).toEqual([e.incident]);
    expect(report.logs.hops.map((h: Record<string, unknown>) => [h.hop, h.lines, h.entries, h.error])).toEqual([['client', 5, 5, null], ['server', 4, 4, null]]);
    expect(report.logs.unexplained).toEqual(analyzed.logs.unexplained);
    expect(run.stderr).toBe('');
    for (const x of run.events) expect(validate(x), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  it('tells a held incident at the end of the stream with the lines written by then', async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowdoc-watch-logs-'));
    const client = join(dir, 'client.log');
    writeFileSync(client, CLIENT.join(''));
    // A wait longer than anything here: the incident waits until the stream ends, then is told with its line.
    const run = new WatchRun(['-', '--logs', `client=${client}`, '--log-wait', '600', '--stats-interval', '0'], new SlowWriter(CAPTURE, { chunk: 64, pauseMs: 0 }).stream);
    expect(await run.done).toBe(1);
    expect(run.events.map((x) => x.event)).toEqual(['incident', 'destination', 'summary']);
    const incident = run.events[0]!.incident as Record<string, any>;
    expect(incident.logs.map((m: { line: number; hop: string }) => [m.hop, m.line])).toEqual([['client', 4]]);
    expect(incident.verdict).toMatchObject({ confidence: expect.any(String) });
  });

  it('refuses a directory as a log, and standard input (the capture comes from there)', async () => {
    expect((await runCli(['watch', '-', '--logs', `x=${REPO_ROOT}`], { stdin: new Uint8Array(0) })).stderr).toBe(`flowdoc: --logs ${REPO_ROOT}: cannot follow the log file: is a directory\n`);
    expect((await runCli(['watch', '-', '--logs', '-'], { stdin: new Uint8Array(0) })).code).toBe(2);
  });
});

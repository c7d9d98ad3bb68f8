import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';
import { SlowWriter, WatchRun } from '../support/watch.js';

const RST_AFTER_IDLE = readFileSync(join(REPO_ROOT, 'captures/rst-after-idle/client-eth.pcap'));
/** Where frame `n + 1` of a classic pcap starts: after the file header and n records. */
function afterFrames(pcap: Buffer, n: number): number {
  let o = 24;
  for (let i = 0; i < n; i++) o += 16 + pcap.readUInt32LE(o + 8);
  return o;
}
/** Frames 1–15 of rst-after-idle (the RST is frame 15); the second connection (frames 16–25) follows. */
const THROUGH_THE_RST = afterFrames(RST_AFTER_IDLE, 15);

describe('flowdoc watch while the stream is still open', () => {
  it('prints the summary so far on SIGHUP and SIGUSR1 and goes on; SIGINT ends it with the final summary and analyze\'s exit code', async () => {
    const writer = new SlowWriter(RST_AFTER_IDLE, { chunk: 32, pauseMs: 1, holdAt: THROUGH_THE_RST });
    const run = new WatchRun(['-', '--stats-interval', '0'], writer.stream);
    const incident = await run.next((e) => e.event === 'incident');
    run.signals.emit('SIGHUP');
    const soFar = await run.next((e) => e.event === 'summary');
    expect(soFar.final).toBe(false);
    const report = soFar.report as Record<string, any>;
    expect(report.incidents).toEqual([incident.incident]);
    expect(report.summary).toMatchObject({ incidents: 1, connections: 1 });
    run.signals.emit('SIGUSR1');
    await run.next((e) => e.event === 'summary' && e !== soFar);
    run.signals.emit('SIGINT');
    expect(await run.done).toBe(1);
    expect(writer.finished).toBe(false);
    const final = run.events.at(-1)!;
    expect(final).toMatchObject({ event: 'summary', final: true });
    const finalReport = final.report as Record<string, any>;
    expect(finalReport.incidents).toEqual([incident.incident]);
    expect(finalReport.capture).toMatchObject({ packets: 15, error: null });
    expect(run.stderr).toBe('');
  });

  it('ends on SIGTERM with exit code 0 when nothing was found', async () => {
    const writer = new SlowWriter(RST_AFTER_IDLE, { chunk: 32, pauseMs: 1, holdAt: afterFrames(RST_AFTER_IDLE, 1) });
    const run = new WatchRun(['-', '--stats-interval', '0'], writer.stream);
    run.signals.emit('SIGHUP'); // maybe before the first packet: an empty summary so far
    run.signals.emit('SIGTERM');
    expect(await run.done).toBe(0);
    expect(run.events.map((e) => [e.event, e.final])).toEqual([['summary', false], ['summary', true]]);
    expect((run.events[1]!.report as Record<string, any>).capture.error).toBe(null);
  });

  it('tells stats by capture time: one event per interval boundary crossed, not a burst after a quiet stretch', async () => {
    const run = new WatchRun(['-', '--stats-interval', '5'], new SlowWriter(RST_AFTER_IDLE, { chunk: 64, pauseMs: 0 }).stream);
    expect(await run.done).toBe(1);
    // Packets at 0–0.5 s, then the request after 13 s idle: the 5 s and 10 s boundaries are crossed by one packet.
    expect(run.events.map((e) => e.event)).toEqual(['stats', 'incident', 'destination', 'summary']);
    expect(run.events[0]).toMatchObject({ stats: { packets: 14, tcpSegments: 14, connections: 1, connectionsLive: 1, evicted: 0, incidents: 0, kernelDrops: null } });
  });

  it('reports a corrupt record mid-stream as one error event, then the final summary of everything before it (exit 2)', async () => {
    const bytes = Buffer.from(RST_AFTER_IDLE);
    bytes.writeUInt32LE(0x7fffffff, THROUGH_THE_RST + 8); // frame 16's captured length: impossible
    const run = new WatchRun(['-', '--stats-interval', '0'], new SlowWriter(bytes, { chunk: 32, pauseMs: 0 }).stream);
    expect(await run.done).toBe(2);
    expect(run.events.map((e) => e.event)).toEqual(['incident', 'error', 'destination', 'summary']);
    expect(run.events[1]).toMatchObject({ error: { code: 'bad-length', offset: THROUGH_THE_RST, frame: 16 } });
    expect((run.events[3]!.report as Record<string, any>).incidents).toHaveLength(1);
    expect(run.stderr).toMatch(/^flowdoc: -: .*\(byte offset \d+, frame 16\); the 15 packets before it are analysed\n$/);
  });

  it('prints the same events human-readably with --format table, ending in analyze\'s table', async () => {
    const run = new WatchRun(['-', '-f', 'table', '--stats-interval', '0'], new SlowWriter(RST_AFTER_IDLE, { chunk: 64, pauseMs: 0 }).stream);
    expect(await run.done).toBe(1);
    const table = await runCli(['analyze', '-'], { stdin: RST_AFTER_IDLE });
    expect(run.stdout).toMatch(/^\S+Z {2}INCIDENT stale-reuse-rst {2}10\.200\.1\.2:\d+ → 10\.200\.9\.9:80 {2}\(connection 1\)\n/);
    expect(run.stdout).toContain('FINAL SUMMARY\n');
    expect(run.stdout.endsWith(table.stdout + '\n')).toBe(true);
  });
});

describe('flowdoc watch tells connections at risk while they are still open', () => {
  it('reports a connection idle past --lb-timeout before the stream ends, as analyze judges it at the end', async () => {
    const bytes = readFileSync(join(REPO_ROOT, 'captures/at-risk/client-eth.pcap'));
    const analyzed = JSON.parse((await runCli(['analyze', '-f', 'json', '--lb-timeout', '5', '-'], { stdin: bytes })).stdout);
    expect(analyzed.atRisk).toHaveLength(1);
    const writer = new SlowWriter(bytes, { chunk: 32, pauseMs: 1 });
    const run = new WatchRun(['-', '--lb-timeout', '5', '--stats-interval', '1'], writer.stream);
    const e = await run.next((x) => x.event === 'at-risk');
    expect(writer.finished).toBe(false);
    const expected = analyzed.atRisk[0];
    expect(e.atRisk).toMatchObject({ connection: expected.connection, client: expected.client, server: expected.server, lastFrame: expected.lastFrame, level: 'will-fail', basis: 'lb-timeout', timeoutSeconds: 5 });
    await run.done;
    // Told once for its idle stretch, however many stats intervals it stays idle.
    expect(run.events.filter((x) => x.event === 'at-risk')).toHaveLength(1);
  });
});

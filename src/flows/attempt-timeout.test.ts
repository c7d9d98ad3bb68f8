import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionsOf } from '../../test/support/analyze.js';
import { runCli } from '../../test/support/io.js';
import { CaptureScript } from '../writer/index.js';

const START = '2024-05-01T10:00:00Z';

/** `n` unanswered SYNs from distinct tuples, one every 10 ms of capture time (n / 100 seconds). */
function flood(n: number): Uint8Array {
  const cap = new CaptureScript({ start: START, stepMicros: 10_000 });
  for (let i = 0; i < n; i++) cap.tcp({ client: `100.64.${i >> 8}.${i & 0xff}:${20000 + i}`, server: '10.0.0.2:443' }).syn();
  return cap.toPcap();
}

describe('connection attempts (SYN never answered) expire by capture time, like Zeek\'s tcp_attempt_delay', () => {
  it('holds only the last 5 s of a flood by default: 500 live at most of 3,000 SYNs 10 ms apart, the rest handed on as attempt-expired', async () => {
    const { connections, result } = await connectionsOf(flood(3000));
    expect(result.options.attemptTimeoutSeconds).toBe(5);
    expect(result.summary.connections).toBe(3000);
    // A SYN at t is let go by the first packet at t + 5 s or later: 500 SYNs (0 … 4.99 s) are live then.
    expect(result.summary.peakLiveConnections).toBe(500);
    expect(result.summary.attemptsExpired).toBe(2500);
    expect(connections.filter((c) => c.endReason === 'attempt-expired')).toHaveLength(2500);
    expect(connections.filter((c) => c.endReason === 'capture-end')).toHaveLength(500);
    expect(connections.every((c) => c.state === 'S0' && c.history === 'S')).toBe(true);
    // The record is the same as at the end of the capture: only the end reason says it expired.
    expect(connections[0]).toMatchObject({ id: 1, endReason: 'attempt-expired', synFrame: 1, firstFrame: 1, lastFrame: 1 });
  });

  it('is configurable: 1 s holds 100, 0 never lets an attempt go', async () => {
    const bytes = flood(1000);
    const short = await connectionsOf(bytes, { attemptTimeoutSeconds: 1 });
    expect(short.result.summary.peakLiveConnections).toBe(100);
    expect(short.result.summary.attemptsExpired).toBe(900);
    const never = await connectionsOf(bytes, { attemptTimeoutSeconds: 0 });
    expect(never.result.summary.peakLiveConnections).toBe(1000);
    expect(never.result.summary.attemptsExpired).toBe(0);
    expect(never.connections.every((c) => c.endReason === 'capture-end')).toBe(true);
  });

  it('never lets go of an answered attempt, a closed one, or one whose SYN is retransmitted within the timeout', async () => {
    const cap = new CaptureScript({ start: START });
    const answered = cap.tcp({ client: '10.0.0.1:40001', server: '10.0.0.2:80' });
    answered.syn();
    cap.idle(3);
    answered.synAck(); // 3 s later: answered before the timeout
    const refused = cap.tcp({ client: '10.0.0.1:40002', server: '10.0.0.2:81' });
    refused.syn();
    refused.rst('server', { ack: true });
    const retried = cap.tcp({ client: '10.0.0.1:40003', server: '10.0.0.2:82' });
    retried.syn();
    cap.idle(3);
    retried.syn(); // the same ISN: the kernel's retry at 3 s: the same attempt
    cap.idle(20);
    answered.ack('client');
    const { connections, result } = await connectionsOf(cap.toPcap());
    const by = (port: number) => connections.find((c) => c.server.endsWith(`:${port}`))!;
    expect(by(80)).toMatchObject({ state: 'S1', endReason: 'capture-end' });
    expect(by(81)).toMatchObject({ state: 'REJ', endReason: 'reset' });
    // The retried SYN kept the attempt alive; 5 s after its last packet it was let go, as one connection.
    expect(by(82)).toMatchObject({ state: 'S0', endReason: 'attempt-expired' });
    expect(by(82).clientStats.packets).toBe(2);
    expect(result.summary.connections).toBe(3);
    expect(result.summary.attemptsExpired).toBe(1);
  });

  it('checks a retried attempt again on a later packet, not over and over on the same one (this looped forever before)', async () => {
    const cap = new CaptureScript({ start: START });
    const retried = cap.tcp({ client: '10.0.0.1:40003', server: '10.0.0.2:82' });
    retried.syn();
    cap.idle(3);
    retried.syn(); // the kernel's retry: the same attempt, its last packet at 3 s
    cap.idle(3);
    // At 6 s the attempt is older than 5 s but its last packet is not: it is put back, and with
    // nothing younger queued before it, the old walk met it again at once, forever.
    const other = cap.tcp({ client: '10.0.0.1:40004', server: '10.0.0.2:83' });
    other.handshake();
    cap.idle(3);
    other.ack('client'); // 9 s: 5 s after the retry, it is let go
    const { connections, result } = await connectionsOf(cap.toPcap());
    const by = (port: number) => connections.find((c) => c.endpoints.server.port === port)!;
    expect(by(82)).toMatchObject({ state: 'S0', endReason: 'attempt-expired', lastFrame: 2 });
    expect(by(83)).toMatchObject({ endReason: 'capture-end' });
    expect(result.summary.attemptsExpired).toBe(1);
  });

  it('a SYN retried after the timeout starts a new attempt on the same tuple', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:40001', server: '10.0.0.2:80' });
    c.syn();
    cap.idle(7);
    c.syn(); // the same ISN, 7 s later
    const { connections, result } = await connectionsOf(cap.toPcap());
    expect(connections.map((k) => [k.endReason, k.clientStats.packets])).toEqual([['attempt-expired', 1], ['capture-end', 1]]);
    expect(result.summary.attemptsExpired).toBe(1);
  });

  it('takes --attempt-timeout on analyze and flows, and refuses a negative one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowdoc-attempt-'));
    try {
      const file = join(dir, 'flood.pcap');
      writeFileSync(file, flood(300));
      const a = await runCli(['analyze', '--format', 'json', '--attempt-timeout', '0.5', file]);
      const json = JSON.parse(a.stdout);
      expect(json.options.attemptTimeoutSeconds).toBe(0.5);
      expect(json.summary.peakLiveConnections).toBe(50);
      expect(json.summary.attemptsExpired).toBe(250);
      const f = await runCli(['flows', '--format', 'ndjson', '--attempt-timeout', '0', file]);
      expect(f.stdout.trim().split('\n').map((l) => JSON.parse(l).endReason)).toEqual(new Array(300).fill('capture-end'));
      const bad = await runCli(['analyze', '--attempt-timeout', '-1', file]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--attempt-timeout/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

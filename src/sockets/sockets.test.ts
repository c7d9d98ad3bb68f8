import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../report/testing/real.js';
import { analyzeSockets, parseDateLine, parseSocketDump, parseTimerText } from './index.js';

// Real output of ss (iproute2 6.1.0) and /proc/net/tcp{,6} from `lab/sockets/run.sh` (see test/fixtures/sockets/README.md).
const FIX = join(REPO_ROOT, 'test/fixtures/sockets');
const dump = (name: string) => parseSocketDump(readFileSync(join(FIX, name), 'utf8'), name);
const lb = (any: number | null, byServer: [string, number][] = []) => ({ lbTimeouts: { any, byServer: new Map(byServer) } });

describe('ss timer text', () => {
  it('reads print_ms_timer\'s forms as the ranges they stand for', () => {
    expect(parseTimerText('119min')).toEqual({ min: 7140, max: 7200 });
    expect(parseTimerText('22sec')).toEqual({ min: 22, max: 23 });
    expect(parseTimerText('9.808ms')).toEqual({ min: 9.808, max: 9.809 }); // 9 s 808 ms, not 9.8 ms
    expect(parseTimerText('9.501sec')).toEqual({ min: 9.501, max: 9.502 }); // newer iproute2
    expect(parseTimerText('476ms')).toEqual({ min: 0.476, max: 0.477 });
    expect(parseTimerText('1min5sec')).toEqual({ min: 65, max: 66 });
    expect(parseTimerText('')).toEqual({ min: 0, max: 0 }); // due: ss prints 0 ms as nothing
    expect(parseTimerText('9.')).toBeNull();
    expect(parseTimerText('soon')).toBeNull();
  });
});

describe('date lines between snapshots', () => {
  it('reads date in the C locale, ISO 8601 and epoch seconds; a zone abbreviation it cannot place is a date without an instant', () => {
    const t = Date.UTC(2026, 11, 6, 19, 46, 1) * 1000;
    expect(parseDateLine('Sun Dec  6 19:46:01 UTC 2026')).toBe(t);
    expect(parseDateLine('2026-12-06T20:46:01+01:00')).toBe(t);
    expect(parseDateLine('2026-12-06 19:46:01.250000000+00:00')).toBe(t + 250000);
    expect(parseDateLine(String(t / 1e6))).toBe(t);
    expect(parseDateLine('Sun Dec  6 20:46:01 CET 2026')).toBeNull();
    expect(parseDateLine('ESTAB 0 0 1.2.3.4:5 6.7.8.9:10')).toBeUndefined();
  });
});

describe('parsing real ss and /proc/net/tcp output', () => {
  it('reads every line of ss -tnoi, -tnoie, -tan -o and both /proc dumps', () => {
    for (const f of ['ss-tnoi.txt', 'ss-tnoie.txt', 'ss-tan-o.txt', 'ss-tnoi-server.txt', 'ss-tnoi-snapshots.txt', 'proc-net-tcp.txt', 'proc-net-tcp6.txt']) {
      const d = dump(f);
      expect(d.skipped, `${f}: ${JSON.stringify(d.skippedSamples)}`).toBe(0);
      expect(d.snapshots.length).toBeGreaterThan(0);
    }
  });

  it('takes six snapshots with their date lines from a `while sleep 5; do date; ss -tnoi; done` log', () => {
    const d = dump('ss-tnoi-snapshots.txt');
    expect(d.snapshots.map((s) => s.dateText)).toEqual(['Sun Dec  6 19:45:50 UTC 2026', 'Sun Dec  6 19:45:55 UTC 2026', 'Sun Dec  6 19:46:01 UTC 2026', 'Sun Dec  6 19:46:06 UTC 2026', 'Sun Dec  6 19:46:11 UTC 2026', 'Sun Dec  6 19:46:16 UTC 2026']);
    expect(d.snapshots.map((s) => s.rows.length)).toEqual([8, 8, 7, 7, 7, 7]);
  });

  it('decodes /proc/net/tcp addresses to the same endpoints ss prints for the same inode', () => {
    const ss = dump('ss-tnoie.txt').snapshots[0]!.rows;
    const proc = [...dump('proc-net-tcp.txt').snapshots[0]!.rows, ...dump('proc-net-tcp6.txt').snapshots[0]!.rows];
    const est = ss.filter((r) => r.state === 'ESTAB');
    expect(est.length).toBe(7);
    for (const r of est) {
      expect(r.inode).not.toBeNull();
      const p = proc.find((x) => x.inode === r.inode);
      expect(p, `inode ${r.inode}`).toBeDefined();
      expect([p!.local, p!.peer, p!.state]).toEqual([r.local, r.peer, r.state]);
    }
    // The retransmitting socket: ss's timer:(on,…,7) is /proc's tr 1 with retrnsmt 7.
    const retx = proc.find((x) => x.peer === '10.215.0.2:8082')!;
    expect(retx.timer).toMatchObject({ kind: 'on', count: 7 });
    expect(retx.sendQ).toBe(73);
  });

  it('reads ss -i details: lastsnd/lastrcv/lastack, retrans and unacked', () => {
    const rows = dump('ss-tnoi.txt').snapshots[0]!.rows;
    const retx = rows.find((r) => r.peer === '10.215.0.2:8082')!;
    expect(retx).toMatchObject({ sendQ: 73, unacked: 1, retransCurrent: 1, retransTotal: 8, lastsndMs: 3532 });
    expect(retx.timer).toMatchObject({ kind: 'on', text: '22sec', count: 7 });
    const idle = rows.find((r) => r.local === '10.215.0.1:56724')!;
    expect(idle).toMatchObject({ timer: null, unacked: 0, retransCurrent: 0, lastsndMs: 31272, lastrcvMs: 31268, lastackMs: 31268 });
  });
});

describe('bad input', () => {
  it('counts what it cannot read, with the line and why, and keeps the rest', () => {
    const text = [
      'State Recv-Q Send-Q Local Address:Port Peer Address:Port Process',
      'ESTAB 0      0      10.0.0.1:40000 10.0.0.2:https',
      'ESTAB 0      0      10.0.0.1:40002 10.0.0.2:443 timer:(keepalive,119min,0)',
      'ESTAB 0      0      10.0.0.1:40004',
      'ESTAB 0      0      10.0.0.1:40006 10.0.0.2:443 timer:(keepalive,11',
      'some banner',
    ].join('\n');
    const d = parseSocketDump(text, 'x.txt');
    expect(d.snapshots[0]!.rows.map((r) => r.line)).toEqual([3]);
    expect(d.skipped).toBe(4);
    expect(d.skippedSamples.map((s) => [s.line, s.reason])).toEqual([
      [2, "peer address: port 'https' is a service name: run ss with -n"],
      [4, 'a socket line cut short'],
      [5, "timer field 'timer:(keepalive,11' is cut short"],
      [6, 'not a socket line'],
    ]);
  });

  it('skips a date line of another locale with the reason and the fix, and still splits the snapshots', () => {
    const ss = readFileSync(join(FIX, 'ss-tnoi.txt'), 'utf8');
    const d = parseSocketDump(`Mo 7. Dez 09:00:05 CET 2026\n${ss}Mo 7. Dez 09:00:10 CET 2026\n${ss}`, 'de.txt');
    expect(d.snapshots).toHaveLength(2);
    expect(d.snapshots.every((x) => x.micros === null && x.rows.length > 0)).toBe(true);
    expect(d.skipped).toBe(2);
    expect(d.skippedSamples[0]).toMatchObject({ line: 1, reason: 'a date line flowdoc cannot read (another locale?): print it with LC_ALL=C date, or date -Is' });
  });

  it('finds no snapshot in text that is neither ss nor /proc/net/tcp', () => {
    const d = parseSocketDump('{"configs": []}\n', 'config.json');
    expect(d.snapshots).toEqual([]);
    expect(d.skippedSamples[0]).toMatchObject({ line: 1, reason: 'not ss or /proc/net/tcp output (no header line before it)' });
  });
});

describe('verdicts from real snapshots', () => {
  const snaps = () => [dump('ss-tnoi-snapshots.txt')];

  it('tells keepalive off, on at the kernel default, on at 20 s and 30 s, and a retransmitting connection', () => {
    const r = analyzeSockets(snaps(), lb(3600));
    const by = (local: string) => r.connections.find((c) => c.local === local)!;
    expect(by('10.215.0.1:59874').keepalive).toBe('off');
    expect(by('10.215.0.1:59890').keepalive).toBe('on');
    expect(by('10.215.0.1:59890').nextProbeAtIdleSeconds!.min).toBeGreaterThanOrEqual(7140);
    expect(by('10.215.0.1:59890').nextProbeAtIdleSeconds!.max).toBeGreaterThanOrEqual(7200);
    // setKeepAlive(true, 20000): lastack (the answered probe) + the timer's remaining = 20 s.
    expect(by('10.215.0.1:59884').nextProbeAtIdleSeconds!.min).toBeCloseTo(20, 1);
    // setKeepAlive(true, 30000): due in the latest snapshot, so the time comes from an earlier one.
    expect(by('10.215.0.1:56728').nextProbeAtIdleSeconds!.min).toBeCloseTo(30, 0);
    expect(by('10.215.0.1:60182')).toMatchObject({ keepalive: 'unknown', level: 'failing', unacked: 1 });
    const d8080 = r.destinations.find((d) => d.destination === '10.215.0.2:8080')!;
    expect(d8080).toMatchObject({ connections: 3, keepaliveOn: 2, keepaliveOff: 1, kernelDefault: true, vanished: 1 });
    // Against an hour, only the retransmitting connection is flagged.
    expect(r.summary).toMatchObject({ connections: 7, keepaliveOff: 3, failing: 1, willFail: 0, atRisk: 0 });
  });

  it('flags idle connections without keepalive, or with keepalive slower than the stated timeout', () => {
    const r = analyzeSockets(snaps(), lb(20));
    const level = (local: string) => r.connections.find((c) => c.local === local)!.level;
    expect(level('10.215.0.1:59874')).toBe('will-fail'); // off, idle 31 s ≥ 20 s
    expect(level('10.215.0.1:59890')).toBe('will-fail'); // kernel default 7200 s
    expect(level('10.215.0.1:56728')).toBe('will-fail'); // 30 s keepalive > 20 s
    expect(level('10.215.0.1:59884')).toBe('at-risk'); // 20 s keepalive, idle 10.2 s past half of 20 s
    expect(analyzeSockets(snaps(), lb(25)).connections.find((c) => c.local === '10.215.0.1:59884')!.level).toBeNull(); // probe at 20 s < 25 s
  });

  it('uses a per-destination --lb-timeout before the one for every destination', () => {
    const r = analyzeSockets(snaps(), lb(3600, [['10.215.0.2:8081', 20]]));
    expect(r.destinations.find((d) => d.destination === '10.215.0.2:8081')).toMatchObject({ timeoutSeconds: 20, basis: 'lb-timeout', willFail: 2 });
    expect(r.destinations.find((d) => d.destination === '10.215.0.2:8080')).toMatchObject({ timeoutSeconds: 3600, willFail: 0 });
  });

  it('without --lb-timeout judges against the shortest known default and names it', () => {
    const r = analyzeSockets(snaps());
    expect(r.destinations.every((d) => d.basis === 'known-default' && d.timeoutSeconds === 60)).toBe(true);
    expect(r.knownTimeouts.length).toBeGreaterThan(5);
    // Idle 31 s: past no known default yet.
    expect(r.summary.atRisk).toBe(0);
  });

  it('reports the connection that vanished between the second and third snapshot, with its idle when last seen', () => {
    const r = analyzeSockets(snaps(), lb(20));
    expect(r.vanished).toHaveLength(1);
    expect(r.vanished[0]).toMatchObject({ local: '10.215.0.1:59876', peer: '10.215.0.2:8080', keepalive: 'off', lastSeenSnapshot: 1, lastSeen: '2026-12-06T19:45:55.000Z', goneBy: '2026-12-06T19:46:01.000Z', afterLongIdle: true });
    expect(r.vanished[0]!.idleSecondsWhenLastSeen).toBeCloseTo(11.1, 1);
    expect(analyzeSockets(snaps(), lb(60)).vanished[0]!.afterLongIdle).toBe(false);
  });

  it('takes the lower port as the server: a server-side snapshot is judged per local endpoint', () => {
    const r = analyzeSockets([dump('ss-tnoi-server.txt')], lb(20));
    expect(r.destinations.map((d) => [d.destination, d.role]).sort()).toEqual([['10.215.0.2:8080', 'server'], ['10.215.0.2:8081', 'server'], ['10.215.0.2:8082', 'server'], ['[fd00:215::2]:8080', 'server']]);
    expect(r.notes[0]).toMatch(/no timer on any socket/);
  });

  it('reports keepalive but no idle from /proc/net/tcp', () => {
    const r = analyzeSockets([dump('proc-net-tcp.txt'), dump('proc-net-tcp6.txt')], lb(20));
    expect(r.summary).toMatchObject({ connections: 7, keepaliveOff: 3, failing: 1 });
    expect(r.connections.every((c) => c.idleSeconds === null)).toBe(true);
    expect(r.notes.join(' ')).toMatch(/No idle times/);
  });
});

import { describe, expect, it } from 'vitest';
import { analyzeBytes } from '../../test/support/analyze.js';
import { computeRemedies } from '../report/remedies/index.js';
import { CaptureScript, type TcpConversation } from '../writer/index.js';
import { atRiskKeepalive, atRiskText, formatEnds, incidentSummary, probeImplies, retryText } from '../report/index.js';

const START = '2024-05-01T10:00:00Z';
const GET = (path: string, id: string) => `GET ${path} HTTP/1.1\r\nHost: orders.internal\r\nx-request-id: ${id}\r\n\r\n`;
const POST = (path: string, id: string) => `POST ${path} HTTP/1.1\r\nHost: orders.internal\r\nx-request-id: ${id}\r\nContent-Length: 2\r\n\r\n{}`;
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** A pooled connection that served one request (server 3 hops away, TTL 61). */
function pooled(cap: CaptureScript, client = '10.0.0.1:40000', server = '10.9.9.9:80'): { c: TcpConversation; lastBeforeIdle: number } {
  const c = cap.tcp({ client, server, serverTtl: 61 });
  c.handshake();
  c.clientSends(GET('/first', 'r1'));
  const frames = c.serverSends(OK);
  return { c, lastBeforeIdle: frames[frames.length - 1]! };
}

describe('keepalive that is on but too slow', () => {
  it('a probe after 7200 s meets a middlebox RST: keepalive-too-slow, with the probe, the RST origin and the Linux default named', async () => {
    const cap = new CaptureScript({ start: START });
    const { c, lastBeforeIdle } = pooled(cap);
    cap.idle(7200);
    const [probe] = c.keepalive('client', { ack: false });
    const [rst] = c.rst('server', { ttl: 63 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toHaveLength(1);
    const i = r.incidents[0]!;
    expect(i).toMatchObject({
      kind: 'keepalive-too-slow',
      frames: { lastBeforeIdle, request: null, rst, probe },
      probe: { frame: probe, side: 'client', from: '10.0.0.1:40000', probes: 1, answered: 0 },
      rst: { origin: 'middlebox', ttl: 63, serverTtl: 61 },
      retry: { safe: true },
    });
    expect(i.probe!.idleBeforeFirstProbeSeconds).toBeCloseTo(7200, 3);
    expect(probeImplies(i.probe!)).toMatch(/7200 s.*Linux default tcp_keepalive_time/);
    expect(incidentSummary(i)).toMatch(/keepalive .* came too late/);
    expect(i.verdict.reason).toMatch(/keepalive is on but too slow/);
    const d = r.destinations[0]!;
    expect(d.keepalive.verdict).toBe('too-slow');
    expect(d.keepalive.text).toMatch(/^too slow: keepalive is on but its first probe comes after 7200 s idle/);
    // The probe's packet gap is the failed idle of the bracket.
    expect(d.idleTimeout).toMatchObject({ failedSeconds: 7200, failedFrame: probe, measure: 'packet-gap' });
    expect(d.idleTimeout!.text).toMatch(/^idle timeout at most 7200 s \(no longer idle gap survived in this capture\)/);
  });

  it('a request the application sends later on the dead connection belongs to the same incident', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(400);
    c.keepalive('client', { ack: false });
    const [rst] = c.rst('server', { ttl: 63 });
    cap.idle(2);
    const [later] = c.clientSends(GET('/orders/8', 'late'), { ack: false });
    c.rst('server', { ttl: 63 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents.map((i) => i.kind)).toEqual(['keepalive-too-slow']);
    expect(r.incidents[0]!.frames).toMatchObject({ rst, laterRequest: later });
  });

  it('probes the peer never answers, until the client gives up with an RST', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(600);
    const [first] = c.keepalive('client', { ack: false });
    let last = first!;
    for (let n = 0; n < 8; n++) {
      cap.idle(75);
      [last] = c.keepalive('client', { ack: false }) as [number];
    }
    cap.idle(75);
    const [rst] = c.rst('client');
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toHaveLength(1);
    expect(r.incidents[0]).toMatchObject({ kind: 'keepalive-too-slow', gaveUp: 'keepalive-timeout', frames: { probe: last, rst }, probe: { probes: 9, answered: 0 } });
    expect(r.incidents[0]!.probe!.intervalSeconds).toBeCloseTo(75, 3);
    expect(probeImplies(r.incidents[0]!.probe!)).toMatch(/about 600 s, interval about 75 s/);
    expect(incidentSummary(r.incidents[0]!)).toMatch(/never answered its 9 probes/);
  });

  it('unanswered probes from the far side that reached a capture next to a silent client prove nothing (nDPI avast.pcap shape)', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(370);
    c.keepalive('server', { ack: false });
    cap.idle(14);
    c.keepalive('server', { ack: false });
    cap.idle(14);
    c.rst('server');
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toEqual([]);
  });

  it('probes from the server side met by an RST from the client side', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(900);
    const [probe] = c.keepalive('server', { ack: false });
    const [rst] = c.rst('client', { ttl: 62 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toHaveLength(1);
    expect(r.incidents[0]).toMatchObject({ kind: 'keepalive-too-slow', probe: { side: 'server', from: '10.9.9.9:80' }, frames: { probe, rst } });
  });

  it('probes answered by the real server: no incident, verdict on, and the answered gaps tighten the bracket', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    for (let n = 0; n < 3; n++) {
      cap.idle(60);
      c.keepalive('client');
    }
    cap.idle(30);
    c.clientSends(GET('/still', 'ok1'));
    c.serverSends(OK);
    // A second connection to the same server, without keepalive, fails after 200 s idle.
    const other = pooled(cap, '10.0.0.1:40001');
    cap.idle(200);
    const [req] = other.c.clientSends(GET('/gone', 'x1'), { ack: false });
    other.c.rst('server', { ttl: 63 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents.map((i) => i.kind)).toEqual(['stale-reuse-rst']);
    const d = r.destinations[0]!;
    expect(d.keepalive).toMatchObject({ verdict: 'on', probesFrom: ['client'], probes: 3, probesAnswered: 3 });
    expect(d.keepalive.probeIdleSeconds).toBeCloseTo(60, 3);
    // The answered probes survived 60 s of silence on the wire: the lower bound, from another connection.
    expect(d.idleTimeout).toMatchObject({ survivedSeconds: 60, failedSeconds: 200, failedFrame: req, consistent: true, survivedTrivial: false });
    expect(d.idleTimeout!.text).toMatch(/^idle timeout between 60\.0 s and 200 s/);
  });
});

describe('a keepalive probe is not a request', () => {
  it("Windows' one-byte probe followed by a server RST is not a reset-in-flight", async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(5);
    c.keepalive('client', { withByte: true, ack: false });
    c.rst('server');
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toEqual([]);
  });
});

describe('--lb-timeout', () => {
  it('agrees with the bracket, or says where the capture contradicts it', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(400);
    c.clientSends(GET('/x', 'r'), { ack: false });
    c.rst('server', { ttl: 63 });
    const bytes = cap.toPcap();
    const ok = await analyzeBytes(bytes, { lbTimeouts: { any: 350, byServer: new Map() } });
    expect(ok.destinations[0]!.idleTimeout!.stated).toMatchObject({ seconds: 350, consistent: true });
    const wrong = await analyzeBytes(bytes, { lbTimeouts: { any: 900, byServer: new Map([['10.9.9.9:80', 3600]]) } });
    expect(wrong.destinations[0]!.idleTimeout!.stated).toMatchObject({ seconds: 3600, consistent: false });
    expect(wrong.warnings.join('\n')).toMatch(/10\.9\.9\.9:80: the stated load-balancer timeout \(3600 s\) contradicts the capture: a connection was forgotten after only 400 s/);
  });
});

describe('connections at risk at the end of the capture', () => {
  it('an open connection idle past the failed idle will fail; one past the survived idle is at risk; a recent one is fine', async () => {
    const cap = new CaptureScript({ start: START });
    const failing = pooled(cap, '10.0.0.1:41000');
    const survivor = pooled(cap, '10.0.0.1:41001');
    cap.idle(100);
    survivor.c.clientSends(GET('/fine', 's1'));
    survivor.c.serverSends(OK);
    cap.idle(200);
    failing.c.clientSends(GET('/gone', 'f1'), { ack: false });
    failing.c.rst('server', { ttl: 63 });
    pooled(cap, '10.0.0.1:41002');
    const midIdle = pooled(cap, '10.0.0.1:41003');
    cap.idle(150);
    midIdle.c.clientSends(GET('/again', 'm1'));
    midIdle.c.serverSends(OK);
    cap.idle(120);
    const recent = pooled(cap, '10.0.0.1:41004');
    void recent;
    const r = await analyzeBytes(cap.toPcap());
    // The bracket: 150 s survived (41003's reuse), 300 s failed (41000).
    expect(r.destinations[0]!.idleTimeout).toMatchObject({ survivedSeconds: 150, failedSeconds: 300.001 });
    // Longest idle first; the reset connection is gone, 41003 (120 s) and 41004 (0 s) are within the survived idle.
    expect(r.atRisk.map((a) => [formatEnds(a.endpoints).client, a.level, a.basis, a.timeoutSeconds])).toEqual([
      ['10.0.0.1:41001', 'will-fail', 'failed-idle', 300.001],
      ['10.0.0.1:41002', 'at-risk', 'survived-idle', 150],
    ]);
    expect(r.atRisk[0]!.idleSeconds).toBeCloseTo(470, 1);
    expect(r.atRisk[1]!.idleSeconds).toBeCloseTo(270, 1);
    expect(atRiskText(r.atRisk[0]!)).toMatch(/it will fail on next use/);
    expect(atRiskText(r.atRisk[1]!)).toMatch(/at risk on next use/);
    expect(r.summary).toMatchObject({ atRisk: 2, willFail: 1 });
    expect(r.destinations[0]!.atRisk).toBe(2);
  });

  it('a stated --lb-timeout alone is enough, and keepalive that comes in time protects a connection', async () => {
    const cap = new CaptureScript({ start: START });
    const idle = pooled(cap, '10.0.0.1:42000');
    const kept = pooled(cap, '10.0.0.1:42001');
    void idle;
    for (let n = 0; n < 5; n++) {
      cap.idle(60);
      kept.c.keepalive('client');
    }
    cap.idle(30);
    const r = await analyzeBytes(cap.toPcap(), { lbTimeouts: { any: 240, byServer: new Map() } });
    expect(r.atRisk.map((a) => [formatEnds(a.endpoints).client, a.level, a.basis, a.timeoutSeconds])).toEqual([['10.0.0.1:42000', 'will-fail', 'lb-timeout', 240]]);
    expect(r.atRisk[0]!.probes).toBeNull();
    expect(atRiskKeepalive(r.atRisk[0]!)).toBe('no keepalive probes seen');
  });

  it('before the first 503: a destination with connections at risk under a stated timeout gets a remedy', async () => {
    const cap = new CaptureScript({ start: START });
    pooled(cap, '10.0.0.1:44000');
    cap.idle(400);
    pooled(cap, '10.0.0.1:44001', '10.8.8.8:80'); // other traffic: the capture goes on 400 s later
    const r = await analyzeBytes(cap.toPcap(), { lbTimeouts: { any: 350, byServer: new Map() } });
    expect(r.incidents).toEqual([]);
    expect(r.atRisk).toHaveLength(1);
    const [rem] = computeRemedies(r).filter((x) => x.destination === '10.9.9.9:80');
    expect(rem).toMatchObject({ destination: '10.9.9.9:80', incidents: 0, problems: ['idle-at-risk'] });
    expect(rem!.keepalive!.idleSeconds).toBeLessThan(350);
    expect(rem!.headline).toMatch(/1 connection is idle past the 350 s load-balancer timeout and will fail on next use/);
    expect(rem!.snippets.map((x) => x.title)).toContain('Istio DestinationRule (client sidecar → destination)');
  });
});

describe('retry safety', () => {
  it('a POST the server acknowledged before the RST is not safe to retry; an unacknowledged one is', async () => {
    const cap = new CaptureScript({ start: START });
    const a = pooled(cap, '10.0.0.1:43000');
    const b = pooled(cap, '10.0.0.1:43001');
    cap.idle(500);
    const ackFrame = a.c.clientSends(POST('/pay', 'p1')).at(-1)!;
    a.c.rst('server', { ttl: 61 });
    b.c.clientSends(POST('/pay', 'p2'), { ack: false });
    b.c.rst('server', { ttl: 63 });
    const r = await analyzeBytes(cap.toPcap());
    const [acked, dropped] = r.incidents;
    expect(acked!.retry).toMatchObject({ requestAcked: true, ackFrame, method: 'POST', idempotent: false, safe: false });
    expect(retryText(acked!)).toMatch(/a blind retry of a POST could apply it twice/);
    expect(dropped!.retry).toMatchObject({ requestAcked: false, method: 'POST', safe: true });
  });
});

describe('application-level keepalive', () => {
  const REDIS_PING = '*1\r\n$4\r\nPING\r\n';
  const H2_PING = Uint8Array.of(0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8);
  const H2_PING_ACK = Uint8Array.of(0, 0, 8, 6, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8);

  it('Redis PING every 30 s keeps a connection warm: verdict app-level, not off', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:50000', server: '10.9.9.9:6379', serverTtl: 61 });
    c.handshake();
    for (let n = 0; n < 5; n++) {
      cap.idle(30);
      c.clientSends(REDIS_PING);
      c.serverSends('+PONG\r\n');
    }
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toEqual([]);
    const k = r.destinations[0]!.keepalive;
    expect(k.verdict).toBe('app-level');
    expect(k.appLevel).toMatchObject({ kind: 'Redis PING', connections: 1 });
    expect(k.appLevel!.intervalSeconds).toBeCloseTo(30, 1);
    expect(k.text).toMatch(/^app-level \(Redis PING every 30\.0 s on 1 connection\)/);
  });

  it('HTTP/2 PING frames are recognised; pings slower than the stated timeout are too slow', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:50001', server: '10.9.9.9:8443', serverTtl: 61 });
    c.handshake();
    for (let n = 0; n < 4; n++) {
      cap.idle(400);
      c.clientSends(H2_PING);
      c.serverSends(H2_PING_ACK);
    }
    const r = await analyzeBytes(cap.toPcap(), { lbTimeouts: { any: 350, byServer: new Map() } });
    const k = r.destinations[0]!.keepalive;
    expect(k.appLevel).toMatchObject({ kind: 'HTTP/2 PING' });
    expect(k.verdict).toBe('too-slow');
    expect(k.text).toMatch(/^too slow: application pings \(HTTP\/2 PING\) every 400 s, not before the stated load-balancer timeout 350 s/);
  });

  it('ordinary requests at irregular times are not pings', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:50002', server: '10.9.9.9:80', serverTtl: 61 });
    c.handshake();
    for (const wait of [12, 40, 15, 90]) {
      cap.idle(wait);
      c.clientSends(GET('/x', `r${wait}`));
      c.serverSends(OK);
    }
    const r = await analyzeBytes(cap.toPcap());
    expect(r.destinations[0]!.keepalive).toMatchObject({ verdict: 'off', appLevel: null });
  });
});

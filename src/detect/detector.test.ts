import { describe, expect, it } from 'vitest';
import { analyzeBytes } from '../../test/support/analyze.js';
import { rstReason } from '../report/index.js';
import { CaptureScript, type TcpConversation } from '../writer/index.js';
import { connectionFilter, displayFilter, jsonIncident } from '../report/index.js';

const START = '2024-05-01T10:00:00Z';
const GET = (path: string, id: string) => `GET ${path} HTTP/1.1\r\nHost: orders.internal\r\nx-request-id: ${id}\r\n\r\n`;
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** A pooled connection that served one request, then idles `idle` seconds. */
function pooled(cap: CaptureScript, opts: { client?: string; server?: string; serverTtl?: number } = {}): { c: TcpConversation; lastBeforeIdle: number } {
  const c = cap.tcp({ client: opts.client ?? '10.0.0.1:40000', server: opts.server ?? '10.9.9.9:80', serverTtl: opts.serverTtl ?? 61 });
  c.handshake();
  c.clientSends(GET('/first', 'r1'));
  const frames = c.serverSends(OK);
  return { c, lastBeforeIdle: frames[frames.length - 1]! };
}

describe('incident rules', () => {
  it('finds stale-reuse-rst: a request after 900 s idle reset by a middlebox (higher TTL than the server)', async () => {
    const cap = new CaptureScript({ start: START });
    const { c, lastBeforeIdle } = pooled(cap);
    cap.idle(900);
    const [req] = c.clientSends(GET('/orders/7', 'req-42'), { ack: false });
    const [rst] = c.rst('server', { ttl: 63 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toHaveLength(1);
    const i = r.incidents[0]!;
    expect(i).toMatchObject({
      kind: 'stale-reuse-rst', endpoints: { client: { host: '10.0.0.1', port: 40000 }, server: { host: '10.9.9.9', port: 80 }, ipVersion: 4 },
      frames: { lastBeforeIdle, request: req, rst },
      keepaliveProbes: { client: 0, server: 0 },
      request: { protocol: 'http', method: 'GET', path: '/orders/7', requestId: 'req-42', host: 'orders.internal' },
      rst: { frame: rst, from: '10.9.9.9:80', ttl: 63, serverTtl: 61, origin: 'middlebox', rstHops: 1, serverHops: 3 },
    });
    expect(i.idleSeconds).toBeCloseTo(900, 3);
    expect(displayFilter(i)).toBe(`ip.addr == 10.0.0.1 && ip.addr == 10.9.9.9 && tcp.port == 40000 && tcp.port == 80 && frame.number >= ${lastBeforeIdle} && frame.number <= ${rst}`);
    // The same evidence as data: endpoints, exact microseconds; the report's filter without its frames.
    expect(i.endpoints).toEqual({ client: { host: '10.0.0.1', port: 40000 }, server: { host: '10.9.9.9', port: 80 }, ipVersion: 4 });
    expect(connectionFilter(i.endpoints)).toBe('ip.addr == 10.0.0.1 && ip.addr == 10.9.9.9 && tcp.port == 40000 && tcp.port == 80');
    expect(Number.isInteger(i.micros.request)).toBe(true);
    expect(i.micros.request! - i.micros.lastBeforeIdle!).toBe(Math.round(i.idleSeconds! * 1e6));
    for (const k of ['lastBeforeIdle', 'request', 'rst'] as const) {
      expect(new Date(i.micros[k]! / 1000).toISOString().slice(0, 23)).toBe(jsonIncident(i).times[k]!.slice(0, 23));
    }
    expect(i.verdict.culprit).toBe('middlebox');
    expect(r.summary.incidentsByKind).toEqual({ 'stale-reuse-rst': 1 });
    expect(r.destinations[0]!.keepalive.text).toMatch(/^off: no keepalive probes on 1 connection with idle gaps up to 900 s/);
  });

  it('says the server sent the RST when its TTL matches the server\'s', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(400);
    c.clientSends(GET('/x', 'r2'), { ack: false });
    c.rst('server', { ttl: 61 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents[0]!.rst).toMatchObject({ origin: 'server', ttl: 61, serverTtl: 61 });
    expect(r.incidents[0]!.verdict.culprit).toBe('server');
  });

  it('tells a different network stack by its initial TTL (255 vs 64)', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap, { serverTtl: 60 });
    cap.idle(400);
    c.clientSends(GET('/x', 'r3'), { ack: false });
    c.rst('server', { ttl: 250 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents[0]!.rst).toMatchObject({ origin: 'middlebox', rstHops: 5, serverHops: 4 });
    expect(rstReason(r.incidents[0]!.rst!)).toMatch(/different network stack/);
  });

  it('finds stale-reuse-timeout: the request after idle is retransmitted with no answer until the client resets', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(700);
    const [req] = c.clientSends(GET('/pay', 'r4'), { ack: false });
    let last = 0;
    for (const wait of [0.2, 0.4, 0.8, 1.6]) {
      cap.idle(wait);
      [last] = c.retransmit('client') as [number];
    }
    cap.idle(3);
    c.rst('client');
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toHaveLength(1);
    expect(r.incidents[0]).toMatchObject({
      kind: 'stale-reuse-timeout', retransmissions: 4, gaveUp: 'client-rst', rst: null,
      frames: { request: req, rst: null, lastRetransmission: last },
    });
    const m = r.incidents[0]!.micros;
    // 0.2 + 0.4 + 0.8 + 1.6 s of backoff, plus the writer's 100 µs between packets
    expect(m.lastRetransmission! - m.request!).toBe(3_000_000 + 4 * 100);
    expect(r.incidents[0]!.verdict.culprit).toBe('middlebox');
  });

  it('finds reuse-after-fin: the server closed the idle connection and the client reused it anyway', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(5);
    const [fin] = c.fin('server'); // Node's 5 s keepAliveTimeout
    cap.idle(0.5);
    const [req] = c.clientSends(GET('/late', 'r5'), { ack: false });
    const [rst] = c.rst('server', { ttl: 61 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toHaveLength(1);
    expect(r.incidents[0]).toMatchObject({
      kind: 'reuse-after-fin', frames: { serverFin: fin, request: req, rst },
      rst: { origin: 'server' }, request: { requestId: 'r5' },
    });
    expect(r.incidents[0]!.verdict.reason).toMatch(/client's idle timeout must be shorter than the server's keep-alive timeout/);
  });

  it('reports only reuse-after-fin when the server closed after a long idle and the client reused it soon after', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(60);
    const [fin] = c.fin('server');
    cap.idle(5);
    c.clientSends(GET('/late', 'r12'), { ack: false });
    c.rst('server', { ttl: 61 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents.map((i) => [i.kind, i.frames.serverFin])).toEqual([['reuse-after-fin', fin]]);
    expect(jsonIncident(r.incidents[0]!).times.serverFin).toMatch(/^2024-05-01T10:01:00\.\d{6}Z$/);
    expect(r.incidents[0]!.serverIdleBeforeFinSeconds).toBeCloseTo(60, 2);
  });

  it('finds reset-in-flight: the server resets during an active exchange, not after idle', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    const [req] = c.clientSends(GET('/busy', 'r6'));
    cap.idle(0.05);
    const [rst] = c.rst('server', { ttl: 61, ack: true });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents.map((i) => [i.kind, i.frames.request, i.frames.rst])).toEqual([['reset-in-flight', req, rst]]);
  });

  describe('negative controls', () => {
    it('keepalive on: probes every 60 s keep a 900 s idle connection alive — no incident', async () => {
      const cap = new CaptureScript({ start: START });
      const { c } = pooled(cap);
      for (let i = 0; i < 15; i++) {
        cap.idle(60);
        c.keepalive('client', { ack: true });
      }
      c.clientSends(GET('/after', 'r7'));
      c.serverSends(OK);
      const r = await analyzeBytes(cap.toPcap());
      expect(r.incidents).toEqual([]);
      expect(r.destinations[0]!.keepalive.connectionsWithProbes).toBe(1);
      expect(r.destinations[0]!.keepalive.probeIdleSeconds).toBeCloseTo(60, 2);
    });

    it('an orderly FIN close is not an incident', async () => {
      const cap = new CaptureScript({ start: START });
      const { c } = pooled(cap);
      cap.idle(900);
      c.fin('client');
      c.fin('server');
      expect((await analyzeBytes(cap.toPcap())).incidents).toEqual([]);
    });

    it('a request after a short idle (below the threshold) answered normally is not an incident', async () => {
      const cap = new CaptureScript({ start: START });
      const { c } = pooled(cap);
      cap.idle(5);
      c.clientSends(GET('/soon', 'r8'));
      c.serverSends(OK);
      expect((await analyzeBytes(cap.toPcap())).incidents).toEqual([]);
    });

    it('an RST after a short idle is reset-in-flight, not a stale reuse', async () => {
      const cap = new CaptureScript({ start: START });
      const { c } = pooled(cap);
      cap.idle(5);
      c.clientSends(GET('/soon', 'r9'), { ack: false });
      c.rst('server', { ttl: 61 });
      const r = await analyzeBytes(cap.toPcap());
      expect(r.incidents.map((i) => i.kind)).toEqual(['reset-in-flight']);
    });

    it('a server that aborts with RST after answering (nothing outstanding) is not an incident', async () => {
      const cap = new CaptureScript({ start: START });
      const { c } = pooled(cap);
      c.rst('server', { ttl: 61, ack: true });
      expect((await analyzeBytes(cap.toPcap())).incidents).toEqual([]);
    });
  });

  it('finds the incident when the handshake was not captured', async () => {
    const cap = new CaptureScript({ start: START });
    const c = cap.tcp({ client: '10.0.0.1:51000', server: '10.9.9.9:443', serverTtl: 61 });
    c.clientSends('x'.repeat(50));
    c.serverSends('y'.repeat(50));
    cap.idle(600);
    c.clientSends('z'.repeat(50), { ack: false });
    c.rst('server', { ttl: 64 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toHaveLength(1);
    expect(r.incidents[0]).toMatchObject({ kind: 'stale-reuse-rst', endpoints: { client: { host: '10.0.0.1', port: 51000 }, server: { host: '10.9.9.9', port: 443 }, ipVersion: 4 }, request: { protocol: 'data' } });
  });

  it('works over IPv6 with hop limits', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap, { client: '[2001:db8::10]:40000', server: '[2001:db8:9::9]:80', serverTtl: 60 });
    cap.idle(360);
    c.clientSends(GET('/v6', 'r10'), { ack: false });
    c.rst('server', { ttl: 64 });
    const r = await analyzeBytes(cap.toPcapng({ linkType: 1 }));
    expect(r.incidents[0]).toMatchObject({ kind: 'stale-reuse-rst', endpoints: { client: { host: '2001:db8::10', port: 40000 }, ipVersion: 6 }, rst: { origin: 'middlebox', ttl: 64, serverTtl: 60 } });
    expect(displayFilter(r.incidents[0]!)).toMatch(/^ipv6\.addr == 2001:db8::10 && ipv6\.addr == 2001:db8:9::9 && /);
    expect(r.incidents[0]!.endpoints).toEqual({ client: { host: '2001:db8::10', port: 40000 }, server: { host: '2001:db8:9::9', port: 80 }, ipVersion: 6 });
  });

  it('reports one incident when the request after idle was retransmitted before the RST', async () => {
    const cap = new CaptureScript({ start: START });
    const { c } = pooled(cap);
    cap.idle(500);
    const [req] = c.clientSends(GET('/retx', 'r11'), { ack: false });
    cap.idle(0.2);
    c.retransmit('client');
    const [rst] = c.rst('server', { ttl: 64 });
    const r = await analyzeBytes(cap.toPcap());
    expect(r.incidents).toHaveLength(1);
    expect(r.incidents[0]).toMatchObject({ kind: 'stale-reuse-rst', frames: { request: req, rst }, retransmissions: 1 });
  });

  it('brackets the idle timeout per destination from survivals and failures, naming known defaults as hints', async () => {
    const cap = new CaptureScript({ start: START });
    const conns = [0, 1, 2, 3].map((n) => pooled(cap, { client: `10.0.0.1:4000${n}` }).c);
    cap.idle(300);
    conns[0]!.clientSends(GET('/ok300', 'a'));
    conns[0]!.serverSends(OK);
    cap.idle(40); // conn 1 idle 340 s: still alive
    conns[1]!.clientSends(GET('/ok340', 'b'));
    conns[1]!.serverSends(OK);
    cap.idle(20); // conn 2 idle 360 s: reset
    conns[2]!.clientSends(GET('/dead360', 'c'), { ack: false });
    conns[2]!.rst('server', { ttl: 64 });
    cap.idle(100); // conn 3 idle 460 s: reset
    conns[3]!.clientSends(GET('/dead460', 'd'), { ack: false });
    conns[3]!.rst('server', { ttl: 64 });
    const r = await analyzeBytes(cap.toPcap());
    const b = r.destinations[0]!.idleTimeout!;
    expect(b.survivedSeconds).toBeGreaterThan(339);
    expect(b.survivedSeconds).toBeLessThan(341);
    expect(b.failedSeconds).toBeGreaterThan(359);
    expect(b.failedSeconds).toBeLessThan(361);
    expect(b.consistent).toBe(true);
    // Every known default in (340, 360]: AWS NLB/NAT 350, Tencent target groups 350, OCI NLB 360.
    expect(b.candidates.map((k) => k.seconds)).toEqual([350, 350, 360]);
    expect(b.text).toMatch(/^idle timeout between 34\d s and 36\d s; known defaults in range: AWS NLB \/ NAT Gateway \/ Network Firewall 350 s/);
  });
});

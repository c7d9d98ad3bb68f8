/**
 * Test captures for the report tests, scripted with the capture writer: one per incident kind
 * (and the variants remedies treat differently), written as pcap files with, where a test wants
 * correlation, Istio 1.9+ access-log files of the client and server sidecars. The analysis runs
 * on them for real (`analyzeCapture`); nothing here builds a result by hand.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeCapture, type AnalysisResult } from '../../analysis/analyze.js';
import { CaptureScript, type TcpConversation } from '../../writer/index.js';

export const START = '2024-05-01T10:00:00Z';
const START_MS = Date.parse(START);

const request = (path: string, host: string, id: string, ua = 'orders-client/2.3') =>
  `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${ua}\r\nx-request-id: ${id}\r\n\r\n`;
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

export interface Scenario {
  readonly name: string;
  readonly pcap: string;
  /** Log files (hop → file) to correlate with, when the scenario has them. */
  readonly logs: readonly { hop: string; file: string }[];
  /** What the script did, in numbers the tests compare with. */
  readonly facts: Readonly<Record<string, number | string>>;
}

const made: string[] = [];

/** Removes every temporary directory this process's ScenarioDirs made (call in afterAll). */
export function removeScenarioDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export class ScenarioDir {
  readonly dir: string;
  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'flowdoc-report-'));
    if (dir === undefined) made.push(this.dir);
    mkdirSync(this.dir, { recursive: true });
  }
  write(name: string, bytes: Uint8Array | string): string {
    const p = join(this.dir, name);
    writeFileSync(p, bytes);
    return p;
  }
}

/** One Istio 1.9+ text access-log line (the default format), values as Envoy writes them. */
export function istioLine(v: {
  startMs: number; method: string; path: string; code: number; flags: string; details: string; bytesSent: number; durationMs: number;
  userAgent: string; requestId: string; authority: string; upstreamHost: string; cluster: string; upstreamLocal: string;
  downstreamLocal: string; downstreamRemote: string;
}): string {
  return `[${new Date(v.startMs).toISOString()}] "${v.method} ${v.path} HTTP/1.1" ${v.code} ${v.flags} ${v.details} - "-" 0 ${v.bytesSent} ${v.durationMs} - "-" "${v.userAgent}" "${v.requestId}" "${v.authority}" "${v.upstreamHost}" ${v.cluster} ${v.upstreamLocal} ${v.downstreamLocal} ${v.downstreamRemote} - default`;
}

function exchange(c: TcpConversation, cap: CaptureScript, path: string, host: string, id: string, ua?: string): { micros: number } {
  const micros = cap.now;
  c.clientSends(request(path, host, id, ua));
  c.serverSends(OK);
  return { micros };
}

/**
 * stale-reuse-rst behind a middlebox: the server is 3 hops away (TTL 61), the forged RST arrives
 * with TTL 64. The connection survives 400 s of idle once, then fails after 900 s; a second
 * connection shows the same. Logs: the client sidecar logged the 503 UC, the server sidecar has
 * only the successful requests.
 */
export function staleRst(d: ScenarioDir, o: { hostile?: boolean; withLogs?: boolean; terminalEscapes?: boolean } = {}): Scenario {
  const cap = new CaptureScript({ start: START });
  const client = '10.10.0.5:41000';
  const server = '10.20.0.9:8080';
  const host = 'orders.shop.svc.cluster.local';
  const ua = o.hostile ? 'evil<script>alert(2)</script>' : undefined;
  // terminalEscapes: a path that would retitle the terminal and clear the screen if printed raw.
  const path = o.terminalEscapes ? '/orders/\x1b]0;owned\x07\x1b[2J' : o.hostile ? '/orders/<script>alert(1)</script>' : '/orders/7';
  const c = cap.tcp({ client, server, clientTtl: 64, serverTtl: 61 });
  c.handshake();
  const r1 = exchange(c, cap, '/orders/1', host, 'req-1', ua);
  cap.idle(400);
  const r2 = exchange(c, cap, '/orders/2', host, 'req-2', ua);
  cap.idle(900);
  const failMicros = cap.now;
  c.clientSends(request(path, host, 'req-3', ua), { ack: false });
  const [rst] = c.rst('server', { ttl: 64 });
  // A second connection, opened after the failure, to the same destination: it works.
  const c2 = cap.tcp({ client: '10.10.0.5:41002', server, clientTtl: 64, serverTtl: 61 });
  c2.handshake();
  exchange(c2, cap, '/orders/3', host, 'req-4', ua);
  c2.fin('client');
  c2.fin('server');
  const pcap = d.write(`${o.hostile ? "it's <script>alert(3)&amp;" : o.terminalEscapes ? 'escapes' : 'stale-rst'}.pcap`, cap.toPcap());
  const logs: { hop: string; file: string }[] = [];
  if (o.withLogs || o.hostile) {
    const base = {
      userAgent: ua ?? 'orders-client/2.3', authority: host, upstreamHost: server, cluster: `outbound|8080||${host}`, upstreamLocal: client,
      downstreamLocal: server, downstreamRemote: '-', method: 'GET', details: 'via_upstream', flags: '-', code: 200, bytesSent: 2, durationMs: 1,
    };
    const clientLines = [
      istioLine({ ...base, startMs: Math.floor(r1.micros / 1000), path: '/orders/1', requestId: 'req-1' }),
      istioLine({ ...base, startMs: Math.floor(r2.micros / 1000), path: '/orders/2', requestId: 'req-2' }),
      istioLine({
        ...base, startMs: Math.floor(failMicros / 1000), path, requestId: 'req-3', code: 503, flags: 'UC',
        details: 'upstream_reset_before_response_started{connection_termination}', bytesSent: 95, durationMs: 2,
      }),
    ];
    const serverBase = { ...base, upstreamHost: '127.0.0.1:8080', cluster: 'inbound|8080||', upstreamLocal: '127.0.0.1:50000', downstreamLocal: server, downstreamRemote: client };
    const serverLines = [
      istioLine({ ...serverBase, startMs: Math.floor(r1.micros / 1000), path: '/orders/1', requestId: 'req-1' }),
      istioLine({ ...serverBase, startMs: Math.floor(r2.micros / 1000), path: '/orders/2', requestId: 'req-2' }),
    ];
    logs.push(
      { hop: 'orders-client-sidecar', file: d.write(`${o.hostile ? 'hostile-' : ''}client.log`, clientLines.join('\n') + '\n') },
      { hop: 'orders-sidecar', file: d.write(`${o.hostile ? 'hostile-' : ''}server.log`, serverLines.join('\n') + '\n') },
    );
  }
  return { name: 'stale-rst', pcap, logs, facts: { survived: 400, failed: 900, rstFrame: rst, port: 8080, host } };
}

/** stale-reuse-timeout: after 900 s idle the request is retransmitted 5 times, unanswered, then the client resets. */
export function staleTimeout(d: ScenarioDir): Scenario {
  const cap = new CaptureScript({ start: START });
  const c = cap.tcp({ client: '10.10.0.5:42000', server: '10.30.0.7:443', serverTtl: 60 });
  c.handshake();
  exchange(c, cap, '/pay', 'payments.example.net', 'p-1');
  cap.idle(900);
  c.clientSends(request('/pay', 'payments.example.net', 'p-2'), { ack: false, delivered: false });
  let rto = 0.2;
  for (let k = 0; k < 5; k++) { cap.idle(rto); c.retransmit('client', { delivered: false }); rto *= 2; }
  cap.idle(3);
  c.rst('client');
  return { name: 'stale-timeout', pcap: d.write('stale-timeout.pcap', cap.toPcap()), logs: [], facts: { failed: 900, retransmissions: 5, port: 443 } };
}

/** reuse-after-fin: the server closes after 5 s idle; 12 s later the client sends on it and the server resets. */
export function reuseAfterFin(d: ScenarioDir): Scenario {
  const cap = new CaptureScript({ start: START });
  const c = cap.tcp({ client: '10.10.0.5:43000', server: '10.40.0.3:3000', serverTtl: 62 });
  c.handshake();
  exchange(c, cap, '/users/1', 'users.app.svc.cluster.local', 'u-1');
  cap.idle(5);
  const [fin] = c.fin('server');
  cap.idle(12);
  const [req] = c.clientSends(request('/users/2', 'users.app.svc.cluster.local', 'u-2'), { ack: false });
  const [rst] = c.rst('server');
  return { name: 'reuse-after-fin', pcap: d.write('reuse-after-fin.pcap', cap.toPcap()), logs: [], facts: { serverIdle: 5, reusedAfter: 12, fin, req, rst, port: 3000 } };
}

/** reset-in-flight: the server resets 2 s after a request, with its own TTL, no idle before. */
export function resetInFlight(d: ScenarioDir): Scenario {
  const cap = new CaptureScript({ start: START });
  const c = cap.tcp({ client: '10.10.0.5:44000', server: '10.50.0.2:9000', serverTtl: 63 });
  c.handshake();
  exchange(c, cap, '/a', 'crashy.app.svc.cluster.local', 'c-1');
  c.clientSends(request('/upload', 'crashy.app.svc.cluster.local', 'c-2'));
  cap.idle(2);
  const [rst] = c.rst('server');
  return { name: 'reset-in-flight', pcap: d.write('reset-in-flight.pcap', cap.toPcap()), logs: [], facts: { rst, port: 9000 } };
}

/** An L7 box: the client sends keepalive probes every 45 s (answered), yet after 400 s without payload the request is reset. */
export function probesIgnored(d: ScenarioDir): Scenario {
  const cap = new CaptureScript({ start: START });
  const c = cap.tcp({ client: '10.10.0.5:45000', server: '10.60.0.4:80', serverTtl: 60 });
  c.handshake();
  exchange(c, cap, '/feed', 'feed.example.org', 'f-1');
  for (let k = 0; k < 8; k++) { cap.idle(45); c.keepalive('client'); }
  cap.idle(40);
  c.clientSends(request('/feed', 'feed.example.org', 'f-2'), { ack: false });
  c.rst('server', { ttl: 64 });
  return { name: 'probes-ignored', pcap: d.write('probes-ignored.pcap', cap.toPcap()), logs: [], facts: { dataIdle: 400, port: 80 } };
}

/** A non-HTTP protocol to a bare IP over IPv6 (no name anywhere): the ServiceEntry gets a made-up host and the address. */
export function rawIpv6(d: ScenarioDir): Scenario {
  const cap = new CaptureScript({ start: START });
  const c = cap.tcp({ client: '[2001:db8:1::5]:46000', server: '[2001:db8:9::9]:5432', clientTtl: 64, serverTtl: 58 });
  c.handshake();
  c.clientSends('Q select 1;\n');
  c.serverSends('T row\n');
  cap.idle(1800);
  c.clientSends('Q select 2;\n', { ack: false });
  c.rst('server', { ttl: 64 });
  return { name: 'raw-ipv6', pcap: d.write('raw-ipv6.pcap', cap.toPcap()), logs: [], facts: { failed: 1800, port: 5432 } };
}

/** Nothing wrong: keepalive probes every 60 s through 300 s of idle, and the next request is answered. */
export function healthy(d: ScenarioDir): Scenario {
  const cap = new CaptureScript({ start: START });
  const c = cap.tcp({ client: '10.10.0.5:47000', server: '10.20.0.9:8080', serverTtl: 61 });
  c.handshake();
  exchange(c, cap, '/orders/1', 'orders.shop.svc.cluster.local', 'h-1');
  for (let k = 0; k < 5; k++) { cap.idle(60); c.keepalive('client'); }
  cap.idle(10);
  exchange(c, cap, '/orders/2', 'orders.shop.svc.cluster.local', 'h-2');
  return { name: 'healthy', pcap: d.write('healthy.pcap', cap.toPcap()), logs: [], facts: {} };
}

/** Every kind at once, to one capture: what the example documents and the conformance tests render. */
export function allKinds(d: ScenarioDir): Scenario {
  const cap = new CaptureScript({ start: START });
  const a = cap.tcp({ client: '10.10.0.5:41000', server: '10.20.0.9:8080', serverTtl: 61 });
  const b = cap.tcp({ client: '10.10.0.5:42000', server: '10.30.0.7:443', serverTtl: 60 });
  const f = cap.tcp({ client: '10.10.0.5:43000', server: '10.40.0.3:3000', serverTtl: 62 });
  const x = cap.tcp({ client: '10.10.0.5:44000', server: '10.50.0.2:9000', serverTtl: 63 });
  for (const c of [a, b, f, x]) c.handshake();
  exchange(a, cap, '/orders/1', 'orders.shop.svc.cluster.local', 'o-1');
  exchange(b, cap, '/pay', 'payments.example.net', 'p-1');
  exchange(f, cap, '/users/1', 'users.app.svc.cluster.local', 'u-1');
  exchange(x, cap, '/a', 'crashy.app.svc.cluster.local', 'c-1');
  x.clientSends(request('/upload', 'crashy.app.svc.cluster.local', 'c-2'));
  cap.idle(2);
  x.rst('server');
  cap.idle(3);
  f.fin('server');
  cap.idle(12);
  f.clientSends(request('/users/2', 'users.app.svc.cluster.local', 'u-2'), { ack: false });
  f.rst('server');
  cap.idle(900);
  a.clientSends(request('/orders/2', 'orders.shop.svc.cluster.local', 'o-2'), { ack: false });
  a.rst('server', { ttl: 64 });
  b.clientSends(request('/pay', 'payments.example.net', 'p-2'), { ack: false, delivered: false });
  let rto = 0.2;
  for (let k = 0; k < 4; k++) { cap.idle(rto); b.retransmit('client', { delivered: false }); rto *= 2; }
  b.rst('client');
  return { name: 'all-kinds', pcap: d.write('all-kinds.pcap', cap.toPcap()), logs: [], facts: {} };
}

/**
 * One service name behind three addresses (the pods or VIPs of one host), each with a stale reuse
 * after its own idle: 600 s survived then 900 s failed, 300 s then 700 s, 500 s then 800 s. One
 * DestinationRule for the host must take the strictest numbers (the second's).
 */
export function oneHostManyAddresses(d: ScenarioDir): Scenario {
  const cap = new CaptureScript({ start: START });
  const host = 'catalog.example.com';
  const plan: [string, number, number][] = [['10.60.0.1:8080', 600, 900], ['10.60.0.2:8080', 300, 700], ['10.60.0.3:8443', 500, 800]];
  plan.forEach(([server, survived, failed], k) => {
    const c = cap.tcp({ client: `10.10.0.5:${45000 + k}`, server, clientTtl: 64, serverTtl: 61 });
    c.handshake();
    exchange(c, cap, '/items/1', host, `c-${k}-1`);
    cap.idle(survived);
    exchange(c, cap, '/items/2', host, `c-${k}-2`);
    cap.idle(failed);
    c.clientSends(request('/items/3', host, `c-${k}-3`), { ack: false });
    c.rst('server', { ttl: 64 });
  });
  return { name: 'one-host', pcap: d.write('one-host.pcap', cap.toPcap()), logs: [], facts: { host } };
}

/** Runs the real analysis on a scenario (with its logs when asked). */
export function analyse(s: Scenario, o: { withLogs?: boolean; idleThresholdSeconds?: number } = {}): Promise<AnalysisResult> {
  return analyzeCapture(s.pcap, {
    ...(o.idleThresholdSeconds !== undefined && { idleThresholdSeconds: o.idleThresholdSeconds }),
    ...(o.withLogs !== false && s.logs.length ? { logs: s.logs } : {}),
  });
}

export { START_MS };

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeBytes } from '../../test/support/analyze.js';
import { parseLogText } from '../logs/index.js';
import { CaptureScript } from '../writer/index.js';
import { correlate } from './correlate.js';

const START = '2024-05-01T10:00:00Z';

/** One line in Istio's 1.9+ default text format, as a sidecar writes it. */
function istioLine(o: {
  start: string; method?: string; path: string; code: number; flags?: string; details: string; sent: number; duration: number;
  requestId: string; upstreamHost: string; upstreamLocal: string; downstreamLocal?: string; downstreamRemote?: string; cluster?: string;
}): string {
  return `[${o.start}] "${o.method ?? 'GET'} ${o.path} HTTP/1.1" ${o.code} ${o.flags ?? '-'} ${o.details} - "-" 0 ${o.sent} ${o.duration} - "-" "app/1.0" "${o.requestId}" "orders.internal" "${o.upstreamHost}" ${o.cluster ?? 'outbound|80||orders.svc.cluster.local'} ${o.upstreamLocal} ${o.downstreamLocal ?? '-'} ${o.downstreamRemote ?? '-'} - default`;
}

function files(lines: Record<string, string[]>): { hop: string; file: string }[] {
  const dir = mkdtempSync(join(tmpdir(), 'flowdoc-logs-'));
  return Object.entries(lines).map(([hop, ls]) => {
    const file = join(dir, `${hop}.log`);
    writeFileSync(file, ls.join('\n') + '\n');
    return { hop, file };
  });
}

/** podA's sidecar (10.0.0.1) → LB VIP 10.9.9.9:80 → gateway-b; the LB forgets the idle connection. */
function staleIncident(): { bytes: Uint8Array; requestMs: number } {
  const cap = new CaptureScript({ start: START });
  const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.9.9.9:80', serverTtl: 62 });
  c.handshake();
  c.clientSends('GET /first HTTP/1.1\r\nHost: orders.internal\r\nx-request-id: r-1\r\n\r\n');
  c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  cap.at('2024-05-01T10:15:12.500Z');
  c.clientSends('GET /orders/7 HTTP/1.1\r\nHost: orders.internal\r\nx-request-id: r-2\r\n\r\n', { ack: false });
  c.rst('server', { ttl: 64 });
  return { bytes: cap.toPcap(), requestMs: Date.parse('2024-05-01T10:15:12.500Z') };
}

describe('correlation with access logs', () => {
  it('ties the incident to the client sidecar\'s 503 UC line by 4-tuple and request id, finds no gateway line, and blames the LB between them', async () => {
    const { bytes } = staleIncident();
    const logs = files({
      'podA-sidecar': [
        istioLine({ start: '2024-05-01T10:00:00.000Z', path: '/first', code: 200, details: 'via_upstream', sent: 0, duration: 1, requestId: 'r-1', upstreamHost: '10.9.9.9:80', upstreamLocal: '10.0.0.1:40000' }),
        istioLine({ start: '2024-05-01T10:15:12.499Z', path: '/orders/7', code: 503, flags: 'UC', details: 'upstream_reset_before_response_started{connection_termination}', sent: 95, duration: 2, requestId: 'r-2', upstreamHost: '10.9.9.9:80', upstreamLocal: '10.0.0.1:40000' }),
      ],
      'gateway-b': [
        istioLine({ start: '2024-05-01T10:00:00.001Z', path: '/first', code: 200, details: 'via_upstream', sent: 0, duration: 1, requestId: 'r-1', upstreamHost: '10.1.2.3:8080', upstreamLocal: '10.1.0.9:50000', downstreamLocal: '10.1.0.9:80', downstreamRemote: '10.2.0.7:31000', cluster: 'outbound|8080||orders.svc.cluster.local' }),
      ],
    });
    const r = await analyzeBytes(bytes, { logs });
    expect(r.incidents).toHaveLength(1);
    const i = r.incidents[0]!;
    expect(i.logs).toHaveLength(1);
    expect(i.logs[0]).toMatchObject({ hop: 'podA-sidecar', line: 2, key: 'upstream-4-tuple', keys: ['upstream-4-tuple', 'request-id'], offsetMs: 1 });
    expect(i.logs[0]!.meaning).toMatch(/idle-drop signature; 95 bytes sent is Envoy's own local reply for UC/);
    expect(i.hops).toEqual([
      { hop: 'podA-sidecar', sawRequest: true, role: 'client-side', lines: [2] },
      { hop: 'gateway-b', sawRequest: false, role: 'none', lines: [] },
    ]);
    expect(i.verdict).toMatchObject({ culprit: 'middlebox', segment: { after: 'podA-sidecar', before: 'gateway-b' }, confidence: 'high' });
    expect(i.verdict.reason).toMatch(/^the load balancer \/ NAT between podA-sidecar and gateway-b .*reset a connection idle for 912 s; gateway-b never received the request$/);
    expect(r.logs!.hops.map((h) => [h.hop, h.entries, h.rejected])).toEqual([['podA-sidecar', 2, 0], ['gateway-b', 1, 0]]);
  });

  it('does not take an earlier request on the same pooled connection for the failed one', async () => {
    const { bytes } = staleIncident();
    const logs = files({
      client: [
        istioLine({ start: '2024-05-01T10:00:00.000Z', path: '/first', code: 200, details: 'via_upstream', sent: 0, duration: 1, requestId: 'other', upstreamHost: '10.9.9.9:80', upstreamLocal: '10.0.0.1:40000' }),
      ],
    });
    const r = await analyzeBytes(bytes, { logs });
    expect(r.incidents[0]!.logs).toEqual([]);
    expect(r.incidents[0]!.hops[0]!.sawRequest).toBe(false);
  });

  it('chains hops: the gateway line with the same request id, and the next hop by UPSTREAM_LOCAL_ADDRESS = DOWNSTREAM_REMOTE_ADDRESS', async () => {
    const { bytes } = staleIncident();
    const logs = files({
      sidecar: [istioLine({ start: '2024-05-01T10:15:12.499Z', path: '/orders/7', code: 503, flags: 'UC', details: 'upstream_reset_before_response_started{connection_termination}', sent: 95, duration: 2, requestId: 'r-2', upstreamHost: '10.9.9.9:80', upstreamLocal: '10.0.0.1:40000' })],
      gateway: [istioLine({ start: '2024-05-01T10:15:12.400Z', path: '/orders/7', code: 503, details: 'via_upstream', sent: 95, duration: 200, requestId: 'r-2', upstreamHost: '10.0.0.1:8080', upstreamLocal: '10.3.0.1:41000' })],
      edge: [istioLine({ start: '2024-05-01T10:15:12.300Z', path: '/orders/7', code: 503, details: 'via_upstream', sent: 95, duration: 400, requestId: '-', upstreamHost: '10.3.0.1:80', upstreamLocal: '10.4.0.1:42000', downstreamRemote: '10.3.0.1:41000', downstreamLocal: '10.4.0.1:80' })],
    });
    const r = await analyzeBytes(bytes, { logs });
    const byHop = Object.fromEntries(r.incidents[0]!.logs.map((m) => [m.hop, m.key]));
    expect(byHop).toEqual({ sidecar: 'upstream-4-tuple', gateway: 'request-id', edge: 'downstream-4-tuple' });
    expect(r.incidents[0]!.logs.find((m) => m.hop === 'gateway')!.meaning).toMatch(/via_upstream\): the failing hop is further down/);
  });

  it('times the request from the incident\'s µs (an incident carries no ISO text to parse back)', async () => {
    const { bytes } = staleIncident();
    const line = `[2024-05-01T10:15:12.450Z] "GET /orders/7 HTTP/1.1" 503 UC 0 95 60 - "-" "app/1.0" "-" "orders.internal" "-"`;
    const { incidents } = await analyzeBytes(bytes);
    const entries = parseLogText(line + '\n', { hop: 'app' }).entries;
    const r = correlate(incidents, [{ hop: 'app', file: 'app.log', entries }], { skewMs: 1000 });
    expect(r.incidents[0]!.logs.map((m) => [m.hop, m.key, m.offsetMs])).toEqual([['app', 'time', 50]]);
  });

  it('falls back to time, method and path when the log has no addresses or ids', async () => {
    const { bytes } = staleIncident();
    const logs = files({
      app: [`[2024-05-01T10:15:12.450Z] "GET /orders/7 HTTP/1.1" 503 UC 0 95 60 - "-" "app/1.0" "-" "orders.internal" "-"`],
    });
    const r = await analyzeBytes(bytes, { logs });
    expect(r.incidents[0]!.logs.map((m) => [m.hop, m.key, m.offsetMs])).toEqual([['app', 'time', 50]]);
  });

  it('lists signature lines no incident explains, grouped by upstream host', async () => {
    const { bytes } = staleIncident();
    const line = (n: number, host: string) => istioLine({ start: `2024-05-01T09:0${n}:00.000Z`, path: '/x', code: 503, flags: 'UC', details: 'upstream_reset_before_response_started{connection_termination}', sent: 95, duration: 1, requestId: `u-${n}`, upstreamHost: host, upstreamLocal: `10.0.0.5:5000${n}` });
    const logs = files({ client: [line(1, '10.7.7.7:443'), line(2, '10.7.7.7:443'), line(3, '10.8.8.8:80')] });
    const r = await analyzeBytes(bytes, { logs });
    expect(r.logs!.unexplained.map((u) => [u.upstreamHost, u.count])).toEqual([['10.7.7.7:443', 2], ['10.8.8.8:80', 1]]);
  });

  it('still gives a verdict from the packets alone when no logs are given', async () => {
    const { bytes } = staleIncident();
    const r = await analyzeBytes(bytes);
    expect(r.logs).toBeNull();
    expect(r.incidents[0]!.verdict).toMatchObject({ culprit: 'middlebox', confidence: 'medium' });
    expect(r.incidents[0]!.verdict.reason).toMatch(/between the client 10\.0\.0\.1:40000 and the server 10\.9\.9\.9:80 \(2 hops closer than the server, by TTL\)/);
  });
});

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAVE_SHARED, REPO_ROOT, SHARED } from '../../test/corpus/shared.js';
import { parseLogText } from './parse.js';
import { readLogFile } from './read.js';
import { findStaleReuseInLogs } from './reuse.js';

// Real lab logs: captures/<scenario>/client.log (the lab client sidecar, Istio 1.9+ format, which
// carries %UPSTREAM_LOCAL_ADDRESS% and %UPSTREAM_HOST%). truth.json of `busy` brackets the LB's
// 10 s conntrack timeout between 8.801 s (survived) and 11.203 s (failed) from the capture.
const CAPTURES = join(REPO_ROOT, 'captures');
const FIX = join(REPO_ROOT, 'test/fixtures/logs');
const WITH_ID_FORMAT = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME% %UPSTREAM_CONNECTION_ID%';

async function lab(scenario: string) {
  const r = await readLogFile(join(CAPTURES, scenario, 'client.log'), { hop: 'client-sidecar' });
  expect(r.error).toBeNull();
  return findStaleReuseInLogs(r.entries);
}

describe('stale reuse from access logs', () => {
  it('finds the busy scenario\'s eight stale reuses by local address and brackets 10.200.9.9:80 around the lab\'s 10 s timeout, as the capture does', async () => {
    const s = await lab('busy');
    expect(s.keyedByLocalAddress).toBe(34);
    expect(s.withoutConnection).toBe(0);
    expect(s.incidents.map((i) => i.requestId?.slice(-2))).toEqual(['27', '28', '29', '30', '31', '32', '33', '34']);
    expect(s.incidents[0]).toMatchObject({
      kind: 'stale-reuse-log', connection: '10.200.1.2:50156 → 10.200.9.9:80', keyedBy: 'local-address', previousRequests: 1,
      responseCode: 503, flags: ['UC'],
    });
    // The log's idle runs from the previous request's end to this one's start; the capture's (11.203 s) from the last packet.
    expect(s.incidents[0]!.idleSeconds).toBeGreaterThan(10);
    expect(s.incidents[0]!.idleSeconds).toBeLessThan(11.3);
    expect(s.notStale).toEqual([]);
    const vip = s.byUpstreamHost.find((h) => h.upstreamHost === '10.200.9.9:80')!;
    expect(vip).toMatchObject({ upstreamCluster: 'outbound|80||backend.lab.svc.cluster.local', connections: 14, incidents: 7 });
    expect(vip.survivedSeconds!).toBeLessThan(10);
    expect(vip.survivedSeconds!).toBeGreaterThan(8);
    expect(vip.failedSeconds!).toBeGreaterThan(10);
    expect(vip.bracket).toMatchObject({ consistent: true, survivedTrivial: false, measure: 'request-gap', candidates: [] });
    // The capture says 8.801 s and 11.203 s (captures/busy/README.md).
    expect(vip.bracket!.text).toBe('idle timeout between 8.802 s and 11.2 s (from access logs, 10.200.9.9:80)');
    const orders = s.byUpstreamHost.find((h) => h.upstreamHost === '10.200.9.10:80')!;
    expect(orders.incidents).toBe(1);
  });

  it('ties requests by %UPSTREAM_CONNECTION_ID% when the log carries it, with the same findings', async () => {
    const r = await readLogFile(join(FIX, 'busy-upstream-connection-id.log'), { hop: 'client-sidecar', format: WITH_ID_FORMAT });
    expect(r.rejected).toBe(0);
    expect(r.entries[0]!.upstreamConnectionId).toBe('1041');
    const s = findStaleReuseInLogs(r.entries);
    expect(s.keyedByConnectionId).toBe(34);
    expect(s.keyedByLocalAddress).toBe(0);
    expect(s.incidents).toHaveLength(8);
    expect(s.incidents[0]).toMatchObject({ connection: '#1048 → 10.200.9.9:80', keyedBy: 'connection-id', upstreamConnectionId: '1048' });
    const byAddress = await lab('busy');
    expect(s.incidents.map((i) => [i.line, i.idleSeconds])).toEqual(byAddress.incidents.map((i) => [i.line, i.idleSeconds]));
    expect(s.byUpstreamHost.map((h) => h.bracket?.text)).toEqual(byAddress.byUpstreamHost.map((h) => h.bracket?.text));
  });

  it('reports the rst-after-idle reuse after 13 s and starts a new connection after the UC', async () => {
    const s = await lab('rst-after-idle');
    expect(s.incidents).toHaveLength(1);
    expect(s.incidents[0]).toMatchObject({ line: 4, previous: { line: 3 }, previousRequests: 3 });
    expect(s.incidents[0]!.idleSeconds).toBeGreaterThan(12.9);
    expect(s.incidents[0]!.idleSeconds).toBeLessThan(13.1);
    expect(s.connections).toBe(2);
    const h = s.byUpstreamHost[0]!;
    expect(h.bracket!.text).toMatch(/^idle timeout at most 13\.0 s \(from access logs, 10\.200\.9\.9:80\) \(no longer idle gap survived in these access logs\)$/);
  });

  it('keeps the connection that stayed up under keepalive out of the incidents, with its 13 s idle as survived', async () => {
    const s = await lab('keepalive-on');
    expect(s.incidents).toEqual([]);
    expect(s.byUpstreamHost[0]).toMatchObject({ upstreamHost: '10.200.9.9:80', incidents: 0, bracket: null });
    expect(s.byUpstreamHost[0]!.survivedSeconds!).toBeGreaterThan(12.9);
  });

  it('does not call a UC on a busy connection (a request in flight, or just before) or on a connection\'s first request stale reuse', () => {
    const line = (time: string, code: number, flags: string, details: string, dur: number, id: number) =>
      `[2026-01-01T00:${time}Z] "GET /x HTTP/2" ${code} ${flags} ${details} - "-" 0 95 ${dur} - "-" "t" "r-${time}" "svc" "10.0.0.9:80" outbound|80||svc 10.0.0.5:40000 10.0.0.9:80 - - default ${id}`;
    const text = [
      line('00:00.000', 200, '-', 'via_upstream', 5000, 7),
      line('00:01.000', 503, 'UC', 'upstream_reset_before_response_started{connection_termination}', 1, 7), // stream 2 while stream 1 is in flight
      line('00:30.000', 503, 'UC', 'upstream_reset_before_response_started{connection_termination}', 1, 8), // first request seen on #8
      line('01:00.000', 200, '-', 'via_upstream', 10, 9),
      line('01:20.500', 200, '-', 'via_upstream', 10, 9), // survived 20.49 s
      line('01:21.000', 503, 'UC', 'upstream_reset_before_response_started{connection_termination}', 1, 9), // 0.49 s after: busy
      line('02:00.000', 200, '-', 'via_upstream', 10, 10),
      line('02:45.010', 503, 'UC', 'upstream_reset_before_response_started{connection_termination}', 1, 10), // 45 s idle: stale
    ].join('\n');
    const r = parseLogText(text, { file: 'h2.log', hop: 'sidecar', format: WITH_ID_FORMAT });
    expect(r.rejected).toBe(0);
    const s = findStaleReuseInLogs(r.entries);
    expect(s.notStale.map((n) => [n.line, n.reason, n.idleSeconds])).toEqual([[2, 'busy', -4], [3, 'first-request', null], [6, 'busy', 0.49]]);
    expect(s.incidents.map((i) => [i.line, i.idleSeconds])).toEqual([[8, 45]]);
    expect(s.byUpstreamHost[0]).toMatchObject({ survivedSeconds: 20.49, failedSeconds: 45, connections: 4, incidents: 1 });
    expect(s.byUpstreamHost[0]!.bracket!.text).toBe('idle timeout between 20.5 s and 45.0 s (from access logs, 10.0.0.9:80)');
    // A threshold above the 45 s idle makes it busy too.
    expect(findStaleReuseInLogs(r.entries, { idleThresholdSeconds: 60 }).incidents).toEqual([]);
  });

  it.skipIf(!HAVE_SHARED)('finds no reuse in the public Istio 1.9+ samples, whose connections each carry one request', async () => {
    const file = join(SHARED, 'corpus/envoy-logs/istio-text-1.9plus.log');
    if (!existsSync(file)) return;
    const r = await readLogFile(file, {});
    const s = findStaleReuseInLogs(r.entries);
    expect(s.keyedByLocalAddress).toBeGreaterThan(0);
    expect(s.incidents).toEqual([]);
    expect(s.byUpstreamHost).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { LogEntry } from './entry.js';
import { parseLogText } from './parse.js';
import { hasIdleDropSignature, triageLogs } from './triage.js';

function entries(text: string, format?: string): LogEntry[] {
  const r = parseLogText(text, format === undefined ? {} : { format });
  if (r.rejected > 0) throw new Error(JSON.stringify(r.rejectedSamples));
  return r.entries;
}

// Real lines (anchors.md §1.8; corpus/envoy-logs, see SOURCES.md).
const ANCHOR_LINES = [
  // §1.8 #1 Envoy default, UC, 57 bytes sent
  '[2018-07-06T06:11:12.983Z] "POST /api/ HTTP/1.1" 503 UC 16687 57 0 - "-" "Mozilla/5.0 (pc-x86_64-linux-gnu) Siege/4.0.4" "41344284-c914-9db1-a30a-983e74455227" "10.20.10.20:8888" "127.0.0.1:8888"',
  // §1.8 #3 Istio 1.9+, posted without the timestamp
  '"GET /v1/status HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 0 - "10.90.16.220" "Apache-HttpClient/4.5.1 (Java/1.8.0_372)" "3a7cbcc1-af72-47fb-bbac-a7672951f50f" "health.abc.com" "10.80.47.192:8181" outbound|80||health-api.production.svc.cluster.local 10.80.45.233:37132 10.80.45.233:80 10.80.46.220:59375 - -',
  // §1.8 #7 typed JSON
  '{"duration":1441,"response_code_details":"upstream_reset_before_response_started{connection_termination}","response_flags":"UC","protocol":"HTTP/2","user_agent":"curl/7.58.0","route_name":null,"request_id":"d0784d05-2b65-4121-b309-a28fe69c91b0","upstream_service_time":null,"connection_termination_details":null,"upstream_transport_failure_reason":null,"path":"/chang/reproduce503/round1/random300M_1","method":"PUT","response_code":503,"bytes_received":268435456,"bytes_sent":95,"start_time":"2021-12-07T08:37:28.358Z"}',
  // istio-json.log line 1: UF,URX with code 0
  '{"bytes_sent":"0","upstream_cluster":"outbound|7600||keycloak-headless.our_ns.svc.cluster.local","downstream_remote_address":"REDACTED_IP2:45621","authority":"-","path":"-","protocol":"-","upstream_service_time":"-","upstream_local_address":"-","duration":"10002","downstream_local_address":"REDACTED_IP1:7600","upstream_transport_failure_reason":"-","route_name":"-","response_code":"0","user_agent":"-","response_flags":"UF,URX","start_time":"2019-09-17T09:21:42.869Z","method":"-","request_id":"-","upstream_host":"REDACTED_IP1:7600","x_forwarded_for":"-","requested_server_name":"-","bytes_received":"0","istio_policy_status":"-"}',
  // istio-text-1.9plus.log line 6: TCP, 0 NR
  '[2020-10-29T03:23:33.415Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 172.17.0.7:80 172.17.0.6:59800 - -',
  // istio-text-1.9plus.log line 1: 418, not a failure
  '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default',
];

/** envoy-with-details.log lines 1–8 (renuka-fernando/examples envoy/simple README) and their format. */
const DETAILS_LINES = [
  '[2024-07-20T07:05:54.173Z] "GET /gateway-timeout?delayMs=5000 HTTP/1.1" 504 UT response_timeout 0 24 4497 - "-" "curl/8.4.0" "6d67d674-2122-4a2d-b172-0be70c674371" "localhost:8000" "172.27.0.2:8080"',
  '[2024-07-20T07:06:24.729Z] "GET /no-healthy-upstream HTTP/1.1" 503 UH no_healthy_upstream 0 19 0 - "-" "curl/8.4.0" "2f22e5c6-2387-49b8-96c4-7b3a1678dbb0" "localhost:8000" "-"',
  '[2024-07-20T07:09:48.470Z] "GET /upstream-connection-failure HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111} 0 145 0 - "-" "curl/8.4.0" "44898dba-8d8e-48f4-93f7-23e4b4c592c0" "localhost:8000" "172.28.0.2:801"',
  '[2024-07-20T07:23:58.586Z] "GET /upstream-connection-failure/after-response HTTP/1.1" 200 UPE upstream_reset_after_response_started{protocol_error} 0 19 1006 0 "-" "curl/8.4.0" "84ef2354-e85c-4e90-bc6e-bb81d5dc70e8" "localhost:8000" "192.168.5.2:8080"',
  '[2024-07-20T07:32:21.519Z] "GET /upstream-service-overflow?delayMs=5000 HTTP/1.1" 503 UO upstream_reset_before_response_started{overflow} 0 81 0 - "-" "curl/8.4.0" "c414b70a-7c85-4f78-9c35-2ce2b9131aa3" "localhost:8000" "172.31.0.3:8080"',
  '[2024-07-20T07:32:21.516Z] "GET /upstream-service-overflow?delayMs=5000 HTTP/1.1" 200 - via_upstream 0 682 5002 5001 "-" "curl/8.4.0" "dcf9d063-610a-4f11-96db-db890542d64a" "localhost:8000" "172.31.0.3:8080"',
  '[2024-07-20T07:38:15.899Z] "GET /no-upstream-cluster HTTP/1.1" 503 NC cluster_not_found 0 0 0 - "-" "curl/8.4.0" "8a23b89d-1dcd-4f5c-ae55-58e79d74d8ca" "localhost:8000" "-"',
  '[2024-07-20T07:45:34.828Z] "GET /upstream-retry-exceeds?statusCode=500 HTTP/1.1" 500 URX via_upstream 0 680 59 59 "-" "curl/8.4.0" "0df38f52-08eb-4b67-a097-ece7427c7238" "localhost:8000" "192.168.48.2:8080"',
];
const DETAILS_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"';

describe('triageLogs', () => {
  const all = [...ANCHOR_LINES.flatMap((l) => entries(l)), ...entries(DETAILS_LINES.join('\n'), DETAILS_FORMAT)];
  const t = triageLogs(all);

  it('counts every line but summarises only 5xx and 0', () => {
    expect(t.totalLines).toBe(14);
    expect(t.failures).toBe(11);
  });

  it('sorts each breakdown by count, then key', () => {
    expect(t.byResponseCode).toEqual([
      { key: '503', count: 7 }, { key: '0', count: 2 }, { key: '500', count: 1 }, { key: '504', count: 1 },
    ]);
    expect(t.byFlag).toEqual([
      { key: 'UC', count: 3 }, { key: 'UF', count: 2 }, { key: 'URX', count: 2 }, { key: 'NC', count: 1 },
      { key: 'NR', count: 1 }, { key: 'UH', count: 1 }, { key: 'UO', count: 1 }, { key: 'UT', count: 1 },
    ]);
    expect(t.byResponseCodeDetails).toEqual([
      { key: '-', count: 2 },
      { key: 'upstream_reset_before_response_started{connection_termination}', count: 2 },
      { key: 'cluster_not_found', count: 1 },
      { key: 'filter_chain_not_found', count: 1 },
      { key: 'no_healthy_upstream', count: 1 },
      { key: 'response_timeout', count: 1 },
      { key: 'upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111}', count: 1 },
      { key: 'upstream_reset_before_response_started{overflow}', count: 1 },
      { key: 'via_upstream', count: 1 },
    ]);
  });

  it('breaks failures down by upstream host, cluster and UTC hour', () => {
    expect(t.byUpstreamHost).toEqual([
      { key: '-', count: 4 }, { key: '10.80.47.192:8181', count: 1 }, { key: '127.0.0.1:8888', count: 1 },
      { key: '172.27.0.2:8080', count: 1 }, { key: '172.28.0.2:801', count: 1 }, { key: '172.31.0.3:8080', count: 1 },
      { key: '192.168.48.2:8080', count: 1 }, { key: 'REDACTED_IP1:7600', count: 1 },
    ]);
    expect(t.byUpstreamCluster).toEqual([
      { key: '-', count: 9 },
      { key: 'outbound|7600||keycloak-headless.our_ns.svc.cluster.local', count: 1 },
      { key: 'outbound|80||health-api.production.svc.cluster.local', count: 1 },
    ]);
    expect(t.byHour).toEqual([
      { key: '2024-07-20T07:00Z', count: 6 }, { key: '2018-07-06T06:00Z', count: 1 }, { key: '2019-09-17T09:00Z', count: 1 },
      { key: '2020-10-29T03:00Z', count: 1 }, { key: '2021-12-07T08:00Z', count: 1 }, { key: 'unknown', count: 1 },
    ]);
  });

  it('separates the idle-drop signature from connect failures, timeouts, upstream codes and retry limits', () => {
    expect(t.signatures).toEqual({
      idleDrop: 3, idleDropLocalReply: 2, connectFailure: 2, timeout: 1, viaUpstream: 1, retryLimit: 2, other: 4,
    });
  });

  it('recognises the idle-drop signature by its details alone, extra reason text included', () => {
    const [e] = entries('{"response_code":503,"response_code_details":"upstream_reset_before_response_started{connection_termination,extra}"}');
    expect(e !== undefined && hasIdleDropSignature(e)).toBe(true);
  });

  it('returns plain JSON', () => {
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
  });

  it('returns zeros for no entries', () => {
    expect(triageLogs([])).toEqual({
      totalLines: 0, failures: 0, byResponseCode: [], byFlag: [], byResponseCodeDetails: [], byUpstreamHost: [],
      byUpstreamCluster: [], byHour: [],
      signatures: { idleDrop: 0, idleDropLocalReply: 0, connectFailure: 0, timeout: 0, viaUpstream: 0, retryLimit: 0, other: 0 },
    });
  });
});

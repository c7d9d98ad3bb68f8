import { describe, expect, it } from 'vitest';
import { parseLogText } from './parse.js';

// Real lines (anchors.md §1.8 and corpus/envoy-logs/istio-json.log, see SOURCES.md).
/** istio-json.log line 1 — Istio 1.3, string-valued, `UF,URX` with response code "0" (istio/istio#17139). */
const STRING_VALUED =
  '{"bytes_sent":"0","upstream_cluster":"outbound|7600||keycloak-headless.our_ns.svc.cluster.local","downstream_remote_address":"REDACTED_IP2:45621","authority":"-","path":"-","protocol":"-","upstream_service_time":"-","upstream_local_address":"-","duration":"10002","downstream_local_address":"REDACTED_IP1:7600","upstream_transport_failure_reason":"-","route_name":"-","response_code":"0","user_agent":"-","response_flags":"UF,URX","start_time":"2019-09-17T09:21:42.869Z","method":"-","request_id":"-","upstream_host":"REDACTED_IP1:7600","x_forwarded_for":"-","requested_server_name":"-","bytes_received":"0","istio_policy_status":"-"}';
/** istio-json.log line 3 — typed values and nulls (istio/istio#48018). */
const TYPED =
  '{"upstream_host":"10.42.4.107:34021","downstream_remote_address":"10.42.0.84:47918","route_name":null,"duration":66,"upstream_transport_failure_reason":null,"requested_server_name":null,"path":"/sapi/tenant/v3.0/system/brand/categories?brand_category_ids=1006592999063017728&brand_sw=ON&brand_category_rel_catalog_sw=ON&tenant_required=true&catalog_required=true","start_time":"2023-11-23T02:30:43.053Z","method":"GET","x_forwarded_for":null,"bytes_received":0,"downstream_local_address":"10.43.171.192:34021","request_id":"dfdafa8f-10c3-44dc-ad6c-7a49760f499e","protocol":"HTTP/1.1","upstream_service_time":"56","response_code":200,"upstream_cluster":"outbound|34021|release-brand|sapi-tenant-part.sopei-biz.svc.cluster.local","bytes_sent":1819807,"response_code_details":"via_upstream","response_flags":"-","upstream_local_address":"10.42.0.84:52930","authority":"sapi-tenant-part:34021","user_agent":"bff_catalog","connection_termination_details":null}';
/** anchors §1.8 #7 — Istio ingress gateway 503 UC, numbers and nulls. */
const UC_TYPED =
  '{"duration":1441,"response_code_details":"upstream_reset_before_response_started{connection_termination}","response_flags":"UC","protocol":"HTTP/2","user_agent":"curl/7.58.0","route_name":null,"request_id":"d0784d05-2b65-4121-b309-a28fe69c91b0","upstream_service_time":null,"connection_termination_details":null,"upstream_transport_failure_reason":null,"path":"/chang/reproduce503/round1/random300M_1","method":"PUT","response_code":503,"bytes_received":268435456,"bytes_sent":95,"start_time":"2021-12-07T08:37:28.358Z"}';
/** anchors §1.8 #5 — string-valued 503 UC, cut by the poster after `bytes_received` (istio/istio#29928). */
const UC_CUT =
  '{"bytes_sent":"95","upstream_cluster":"outbound|80||surgery-app-server-proxy.surgery-app.svc.cluster.local","downstream_remote_address":"44.225.244.145:21756","authority":"www.example.com","path":"/api/v1/gapServer/5fdb134e1da05a07dd73af0a/polling/giveMeSomethingToDo","protocol":"HTTP/1.1","upstream_service_time":"-","upstream_local_address":"10.203.101.167:44752","duration":"70706","upstream_transport_failure_reason":"-","route_name":"api","downstream_local_address":"10.203.2.45:443","user_agent":"python-requests/2.24.0","response_code":"503","response_flags":"UC","start_time":"2021-01-07T19:38:02.373Z","method":"POST","request_id":"fc6a4ba4-cc5b-916d-87e4-bc6de8736f2a","upstream_host":"10.203.102.216:80","x_forwarded_for":"44.225.244.145","requested_server_name":"www.example.com","bytes_received":';
/** anchors §1.8 #6 — Envoy edge line as redacted by the reporter, with its trailing comma (envoyproxy/envoy#40468). */
const UC_TRAILING_COMMA =
  '{ "bytes_received": 0, "bytes_sent": 1005, "duration": 1001, "response_code": 503, "response_code_details": "upstream_reset_before_response_started{connection_termination}", "response_flags": "UC", }';
/** corpus envoy-json-doc-example.log — Envoy `json_format` docs example (one known key among custom ones). */
const ENVOY_DOC_JSON = '{"protocol": "HTTP/1.1", "duration": "123", "my_custom_header": "value_of_MY_CUSTOM_HEADER"}';

describe('Istio JSON lines', () => {
  it('read string-valued logs with "-" as unset and split flags', () => {
    const r = parseLogText(STRING_VALUED);
    expect(r.format).toBe('json');
    expect(r.entries[0]).toEqual({
      file: '<text>', line: 1, hop: '<text>', format: 'json',
      startMs: 1568712102869, method: null, path: null, protocol: null, responseCode: 0, flags: ['UF', 'URX'],
      responseCodeDetails: null, connectionTerminationDetails: null, upstreamTransportFailureReason: null,
      bytesReceived: 0, bytesSent: 0, durationMs: 10002, upstreamServiceTimeMs: null, xForwardedFor: null,
      userAgent: null, requestId: null, authority: null, upstreamHost: 'REDACTED_IP1:7600',
      upstreamCluster: 'outbound|7600||keycloak-headless.our_ns.svc.cluster.local', upstreamLocalAddress: null, upstreamConnectionId: null,
      downstreamLocalAddress: 'REDACTED_IP1:7600', downstreamRemoteAddress: 'REDACTED_IP2:45621',
      requestedServerName: null, routeName: null, mixerStatus: null,
    });
  });

  it('read typed logs with numbers, null and a numeric string', () => {
    expect(parseLogText(TYPED).entries[0]).toMatchObject({
      startMs: 1700706643053, method: 'GET', responseCode: 200, flags: [], responseCodeDetails: 'via_upstream',
      bytesReceived: 0, bytesSent: 1819807, durationMs: 66, upstreamServiceTimeMs: 56, routeName: null,
      xForwardedFor: null, upstreamLocalAddress: '10.42.0.84:52930', upstreamConnectionId: null, authority: 'sapi-tenant-part:34021',
    });
  });

  it('read the 503 UC ingress line of anchors §1.8 #7', () => {
    expect(parseLogText(UC_TYPED).entries[0]).toMatchObject({
      startMs: 1638866248358, method: 'PUT', protocol: 'HTTP/2', responseCode: 503, flags: ['UC'],
      responseCodeDetails: 'upstream_reset_before_response_started{connection_termination}',
      bytesReceived: 268435456, bytesSent: 95, durationMs: 1441, upstreamServiceTimeMs: null, routeName: null,
    });
  });

  it('read any key order and ignore unknown keys', () => {
    const r = parseLogText(ENVOY_DOC_JSON);
    expect(r.entries[0]).toMatchObject({ protocol: 'HTTP/1.1', durationMs: 123, responseCode: null, flags: [] });
    const a = parseLogText('{"response_code":503,"response_flags":"UC","x":{"y":[1,2]}}').entries[0];
    const b = parseLogText('{"x":{"y":[1,2]},"response_flags":"UC","response_code":503}').entries[0];
    expect(a).toEqual(b);
  });

  it('read "" and values of the wrong type as unset', () => {
    expect(parseLogText('{"response_code":"abc","path":"","bytes_sent":-5,"method":{"a":1},"response_flags":"via_upstream"}').entries[0])
      .toMatchObject({ responseCode: null, path: null, bytesSent: null, method: null, flags: [] });
  });

  it('count cut and malformed posted lines as rejected, with the JSON error', () => {
    const r = parseLogText([UC_TYPED, UC_CUT, UC_TRAILING_COMMA].join('\n'));
    expect(r.entries).toHaveLength(1);
    expect(r.rejected).toBe(2);
    expect(r.rejectedSamples.map((s) => s.line)).toEqual([2, 3]);
    expect(r.rejectedSamples[0]?.reason).toMatch(/^invalid JSON \(/);
    expect(r.rejectedSamples[1]?.reason).toMatch(/^invalid JSON \(/);
  });

  it('reject JSON that is not an access log', () => {
    const r = parseLogText('{"level":"info","msg":"starting"}\n[1,2,3]');
    expect(r.entries).toHaveLength(0);
    expect(r.rejectedSamples.map((s) => s.reason)).toEqual([
      'JSON object has none of the Istio access-log keys',
      'does not match istio-1.23: expected a timestamp for %START_TIME% at column 2',
    ]);
    expect(r.error?.code).toBe('not-an-access-log');
  });
});

describe('hostile JSON', () => {
  it('survives a line nested 10,000 deep', () => {
    const deep = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);
    const r = parseLogText(deep);
    expect(r.rejected).toBe(1);
    expect(r.rejectedSamples[0]?.reason).toBe('JSON object has none of the Istio access-log keys');
  });

  it('survives arrays nested 500,000 deep (just under the line limit)', () => {
    const deep = '['.repeat(500_000) + ']'.repeat(500_000);
    const r = parseLogText(`${deep}\n${UC_TYPED}`);
    expect(r.rejected).toBe(1);
    expect(r.entries).toHaveLength(1);
  });

  it('rejects a 10 MB JSON line unread and keeps going', () => {
    const big = '{"path":"' + 'a'.repeat(10 * 1024 * 1024) + '"}';
    const r = parseLogText(`${UC_TYPED}\n${big}\n${UC_TYPED}`);
    expect(r.entries.map((e) => e.line)).toEqual([1, 3]);
    expect(r.rejected).toBe(1);
    expect(r.rejectedSamples[0]?.line).toBe(2);
    expect(r.rejectedSamples[0]?.reason).toBe('line is 10485771 bytes, longer than the 1048576-byte limit');
    expect(r.rejectedSamples[0]?.text).toBe('{"path":"' + 'a'.repeat(191) + '…');
  });
});

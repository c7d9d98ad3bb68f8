import { describe, expect, it } from 'vitest';
import { parseLogText } from './parse.js';
import { peelWrapper } from './wrappers.js';

/**
 * anchors §1.8 #2, istio/istio#13848: the Istio 1.1 503 UC line exactly as posted inside Docker's
 * JSON wrapper. The post elides the wrapper's `time`; the one used here is made up.
 */
const DOCKER_ISTIO_11 =
  '{"log":"[2019-05-29T11:48:56.105Z] \\"GET / HTTP/1.1\\" 503 UC \\"-\\" 0 95 288 - \\"10.234.76.0\\" \\"Go-http-client/1.1\\" \\"0bede68c-a8a3-4d84-a8e9-1b0ea9f21beb\\" \\"npm.deez.re\\" \\"10.234.41.169:4873\\" outbound|4873||verdaccio.coreinfra.svc.dev.kubernetes - 10.234.23.18:80 10.234.76.0:54740 -\\n","stream":"stdout","time":"2019-05-29T11:48:56.106Z"}';
/** istio-text-1.9plus.log line 1 (istio.io access-log task). */
const ISTIO_19 =
  '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default';
/** anchors §1.8 #7 (typed JSON). */
const UC_TYPED =
  '{"duration":1441,"response_code_details":"upstream_reset_before_response_started{connection_termination}","response_flags":"UC","protocol":"HTTP/2","user_agent":"curl/7.58.0","route_name":null,"request_id":"d0784d05-2b65-4121-b309-a28fe69c91b0","upstream_service_time":null,"connection_termination_details":null,"upstream_transport_failure_reason":null,"path":"/chang/reproduce503/round1/random300M_1","method":"PUT","response_code":503,"bytes_received":268435456,"bytes_sent":95,"start_time":"2021-12-07T08:37:28.358Z"}';
/** envoy-with-details.docker-compose.log line 1 (renuka-fernando/examples, `docker compose logs -t`). */
const COMPOSE =
  'envoy-1         | 2024-07-20T07:05:58.670998585Z [2024-07-20T07:05:54.173Z] "GET /gateway-timeout?delayMs=5000 HTTP/1.1" 504 UT response_timeout 0 24 4497 - "-" "curl/8.4.0" "6d67d674-2122-4a2d-b172-0be70c674371" "localhost:8000" "172.27.0.2:8080"';
const COMPOSE_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"';

function docker(log: string): string {
  return JSON.stringify({ log, stream: 'stdout', time: '2020-11-22T20:04:54.223002528Z' });
}

describe('log wrappers', () => {
  it('unwrap the Docker JSON line of istio/istio#13848 and detect Istio 1.1 inside', () => {
    const r = parseLogText(DOCKER_ISTIO_11);
    expect(r.format).toBe('istio-1.1');
    expect(r.entries[0]).toMatchObject({
      line: 1, startMs: 1559130536105, responseCode: 503, flags: ['UC'], bytesSent: 95, durationMs: 288,
      downstreamRemoteAddress: '10.234.76.0:54740', upstreamCluster: 'outbound|4873||verdaccio.coreinfra.svc.dev.kubernetes',
    });
  });

  it('unwrap Docker JSON around a JSON access-log line', () => {
    const r = parseLogText(docker(UC_TYPED + '\n'));
    expect(r.format).toBe('json');
    expect(r.entries[0]).toMatchObject({ responseCode: 503, flags: ['UC'], startMs: 1638866248358 });
  });

  it('strip a kubectl --timestamps prefix (istio/istio#29109 shape)', () => {
    const r = parseLogText(`2020-11-22T20:04:54.223002528Z ${ISTIO_19}`);
    expect(r.entries[0]).toMatchObject({ startMs: 1606339578409, upstreamLocalAddress: '10.44.1.23:37652' });
  });

  it('strip the CRI prefix with its stream and tag, around text and JSON', () => {
    const r = parseLogText(`2020-11-22T20:04:54.223002528Z stdout F ${ISTIO_19}\n2020-11-22T20:04:55.000000000Z stderr F ${UC_TYPED}`);
    expect(r.entries.map((e) => [e.format, e.responseCode])).toEqual([['istio-1.23', 418], ['json', 503]]);
  });

  it('join CRI partial (P) lines with the final (F) one, on the first line’s number', () => {
    const cut = 120;
    const text = [
      `2020-11-22T20:04:54.223002528Z stdout P ${ISTIO_19.slice(0, cut)}`,
      `2020-11-22T20:04:54.223002529Z stdout F ${ISTIO_19.slice(cut)}`,
      `2020-11-22T20:04:54.223002530Z stdout F ${ISTIO_19}`,
    ].join('\n');
    const r = parseLogText(text);
    expect(r.rejected).toBe(0);
    expect(r.entries.map((e) => e.line)).toEqual([1, 3]);
    expect(r.entries[0]).toEqual({ ...r.entries[1], line: 1 });
  });

  it('join Docker partial records (a log without its newline) with the next one', () => {
    const text = [docker(UC_TYPED.slice(0, 100)), docker(UC_TYPED.slice(100) + '\n')].join('\n');
    const r = parseLogText(text);
    expect(r.rejected).toBe(0);
    expect(r.entries).toHaveLength(1);
    expect(r.entries[0]).toMatchObject({ line: 1, responseCode: 503, bytesReceived: 268435456 });
  });

  it('parse a partial record that nothing continued on its own', () => {
    const r = parseLogText(`2020-11-22T20:04:54.223002528Z stdout P ${ISTIO_19}\nnot a log line`);
    expect(r.entries.map((e) => e.line)).toEqual([1]);
    expect(r.rejectedSamples.map((s) => s.line)).toEqual([2]);
  });

  it('strip the docker compose service prefix and its -t timestamp', () => {
    const r = parseLogText(COMPOSE, { format: COMPOSE_FORMAT });
    expect(r.entries[0]).toMatchObject({ startMs: Date.UTC(2024, 6, 20, 7, 5, 54, 173), responseCode: 504, flags: ['UT'], responseCodeDetails: 'response_timeout' });
  });

  it('peel one layer at a time and leave plain lines alone', () => {
    expect(peelWrapper(COMPOSE, null)).toMatchObject({ kind: 'compose', partial: false });
    expect(peelWrapper(ISTIO_19, null)).toBeNull();
    expect(peelWrapper('"GET / HTTP/1.1" 503', null)).toBeNull();
  });

  it('say which wrapper a rejected line was inside', () => {
    const r = parseLogText(docker('not an access log\n'));
    expect(r.rejectedSamples[0]?.reason).toBe('does not match istio-1.23: expected "\\"" at column 1 (inside a docker-json wrapper)');
  });
});

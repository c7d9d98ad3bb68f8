import { describe, expect, it } from 'vitest';
import { BUILTIN_FORMATS, matchFormat, type MatchStats } from './format.js';
import { parseLogText, SAMPLE_LINES } from './parse.js';

// Real lines (corpus/envoy-logs, see SOURCES.md).
/** istio-text-1.9plus.log line 1 — istio.io access-log task, client sidecar. */
const ISTIO_19_A =
  '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default';
/** istio-text-1.9plus.log line 6 — TCP line, `0 NR filter_chain_not_found` (istio/istio#27903). */
const ISTIO_19_NR =
  '[2020-10-29T03:23:33.415Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 172.17.0.7:80 172.17.0.6:59800 - -';
/** istio-text-legacy.log line 1 — Istio 1.0 layout. */
const ISTIO_10 =
  '[2019-01-24T12:17:11.640Z] "GET /headers HTTP/1.1" 200 - 0 599 214 214 "-" "curl/7.60.0" "17fde8f7-fa62-9b39-8999-302324e6def2" "httpbin.org" "35.173.6.94:80" outbound|80||httpbin.org - 35.173.6.94:80 172.30.109.82:55314 -';
/** istio-text-legacy.log line 7 — Istio 1.3 layout, PassthroughCluster (nitishm/engarde#8). */
const ISTIO_13 =
  '[2020-05-19T19:53:38.151Z] "- - -" 0 - "-" "-" 2279 3059 63 - "-" "-" "-" "-" "1.2.3.4:443" PassthroughCluster 10.0.0.93:37018 1.2.3.4:443 10.0.0.93:39849 - -';
/** envoy-default-format.log — Envoy docs example. */
const ENVOY_DEFAULT =
  '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"';
/** istio-text-as-posted-irregular.log line 2 — an Istio 1.8.3 TCP line that matches no layout (envoyproxy/envoy#16322). */
const IRREGULAR_TCP =
  '[2021-05-01T18:38:31.133Z] "- - -" 0 "-" 143 2096 6005 - "-" "-" "-" "-" "10.201.113.8:55443" outbound|55443||winsolst01 192.168.23.12:46192 10.201.113.8:55443 192.168.23.12:44295 - -';
/** istio-json.log line 2 — string-valued JSON. */
const JSON_LINE =
  '{"response_code":"0","user_agent":"-","response_flags":"-","start_time":"2019-09-17T09:17:16.420Z","method":"-","request_id":"-","upstream_host":"REDACTED_IP2:15090","x_forwarded_for":"-","requested_server_name":"-","bytes_received":"5120","istio_policy_status":"-","bytes_sent":"759108","upstream_cluster":"InboundPassthroughClusterIpv4","downstream_remote_address":"10.150.17.125:52366","authority":"-","path":"-","protocol":"-","upstream_service_time":"-","upstream_local_address":"127.0.0.6:60615","duration":"288127","downstream_local_address":"REDACTED_IP2:15090","upstream_transport_failure_reason":"-","route_name":"-"}';

describe('format detection', () => {
  it('picks the format that parses most of the first lines', () => {
    const r = parseLogText([ISTIO_10, ISTIO_13, ISTIO_13].join('\n'));
    expect(r.format).toBe('istio-1.3');
    expect(r.entries.map((e) => e.format)).toEqual(['istio-1.0', 'istio-1.3', 'istio-1.3']);
  });

  it('breaks a tie in favour of the newer format', () => {
    expect(parseLogText([ISTIO_10, ISTIO_13].join('\n')).format).toBe('istio-1.3');
    // istio-1.9 and istio-1.23 lines look the same: the newer name wins.
    expect(parseLogText(ISTIO_19_A).format).toBe('istio-1.23');
  });

  it('detects JSON and Envoy’s default format', () => {
    expect(parseLogText(JSON_LINE).format).toBe('json');
    expect(parseLogText(ENVOY_DEFAULT).format).toBe('envoy-default');
  });

  it('still parses lines of other layouts after the sample, newest format first', () => {
    const lines = [...Array<string>(SAMPLE_LINES + 5).fill(ISTIO_19_A), ISTIO_10, JSON_LINE, ENVOY_DEFAULT];
    const r = parseLogText(lines.join('\n'));
    expect(r.format).toBe('istio-1.23');
    expect(r.rejected).toBe(0);
    expect(r.entries.slice(-3).map((e) => [e.line, e.format])).toEqual([
      [SAMPLE_LINES + 6, 'istio-1.0'], [SAMPLE_LINES + 7, 'json'], [SAMPLE_LINES + 8, 'envoy-default'],
    ]);
  });

  it('uses only the custom format (and self-describing JSON) when one is given', () => {
    const fmt = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';
    const r = parseLogText([ISTIO_19_A, ISTIO_10, JSON_LINE].join('\n'), { format: fmt });
    expect(r.format).toBe('custom');
    expect(r.entries.map((e) => e.format)).toEqual(['custom', 'json']);
    expect(r.rejectedSamples.map((s) => s.line)).toEqual([2]);
  });
});

describe('line handling', () => {
  it('counts garbage lines and quotes the first five with line numbers and reasons', () => {
    const garbage = ['hello', IRREGULAR_TCP, 'x'.repeat(500), '\u0001\u0002binary', 'also bad', 'sixth bad'];
    const r = parseLogText([ISTIO_19_A, ...garbage, ISTIO_19_NR].join('\n'));
    expect(r.lines).toBe(8);
    expect(r.entries.map((e) => e.line)).toEqual([1, 8]);
    expect(r.rejected).toBe(6);
    expect(r.rejectedSamples.map((s) => s.line)).toEqual([2, 3, 4, 5, 6]);
    expect(r.rejectedSamples[1]).toEqual({
      line: 3,
      text: IRREGULAR_TCP,
      reason: 'does not match istio-1.23: %RESPONSE_FLAGS%: expected response flags, got "\\"-\\"" at column 38',
    });
    expect(r.rejectedSamples[2]?.text).toBe('x'.repeat(200) + '…');
    expect(r.rejectedSamples[3]?.text).toBe('\\x01\\x02binary');
    expect(r.error).toBeNull();
  });

  it('reads the TCP NR line with its empty fields as nulls', () => {
    expect(parseLogText(ISTIO_19_NR).entries[0]).toMatchObject({
      method: null, path: null, protocol: null, responseCode: 0, flags: ['NR'], responseCodeDetails: 'filter_chain_not_found',
      upstreamHost: null, upstreamCluster: null, upstreamLocalAddress: null, upstreamConnectionId: null, downstreamLocalAddress: '172.17.0.7:80',
      downstreamRemoteAddress: '172.17.0.6:59800', routeName: null,
    });
  });

  it('handles CRLF, a byte-order mark, blank lines and a missing final newline', () => {
    const r = parseLogText(`\uFEFF${ISTIO_19_A}\r\n\r\n   \r\n${ISTIO_19_NR}`);
    expect(r.lines).toBe(4);
    expect(r.rejected).toBe(0);
    expect(r.entries.map((e) => e.line)).toEqual([1, 4]);
    expect(r.entries[0]?.routeName).toBe('default');
  });

  it('returns nothing and no error for empty text', () => {
    expect(parseLogText('')).toMatchObject({ lines: 0, entries: [], rejected: 0, format: null, error: null });
  });

  it('names the hop and file it was given', () => {
    const r = parseLogText(ISTIO_19_A, { file: 'logs/podA.log', hop: 'podA-sidecar' });
    expect(r.entries[0]).toMatchObject({ file: 'logs/podA.log', hop: 'podA-sidecar' });
    expect(parseLogText(ISTIO_19_A, { file: 'logs/podA.log' }).hop).toBe('podA.log');
  });
});

describe('file-level errors', () => {
  it('reports not-an-access-log for a syslog, naming the file and quoting the first line', () => {
    const syslog = 'Nov 22 20:04:54 host systemd[1]: Started Session 42 of user root.\nNov 22 20:04:55 host sshd[77]: Accepted publickey';
    const r = parseLogText(syslog, { file: 'syslog' });
    expect(r.entries).toHaveLength(0);
    expect(r.rejected).toBe(2);
    expect(r.error?.code).toBe('not-an-access-log');
    expect(r.error?.oneLine()).toBe(
      'syslog: not an access log: none of its 2 non-empty lines matched a known Envoy/Istio access-log format; ' +
        'line 1 looks like text: "Nov 22 20:04:54 host systemd[1]: Started Session 42 of user root."',
    );
  });

  it('says binary data for binary junk', () => {
    const r = parseLogText('\u0000\u0001\u0002\u0003\ufffd\ufffd\u0007PK\u0003\u0004', { file: 'x.zip' });
    expect(r.error?.detail).toContain('line 1 looks like binary data: "\\x00\\x01\\x02\\x03');
  });

  it('suggests a format string for an Envoy log in an unknown layout', () => {
    const line = '[2024-07-20T07:05:54.173Z] "GET /gateway-timeout?delayMs=5000 HTTP/1.1" 504 UT response_timeout 0 24 4497 - "-" "curl/8.4.0" "6d67d674-2122-4a2d-b172-0be70c674371" "localhost:8000" "172.27.0.2:8080"';
    expect(parseLogText(line).error?.detail).toContain('looks like an Envoy access log in a format flowdoc does not know (pass its format string)');
  });

  it('reports a custom format that cannot be compiled as bad-format, without throwing', () => {
    const r = parseLogText(ISTIO_19_A, { format: '%BYTES_SENT%%DURATION%', file: 'a.log' });
    expect(r.entries).toHaveLength(0);
    expect(r.error?.code).toBe('bad-format');
    expect(r.error?.oneLine()).toBe('a.log: cannot use the format string: %BYTES_SENT% and %DURATION% have no text between them, so their values cannot be told apart');
    expect(JSON.parse(JSON.stringify(r.error))).toEqual({ code: 'bad-format', file: 'a.log', message: r.error?.detail });
  });
});

describe('hostile text', () => {
  it('parses megabytes of lines built to make a backtracking regex explode, in linear work', () => {
    const hostile = [' '.repeat(200_000), '"'.repeat(200_000), '[2020-11-25T21:26:18.409Z] "' + '" '.repeat(100_000)];
    // Counted, not timed (a clock measures the machine's load too): every format the parser
    // tries looks at each character a bounded number of times.
    for (const line of hostile) {
      for (const f of BUILTIN_FORMATS) {
        const stats: MatchStats = { steps: 0 };
        matchFormat(f, line, { file: 'x', line: 1, hop: 'x' }, stats);
        expect(stats.steps).toBeLessThanOrEqual(2 * line.length + 2 * f.source.length + 64);
      }
    }
    const r = parseLogText([...hostile, ISTIO_19_A].join('\n'));
    expect(r.rejected).toBe(2); // the all-space line is blank
    expect(r.entries).toHaveLength(1);
  });
});

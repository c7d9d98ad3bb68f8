import { describe, expect, it } from 'vitest';
import type { LogEntry } from './entry.js';
import { BUILTIN_FORMATS, builtinFormat, compileFormat, matchFormat, type CompiledFormat, type MatchStats } from './format.js';

const ORIGIN = { file: 'test.log', line: 1, hop: 'podA-sidecar' };

function format(name: string): CompiledFormat {
  const f = builtinFormat(name);
  if (f === undefined) throw new Error(`no built-in ${name}`);
  return f;
}

function custom(source: string): CompiledFormat {
  const r = compileFormat(source);
  if (!r.ok) throw new Error(r.message);
  return r.format;
}

function parse(f: CompiledFormat, line: string): LogEntry {
  const r = matchFormat(f, line, ORIGIN);
  if (!r.ok) throw new Error(r.reason);
  return r.draft;
}

function reason(f: CompiledFormat, line: string): string {
  const r = matchFormat(f, line, ORIGIN);
  if (r.ok) throw new Error('expected no match');
  return r.reason;
}

// Real lines, quoted exactly as posted (anchors.md §1.8 and corpus/envoy-logs/SOURCES.md).
/** anchors §1.8 #1 — Envoy default format (Istio 0.8), istio/istio#3295. */
const UC_ENVOY_DEFAULT =
  '[2018-07-06T06:11:12.983Z] "POST /api/ HTTP/1.1" 503 UC 16687 57 0 - "-" "Mozilla/5.0 (pc-x86_64-linux-gnu) Siege/4.0.4" "41344284-c914-9db1-a30a-983e74455227" "10.20.10.20:8888" "127.0.0.1:8888"';
/** anchors §1.8 #2 — Istio 1.1 ingress gateway, istio/istio#13848 (the `log` value, JSON escapes undone). */
const UC_ISTIO_11 =
  '[2019-05-29T11:48:56.105Z] "GET / HTTP/1.1" 503 UC "-" 0 95 288 - "10.234.76.0" "Go-http-client/1.1" "0bede68c-a8a3-4d84-a8e9-1b0ea9f21beb" "npm.deez.re" "10.234.41.169:4873" outbound|4873||verdaccio.coreinfra.svc.dev.kubernetes - 10.234.23.18:80 10.234.76.0:54740 -';
/** anchors §1.8 #3 — Istio 1.9+ format, istio/istio#45802, posted without the timestamp. */
const UC_ISTIO_19_HEADLESS =
  '"GET /v1/status HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 0 - "10.90.16.220" "Apache-HttpClient/4.5.1 (Java/1.8.0_372)" "3a7cbcc1-af72-47fb-bbac-a7672951f50f" "health.abc.com" "10.80.47.192:8181" outbound|80||health-api.production.svc.cluster.local 10.80.45.233:37132 10.80.45.233:80 10.80.46.220:59375 - -';
/** anchors §1.8 #4 — Istio 1.9+ reference line, istio.io access-log task (corpus istio-text-1.9plus.log line 1). */
const OK_ISTIO_19 =
  '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default';
/** corpus envoy-default-format.log — Envoy docs example (HTTP/2, `tcp://` upstream host). */
const ENVOY_DOCS_EXAMPLE =
  '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"';
/** corpus istio-text-legacy.log line 4 — Istio 1.2 layout (mixer + transport, no route), istio/istio.io#4380. */
const ISTIO_12_GRPC =
  '[2019-06-12T18:44:05.137Z] "POST /cockroach.rpc.Heartbeat/Ping HTTP/1.1" 200 - "-" "-" 70 45 0 0 "172.30.144.159" "grpc-go/1.13.0-dev" "3bc59988-8458-4639-8fb1-e253cc03815a" "istio-cockroachdb-cockroachdb-0.istio-cockroachdb-cockroachdb.default.svc.cluster.local:26257" "127.0.0.1:26257" inbound|26257|grpc|istio-cockroachdb-cockroachdb-public.default.svc.cluster.local - 172.30.144.160:26257 172.30.144.159:0 -';
/** corpus istio-text-legacy.log line 5 — Istio 1.3–1.8 layout, egress-gateway task. */
const ISTIO_13_EGRESS =
  '[2019-09-03T20:57:49.103Z] "GET /politics HTTP/2" 301 - "-" "-" 0 0 90 89 "10.244.2.10" "curl/7.64.0" "ea379962-9b5c-4431-ab66-f01994f5a5a5" "edition.cnn.com" "151.101.65.67:80" outbound|80||edition.cnn.com - 10.244.1.5:80 10.244.2.10:50482 edition.cnn.com -';
/** corpus istio-text-legacy.log line 2 — Istio 1.0 layout, TCP proxy line with SNI, egress-control task. */
const ISTIO_10_TCP =
  '[2019-01-24T12:48:54.977Z] "- - -" 0 - 601 17766 1289 - "-" "-" "-" "-" "172.217.161.36:443" outbound|443||www.google.com 172.30.109.82:59480 172.217.161.36:443 172.30.109.82:59478 www.google.com';
/** corpus envoy-with-details.log line 3 — renuka-fernando/examples envoy/simple README (UF). */
/** Line 1 of test/fixtures/logs/busy-upstream-connection-id.log (the lab's busy log plus %UPSTREAM_CONNECTION_ID%). */
const WITH_CONNECTION_ID =
  '[2026-11-21T01:46:41.310Z] "GET /api/backend/1 HTTP/1.1" 200 - via_upstream - "-" 0 116 11 0 "-" "flowdoc-lab-client/1.0" "fd1ab005-0000-4000-8000-000000000001" "backend.lab.svc.cluster.local" "10.200.9.9:80" outbound|80||backend.lab.svc.cluster.local 10.200.1.2:42360 10.200.9.9:80 - - default 1041';
const DETAILS_UF =
  '[2024-07-20T07:09:48.470Z] "GET /upstream-connection-failure HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111} 0 145 0 - "-" "curl/8.4.0" "44898dba-8d8e-48f4-93f7-23e4b4c592c0" "localhost:8000" "172.28.0.2:801"';
/** The format that README states for those lines. */
const DETAILS_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"';

describe('built-in formats', () => {
  it('spell the anchors’ format strings exactly', () => {
    expect(format('envoy-default').source).toBe(
      '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n',
    );
    expect(format('istio-1.1').source).toBe(
      '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% "%DYNAMIC_METADATA(istio.mixer:status)%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME%\n',
    );
    expect(format('istio-1.3').source).toBe(
      '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% "%DYNAMIC_METADATA(istio.mixer:status)%" "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n',
    );
    expect(format('istio-1.9').source).toBe(
      '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n',
    );
    expect(format('istio-1.23').source).toBe(format('istio-1.9').source.replace('%UPSTREAM_CLUSTER%', '%UPSTREAM_CLUSTER_RAW%'));
  });

  it('are listed newest first', () => {
    expect(BUILTIN_FORMATS.map((f) => f.name)).toEqual([
      'istio-1.23', 'istio-connection-id', 'istio-1.9', 'istio-1.3-nomixer', 'istio-1.3', 'istio-1.2', 'istio-1.1', 'istio-1.0', 'envoy-default',
    ]);
  });

  it('reads the Envoy-default 503 UC line of istio/istio#3295 field by field', () => {
    expect(parse(format('envoy-default'), UC_ENVOY_DEFAULT)).toEqual({
      file: 'test.log', line: 1, hop: 'podA-sidecar', format: 'envoy-default',
      startMs: 1530857472983, method: 'POST', path: '/api/', protocol: 'HTTP/1.1', responseCode: 503, flags: ['UC'],
      responseCodeDetails: null, connectionTerminationDetails: null, upstreamTransportFailureReason: null,
      bytesReceived: 16687, bytesSent: 57, durationMs: 0, upstreamServiceTimeMs: null, xForwardedFor: null,
      userAgent: 'Mozilla/5.0 (pc-x86_64-linux-gnu) Siege/4.0.4', requestId: '41344284-c914-9db1-a30a-983e74455227',
      authority: '10.20.10.20:8888', upstreamHost: '127.0.0.1:8888', upstreamCluster: null, upstreamLocalAddress: null, upstreamConnectionId: null,
      downstreamLocalAddress: null, downstreamRemoteAddress: null, requestedServerName: null, routeName: null, mixerStatus: null,
    });
  });

  it('reads the Istio 1.1 503 UC line of istio/istio#13848 with its mixer field and addresses', () => {
    const e = parse(format('istio-1.1'), UC_ISTIO_11);
    expect(e).toMatchObject({
      startMs: 1559130536105, method: 'GET', path: '/', responseCode: 503, flags: ['UC'], mixerStatus: null,
      bytesReceived: 0, bytesSent: 95, durationMs: 288, upstreamServiceTimeMs: null, xForwardedFor: '10.234.76.0',
      userAgent: 'Go-http-client/1.1', requestId: '0bede68c-a8a3-4d84-a8e9-1b0ea9f21beb', authority: 'npm.deez.re',
      upstreamHost: '10.234.41.169:4873', upstreamCluster: 'outbound|4873||verdaccio.coreinfra.svc.dev.kubernetes',
      upstreamLocalAddress: null, upstreamConnectionId: null, downstreamLocalAddress: '10.234.23.18:80', downstreamRemoteAddress: '10.234.76.0:54740',
      requestedServerName: null,
    });
  });

  it('reads the Istio 1.9 line posted without its timestamp, with startMs null', () => {
    const e = parse(format('istio-1.9'), UC_ISTIO_19_HEADLESS);
    expect(e).toMatchObject({
      startMs: null, method: 'GET', path: '/v1/status', protocol: 'HTTP/1.1', responseCode: 503, flags: ['UC'],
      responseCodeDetails: 'upstream_reset_before_response_started{connection_termination}',
      connectionTerminationDetails: null, upstreamTransportFailureReason: null, bytesReceived: 0, bytesSent: 95,
      durationMs: 0, upstreamServiceTimeMs: null, xForwardedFor: '10.90.16.220',
      userAgent: 'Apache-HttpClient/4.5.1 (Java/1.8.0_372)', requestId: '3a7cbcc1-af72-47fb-bbac-a7672951f50f',
      authority: 'health.abc.com', upstreamHost: '10.80.47.192:8181',
      upstreamCluster: 'outbound|80||health-api.production.svc.cluster.local', upstreamLocalAddress: '10.80.45.233:37132', upstreamConnectionId: null,
      downstreamLocalAddress: '10.80.45.233:80', downstreamRemoteAddress: '10.80.46.220:59375',
      requestedServerName: null, routeName: null,
    });
  });

  it('reads the istio.io 418 reference line with the join key 10.44.1.23:37652', () => {
    const e = parse(format('istio-1.23'), OK_ISTIO_19);
    expect(e).toMatchObject({
      format: 'istio-1.23', startMs: 1606339578409, responseCode: 418, flags: [], responseCodeDetails: 'via_upstream',
      bytesReceived: 0, bytesSent: 135, durationMs: 4, upstreamServiceTimeMs: 4, userAgent: 'curl/7.73.0-DEV',
      requestId: '84961386-6d84-929d-98bd-c5aee93b5c88', authority: 'httpbin:8000', upstreamHost: '10.44.1.27:80',
      upstreamCluster: 'outbound|8000||httpbin.foo.svc.cluster.local', upstreamLocalAddress: '10.44.1.23:37652', upstreamConnectionId: null,
      downstreamLocalAddress: '10.0.45.184:8000', downstreamRemoteAddress: '10.44.1.23:46520', routeName: 'default',
    });
  });

  it('strips tcp:// from the upstream host of the Envoy docs example', () => {
    const e = parse(format('envoy-default'), ENVOY_DOCS_EXAMPLE);
    expect(e).toMatchObject({ startMs: 1460751420310, protocol: 'HTTP/2', responseCode: 204, upstreamHost: '10.0.2.1:80', upstreamServiceTimeMs: 100 });
  });

  it('reads the Istio 1.2, 1.3 and 1.0 layouts of real legacy lines', () => {
    expect(parse(format('istio-1.2'), ISTIO_12_GRPC)).toMatchObject({
      startMs: 1560365045137, responseCode: 200, mixerStatus: null, upstreamTransportFailureReason: null,
      upstreamCluster: 'inbound|26257|grpc|istio-cockroachdb-cockroachdb-public.default.svc.cluster.local',
      downstreamRemoteAddress: '172.30.144.159:0', requestedServerName: null,
    });
    expect(parse(format('istio-1.3'), ISTIO_13_EGRESS)).toMatchObject({
      protocol: 'HTTP/2', responseCode: 301, requestedServerName: 'edition.cnn.com', routeName: null,
    });
    expect(parse(format('istio-1.0'), ISTIO_10_TCP)).toMatchObject({
      method: null, path: null, protocol: null, responseCode: 0, flags: [], bytesReceived: 601, bytesSent: 17766,
      upstreamLocalAddress: '172.30.109.82:59480', upstreamConnectionId: null, requestedServerName: 'www.google.com',
    });
  });

  it('tells the layouts apart: each real line matches only its own format (1.9 and 1.23 look alike)', () => {
    const matching = (line: string): string[] => BUILTIN_FORMATS.filter((f) => matchFormat(f, line, ORIGIN).ok).map((f) => f.name);
    expect(matching(UC_ENVOY_DEFAULT)).toEqual(['envoy-default']);
    expect(matching(UC_ISTIO_11)).toEqual(['istio-1.1']);
    expect(matching(ISTIO_12_GRPC)).toEqual(['istio-1.2']);
    expect(matching(ISTIO_13_EGRESS)).toEqual(['istio-1.3']);
    expect(matching(ISTIO_10_TCP)).toEqual(['istio-1.0']);
    expect(matching(OK_ISTIO_19)).toEqual(['istio-1.23', 'istio-1.9']);
    expect(matching(WITH_CONNECTION_ID)).toEqual(['istio-connection-id']);
    expect(parse(format('istio-connection-id'), WITH_CONNECTION_ID)).toMatchObject({ upstreamConnectionId: '1041', upstreamLocalAddress: '10.200.1.2:42360', routeName: 'default' });
    expect(matching(DETAILS_UF)).toEqual([]);
  });

  it('says which literal it expected and where when a line does not match', () => {
    expect(reason(format('envoy-default'), DETAILS_UF)).toBe(
      'does not match envoy-default: %BYTES_RECEIVED%: expected a number, got "upstream_reset_before_response_started{c…" at column 79',
    );
    expect(reason(format('istio-1.1'), 'garbage')).toBe('does not match istio-1.1: expected "\\"" at column 1');
  });
});

describe('custom format strings', () => {
  it('read the README format of envoy-with-details with flags, details and an unset upstream service time', () => {
    const e = parse(custom(DETAILS_FORMAT), DETAILS_UF);
    expect(e).toMatchObject({
      format: 'custom', startMs: 1721459388470, responseCode: 503, flags: ['UF'],
      responseCodeDetails: 'upstream_reset_before_response_started{connection_failure,delayed_connect_error:_111}',
      bytesReceived: 0, bytesSent: 145, durationMs: 0, upstreamServiceTimeMs: null, upstreamHost: '172.28.0.2:801',
    });
  });

  it('map both halves of the ?: alternative form to the path', () => {
    const f = custom('%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %REQ(:METHOD)%');
    expect(parse(f, '/orig GET')).toMatchObject({ path: '/orig', method: 'GET' });
    const g = custom('%REQ(:PATH)% %REQ(x-request-id)% %REQ(HOST)%');
    expect(parse(g, '/a?b=1 id-1 example.com')).toMatchObject({ path: '/a?b=1', requestId: 'id-1', authority: 'example.com' });
  });

  it('accept the :N truncation form and keep the value as logged', () => {
    const f = custom('"%REQ(USER-AGENT):10%" %RESPONSE_CODE%');
    const op = f.segments[1];
    expect(op?.kind === 'operator' ? [op.name, op.arg, op.maxLength] : null).toEqual(['REQ', 'USER-AGENT', 10]);
    expect(parse(f, '"curl/7.73. x" 200')).toMatchObject({ userAgent: 'curl/7.73. x', responseCode: 200 });
  });

  it('read a custom START_TIME with spaces, %s epoch seconds and %3f', () => {
    expect(parse(custom('%START_TIME(%Y/%m/%d %H:%M:%S.%3f)% %RESPONSE_CODE%'), '2020/11/25 21:26:18.409 503'))
      .toMatchObject({ startMs: 1606339578409, responseCode: 503 });
    expect(parse(custom('[%START_TIME(%s.%3f)%] %RESPONSE_CODE%'), '[1606339578.409] 503'))
      .toMatchObject({ startMs: 1606339578409 });
    // START_TIME is self-delimiting, so it may touch the next operator.
    expect(parse(custom('%START_TIME(%s)%%PROTOCOL%'), '1606339578HTTP/1.1')).toMatchObject({ startMs: 1606339578000, protocol: 'HTTP/1.1' });
  });

  it('read START_TIME_LOCAL with or without an offset', () => {
    const f = custom('[%START_TIME_LOCAL%] %RESPONSE_CODE%');
    expect(parse(f, '[2024-07-20T09:05:54.173+02:00] 503').startMs).toBe(1721459154173);
    expect(parse(f, '[2024-07-20T07:05:54.173] 503').startMs).toBe(1721459154173);
  });

  it('match unknown operators as tokens and ignore them', () => {
    const f = custom('%UPSTREAM_REQUEST_ATTEMPT_COUNT% %RESPONSE_CODE% "%GRPC_STATUS(CAMEL_STRING)%" %TRAILER(GRPC-STATUS)% %RESPONSE_FLAGS_LONG%');
    expect(parse(f, '2 503 "Unavailable" 14 UpstreamConnectionTermination,UpstreamRetryLimitExceeded'))
      .toMatchObject({ responseCode: 503, flags: ['UC', 'URX'] });
  });

  it('read the remaining mapped operators', () => {
    const f = custom(
      '%UPSTREAM_CLUSTER_RAW% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %REQUESTED_SERVER_NAME% %ROUTE_NAME% %DYNAMIC_METADATA(istio.mixer:status)% %DYNAMIC_METADATA(other:key)%',
    );
    expect(parse(f, 'outbound|80||a.b.svc.cluster.local; - "TLS error: 268435581:SSL routines" a.example r1 OK x')).toMatchObject({
      upstreamCluster: 'outbound|80||a.b.svc.cluster.local', connectionTerminationDetails: null,
      upstreamTransportFailureReason: 'TLS error: 268435581:SSL routines', requestedServerName: 'a.example',
      routeName: 'r1', mixerStatus: 'OK',
    });
  });

  it('treat a literal % that starts no operator as text', () => {
    expect(parse(custom('100% %RESPONSE_CODE%'), '100% 503').responseCode).toBe(503);
  });

  it('accept a format copied from Istio’s docs with \\" and a written \\n', () => {
    const f = custom('[%START_TIME%] \\"%REQ(:METHOD)%\\" %RESPONSE_CODE%\\n');
    expect(parse(f, '[2020-11-25T21:26:18.409Z] "GET" 503')).toMatchObject({ method: 'GET', responseCode: 503 });
  });

  it('refuse formats that cannot be matched, with a reason', () => {
    expect(compileFormat('')).toEqual({ ok: false, message: 'the format string is empty' });
    expect(compileFormat('no operators here')).toEqual({ ok: false, message: 'the format string has no %OPERATOR%' });
    expect(compileFormat('%BYTES_SENT%%DURATION%')).toEqual({
      ok: false,
      message: '%BYTES_SENT% and %DURATION% have no text between them, so their values cannot be told apart',
    });
    expect(compileFormat('{\n "code": %RESPONSE_CODE%\n}').ok).toBe(false);
  });
});

describe('ambiguity rules', () => {
  it('let quoted values contain spaces but not unquoted ones', () => {
    const f = custom('"%REQ(USER-AGENT)%" %ROUTE_NAME%');
    expect(parse(f, '"Mozilla/5.0 (X11; Linux)" r1').userAgent).toBe('Mozilla/5.0 (X11; Linux)');
    expect(reason(f, '"ua" two words')).toBe('does not match custom: expected the end of the line after %ROUTE_NAME% at column 6');
  });

  it('end a quoted value at the first occurrence of the next literal, without backtracking', () => {
    const f = custom('"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%"');
    expect(parse(f, '"a "quoted" ua" "id"').userAgent).toBe('a "quoted" ua');
    // A value that itself contains the next literal (`" "`) cannot be split: the line is refused.
    expect(matchFormat(f, '"a" "b" "id"', ORIGIN).ok).toBe(false);
  });

  it('check numbers and flags so a line of another layout does not match', () => {
    expect(reason(format('istio-1.3'), OK_ISTIO_19)).toContain('expected " \\"" after %RESPONSE_FLAGS%');
    expect(reason(custom('%RESPONSE_CODE% %RESPONSE_FLAGS%'), '503 via_upstream')).toBe(
      'does not match custom: %RESPONSE_FLAGS%: expected response flags, got "via_upstream" at column 5',
    );
  });

  it('ignore trailing whitespace but not trailing text', () => {
    expect(matchFormat(format('istio-1.9'), OK_ISTIO_19 + '   ', ORIGIN).ok).toBe(false); // the reader trims first
    expect(reason(format('envoy-default'), UC_ENVOY_DEFAULT + ' extra')).toBe(
      'does not match envoy-default: unexpected text " extra" after the last field at column 196',
    );
  });
});

describe('matching time', () => {
  // Inputs built to make a naive backtracking regex (e.g. `^\[(.*)\] "(.*) (.*) (.*)" (\S+) …` with
  // one `(.*)` per field) explode: tens of thousands of spaces or quotes give it exponentially many
  // ways to split the line. The walker looks at each character a bounded number of times.
  const N = 50_000;
  const hostile = [
    ' '.repeat(N),
    '"'.repeat(N),
    '" '.repeat(N / 2),
    '[2020-11-25T21:26:18.409Z] "' + ' '.repeat(N),
    '[2020-11-25T21:26:18.409Z] "' + '" '.repeat(N / 2),
    '[2020-11-25T21:26:18.409Z] "GET / HTTP/1.1" 503 UC ' + '"-" '.repeat(N / 4),
    '[2020-11-25T21:26:18.409Z] "GET / HTTP/1.1" 503 UC upstream_reset - "-" 0 95 0 - "' + 'a" "'.repeat(N / 4),
    '"GET ' + '/'.repeat(N) + ' HTTP/1.1" 503 UC ' + 'x'.repeat(N),
    '[' + '1'.repeat(N),
  ];
  const formats = [...BUILTIN_FORMATS, custom('"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" %ROUTE_NAME%'), custom('%START_TIME(%s)% %RESPONSE_CODE%')];

  it('examines each character of a hostile line a bounded number of times, in every format', () => {
    for (const line of hostile) {
      for (const f of formats) {
        const stats: MatchStats = { steps: 0 };
        expect(matchFormat(f, line, ORIGIN, stats).ok).toBe(false);
        expect(stats.steps).toBeLessThanOrEqual(line.length + 1_000);
      }
    }
  });

  it('grows linearly: four times the input costs about four times the steps', () => {
    const f = format('istio-1.9');
    const steps = (n: number): number => {
      const stats: MatchStats = { steps: 0 };
      matchFormat(f, '[2020-11-25T21:26:18.409Z] "GET / HTTP/1.1" 503 UC x - "' + 'a" "'.repeat(n), ORIGIN, stats);
      return stats.steps;
    };
    expect(steps(40_000) / steps(10_000)).toBeLessThan(4.5);
  });

  it('does the same work every time it sees the same hostile line (no state carried between lines)', () => {
    // Was a wall-clock bound (5 s), which says as much about the machine's load as about the
    // matcher; the work is counted instead, and the two tests above bound it.
    for (const f of formats) {
      const once = (line: string) => { const stats: MatchStats = { steps: 0 }; matchFormat(f, line, ORIGIN, stats); return stats.steps; };
      const first = hostile.map(once);
      expect(hostile.map(once)).toEqual(first);
    }
  });
});

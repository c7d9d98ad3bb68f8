/**
 * The real access-log lines of ../shared/corpus/envoy-logs (provenance in its SOURCES.md), read
 * through the file reader. Skipped when the shared folder is not next to the repository; the
 * other test files carry copies of representative lines so the parsing rules are always tested.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readLogFile } from './read.js';
import { triageLogs } from './triage.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CORPUS = path.resolve(REPO_ROOT, '../shared/corpus/envoy-logs');
const exists = existsSync(path.join(CORPUS, 'SOURCES.md'));

const at = (name: string): string => path.join(CORPUS, name);

/** The format renuka-fernando/examples envoy/simple README states for envoy-with-details*.log. */
const DETAILS_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"';

describe.skipIf(!exists)('the shared envoy-logs corpus', () => {
  it('detects Envoy’s default format and strips tcp:// (envoy-default-format.log)', async () => {
    const r = await readLogFile(at('envoy-default-format.log'));
    expect(r).toMatchObject({ format: 'envoy-default', lines: 1, rejected: 0, error: null });
    expect(r.entries[0]).toMatchObject({ startMs: 1460751420310, method: 'POST', path: '/api/v1/locations', protocol: 'HTTP/2', upstreamHost: '10.0.2.1:80' });
  });

  it('reads the Envoy json_format docs example as JSON (envoy-json-doc-example.log)', async () => {
    const r = await readLogFile(at('envoy-json-doc-example.log'));
    expect(r).toMatchObject({ format: 'json', rejected: 0, error: null });
    expect(r.entries[0]).toMatchObject({ protocol: 'HTTP/1.1', durationMs: 123 });
  });

  it('detects Istio 1.9+ lines and pairs client and server sidecars by address (istio-text-1.9plus.log)', async () => {
    const r = await readLogFile(at('istio-text-1.9plus.log'), { hop: 'sleep-sidecar' });
    expect(r).toMatchObject({ format: 'istio-1.23', lines: 8, rejected: 0, error: null });
    const [client, server, out2, in2] = r.entries;
    expect(client?.upstreamLocalAddress).toBe('10.44.1.23:37652');
    expect(server?.downstreamRemoteAddress).toBe('10.44.1.23:37652');
    expect(client?.requestId).toBe(server?.requestId);
    expect(out2?.upstreamLocalAddress).toBe(in2?.downstreamRemoteAddress);
    expect(r.entries.map((e) => e.responseCode)).toEqual([418, 418, 200, 200, 200, 0, 400, 403]);
    expect(r.entries.map((e) => e.responseCodeDetails)).toEqual([
      'via_upstream', 'via_upstream', 'via_upstream', 'via_upstream', 'via_upstream', 'filter_chain_not_found',
      'http1.codec_error', 'rbac_access_denied_matched_policy[none]',
    ]);
    expect(r.entries.every((e) => e.hop === 'sleep-sidecar')).toBe(true);
  });

  it('reads all three Istio layouts of istio-text-legacy.log, line by line', async () => {
    const r = await readLogFile(at('istio-text-legacy.log'));
    expect(r).toMatchObject({ format: 'istio-1.3', lines: 7, rejected: 0, error: null });
    expect(r.entries.map((e) => e.format)).toEqual(['istio-1.0', 'istio-1.0', 'istio-1.0', 'istio-1.2', 'istio-1.3', 'istio-1.3', 'istio-1.3']);
    expect(r.entries.map((e) => e.upstreamCluster)).toEqual([
      'outbound|80||httpbin.org', 'outbound|443||www.google.com', 'outbound|443||edition.cnn.com',
      'inbound|26257|grpc|istio-cockroachdb-cockroachdb-public.default.svc.cluster.local', 'outbound|80||edition.cnn.com',
      'outbound|443||edition.cnn.com', 'PassthroughCluster',
    ]);
  });

  it('reads what it can of lines as users pasted them (istio-text-as-posted-irregular.log)', async () => {
    const r = await readLogFile(at('istio-text-as-posted-irregular.log'));
    expect(r.entries).toHaveLength(1);
    expect(r.entries[0]).toMatchObject({ line: 1, startMs: null, responseCode: 503, flags: ['UC'], upstreamLocalAddress: '10.80.45.233:37132' });
    expect(r.rejected).toBe(2);
    expect(r.rejectedSamples.map((s) => [s.line, s.reason])).toEqual([
      [2, 'does not match istio-1.23: %RESPONSE_FLAGS%: expected response flags, got "\\"-\\"" at column 38'],
      [3, 'does not match istio-1.23: expected "\\"" at column 1'],
    ]);
    expect(r.error).toBeNull();
  });

  it('reads string-valued and typed Istio JSON (istio-json.log)', async () => {
    const r = await readLogFile(at('istio-json.log'));
    expect(r).toMatchObject({ format: 'json', lines: 3, rejected: 0, error: null });
    expect(r.entries.map((e) => [e.responseCode, e.flags, e.durationMs])).toEqual([
      [0, ['UF', 'URX'], 10002], [0, [], 288127], [200, [], 66],
    ]);
  });

  it('needs the README’s format for envoy-with-details.log, and says so without it', async () => {
    const bare = await readLogFile(at('envoy-with-details.log'));
    expect(bare.error?.code).toBe('not-an-access-log');
    expect(bare.error?.detail).toContain('pass its format string');
    const r = await readLogFile(at('envoy-with-details.log'), { format: DETAILS_FORMAT });
    expect(r).toMatchObject({ format: 'custom', lines: 10, rejected: 0, error: null });
    expect(r.entries.map((e) => `${e.responseCode} ${e.flags.join(',') || '-'}`)).toEqual([
      '504 UT', '503 UH', '503 UF', '200 UPE', '503 UO', '200 -', '503 NC', '500 URX', '101 DC', '101 SI',
    ]);
  });

  it('gives the same entries for the docker compose -t copy of those lines', async () => {
    const plain = await readLogFile(at('envoy-with-details.log'), { format: DETAILS_FORMAT, hop: 'envoy' });
    const wrapped = await readLogFile(at('envoy-with-details.docker-compose.log'), { format: DETAILS_FORMAT, hop: 'envoy' });
    expect(wrapped.rejected).toBe(0);
    expect(wrapped.entries.map((e) => ({ ...e, file: '' }))).toEqual(plain.entries.map((e) => ({ ...e, file: '' })));
  });

  it('triages the corpus failures with the idle-drop line counted once', async () => {
    const r = await readLogFile(at('istio-text-as-posted-irregular.log'));
    expect(triageLogs(r.entries).signatures).toMatchObject({ idleDrop: 1, idleDropLocalReply: 1 });
  });
});

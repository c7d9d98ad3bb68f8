import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';

// The lab's client-sidecar logs (captures/<scenario>/client.log) and the connection-id fixture
// derived from captures/busy/client.log (test/fixtures/logs/README.md).
const CAPTURES = join(REPO_ROOT, 'captures');
const WITH_ID = join(REPO_ROOT, 'test/fixtures/logs/busy-upstream-connection-id.log');
const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schema/logs-v1.schema.json'), 'utf8')) as Record<string, unknown>;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

describe('flowdoc logs: stale reuse from access logs alone', () => {
  it('detects the recommended format (Istio default + %UPSTREAM_CONNECTION_ID%) without --log-format and ties every request by its connection id', async () => {
    const r = await runCli(['logs', '-f', 'json', `client=${WITH_ID}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(validate(j), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    expect(j.files[0]).toMatchObject({ format: 'istio-connection-id', entries: 34, rejected: 0 });
    expect(j.staleReuse).toMatchObject({ keyedByConnectionId: 34, keyedByLocalAddress: 0, withoutConnection: 0 });
    expect(j.staleReuse.incidents).toHaveLength(8);
    expect(j.staleReuse.incidents[0]).toMatchObject({ kind: 'stale-reuse-log', hop: 'client', connection: '#1048 → 10.200.9.9:80', keyedBy: 'connection-id' });
  });

  it('validates the JSON of every lab client log against schema/logs-v1', async () => {
    for (const scenario of ['busy', 'rst-after-idle', 'keepalive-on', 'keepalive-too-slow', 'blackhole']) {
      const r = await runCli(['logs', '-f', 'json', join(CAPTURES, scenario, 'client.log')]);
      expect(r.code, scenario).toBe(0);
      expect(validate(JSON.parse(r.stdout)), `${scenario}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
    }
  });

  it('shows the incidents and the idle bracket per upstream host in the table', async () => {
    const r = await runCli(['logs', join(CAPTURES, 'busy', 'client.log')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stale reuse from the logs: 8 requests failed on an upstream connection idle 1\.000 s or more \(\d+ connections; requests tied 34 by %UPSTREAM_LOCAL_ADDRESS%\)/);
    expect(r.stdout).toMatch(/10\.200\.1\.2:50156 → 10\.200\.9\.9:80/);
    expect(r.stdout).toContain('10.200.9.9:80 (outbound|80||backend.lab.svc.cluster.local): idle timeout between 8.802 s and 11.2 s (from access logs, 10.200.9.9:80)');
  });

  it('says which fields to add when the logs carry UC failures but no connection key (Envoy\'s default format)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowdoc-logs-'));
    const file = join(dir, 'envoy.log');
    // istio/istio#3295's Envoy-default 503 UC line (also in src/logs/format.test.ts).
    writeFileSync(file, '[2018-07-06T06:11:12.983Z] "POST /api/ HTTP/1.1" 503 UC 16687 57 0 - "-" "Mozilla/5.0 (pc-x86_64-linux-gnu) Siege/4.0.4" "41344284-c914-9db1-a30a-983e74455227" "10.20.10.20:8888" "127.0.0.1:8888"\n');
    const r = await runCli(['logs', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stale reuse: these logs do not say which upstream connection a request used — add %UPSTREAM_CONNECTION_ID%/);
  });

  it('rejects a negative --idle-threshold with one line and exit 2', async () => {
    const r = await runCli(['logs', '--idle-threshold', '-1', WITH_ID]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

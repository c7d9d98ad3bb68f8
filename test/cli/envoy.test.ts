import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';

// test/fixtures/envoy/README.md names the documented shapes these follow.
const FIX = join(REPO_ROOT, 'test/fixtures/envoy');
const DUMP = join(FIX, 'config-dump.json');
const ISTIOCTL = join(FIX, 'istioctl-proxy-config-cluster.json');
const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schema/envoy-v1.schema.json'), 'utf8')) as Record<string, unknown>;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

describe('flowdoc envoy', () => {
  it('exits 1 with flagged clusters, and its JSON follows schema/envoy-v1 with remedies named for the cluster\'s service', async () => {
    const r = await runCli(['envoy', '-f', 'json', ISTIOCTL, '--lb-timeout', '350']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(validate(j), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    expect(j.summary).toMatchObject({ judged: 3, flagged: 2 });
    const rem = j.remedies.find((x: { host: string | null }) => x.host === 'backend.lab.svc.cluster.local');
    expect(rem).toMatchObject({ destination: 'backend.lab.svc.cluster.local:80', keepalive: { idleSeconds: 150 }, primaryLayer: 'client-sidecar' });
    const dr = rem.snippets.find((s: { title: string }) => /DestinationRule/.test(s.title));
    expect(dr.code).toMatch(/host: backend\.lab\.svc\.cluster\.local/);
    expect(dr.code).toMatch(/time: "150s"/);
  });

  it('validates the JSON of every fixture against the schema, alone and mixed, with and without --lb-timeout', async () => {
    for (const files of [[DUMP], [ISTIOCTL], [DUMP, ISTIOCTL]]) {
      for (const extra of [[], ['--lb-timeout', '4000']]) {
        const r = await runCli(['envoy', '-f', 'json', ...files, ...extra]);
        expect(r.stderr).toBe('');
        expect(validate(JSON.parse(r.stdout)), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
      }
    }
  });

  it('exits 0 when every cluster is protected: Envoy\'s 1 h idle timeout is below a 4000 s stated timeout', async () => {
    const r = await runCli(['envoy', DUMP, '--lb-timeout', '4000']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/4 upstream clusters judged: 0 flagged, 2 without tcp_keepalive; 2 listeners, 1 with SO_KEEPALIVE/);
    // Per endpoint: 10.200.9.10:80 behind a 4000 s box is fine, the rest behind 3000 s is not (1 h idle timeout, no keepalive).
    const per = await runCli(['envoy', DUMP, '--lb-timeout', '10.200.9.10:80=4000', '--lb-timeout', '3000']);
    expect(per.code).toBe(1);
    expect(per.stdout).toMatch(/flagged: service_envoyproxy_io: no tcp_keepalive/);
    expect(per.stdout).not.toMatch(/flagged: backend_so_keepalive_only/);
  });

  it('reads standard input (kubectl exec … curl localhost:15000/config_dump | flowdoc envoy -) and renders Markdown with snippets', async () => {
    const r = await runCli(['envoy', '-', '-f', 'markdown', '--lb-timeout', '350'], { stdin: readFileSync(ISTIOCTL) });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^# flowdoc envoy: standard input/);
    expect(r.stdout).toMatch(/## Upstream clusters/);
    expect(r.stdout).toMatch(/```yaml/);
  });

  it('rejects a truncated dump with one line naming the file, line and byte, exit 2', async () => {
    const r = await runCli(['envoy', '-'], { stdin: readFileSync(DUMP).subarray(0, 1000) });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/standard input: line \d+ \(byte 1000\): truncated JSON/);
  });
});

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

  describe('with /stats and /clusters', () => {
    const S1 = join(FIX, 'stats-1.txt');
    const S2 = join(FIX, 'stats-2.txt');
    const S2J = join(FIX, 'stats-2.json');
    const C2 = join(FIX, 'clusters-2.txt');
    const C2J = join(FIX, 'clusters-2.json');
    const QUICK = join(FIX, 'stats-quickstart.txt');

    it('validates against the schema for every mix of config, /stats and /clusters, text and JSON', async () => {
      for (const files of [[S1, S2], [S2J, S1], [ISTIOCTL, S1, S2, C2], [C2J], [DUMP, QUICK], [ISTIOCTL, C2, C2J, S2J, S1]]) {
        const r = await runCli(['envoy', '-f', 'json', ...files, '--lb-timeout', '350']);
        expect(r.stderr).toBe('');
        expect(validate(JSON.parse(r.stdout)), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
      }
    });

    it('flags the cluster whose remote resets under requests rose while idle timeouts did not, tied to its config verdict, exit 1', async () => {
      const r = await runCli(['envoy', '-f', 'json', ISTIOCTL, S2, S1, C2, '--lb-timeout', '350']);
      expect(r.code).toBe(1);
      const j = JSON.parse(r.stdout);
      expect(j.summary).toMatchObject({ flagged: 2, signatureRising: 1, signatureSinceStart: 0 });
      expect(j.counters).toMatchObject({ order: { stats: 'server.uptime', clusters: 'file-order' }, intervalSeconds: 300 });
      const k = j.counters.clusters.find((c: { name: string }) => c.name === 'outbound|80||backend.lab.svc.cluster.local');
      expect(k).toMatchObject({ signature: 'rising', flagged: true, config: { flagged: true }, hosts: ['10.244.1.17:8080', '10.244.2.9:8080'] });
      expect(k.stats.upstream_cx_destroy_remote_with_active_rq).toEqual({ first: 14, last: 23, delta: 9, perSecond: 0.03 });
      const rem = j.remedies.find((x: { host: string | null }) => x.host === 'backend.lab.svc.cluster.local');
      expect(rem.destination).toBe('backend.lab.svc.cluster.local:80');
      expect(rem.rationale.join(' ')).toMatch(/Its counters: upstream_cx_destroy_remote_with_active_rq rose by 9/);
    });

    it('flags from counters alone, with a remedy targeted at the Istio cluster name and a note that the config is missing', async () => {
      const r = await runCli(['envoy', '-f', 'json', S1, S2J, '--lb-timeout', '350']);
      expect(r.code).toBe(1);
      const j = JSON.parse(r.stdout);
      expect(j.clusters).toEqual([]);
      expect(j.remedies).toHaveLength(1);
      expect(j.remedies[0]).toMatchObject({ host: 'backend.lab.svc.cluster.local', destination: 'backend.lab.svc.cluster.local:80', keepalive: { idleSeconds: 150 } });
      expect(j.remedies[0].notes.join(' ')).toMatch(/No config_dump of this cluster was given/);
      const table = await runCli(['envoy', S1, S2, '--lb-timeout', '350']);
      expect(table.stdout).toMatch(/no config_dump given; 1 cluster with the stale-reuse signature/);
      expect(table.stdout).toMatch(/counters: 2 \/stats snapshots \(ordered by server\.uptime, 300 s apart\)/);
      expect(table.stdout).toMatch(/flagged: outbound\|80\|\|backend\.lab\.svc\.cluster\.local: upstream_cx_destroy_remote_with_active_rq rose by 9 \(1\.80\/min\)/);
    });

    it('one snapshot: the pattern since start is shown, not flagged; exit 0 when the config is protected', async () => {
      const r = await runCli(['envoy', DUMP, QUICK, '--lb-timeout', '4000']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/since start: service_envoyproxy_io: upstream_cx_destroy_remote_with_active_rq is 2 and upstream_cx_idle_timeout 0 since the proxy started/);
      expect(r.stdout).toMatch(/One \/stats snapshot/);
    });

    it('reads /stats from standard input (kubectl exec … pilot-agent request GET stats | flowdoc envoy - …) and renders Markdown', async () => {
      const r = await runCli(['envoy', S1, '-', '-f', 'markdown'], { stdin: readFileSync(S2) });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/## Counters \(\/stats, \/clusters\)/);
      expect(r.stdout).toContain('| `outbound\\|80\\|\\|backend.lab.svc.cluster.local` | +9 (1.80/min) | 0 | 0 | 0 | +9 (1.80/min) | 0 | 4 | **rising** |');
      // Istio's inbound cluster (pod-local) is not listed, as with a config.
      expect(r.stdout).not.toMatch(/inbound\\\|8080/);
    });

    it('rejects truncated /stats JSON and a /stats line of another shape with one line, exit 2', async () => {
      const cut = await runCli(['envoy', S1, '-'], { stdin: readFileSync(S2J).subarray(0, 5000) });
      expect(cut.code).toBe(2);
      expect(cut.stdout).toBe('');
      expect(cut.stderr.trim().split('\n')).toHaveLength(1);
      expect(cut.stderr).toMatch(/standard input: line \d+ \(byte 5000\): truncated JSON/);
      const mixed = await runCli(['envoy', '-'], { stdin: Buffer.from(`${readFileSync(S1, 'utf8')}${readFileSync(C2, 'utf8')}`) });
      expect(mixed.code).toBe(2);
      expect(mixed.stderr.trim().split('\n')).toHaveLength(1);
      expect(mixed.stderr).toMatch(/standard input: line 228 \(byte \d+\): not a \/stats line/);
    });
  });
});

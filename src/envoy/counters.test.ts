import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/corpus/shared.js';
import { analyzeEnvoy, compareSnapshots, EnvoyInputError, readEnvoyText, type CounterSnapshot } from './index.js';

// test/fixtures/envoy/README.md: /stats and /clusters in Envoy's documented text and JSON shapes.
const FIX = join(REPO_ROOT, 'test/fixtures/envoy');
const text = (f: string) => readFileSync(join(FIX, f), 'utf8');
const snap = (f: string, t = text(f)): CounterSnapshot => {
  const x = readEnvoyText(t, f);
  if (x.kind !== 'counters') throw new Error(`${f} is not counters`);
  return x.snapshot;
};
const errorOf = (t: string, f: string) => { try { readEnvoyText(t, f); } catch (e) { return e as EnvoyInputError; } return null; };
const BACKEND = 'outbound|80||backend.lab.svc.cluster.local';
/** A snapshot's counters as plain sorted objects: what was read, whatever the order it was read in. */
const plain = (m: ReadonlyMap<string, ReadonlyMap<string, number>>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, Object.fromEntries([...v].sort(([a], [b]) => (a < b ? -1 : 1)))]));
const ORDERS = 'outbound|80||orders.lab.svc.cluster.local';

describe('Envoy /stats and /clusters', () => {
  it('reads /stats text: cluster names with dots and pipes, server.uptime, histograms and text values skipped', () => {
    const s = snap('stats-1.txt');
    expect(s).toMatchObject({ source: 'stats', format: 'text', uptimeSeconds: 86400 });
    expect([...s.clusters.keys()].sort()).toEqual(['inbound|8080||', 'outbound|5432||payments-db.lab.svc.cluster.local', BACKEND, ORDERS]);
    const b = s.clusters.get(BACKEND)!;
    expect(b.get('upstream_cx_destroy_remote_with_active_rq')).toBe(14);
    expect(b.get('upstream_cx_idle_timeout')).toBe(0);
    expect(b.get('upstream_rq_retry_success')).toBe(12);
    // Only the stats flowdoc judges by are kept: not upstream_rq_2xx, not circuit breakers.
    expect(b.has('upstream_rq_2xx')).toBe(false);
    expect(b.has('circuit_breakers.default.cx_open')).toBe(false);
  });

  it('reads /stats?format=json to the same counters as the text form of the same snapshot', () => {
    const t = snap('stats-2.txt');
    const j = snap('stats-2.json');
    expect(j).toMatchObject({ source: 'stats', format: 'json', uptimeSeconds: 86700 });
    expect(plain(j.clusters)).toEqual(plain(t.clusters));
  });

  it('reads /clusters text and ?format=json to the same per-host sums and hosts (proto3 JSON leaves zero values out)', () => {
    const t = snap('clusters-2.txt');
    const j = snap('clusters-2.json');
    expect(t).toMatchObject({ source: 'clusters', format: 'text', uptimeSeconds: null });
    expect(t.hosts.get(BACKEND)).toEqual(['10.244.1.17:8080', '10.244.2.9:8080']);
    expect(t.clusters.get(BACKEND)!.get('hosts.cx_total')).toBe(70);
    expect(t.clusters.get(BACKEND)!.get('hosts.rq_error')).toBe(3);
    expect(j.hosts).toEqual(t.hosts);
    expect(plain(j.clusters)).toEqual(plain(t.clusters));
  });

  it('reads the quick-start shape: usedonly-style single snapshot, histograms and "No recorded values"', () => {
    const s = snap('stats-quickstart.txt');
    expect(s.uptimeSeconds).toBe(1812);
    expect(s.clusters.get('service_envoyproxy_io')!.get('upstream_cx_destroy_remote_with_active_rq')).toBe(2);
  });
});

describe('counters across snapshots', () => {
  it('orders /stats by server.uptime whatever the file order, with deltas and rates per second of uptime', () => {
    for (const files of [['stats-1.txt', 'stats-2.txt'], ['stats-2.txt', 'stats-1.txt'], ['stats-2.json', 'stats-1.txt']]) {
      const s = compareSnapshots(files.map((f) => snap(f)))!;
      expect(s.order.stats).toBe('server.uptime');
      expect(s.intervalSeconds).toBe(300);
      expect(s.snapshots.map((x) => x.uptimeSeconds)).toEqual([86400, 86700]);
      const b = s.clusters.find((c) => c.name === BACKEND)!;
      expect(b.stats['upstream_cx_destroy_remote_with_active_rq']).toEqual({ first: 14, last: 23, delta: 9, perSecond: 0.03 });
      expect(b.stats['upstream_cx_active']).toEqual({ first: 4, last: 4, delta: null, perSecond: null });
      expect(b).toMatchObject({ signature: 'rising', flagged: true });
      // orders: idle timeouts rose too (Envoy closes idle connections itself): not the signature.
      const o = s.clusters.find((c) => c.name === ORDERS)!;
      expect(o.stats['upstream_cx_idle_timeout']!.delta).toBe(14);
      expect(o).toMatchObject({ signature: null, flagged: false });
      expect(s.clusters[0]!.name).toBe(BACKEND);
    }
  });

  it('compares /clusters snapshots in file order: per-host sums with deltas, no rates (no clock in /clusters)', () => {
    const s = compareSnapshots([snap('clusters-1.txt'), snap('clusters-2.txt')])!;
    expect(s.order).toEqual({ stats: null, clusters: 'file-order' });
    const b = s.clusters.find((c) => c.name === BACKEND)!;
    expect(b.stats['hosts.cx_total']).toEqual({ first: 61, last: 70, delta: 9, perSecond: null });
    expect(b.stats['hosts.cx_active']!.delta).toBeNull();
    expect(b).toMatchObject({ signature: null, flagged: false, hosts: ['10.244.1.17:8080', '10.244.2.9:8080'] });
    expect(b.text).toMatch(/give \/stats for the stale-reuse signature/);
  });

  it('uses file order when a snapshot has no server.uptime, and says so', () => {
    const noUptime = text('stats-2.txt').replace(/^server\.uptime: .*\n/m, '');
    const s = compareSnapshots([snap('stats-1.txt'), snap('later.txt', noUptime)])!;
    expect(s.order.stats).toBe('file-order');
    expect(s.intervalSeconds).toBeNull();
    expect(s.notes.join(' ')).toMatch(/in the order the files were given/);
    const b = s.clusters.find((c) => c.name === BACKEND)!;
    expect(b.stats['upstream_cx_destroy_remote_with_active_rq']).toEqual({ first: 14, last: 23, delta: 9, perSecond: null });
    expect(b.signature).toBe('rising');
  });

  it('gives no deltas when a counter went down (a restart or another proxy), and flags nothing', () => {
    const s = compareSnapshots([snap('stats-2.txt'), snap('restarted.txt', text('stats-1.txt').replace('server.uptime: 86400', 'server.uptime: 90000'))])!;
    expect(s.reset.stats).toBe(true);
    expect(s.notes.join(' ')).toMatch(/counter went down/);
    expect(s.clusters.every((c) => !c.flagged && Object.values(c.stats).every((v) => v.delta === null))).toBe(true);
  });

  it('with one snapshot reports the pattern since start without flagging, and asks for a second', () => {
    const s = compareSnapshots([snap('stats-quickstart.txt')])!;
    expect(s.clusters[0]).toMatchObject({ name: 'service_envoyproxy_io', signature: 'since-start', flagged: false });
    expect(s.notes.join(' ')).toMatch(/One \/stats snapshot/);
  });

  it('ties the counters to the config verdict of the same cluster', () => {
    const cfg = readEnvoyText(text('istioctl-proxy-config-cluster.json'), 'c.json');
    if (cfg.kind !== 'config') throw new Error('not a config');
    const r = analyzeEnvoy([cfg.config], { lbTimeouts: { any: 350, byServer: new Map() } }, [snap('stats-1.txt'), snap('stats-2.txt'), snap('clusters-2.txt')]);
    expect(r.summary).toMatchObject({ flagged: 2, signatureRising: 1 });
    expect(r.clusters.find((c) => c.name === BACKEND)!.staleReuseSignature).toBe('rising');
    const k = r.counters!.clusters.find((c) => c.name === BACKEND)!;
    expect(k).toMatchObject({ config: { flagged: true, protectedBy: null }, host: 'backend.lab.svc.cluster.local', port: 80, timeoutSeconds: 350 });
    expect(k.tie).toMatch(/config and the counters agree/);
    // Config says protected (keepalive 300 s < 350 s) while counters show the signature: the middlebox is likely shorter.
    const rising = text('stats-2.txt').replace(`cluster.${ORDERS}.upstream_cx_destroy_remote_with_active_rq: 1`, `cluster.${ORDERS}.upstream_cx_destroy_remote_with_active_rq: 8`).replace(`cluster.${ORDERS}.upstream_cx_idle_timeout: 366`, `cluster.${ORDERS}.upstream_cx_idle_timeout: 352`);
    const r2 = analyzeEnvoy([cfg.config], { lbTimeouts: { any: 350, byServer: new Map() } }, [snap('stats-1.txt'), snap('s2.txt', rising)]);
    expect(r2.counters!.clusters.find((c) => c.name === ORDERS)!.tie).toMatch(/looks protected against 350 s \(tcp-keepalive\), yet the counters show the signature/);
  });
});

describe('bad counter input', () => {
  it('names file, line and byte of a line of another shape in /stats text', () => {
    const t = text('stats-1.txt');
    const at = t.indexOf('cluster_manager.active_clusters');
    const bad = `${t.slice(0, at)}Mon Dec  7 09:00:05 UTC 2026\n${t.slice(at)}`;
    const e = errorOf(bad, 's.txt')!;
    expect(e).toBeInstanceOf(EnvoyInputError);
    expect(e.line).toBe(t.slice(0, at).split('\n').length);
    expect(e.byteOffset).toBe(Buffer.byteLength(t.slice(0, at)));
    expect(e.oneLine()).toMatch(/^s\.txt: line \d+ \(byte \d+\): not a \/stats line/);
  });

  it('rejects two snapshots concatenated in one file, naming the repeated stat', () => {
    const both = text('stats-1.txt') + text('stats-2.txt');
    const e = errorOf(both, 'both.txt')!;
    expect(e.oneLine()).toMatch(/appears twice: several \/stats snapshots in one file\? give each snapshot its own file$/);
    // In the second snapshot, and the stat it names is the one on that line.
    expect(e.line).toBeGreaterThan(text('stats-1.txt').split('\n').length - 1);
    const line = both.split('\n')[e.line! - 1]!;
    expect(e.oneLine()).toContain(`: ${line.slice(0, line.indexOf(': '))} appears twice`);
  });

  it('places truncated /stats and /clusters JSON at the byte where it ends', () => {
    for (const f of ['stats-2.json', 'clusters-2.json']) {
      const cut = text(f).slice(0, 3000);
      const e = errorOf(cut, f)!;
      expect(e.oneLine()).toMatch(new RegExp(`^${f.replace('.', '\\.')}: line \\d+ \\(byte 3000\\): truncated JSON`));
    }
  });

  it('rejects a /stats integer of another shape, /clusters text of another shape, and Prometheus text', () => {
    expect(errorOf(`cluster.${BACKEND}.upstream_cx_idle_timeout: 1.5\n`, 'x.txt')!.oneLine()).toMatch(/^x\.txt: line 1 \(byte 0\): .*upstream_cx_idle_timeout is not an integer/);
    expect(errorOf('a::b::c::d\nnot clusters\n', 'c.txt')!.oneLine()).toMatch(/^c\.txt: line 2 \(byte 11\): not a \/clusters line/);
    expect(errorOf('# HELP envoy_cluster_upstream_cx_total\n', 'p.txt')!.oneLine()).toMatch(/Prometheus exposition/);
    expect(errorOf('{"stats": [{"name": "cluster.a.upstream_cx_total", "value": "x"}]}', 'j.json')!.oneLine()).toMatch(/^j\.json: line 1 \(byte 20\): \/stats JSON: cluster\.a\.upstream_cx_total is not an integer/);
  });
});

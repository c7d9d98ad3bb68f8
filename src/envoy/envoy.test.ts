import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../test/corpus/shared.js';
import { analyzeEnvoy, durationSeconds, EnvoyInputError, firstJsonError, readEnvoyText } from './index.js';

// test/fixtures/envoy/README.md: shapes from Envoy's admin docs and API protos, and istioctl's camelCase output.
const FIX = join(REPO_ROOT, 'test/fixtures/envoy');
const read = (f: string) => {
  const x = readEnvoyText(readFileSync(join(FIX, f), 'utf8'), f);
  if (x.kind !== 'config') throw new Error(`${f} is not a config`);
  return x.config;
};

describe('Envoy config', () => {
  it('reads a /config_dump: bootstrap and static clusters once each, typed_extension_protocol_options, HTTP/2 PING, listener socket options', () => {
    const c = read('config-dump.json');
    expect(c.kind).toBe('config_dump');
    expect(c.clusters.map((x) => x.name)).toEqual(['service_envoyproxy_io', 'backend_keepalive', 'backend_so_keepalive_only', 'grpc_backend']);
    const ka = c.clusters.find((x) => x.name === 'backend_keepalive')!;
    expect(ka).toMatchObject({ tcpKeepalive: { timeSeconds: 30, intervalSeconds: 10, probes: 3 }, idleTimeoutSeconds: 300, endpoints: ['10.200.9.9:80'], host: null, port: 80 });
    expect(c.clusters.find((x) => x.name === 'backend_so_keepalive_only')!.tcpKeepalive).toEqual({ timeSeconds: null, intervalSeconds: null, probes: null });
    expect(c.clusters.find((x) => x.name === 'grpc_backend')).toMatchObject({ http2: true, http2Keepalive: { intervalSeconds: 30, timeoutSeconds: 5 }, idleTimeoutSeconds: 0, maxConnectionDurationSeconds: 7200, host: 'grpc.backend.internal' });
    expect(c.listeners[0]).toMatchObject({ name: 'listener_0', address: '0.0.0.0:10000', keepalive: { on: true, timeSeconds: 30, intervalSeconds: 10, probes: 3 } });
    expect(c.listeners[0]!.socketOptions.map((s) => s.known)).toEqual(['SO_KEEPALIVE', 'TCP_KEEPIDLE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT']);
    expect(c.listeners[1]).toMatchObject({ name: 'listener_plain', socketOptions: [], keepalive: { on: false } });
  });

  it('reads istioctl proxy-config cluster -o json (camelCase names) with Istio cluster names split into direction, port and host', () => {
    const c = read('istioctl-proxy-config-cluster.json');
    expect(c.kind).toBe('cluster-list');
    const orders = c.clusters.find((x) => x.name === 'outbound|80||orders.lab.svc.cluster.local')!;
    expect(orders).toMatchObject({ direction: 'outbound', port: 80, host: 'orders.lab.svc.cluster.local', tcpKeepalive: { timeSeconds: 300, intervalSeconds: 75, probes: null }, idleTimeoutSeconds: 900, http2: true });
    expect(c.clusters.find((x) => x.name.includes('payments-db'))!.tcpKeepalive).toEqual({ timeSeconds: null, intervalSeconds: null, probes: null });
    expect(c.clusters.find((x) => x.name.includes('backend.lab'))!.tcpKeepalive).toBeNull();
  });

  it('flags clusters that nothing protects against the stated timeout: keepalive off, or only SO_KEEPALIVE (the kernel\'s 7200 s), with the default 1 h idle timeout', () => {
    const r = analyzeEnvoy([read('istioctl-proxy-config-cluster.json')], { lbTimeouts: { any: 350, byServer: new Map() } });
    const by = (n: string) => r.clusters.find((x) => x.name.includes(n))!;
    expect(by('backend.lab')).toMatchObject({ flagged: true, keepalive: { on: false }, effectiveIdleTimeoutSeconds: 3600, idleTimeoutDefaulted: true, basis: 'lb-timeout', timeoutSeconds: 350 });
    expect(by('payments-db')).toMatchObject({ flagged: true, keepalive: { on: true, effectiveTimeSeconds: 7200, kernelDefault: true } });
    expect(by('orders')).toMatchObject({ flagged: false, protectedBy: 'tcp-keepalive' });
    expect(r.clusters.filter((x) => x.skipped).map((x) => x.name)).toEqual(['BlackHoleCluster', 'InboundPassthroughClusterIpv4', 'inbound|8080||']);
    expect(r.summary).toMatchObject({ clusters: 6, judged: 3, flagged: 2, keepaliveOff: 1 });
    // Against 250 s, orders' 300 s keepalive is too slow and its 900 s idle timeout too long.
    expect(analyzeEnvoy([read('istioctl-proxy-config-cluster.json')], { lbTimeouts: { any: 250, byServer: new Map() } }).clusters.find((x) => x.name.includes('orders'))!.flagged).toBe(true);
  });

  it('counts an idle timeout or HTTP/2 PING below the timeout as protection, and uses a per-endpoint --lb-timeout', () => {
    const cfg = read('config-dump.json');
    const r = analyzeEnvoy([cfg], { lbTimeouts: { any: 350, byServer: new Map([['10.200.9.9:80', 20]]) } });
    const by = (n: string) => r.clusters.find((x) => x.name === n)!;
    // 30 s keepalive is not below the 20 s stated for its endpoint, nor is 300 s idle.
    expect(by('backend_keepalive')).toMatchObject({ timeoutSeconds: 20, flagged: true });
    expect(by('grpc_backend')).toMatchObject({ timeoutSeconds: 350, protectedBy: 'http2-ping', effectiveIdleTimeoutSeconds: null });
    const loose = analyzeEnvoy([cfg], { lbTimeouts: { any: 600, byServer: new Map() } });
    expect(loose.clusters.find((x) => x.name === 'backend_so_keepalive_only')).toMatchObject({ flagged: true });
    expect(analyzeEnvoy([cfg], { lbTimeouts: { any: 4000, byServer: new Map() } }).clusters.find((x) => x.name === 'service_envoyproxy_io')).toMatchObject({ flagged: false, protectedBy: 'idle-timeout' });
  });

  it('judges against the shortest known middlebox default without --lb-timeout, and says so', () => {
    const r = analyzeEnvoy([read('config-dump.json')]);
    expect(r.clusters.every((c) => c.basis === 'known-default' && c.timeoutSeconds === 60)).toBe(true);
    expect(r.notes[0]).toMatch(/No --lb-timeout was given/);
  });

  it('reads protobuf JSON durations', () => {
    expect(durationSeconds('3600s')).toBe(3600);
    expect(durationSeconds('0.250s')).toBe(0.25);
    expect(durationSeconds({ seconds: 5, nanos: 500000000 })).toBe(5.5);
    expect(durationSeconds('1h')).toBeNull();
    expect(durationSeconds(undefined)).toBeNull();
  });
});

describe('bad Envoy input', () => {
  const text = readFileSync(join(FIX, 'config-dump.json'), 'utf8');

  it('places a truncated dump at its last byte and line', () => {
    const cut = text.slice(0, 2000);
    const e = (() => { try { readEnvoyText(cut, 'cut.json'); } catch (err) { return err; } return null; })() as EnvoyInputError;
    expect(e).toBeInstanceOf(EnvoyInputError);
    expect(e.byteOffset).toBe(Buffer.byteLength(cut));
    expect(e.line).toBe(cut.split('\n').length);
    expect(e.oneLine()).toMatch(/^cut\.json: line \d+ \(byte 2000\): truncated JSON/);
  });

  it('places a syntax error where it is', () => {
    const bad = '{\n "configs": [\n  {"@type": "x" "y": 1}\n ]\n}\n';
    expect(firstJsonError(bad)).toEqual({ index: bad.indexOf('"y"'), reason: 'invalid JSON: expected "," or "}" in an object' });
    expect(() => readEnvoyText(bad, 'bad.json')).toThrow(/^bad\.json: line 3 \(byte 32\): invalid JSON: expected "," or "}" in an object$/);
  });

  it('rejects JSON that is not Envoy admin output, and text that is not JSON, naming what it expected', () => {
    expect(() => readEnvoyText('{"stats": 1}', 'x.json')).toThrow(/JSON that is not Envoy admin output flowdoc reads: expected a \/config_dump/);
    expect(() => readEnvoyText('\n\nhello', 'x.txt')).toThrow(/^x\.txt: line 3 \(byte 2\): not Envoy admin output/);
    expect(() => readEnvoyText('   ', 'e.json')).toThrow(/empty input/);
  });
});

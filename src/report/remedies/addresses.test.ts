import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envoyAddress } from '../../envoy/index.js';
import { analyzeSockets, normaliseEndpoint, parseSocketDump } from '../../sockets/index.js';
import { socketRemedies } from '../sockets.js';
import { REPO_ROOT } from '../testing/real.js';

// Real ss and /proc/net/tcp6 output of lab/sockets/run.sh (test/fixtures/sockets/README.md):
// [fd00:215::1]:33418 → [fd00:215::2]:8080 is an IPv6 socket without keepalive.
const FIX = join(REPO_ROOT, 'test/fixtures/sockets');
const dump = (name: string) => parseSocketDump(readFileSync(join(FIX, name), 'utf8'), name);
const lb = (any: number) => ({ lbTimeouts: { any, byServer: new Map<string, number>() } });

describe('remedies take the destination as data from where it was read', () => {
  it('ss and /proc/net/tcp6 addresses are parsed once into host, port and IP version', () => {
    expect(normaliseEndpoint('[fd00:215::2]:8080')).toEqual({ endpoint: { host: 'fd00:215::2', port: 8080, ipVersion: 6 } });
    expect(normaliseEndpoint('fe80::1%eth0:22')).toEqual({ endpoint: { host: 'fe80::1', port: 22, ipVersion: 6 } });
    expect(normaliseEndpoint('10.215.0.2:8082')).toEqual({ endpoint: { host: '10.215.0.2', port: 8082, ipVersion: 4 } });
    const v6 = dump('proc-net-tcp6.txt').snapshots[0]!.rows.find((r) => r.endpoints.peer.host === 'fd00:215::2')!;
    expect(v6.endpoints.peer).toEqual({ host: 'fd00:215::2', port: 8080, ipVersion: 6 });
    expect(v6.peer).toBe('[fd00:215::2]:8080');
  });

  it('a remedy for an IPv6 destination from ss input names its host and port, and the ServiceEntry a /128 of it', () => {
    const r = analyzeSockets([dump('ss-tnoi.txt')], lb(5));
    const d = r.destinations.find((x) => x.destination === '[fd00:215::2]:8080')!;
    expect(d.endpoint).toEqual({ host: 'fd00:215::2', port: 8080, ipVersion: 6 });
    const remedy = socketRemedies(r).find((x) => x.destination === '[fd00:215::2]:8080')!;
    expect(remedy.port).toBe(8080);
    const entry = remedy.snippets.find((s) => s.title.startsWith('Istio ServiceEntry'))!.code;
    expect(entry).toMatch(/addresses:\n\s+- "?fd00:215::2\/128"?/);
    expect(entry).toMatch(/- address: "?fd00:215::2"?\n/);
    expect(entry).toContain('number: 8080');
  });

  it('Envoy addresses: IPv4, bracketed IPv6, a DNS name, and text without a port', () => {
    expect(envoyAddress('10.1.2.3:8080')).toEqual({ host: '10.1.2.3', port: 8080, ipVersion: 4 });
    expect(envoyAddress('[fd00::9]:443')).toEqual({ host: 'fd00::9', port: 443, ipVersion: 6 });
    expect(envoyAddress('backend.lab.svc.cluster.local:80')).toEqual({ host: 'backend.lab.svc.cluster.local', port: 80, ipVersion: null });
    expect(envoyAddress('backend')).toBeNull();
  });
});

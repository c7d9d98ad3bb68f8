import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionsOf } from '../../test/support/analyze.js';
import { runCli } from '../../test/support/io.js';
import { REPO_ROOT } from '../../test/corpus/shared.js';
import { CaptureScript } from '../writer/index.js';
import { formatHostPort } from '../report/address.js';
import { connectionFilter, incidentSummary } from '../report/index.js';

const START = '2024-05-01T10:00:00Z';

/** A request after 900 s idle, reset by a middlebox: one stale-reuse-rst incident per connection. */
function staleCapture(): CaptureScript {
  const cap = new CaptureScript({ start: START });
  for (const [client, server] of [['10.0.0.1:40000', '10.9.9.9:80'], ['[2001:db8::1]:40001', '[2001:db8:0:0:1::9]:443']] as const) {
    const c = cap.tcp({ client, server, serverTtl: 61 });
    c.handshake();
    c.clientSends('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    cap.idle(900);
    c.clientSends('GET /b HTTP/1.1\r\nHost: x\r\n\r\n', { ack: false });
    c.rst('server', { ttl: 63 });
  }
  return cap;
}

describe('endpoints handed on as data', () => {
  it('flows gives each connection its two ends as {host, port}, IPv6 without brackets, beside the display text', async () => {
    const { connections } = await connectionsOf(staleCapture().toPcap());
    expect(connections.map((c) => [c.client, c.server, c.endpoints, c.ipVersion])).toEqual([
      ['10.0.0.1:40000', '10.9.9.9:80', { client: { host: '10.0.0.1', port: 40000 }, server: { host: '10.9.9.9', port: 80 } }, 4],
      ['[2001:db8::1]:40001', '[2001:db8::1:0:0:9]:443', { client: { host: '2001:db8::1', port: 40001 }, server: { host: '2001:db8::1:0:0:9', port: 443 } }, 6],
    ]);
  });

  it('detect carries them onto incidents and destinations; the report builds the Wireshark filter from them', async () => {
    const { result: r } = await connectionsOf(staleCapture().toPcap());
    expect(r.destinations.map((d) => [d.server, d.endpoint]).sort()).toEqual([
      ['10.9.9.9:80', { host: '10.9.9.9', port: 80, ipVersion: 4 }],
      ['[2001:db8::1:0:0:9]:443', { host: '2001:db8::1:0:0:9', port: 443, ipVersion: 6 }],
    ].sort());
    const v6 = r.incidents.find((i) => i.endpoints.ipVersion === 6)!;
    expect(connectionFilter(v6.endpoints)).toBe('ipv6.addr == 2001:db8::1 && ipv6.addr == 2001:db8::1:0:0:9 && tcp.port == 40001 && tcp.port == 443');
    expect(connectionFilter({ client: { host: '10.0.0.1', port: 1 }, server: { host: '10.0.0.2', port: 2 }, ipVersion: 4 }))
      .toBe('ip.addr == 10.0.0.1 && ip.addr == 10.0.0.2 && tcp.port == 1 && tcp.port == 2');
    // The report formats them: brackets for IPv6.
    expect(incidentSummary(v6)).toMatch(/^GET \/b on \[2001:db8::1\]:40001 → \[2001:db8::1:0:0:9\]:443 after 900 s idle/);
    expect(formatHostPort({ host: '2001:db8::1', port: 443 }, 6)).toBe('[2001:db8::1]:443');
    expect(formatHostPort({ host: '10.0.0.1', port: 80 }, 4)).toBe('10.0.0.1:80');
  });

  it('the remedies take the destination address from the data', async () => {
    const { result: r } = await connectionsOf(staleCapture().toPcap());
    const { computeRemedies } = await import('../report/index.js');
    const remedies = computeRemedies(r);
    const v6 = remedies.find((x) => x.destination === '[2001:db8::1:0:0:9]:443')!;
    expect(v6.port).toBe(443);
    expect(v6.snippets.map((s) => s.code).join('\n')).toContain('2001:db8::1:0:0:9');
  });

  it('incidents carry their ends only as data; the report writes client/server, in the JSON just before endpoints', async () => {
    const { result: r } = await connectionsOf(staleCapture().toPcap());
    const { renderJson, renderTable, renderMarkdown, toJsonReport } = await import('../report/index.js');
    for (const i of r.incidents) expect(Object.keys(i).filter((k) => k === 'client' || k === 'server')).toEqual([]);
    const json = toJsonReport(r);
    expect(json.incidents.map((i) => Object.keys(i).slice(0, 5))).toEqual([
      ['kind', 'connection', 'client', 'server', 'endpoints'], ['kind', 'connection', 'client', 'server', 'endpoints'],
    ]);
    expect(json.incidents.map((i) => [i.client, i.server])).toEqual([['10.0.0.1:40000', '10.9.9.9:80'], ['[2001:db8::1]:40001', '[2001:db8::1:0:0:9]:443']]);
    // A re-rendered report (its own client/server strings on the incidents) renders the same.
    const text = renderJson(r);
    const again = JSON.parse(text) as typeof r;
    expect(renderJson(again)).toBe(text);
    expect(renderTable(again)).toBe(renderTable(r));
    expect(renderMarkdown(again)).toBe(renderMarkdown(r));
    expect(renderTable(r)).toContain('[2001:db8::1]:40001');
    expect(renderMarkdown(r)).toContain('`[2001:db8::1]:40001 → [2001:db8::1:0:0:9]:443`');
  });

  it('flowdoc flows --host and --port match the data, IPv6 included', async () => {
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'flowdoc-endpoints-'));
    const file = join(dir, 'two.pcap');
    (await import('node:fs')).writeFileSync(file, staleCapture().toPcap());
    const v6 = await runCli(['flows', '-f', 'ndjson', '--host', '2001:db8::1:0:0:9', file]);
    expect(v6.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { server: string }).server)).toEqual(['[2001:db8::1:0:0:9]:443']);
    const port = await runCli(['flows', '-f', 'ndjson', '--port', '40000', file]);
    expect(port.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { client: string }).client)).toEqual(['10.0.0.1:40000']);
    (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
  });
});

/**
 * Address text is parsed only where it enters flowdoc from outside (ss output, /proc/net/tcp,
 * access-log fields, Envoy config, HTTP Host headers, the capture writer's scripts). Stages hand
 * each other endpoints as data, so nowhere else may split `ip:port` text.
 */
const PARSES_INPUT: Readonly<Record<string, string>> = {
  'src/sockets/parse.ts': '`ss -tino` output',
  'src/sockets/proc.ts': '/proc/net/tcp hex addresses',
  'src/correlate/correlate.ts': 'access-log address fields (UPSTREAM_LOCAL_ADDRESS …) in their several spellings',
  'src/envoy/config.ts': 'Envoy config_dump socket addresses and /clusters host addresses (envoyAddress)',
  'src/report/remedies/index.ts': 'Host headers / :authority / SNI (a name, with or without a port)',
  'src/writer/address.ts': 'test scripts name endpoints as text',
};

describe('no stage parses an address another stage formatted', () => {
  it('split(":"), lastIndexOf(":") and startsWith("[") appear only where address text comes in from outside', () => {
    const walk = (d: string): string[] => readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : []; });
    const found = walk(join(REPO_ROOT, 'src'))
      .filter((f) => /split\(':'\)|lastIndexOf\(':'\)|startsWith\('\['\)/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(REPO_ROOT, f));
    expect(found.filter((f) => !(f in PARSES_INPUT))).toEqual([]);
  });
});

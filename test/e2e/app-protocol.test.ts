import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Connection } from '../../src/flows/index.js';
import { HAVE_SHARED, REAL, REPO_ROOT } from '../corpus/shared.js';
import { connectionsOf } from '../support/analyze.js';
import { runCli } from '../support/io.js';

const H2 = join(REPO_ROOT, 'captures/h2-rst-after-idle');
const HTTP1 = join(REPO_ROOT, 'captures/rst-after-idle');

interface LabRequest { id: string; method: string; path: string; streamId: number; outcome: string; local: string }

async function connections(file: string): Promise<Connection[]> {
  return (await connectionsOf(readFileSync(file))).connections;
}

describe('the application protocol of each connection', () => {
  it('reads h2c by the client preface on the lab capture made with node:http2, every request with its stream, method, path and request id', async () => {
    const run = JSON.parse(readFileSync(join(H2, 'client-run.json'), 'utf8')) as { requests: LabRequest[] };
    const conns = await connections(join(H2, 'client-any.pcap'));
    expect(conns.map((c) => c.appProtocol)).toEqual(['h2c', 'h2c']);
    for (const c of conns) {
      expect(c.h2).toMatchObject({ via: 'prior-knowledge', hpackFromStart: true, unknownHeaderFields: 0 });
      expect(c.alpn).toBeNull();
      // What the client says it sent on this connection, stream by stream, is what flowdoc decoded.
      const sent = run.requests.filter((r) => r.local === c.client).map((r) => ({ streamId: r.streamId, method: r.method, path: r.path, requestId: r.id }));
      const decoded = c.app.filter((m) => m.kind === 'http-request').map((m) => ({ streamId: m.streamId, method: m.method, path: m.path, requestId: m.requestId }));
      expect(decoded).toEqual(sent);
      expect(c.h2!.streams).toBe(sent.length);
      expect(c.h2!.highestStreamId).toBe(Math.max(...sent.map((s) => s.streamId)));
    }
    // The pooled connection's three answered streams; the two after the idle gap got no answer.
    expect(conns[0]!.app.filter((m) => m.kind === 'http-response').map((m) => [m.streamId, m.status])).toEqual([[1, 200], [3, 200], [5, 200]]);
    // The replacement connection closed politely: both sides' GOAWAY, the server's naming stream 1.
    expect(conns[1]!.h2!.goaway).toMatchObject({ from: 'client', lastStreamId: 0, errorCode: 'NO_ERROR' });
    expect(conns[1]!.app.filter((m) => m.kind === 'h2-goaway' && m.from === 'server').map((m) => m.lastStreamId)).toContain(1);
  });

  it('reads http/1.1 from request lines and leaves h2 and alpn empty', async () => {
    const conns = await connections(join(HTTP1, 'client-any.pcap'));
    expect(conns.length).toBeGreaterThan(0);
    for (const c of conns) {
      expect(c.appProtocol).toBe('http/1.1');
      expect(c.h2).toBeNull();
      expect(c.alpn).toBeNull();
    }
  });

  it('shows the protocol in the flows table, beside the endpoints', async () => {
    const r = await runCli(['flows', join(H2, 'client-any.pcap')]);
    expect(r.code).toBe(0);
    const head = r.stdout.split('\n').find((l) => l.includes('client → server'))!;
    expect(head).toMatch(/client → server\s+app\s+state/);
    const rows = r.stdout.split('\n').filter((l) => l.includes('10.200.9.9:80'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/ h2c\s+(RSTR|SF)\s/);
    const h1 = await runCli(['flows', join(HTTP1, 'client-any.pcap')]);
    expect(h1.stdout.split('\n').filter((l) => l.includes('10.200.9.9:80')).every((l) => /:80  http\/1\.1  /.test(l))).toBe(true);
  });

  it('carries appProtocol, alpn and h2 in flows JSON', async () => {
    const r = await runCli(['flows', '-f', 'ndjson', '--state', 'RSTR', join(H2, 'client-any.pcap')]);
    const [row] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(row).toMatchObject({ appProtocol: 'h2c', alpn: null, h2: { via: 'prior-knowledge', streams: 5, highestStreamId: 9, goaway: null } });
  });
});

describe.skipIf(!HAVE_SHARED)('ALPN in the TLS hellos of real captures (../shared corpus; tshark agrees)', () => {
  it('reads h2 when the ServerHello selects it (nDPI tls_long_cert.pcap: offered h2,http/1.1, selected h2)', async () => {
    const conns = await connections(join(REAL, 'nDPI/tests/cfgs/default/pcap/tls_long_cert.pcap'));
    expect(conns).toHaveLength(1);
    expect(conns[0]).toMatchObject({ appProtocol: 'h2', sni: 'www.repubblica.it', alpn: { offered: ['h2', 'http/1.1'], selected: 'h2' }, h2: null });
    const r = await runCli(['flows', join(REAL, 'nDPI/tests/cfgs/default/pcap/tls_long_cert.pcap')]);
    expect(r.stdout).toMatch(/:443  h2\s+SF /);
  });

  it('says tls, with what was offered, when the choice is not visible (TLS 1.3 sends it encrypted: zeek openjdk-25.0.2-zeek.org.pcap)', async () => {
    const file = join(REAL, 'zeek/testing/btest/Traces/tls/openjdk-25.0.2-zeek.org.pcap');
    const conns = await connections(file);
    expect(conns).toHaveLength(1);
    expect(conns[0]).toMatchObject({ appProtocol: 'tls', sni: 'zeek.org', alpn: { offered: ['h2', 'http/1.1'], selected: null } });
    const r = await runCli(['flows', file]);
    expect(r.stdout).toMatch(/:443  tls h2\?\s+S1 /);
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionsOf } from '../../test/support/analyze.js';
import { generateHeld, generateSynFlood } from './generate.js';

const dir = mkdtempSync(join(tmpdir(), 'flowdoc-bench-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the benchmark SYN flood', () => {
  it('is one unanswered SYN from each of N unique tuples: N half-open (S0) connections, all live at once', async () => {
    const g = generateSynFlood({ path: join(dir, 'flood.pcap'), format: 'pcap', tuples: 5000 });
    expect(g.packets).toBe(5000);
    const { connections, result } = await connectionsOf(readFileSync(g.path));
    expect(connections).toHaveLength(5000);
    expect(new Set(connections.map((c) => `${c.client} ${c.server}`)).size).toBe(5000);
    expect(connections.every((c) => c.state === 'S0' && c.history === 'S' && c.server === '10.40.0.10:443')).toBe(true);
    expect(result.summary.peakLiveConnections).toBe(5000);
  });

  it('is the same bytes for the same seed', () => {
    const a = generateSynFlood({ path: join(dir, 'a.pcap'), format: 'pcap', tuples: 300, seed: 7 });
    const b = generateSynFlood({ path: join(dir, 'b.pcap'), format: 'pcap', tuples: 300, seed: 7 });
    expect(readFileSync(a.path).equals(readFileSync(b.path))).toBe(true);
  });
});

describe('the held capture (conn-bytes.ts measures the table on it)', () => {
  it('is N established connections that carried traffic, none closed: all N live at the end', async () => {
    const g = generateHeld({ path: join(dir, 'held.pcap'), format: 'pcap', connections: 400 });
    const { connections, result } = await connectionsOf(readFileSync(g.path));
    expect(connections).toHaveLength(400);
    expect(result.summary.peakLiveConnections).toBe(400);
    expect(connections.every((c) => c.state === 'S1' && c.endReason === 'capture-end' && c.clientStats.payloadBytes > 0 && c.serverStats.payloadBytes > 0)).toBe(true);
    // Three in four HTTP/1.1 (two exchanges each), one in four a Redis-like client.
    const http = connections.filter((c) => c.appProtocol === 'http/1.1');
    expect(http).toHaveLength(300);
    expect(http.every((c) => c.app.filter((m) => m.kind === 'http-request').length === 2)).toBe(true);
  });
});

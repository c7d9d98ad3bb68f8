/**
 * HTTP heads that never end. The sniffer collects a head split over segments up to 16 KiB
 * (MAX_PENDING_HEAD), then reads what it has and moves on: one connection sending megabytes of
 * header lines costs 16 KiB, not megabytes, and the report says a head was cut. Many connections
 * each holding a few unfinished bytes (Slowloris) cost a few hundred bytes each, not 16 KiB.
 * What is held is the table's own count (summary.peakBufferedBytes, exact), not a sample of
 * process memory, so the bound holds the same on every run.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import type { Connection } from '../../src/flows/index.js';
import { CaptureScript } from '../../src/writer/index.js';
import { MAX_PENDING_HEAD } from '../../src/flows/app/sniffer.js';
import { FLAGS, MIB, TCP, put16, put32, tcpPacket, tempDir, writeRawPcap } from './support.js';
import { writeFileSync } from 'node:fs';

describe('a client that sends header lines for megabytes without the blank line', () => {
  it('costs the sniffer its 16 KiB cap, reports the request once, and warns that the head was cut', async () => {
    const { dir, remove } = tempDir();
    try {
      const cap = new CaptureScript({ start: '2024-05-01T10:00:00Z', seed: 1 });
      const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
      c.handshake();
      const line = 'X-Filler: ' + 'a'.repeat(100) + '\r\n';
      const head = 'GET /endless HTTP/1.1\r\nHost: api.internal\r\n' + line.repeat(Math.ceil((4 * MIB) / line.length));
      c.clientSends(head, { segmentSize: 1400, ack: false });
      const file = join(dir, 'endless-head.pcap');
      writeFileSync(file, cap.toPcap());
      const conns: Connection[] = [];
      const result = await analyzeCapture(file, { onConnection: (x) => conns.push(x) });
      expect(conns).toHaveLength(1);
      const conn = conns[0]!;
      expect(conn.clientStats.payloadBytes).toBe(head.length);
      expect(conn.app.filter((m) => m.kind === 'http-request')).toEqual([
        expect.objectContaining({ method: 'GET', path: '/endless', host: 'api.internal' }),
      ]);
      expect(conn.anomalyCounts['http-head-too-long']).toBe(1);
      expect(result.warnings).toContain('1 HTTP head was longer than 16 KiB without ending (headers that never end?): only its first 16 KiB were read');
      // The buffer grew by doubling from 2 × 1400 bytes and stopped at the cap: 16 KiB, not 4 MiB.
      expect(result.summary.peakBufferedBytes).toBe(MAX_PENDING_HEAD);
    } finally {
      remove();
    }
  });
});

describe('twenty thousand connections that each send an unfinished head (Slowloris)', () => {
  it('hold a small buffer each for the unfinished bytes, not 16 KiB', async () => {
    const { dir, remove } = tempDir();
    try {
      const payload = Buffer.from('GET /slow HTTP/1.1\r\nX-a: b\r\n', 'latin1');
      const template = new Uint8Array(40 + payload.length);
      template.set(tcpPacket('10.0.0.0', '10.9.9.9', 1024, 80, FLAGS.ACK | FLAGS.PSH, payload.length));
      template.set(payload, 40);
      const N = 20_000;
      const file = join(dir, 'slowloris.pcap');
      writeRawPcap(file, template, N, (i, p) => {
        p[14] = (i >>> 8) & 0xff;
        p[15] = i & 0xff;
        put16(p, TCP.SRC_PORT, 32768 + (i % 20_000));
        put32(p, TCP.SEQ, 1000);
        return 1_714_557_600_000_000 + i * 100;
      });
      const result = await analyzeCapture(file);
      expect(result.summary.connections).toBe(N);
      // Every connection is still live (unfinished) when the capture ends, each holding the
      // smallest buffer (256 bytes) for its 28 unfinished bytes.
      expect(result.summary.peakLiveConnections).toBe(N);
      expect(result.summary.peakBufferedBytes).toBe(N * 256);
    } finally {
      remove();
    }
  });
});

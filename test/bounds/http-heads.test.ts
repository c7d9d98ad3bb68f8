/**
 * HTTP heads that never end. The sniffer collects a head split over segments up to 16 KiB
 * (MAX_PENDING_HEAD), then reads what it has and moves on: one connection sending megabytes of
 * header lines costs 16 KiB, not megabytes, and the report says a head was cut. Many connections
 * each holding a few unfinished bytes (Slowloris) cost a few hundred bytes each, not 16 KiB.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import type { Connection } from '../../src/flows/index.js';
import { CaptureScript } from '../../src/writer/index.js';
import { FLAGS, MIB, PeakMemory, TCP, put16, put32, tcpPacket, tempDir, writeRawPcap } from './support.js';
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
      const mem = new PeakMemory();
      const conns: Connection[] = [];
      const result = await analyzeCapture(file, { onConnection: (x) => { mem.sample(); conns.push(x); } });
      expect(conns).toHaveLength(1);
      const conn = conns[0]!;
      expect(conn.clientStats.payloadBytes).toBe(head.length);
      expect(conn.app.filter((m) => m.kind === 'http-request')).toEqual([
        expect.objectContaining({ method: 'GET', path: '/endless', host: 'api.internal' }),
      ]);
      expect(conn.anomalyCounts['http-head-too-long']).toBe(1);
      expect(result.warnings).toContain('1 HTTP head was longer than 16 KiB without ending (headers that never end?): only its first 16 KiB were read');
      expect(mem.growth).toBeLessThan(16 * MIB);
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
      const mem = new PeakMemory();
      let finished = 0;
      // Every connection is still live (unfinished) when the capture ends: sample as they are handed on.
      const result = await analyzeCapture(file, { onConnection: () => { if (finished++ === 0) mem.sample(); } });
      expect(result.summary.connections).toBe(N);
      expect(mem.growth / N).toBeLessThan(4096);
    } finally {
      remove();
    }
  });
});

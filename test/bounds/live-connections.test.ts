/**
 * Memory grows with the connections open at once, never with the file size: a connection keeps
 * copies of what it needs from its packets, not views of the reader's 1 MiB chunks. And a
 * long-lived connection with more idle gaps than its record keeps still has the gap that matters.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import { MAX_IDLE_GAPS } from '../../src/flows/live.js';
import { CaptureScript } from '../../src/writer/index.js';
import { FLAGS, MIB, PeakMemory, TCP, put16, tcpPacket, tempDir, writeRawPcap } from './support.js';

describe('connections that stay open across a large capture', () => {
  it('hold their own few bytes, not the chunks of the file they were first seen in', async () => {
    const { dir, remove } = tempDir();
    try {
      // 400 connections, each opened after 45 full-size UDP packets: one every ~64 KiB of file.
      const file = join(dir, 'long-lived.pcap');
      const template = new Uint8Array(1440);
      const udp = tcpPacket('10.1.1.1', '10.1.1.2', 1, 2, 0, 1400);
      udp[9] = 17;
      const N = 400, EVERY = 46;
      const bytes = writeRawPcap(file, template, N * EVERY, (i, p) => {
        if (i % EVERY === 0) {
          const k = i / EVERY;
          p.set(tcpPacket('10.0.0.0', '10.9.9.9', 40000, 80, FLAGS.SYN));
          p[14] = k >> 8;
          p[15] = k & 0xff;
          put16(p, TCP.SRC_PORT, 40000 + k);
        } else {
          p.set(udp);
        }
        return 1_714_557_600_000_000 + i * 1000;
      });
      expect(bytes).toBeGreaterThan(25 * MIB);
      const mem = new PeakMemory();
      let finished = 0;
      const result = await analyzeCapture(file, { onConnection: () => { if (finished++ === 0) mem.sample(); } });
      expect(result.summary.connections).toBe(N);
      // All 400 are live when the first is handed on: a few KiB each, not a 1 MiB chunk per 16.
      expect(mem.growth).toBeLessThan(6 * MIB);
    } finally {
      remove();
    }
  });
});

describe(`a connection with more than ${MAX_IDLE_GAPS} idle gaps`, () => {
  it('still records the last gap, so a stale reuse after it is found as one', async () => {
    const { dir, remove } = tempDir();
    try {
      const cap = new CaptureScript({ start: '2024-05-01T10:00:00Z', seed: 1 });
      const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80', serverTtl: 63 });
      c.handshake();
      // A request every 11 s (above the 10 s threshold) for more than three hours, each answered.
      for (let i = 0; i < MAX_IDLE_GAPS + 100; i++) {
        cap.idle(11);
        c.clientSends('GET /health HTTP/1.1\r\nHost: a\r\n\r\n');
        c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      }
      cap.idle(30);
      c.clientSends('GET /items HTTP/1.1\r\nHost: a\r\n\r\n', { ack: false });
      const [rst] = c.rst('server', { ttl: 64 });
      const file = join(dir, 'many-gaps.pcap');
      writeFileSync(file, cap.toPcap());
      const conns: import('../../src/flows/index.js').Connection[] = [];
      const result = await analyzeCapture(file, { onConnection: (x) => conns.push(x) });
      expect(result.incidents.map((i) => [i.kind, i.frames.rst])).toEqual([['stale-reuse-rst', rst]]);
      expect(conns[0]!.idleGaps).toHaveLength(MAX_IDLE_GAPS);
      expect(conns[0]!.idleGaps.at(-1)!.seconds).toBeCloseTo(30, 3);
      expect(conns[0]!.anomalyCounts['idle-gap-dropped']).toBe(101);
    } finally {
      remove();
    }
  });
});

/**
 * Memory grows with the connections open at once, never with the file size: a connection keeps
 * copies of what it needs from its packets, not views of the reader's 1 MiB chunks. What the
 * table holds is its own count (summary.peakBufferedBytes, in whole backing buffers), exact on
 * every run. And a
 * long-lived connection with more idle gaps than its record keeps still has the gap that matters.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import { MAX_IDLE_GAPS } from '../../src/flows/live.js';
import { CaptureScript } from '../../src/writer/index.js';
import { FLAGS, MIB, tcpPacket, tempDir, writeRawPcap } from './support.js';

/** 400 connections, each opened (a SYN, from `syn(k)`) after 45 full-size UDP packets: one every ~64 KiB of file. */
function writeLongLived(file: string, syn: (k: number) => Uint8Array): { bytes: number; connections: number } {
  const template = new Uint8Array(1440);
  const udp = tcpPacket('10.1.1.1', '10.1.1.2', 1, 2, 0, 1400);
  udp[9] = 17;
  const N = 400, EVERY = 46;
  const bytes = writeRawPcap(file, template, N * EVERY, (i, p) => {
    p.fill(0);
    p.set(i % EVERY === 0 ? syn(i / EVERY) : udp);
    return 1_714_557_600_000_000 + i * 1000;
  });
  return { bytes, connections: N };
}

describe('connections that stay open across a large capture', () => {
  it('hold their own few bytes, not the chunks of the file they were first seen in (IPv4: nothing but numbers)', async () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, 'long-lived.pcap');
      const { bytes, connections } = writeLongLived(file, (k) => {
        const p = tcpPacket('10.0.0.0', '10.9.9.9', 40000 + k, 80, FLAGS.SYN);
        p[14] = k >> 8;
        p[15] = k & 0xff;
        return p;
      });
      expect(bytes).toBeGreaterThan(25 * MIB);
      // Unanswered SYNs 46 ms apart: kept to the end (no attempt timeout), so all 400 are live at once.
      const result = await analyzeCapture(file, { attemptTimeoutSeconds: 0 });
      expect(result.summary.connections).toBe(connections);
      // All 400 are live at once (none ever closes), and the table holds no buffer for them.
      expect(result.summary.peakLiveConnections).toBe(connections);
      expect(result.summary.peakBufferedBytes).toBe(0);
    } finally {
      remove();
    }
  });

  it('keep IPv6 addresses as 16-byte copies of their own, not views into the reader\'s 1 MiB chunks', async () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, 'long-lived-v6.pcap');
      const { connections } = writeLongLived(file, (k) => tcp6Syn(k));
      const result = await analyzeCapture(file, { attemptTimeoutSeconds: 0 });
      expect(result.summary.connections).toBe(connections);
      expect(result.summary.peakLiveConnections).toBe(connections);
      // The account counts whole backing buffers: a view into a chunk would count the chunk.
      expect(result.summary.peakBufferedBytes).toBe(connections * 2 * 16);
    } finally {
      remove();
    }
  });
});

/** A 60-byte IPv6/TCP SYN from 2001:db8::<k> port 40000 + k to 2001:db8::9:9 port 80. */
function tcp6Syn(k: number): Uint8Array {
  const b = new Uint8Array(60);
  const v = new DataView(b.buffer);
  b[0] = 0x60;
  v.setUint16(4, 20); // payload length: the TCP header
  b[6] = 6; // next header: TCP
  b[7] = 64;
  b.set([0x20, 0x01, 0x0d, 0xb8], 8);
  v.setUint16(22, k);
  b.set([0x20, 0x01, 0x0d, 0xb8], 24);
  v.setUint16(36, 9);
  v.setUint16(38, 9);
  v.setUint16(40, 40000 + k);
  v.setUint16(42, 80);
  v.setUint32(44, Math.imul(k + 1, 2654435761) >>> 0);
  b[52] = 0x50;
  b[53] = FLAGS.SYN;
  v.setUint16(54, 64240);
  return b;
}

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

/**
 * A SYN flood: a million distinct 4-tuples, each a connection that never completes. With
 * `maxConnections` the table evicts the longest-idle tenth whenever it is full, so memory stays
 * bounded by the cap, not by the million; the report says how many connections were evicted.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import { runCli } from '../support/io.js';
import { FLAGS, TCP, put16, put32, tcpPacket, tempDir, writeRawPcap } from './support.js';

const T0 = 1_714_557_600_000_000; // 2024-05-01T10:00:00Z

/** SYNs from 10.x.y.z (a different source for every packet) to one server, 100,000 a second. */
function writeSynFlood(file: string, count: number): void {
  writeRawPcap(file, tcpPacket('10.0.0.0', '10.9.9.9', 1024, 443, FLAGS.SYN), count, (i, p) => {
    p[13] = (i >>> 16) & 0xff;
    p[14] = (i >>> 8) & 0xff;
    p[15] = i & 0xff;
    put16(p, TCP.SRC_PORT, 1024 + (i % 60_000));
    put32(p, TCP.SEQ, Math.imul(i, 2654435761) >>> 0);
    return T0 + i * 10;
  });
}

describe('a SYN flood of a million distinct 4-tuples', () => {
  it('is analysed with memory bounded by --max-connections, and the report counts the evicted connections', async () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, 'syn-flood.pcap');
      const N = 1_000_000;
      const MAX = 10_000;
      writeSynFlood(file, N);
      let finished = 0;
      const result = await analyzeCapture(file, { maxConnections: MAX, onConnection: () => { finished++; } });
      expect(finished).toBe(N);
      expect(result.capture.error).toBeNull();
      expect(result.summary.connections).toBe(N);
      expect(result.summary.peakLiveConnections).toBe(MAX);
      // Each time the table is full the longest-idle tenth (1,000) goes: 990 times after the first 10,000.
      expect(result.summary.evicted).toBe(N - MAX);
      expect(result.warnings).toContain(`${N - MAX} connections were evicted because more than the maximum were open at once (--max-connections); their later packets start new, partial connections`);
      // 10,000 live connections at most (above), and no buffers held for them: the table's own
      // count, exact on every run (not a sample of process memory, which depends on the GC).
      expect(result.summary.peakBufferedBytes).toBe(0);
    } finally {
      remove();
    }
  });

  it('shows the eviction warning on the command line too', async () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, 'syn-flood.pcap');
      writeSynFlood(file, 20_000);
      const r = await runCli(['analyze', '--max-connections', '1000', '--format', 'json', file]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).warnings).toContain('19000 connections were evicted because more than the maximum were open at once (--max-connections); their later packets start new, partial connections');
      const table = await runCli(['analyze', '--max-connections', '1000', file]);
      expect(table.stdout).toMatch(/19000 connections were evicted/);
    } finally {
      remove();
    }
  });
});

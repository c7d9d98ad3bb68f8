/**
 * One connection, millions of odd segments: out of order, or a storm of RSTs with a new sequence
 * number each. Everything a connection record keeps is bounded (counters grow, lists and the
 * history do not), so memory stays flat and the record stays small.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import type { Connection } from '../../src/flows/index.js';
import { RECORD_BOUNDS } from '../../src/fuzz/targets.js';
import { FLAGS, TCP, put32, tcpPacket, tempDir, writeRawPcap } from './support.js';

const T0 = 1_714_557_600_000_000;
const CLIENT_ISN = 1_000_000;
const SERVER_ISN = 2_000_000;

/** SYN, SYN-ACK, ACK, then `count` packets made by `segment(i, packet)`. */
function writeConnection(file: string, count: number, segment: (i: number, p: Uint8Array) => void, payloadLength = 0): void {
  const template = tcpPacket('10.0.0.1', '10.0.0.2', 40000, 80, FLAGS.ACK, payloadLength);
  writeRawPcap(file, template, count + 3, (i, p) => {
    if (i === 0) { p.set(tcpPacket('10.0.0.1', '10.0.0.2', 40000, 80, FLAGS.SYN)); put32(p, TCP.SEQ, CLIENT_ISN); }
    else if (i === 1) { p.set(tcpPacket('10.0.0.2', '10.0.0.1', 80, 40000, FLAGS.SYN | FLAGS.ACK)); put32(p, TCP.SEQ, SERVER_ISN); put32(p, TCP.ACK, CLIENT_ISN + 1); }
    else if (i === 2) { p.set(tcpPacket('10.0.0.1', '10.0.0.2', 40000, 80, FLAGS.ACK)); put32(p, TCP.SEQ, CLIENT_ISN + 1); put32(p, TCP.ACK, SERVER_ISN + 1); }
    else segment(i - 3, p);
    return T0 + i * 10;
  });
}

async function analyseOne(file: string): Promise<{ conn: Connection; warnings: string[] }> {
  const conns: Connection[] = [];
  const result = await analyzeCapture(file, { onConnection: (c) => conns.push(c) });
  expect(result.capture.error).toBeNull();
  expect(conns).toHaveLength(1);
  // One connection live, and no buffer held for it (no payload was captured): what the table holds
  // is its own count, so this is exact on every run.
  expect(result.summary.peakLiveConnections).toBe(1);
  expect(result.summary.peakBufferedBytes).toBe(0);
  return { conn: conns[0]!, warnings: result.warnings };
}

describe('one connection with a million segments out of order', () => {
  it('counts them with flat memory and a short record', async () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, 'out-of-order.pcap');
      const N = 1_000_000;
      const SEG = 1400; // on the wire; the capture keeps the 40 header bytes (a snap length cut)
      // Segment k of the stream is sent as packet (k · 7919) mod N: ahead of and behind what came before.
      writeConnection(file, N, (i, p) => {
        const k = (i * 7919) % N;
        put32(p, TCP.SEQ, (CLIENT_ISN + 1 + k * SEG) >>> 0);
        put32(p, TCP.ACK, SERVER_ISN + 1);
        p[TCP.FLAGS] = FLAGS.ACK | FLAGS.PSH;
      }, SEG);
      const { conn } = await analyseOne(file);
      const c = conn.clientStats;
      expect(c.packets).toBe(N + 2);
      expect(c.segmentsNotCaptured + c.retransmissions).toBeGreaterThan(N / 2);
      expect(conn.anomalyCounts['previous-segment-not-captured']).toBe(c.segmentsNotCaptured);
      expect(conn.anomalies.length).toBeLessThanOrEqual(RECORD_BOUNDS.anomalies);
      expect(conn.history.length).toBeLessThanOrEqual(RECORD_BOUNDS.history);
      expect(JSON.stringify(conn).length).toBeLessThan(64 * 1024);
    } finally {
      remove();
    }
  });
});

describe('one connection hit by a storm of RSTs, FINs and SYN-ACKs with changing sequence numbers', () => {
  it('keeps its history short (10 repeats, then the 100th, 1000th …)', async () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, 'rst-storm.pcap');
      const N = 300_000;
      writeConnection(file, N, (i, p) => {
        const kind = i % 3;
        if (kind === 0) p.set(tcpPacket('10.0.0.2', '10.0.0.1', 80, 40000, FLAGS.RST));
        else if (kind === 1) p.set(tcpPacket('10.0.0.2', '10.0.0.1', 80, 40000, FLAGS.FIN | FLAGS.ACK));
        else p.set(tcpPacket('10.0.0.2', '10.0.0.1', 80, 40000, FLAGS.SYN | FLAGS.ACK));
        put32(p, TCP.SEQ, Math.imul(i + 1, 2654435761) >>> 0);
      });
      const { conn } = await analyseOne(file);
      expect(conn.serverStats.rsts).toBe(N / 3);
      expect(conn.serverStats.fins).toBe(N / 3);
      // r, f and h (100,000 each, the handshake's h included): the first 10, then the 100th,
      // 1000th, 10,000th and 100,000th. The jumping sequence numbers add g (gaps), log scale too.
      const count = (l: string) => [...conn.history].filter((x) => x === l).length;
      expect(conn.history.startsWith('ShA')).toBe(true);
      expect([count('r'), count('f'), count('h')]).toEqual([14, 14, 14]);
      expect(count('g')).toBeLessThanOrEqual(6);
      expect(conn.history.length).toBeLessThanOrEqual(RECORD_BOUNDS.history);
    } finally {
      remove();
    }
  });
});

/**
 * Helpers for the resource-bound tests: captures of millions of packets written straight to a
 * temporary file from one template packet (fast: a few hundred ms per million). Memory is never
 * measured here: what the analysis holds is its own count (summary.peakBufferedBytes,
 * peakLiveConnections), exact on every run; process memory belongs in `npm run bench`.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MIB = 1024 * 1024;

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'flowdoc-bounds-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** IPv4 + TCP header of a template segment (no options), filled by `tcpPacket`. */
export const IP = { TOTAL_LENGTH: 2, SRC: 12, DST: 16 } as const;
export const TCP = { SRC_PORT: 20, DST_PORT: 22, SEQ: 24, ACK: 28, FLAGS: 33, WINDOW: 34 } as const;
export const FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** Big-endian stores into a packet. */
export function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** A 40-byte IPv4/TCP header with the given addresses, ports and flags; `payloadLength` only sets the IP length. */
export function tcpPacket(src: string, dst: string, sport: number, dport: number, flags: number, payloadLength = 0, ttl = 64): Uint8Array {
  const b = new Uint8Array(40);
  const v = new DataView(b.buffer);
  b[0] = 0x45;
  v.setUint16(IP.TOTAL_LENGTH, 40 + payloadLength);
  b[8] = ttl;
  b[9] = 6;
  b.set(src.split('.').map(Number), IP.SRC);
  b.set(dst.split('.').map(Number), IP.DST);
  v.setUint16(TCP.SRC_PORT, sport);
  v.setUint16(TCP.DST_PORT, dport);
  b[32] = 0x50; // data offset 5
  b[TCP.FLAGS] = flags;
  v.setUint16(TCP.WINDOW, 64240);
  return b;
}

/**
 * Writes a classic pcap (LINKTYPE_RAW, µs) of `count` packets to `file`. `fill(i, packet)`
 * rewrites the template copy in place for packet i and returns its time in µs. Every record
 * captures the template's length; its original length is what the IP length says (a snap-length
 * cut when that is more). Returns the bytes written.
 */
export function writeRawPcap(file: string, template: Uint8Array, count: number, fill: (i: number, packet: Uint8Array) => number): number {
  const recordLength = 16 + template.length;
  const perChunk = Math.max(1, Math.floor(MIB / recordLength));
  const chunk = new Uint8Array(perChunk * recordLength);
  const cv = new DataView(chunk.buffer);
  const fd = openSync(file, 'w');
  let bytes = 0;
  try {
    const header = new Uint8Array(24);
    const hv = new DataView(header.buffer);
    hv.setUint32(0, 0xa1b2c3d4, true);
    hv.setUint16(4, 2, true);
    hv.setUint16(6, 4, true);
    hv.setUint32(16, 262_144, true);
    hv.setUint32(20, 101, true);
    bytes += writeSync(fd, header);
    for (let i = 0; i < count;) {
      const n = Math.min(perChunk, count - i);
      for (let k = 0; k < n; k++, i++) {
        const at = k * recordLength;
        chunk.set(template, at + 16);
        const packet = chunk.subarray(at + 16, at + recordLength);
        const micros = fill(i, packet);
        cv.setUint32(at, Math.floor(micros / 1e6), true);
        cv.setUint32(at + 4, micros % 1e6, true);
        cv.setUint32(at + 8, template.length, true);
        cv.setUint32(at + 12, Math.max(template.length, (packet[2]! << 8) | packet[3]!), true);
      }
      bytes += writeSync(fd, chunk, 0, n * recordLength);
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

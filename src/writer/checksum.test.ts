import { describe, expect, it } from 'vitest';
import { finishChecksum, internetChecksum, pseudoHeaderSum, sum16 } from './checksum.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g) ?? [], (h) => parseInt(h, 16));

describe('internet checksum', () => {
  it('matches the worked example of RFC 1071 §3', () => {
    // 0001 f203 f4f5 f6f7 sums to 0xddf2; the checksum is its complement.
    expect(sum16(hex('0001f203f4f5f6f7'))).toBe(0x2ddf0);
    expect(internetChecksum(hex('0001f203f4f5f6f7'))).toBe(0x220d);
  });

  it('gives the well-known IPv4 header checksum 0xb861', () => {
    // 192.168.0.1 → 192.168.0.199, UDP, total length 0x73, DF, TTL 64, checksum field zeroed.
    expect(internetChecksum(hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7'))).toBe(0xb861);
  });

  it('verifies to zero over a header that carries its checksum', () => {
    expect(internetChecksum(hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7'))).toBe(0);
  });

  it('pads an odd final byte with zero', () => {
    expect(internetChecksum(hex('0102 03'))).toBe(finishChecksum(0x0102 + 0x0300));
  });

  it('folds carries of a large sum back in', () => {
    const ones = new Uint8Array(200_000).fill(0xff);
    expect(internetChecksum(ones)).toBe(0);
  });

  it('sums the IPv6 pseudo-header length as 32 bits', () => {
    const a = new Uint8Array(16);
    expect(pseudoHeaderSum(a, a, 6, 0x12345)).toBe(6 + 0x1 + 0x2345);
    expect(pseudoHeaderSum(new Uint8Array(4), new Uint8Array(4), 17, 40)).toBe(17 + 40);
  });
});

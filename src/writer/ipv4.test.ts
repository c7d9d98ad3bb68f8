import { describe, expect, it } from 'vitest';
import { internetChecksum } from './checksum.js';
import { ipv4HeaderLength, writeIpv4Header, type Ipv4Fields } from './ipv4.js';

const SRC = Uint8Array.of(192, 168, 0, 1);
const DST = Uint8Array.of(192, 168, 0, 199);

function header(f: Ipv4Fields, payload = 0, protocol = 17): Uint8Array {
  const out = new Uint8Array(ipv4HeaderLength(f));
  writeIpv4Header(out, 0, SRC, DST, protocol, payload, f);
  return out;
}

describe('IPv4 header', () => {
  it('writes the well-known example header with checksum 0xb861', () => {
    const h = header({ ttl: 64, id: 0 }, 0x73 - 20);
    expect([...h]).toEqual([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 192, 168, 0, 1, 192, 168, 0, 199]);
  });

  it('writes a fragment: MF and offset in 8-byte units, DF off by default', () => {
    const h = header({ mf: true, fragmentOffset: 1480, id: 7 }, 100);
    expect((h[6] << 8) | h[7]).toBe(0x2000 | 185);
    expect(internetChecksum(h)).toBe(0);
  });

  it('pads options to 32 bits and counts them in IHL', () => {
    const h = header({ options: Uint8Array.of(0x94, 0x04, 0, 0, 1) }, 0); // router alert + NOP
    expect(h.length).toBe(28);
    expect(h[0]).toBe(0x47);
    expect([...h.subarray(20)]).toEqual([0x94, 0x04, 0, 0, 1, 0, 0, 0]);
    expect(internetChecksum(h)).toBe(0);
  });

  it('rejects options longer than 40 bytes and offsets off the 8-byte grid', () => {
    expect(() => ipv4HeaderLength({ options: new Uint8Array(41) })).toThrow(/do not fit/);
    expect(() => header({ fragmentOffset: 12 })).toThrow(/not a multiple of 8/);
  });

  it('lets a test force a wrong checksum or total length', () => {
    const h = header({ checksum: 0xdead, totalLength: 1000 }, 20);
    expect((h[10] << 8) | h[11]).toBe(0xdead);
    expect((h[2] << 8) | h[3]).toBe(1000);
  });
});

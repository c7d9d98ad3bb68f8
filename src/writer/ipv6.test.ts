import { describe, expect, it } from 'vitest';
import { ipv6HeaderLength, writeIpv6Header, type Ipv6Fields } from './ipv6.js';

const SRC = new Uint8Array(16).fill(0x11);
const DST = new Uint8Array(16).fill(0x22);

function header(f: Ipv6Fields, upper = 20, protocol = 6): Uint8Array {
  const out = new Uint8Array(ipv6HeaderLength(f));
  writeIpv6Header(out, 0, SRC, DST, protocol, upper, f);
  return out;
}

describe('IPv6 header', () => {
  it('writes version, traffic class, flow label, payload length, next header and hop limit', () => {
    const h = header({ trafficClass: 0xb8, flowLabel: 0x12345, hopLimit: 61 });
    expect([...h.subarray(0, 8)]).toEqual([0x6b, 0x81, 0x23, 0x45, 0, 20, 6, 61]);
    expect(h.subarray(8, 24)).toEqual(SRC);
    expect(h.subarray(24, 40)).toEqual(DST);
  });

  it('chains hop-by-hop, routing, fragment and destination options headers to TCP', () => {
    const h = header({
      extensions: [
        { type: 'hop-by-hop' },
        { type: 'routing', routingType: 4, segmentsLeft: 0 },
        { type: 'fragment', offset: 0, more: true, id: 0xabcdef01 },
        { type: 'destination', options: Uint8Array.of(0x1e, 0x01, 0xff) },
      ],
    });
    expect(h.length).toBe(40 + 8 + 8 + 8 + 8);
    expect(h[6]).toBe(0); // fixed header → hop-by-hop
    expect((h[4] << 8) | h[5]).toBe(32 + 20);
    // hop-by-hop: next = routing (43), length 0 (8 bytes), PadN of 4 after 2 bytes of header
    expect([...h.subarray(40, 48)]).toEqual([43, 0, 1, 4, 0, 0, 0, 0]);
    // routing: next = fragment (44), type 4, segments left 0, 4 reserved bytes
    expect([...h.subarray(48, 56)]).toEqual([44, 0, 4, 0, 0, 0, 0, 0]);
    // fragment: next = destination (60), offset 0 with M, id
    expect([...h.subarray(56, 64)]).toEqual([60, 0, 0, 1, 0xab, 0xcd, 0xef, 0x01]);
    // destination options: next = TCP, our 3-byte option, then Pad1 to fill 8
    expect([...h.subarray(64, 72)]).toEqual([6, 0, 0x1e, 0x01, 0xff, 1, 1, 0]);
  });

  it('uses Pad1 when a single byte is left over', () => {
    const h = header({ extensions: [{ type: 'destination', options: Uint8Array.of(5, 3, 0, 0, 0) }] });
    expect([...h.subarray(40, 48)]).toEqual([6, 0, 5, 3, 0, 0, 0, 0]);
  });

  it('writes a fragment offset in place of its 8-byte units', () => {
    const h = header({ extensions: [{ type: 'fragment', offset: 1448 }] });
    expect((h[42] << 8) | h[43]).toBe(1448);
    expect(() => header({ extensions: [{ type: 'fragment', offset: 3 }] })).toThrow(/not a multiple of 8/);
  });
});

import { describe, expect, it } from 'vitest';
import { writeUdp, type UdpDatagram } from './udp.js';

const SRC = Uint8Array.of(10, 0, 0, 1);
const DST = Uint8Array.of(10, 0, 0, 2);

function datagram(d: UdpDatagram, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  writeUdp(out, 0, d, payload, SRC, DST);
  return out;
}

describe('UDP datagram', () => {
  it('writes ports, length and the pseudo-header checksum', () => {
    // Pseudo-header 0a000001 0a000002 0011 000a + header 0035 0035 000a 0000 + "hi" (6869):
    // 0x0a00+0x0001+0x0a00+0x0002+0x0011+0x000a+0x0035+0x0035+0x000a+0x6869 = 0x7cfb → ~ = 0x8304.
    const d = datagram({ srcPort: 53, dstPort: 53 }, Uint8Array.of(0x68, 0x69));
    expect([...d]).toEqual([0, 53, 0, 53, 0, 10, 0x83, 0x04, 0x68, 0x69]);
  });

  it('writes 0 for "no checksum" when asked', () => {
    const d = datagram({ srcPort: 1, dstPort: 2, checksum: false }, new Uint8Array(4));
    expect((d[6] << 8) | d[7]).toBe(0);
  });

  it('sends a computed checksum of 0 as 0xffff', () => {
    // Choose the payload word so that the one's complement sum is 0xffff: then ~sum = 0.
    // Sum without payload: 0x0a00+0x0001+0x0a00+0x0002+0x0011+0x000a + 0x0001+0x0002+0x000a = 0x142b.
    const word = 0xffff - 0x142b;
    const d = datagram({ srcPort: 1, dstPort: 2 }, Uint8Array.of(word >> 8, word & 0xff));
    expect((d[6] << 8) | d[7]).toBe(0xffff);
  });
});

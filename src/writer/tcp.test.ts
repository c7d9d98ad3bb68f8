import { describe, expect, it } from 'vitest';
import { tcpFlags, tcpHeaderLength, tcpOptionsLength, TCP_FLAGS, writeTcp, type TcpSegment } from './tcp.js';

const SRC = Uint8Array.of(10, 0, 0, 1);
const DST = Uint8Array.of(10, 0, 0, 2);

function segment(seg: TcpSegment, payload = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(tcpHeaderLength(seg) + payload.length);
  writeTcp(out, 0, seg, payload, SRC, DST);
  return out;
}

describe('TCP segment', () => {
  it('reads scapy-style flag letters', () => {
    expect(tcpFlags('S')).toBe(TCP_FLAGS.SYN);
    expect(tcpFlags('SA')).toBe(0x12);
    expect(tcpFlags('FPA')).toBe(0x19);
    expect(tcpFlags('RA')).toBe(0x14);
    expect(tcpFlags('EC')).toBe(0xc0);
    expect(tcpFlags(0x1ff)).toBe(0xff);
    expect(() => tcpFlags('SX')).toThrow(/unknown TCP flag letter "X"/);
  });

  it('writes ports, sequence numbers modulo 2^32, data offset, flags, window and urgent pointer', () => {
    const s = segment({ srcPort: 40000, dstPort: 80, seq: 2 ** 32 + 5, ack: -1, flags: 'PAU', window: 0, urgent: 3 });
    const dv = new DataView(s.buffer);
    expect(dv.getUint16(0)).toBe(40000);
    expect(dv.getUint16(2)).toBe(80);
    expect(dv.getUint32(4)).toBe(5);
    expect(dv.getUint32(8)).toBe(0xffffffff);
    expect(s[12]).toBe(0x50);
    expect(s[13]).toBe(0x38);
    expect(dv.getUint16(14)).toBe(0);
    expect(dv.getUint16(18)).toBe(3);
  });

  it('encodes SACK blocks and pads the options with EOL to 32 bits', () => {
    const s = segment({ srcPort: 1, dstPort: 2, seq: 0, flags: 'A', options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [[100, 200]] }, { kind: 'raw', bytes: Uint8Array.of(0xfe, 2) }] });
    expect(s.length).toBe(20 + 16);
    expect(s[12]).toBe(0x90);
    expect([...s.subarray(20)]).toEqual([1, 1, 5, 10, 0, 0, 0, 100, 0, 0, 0, 200, 0xfe, 2, 0, 0]);
  });

  it('rejects more than 40 bytes of options', () => {
    expect(() => tcpOptionsLength(Array.from({ length: 5 }, () => ({ kind: 'timestamps' as const, tsval: 0, tsecr: 0 })))).toThrow(/do not fit/);
  });

  it('lets a test force a wrong checksum', () => {
    const s = segment({ srcPort: 1, dstPort: 2, seq: 0, flags: 'S', checksum: 0xbeef });
    expect((s[16] << 8) | s[17]).toBe(0xbeef);
  });
});

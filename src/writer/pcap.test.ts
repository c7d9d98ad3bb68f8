import { describe, expect, it } from 'vitest';
import { ByteWriter } from './bytes.js';
import { buildPcap, writePcapRecord } from './pcap.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('classic pcap writer', () => {
  it('writes the little-endian µs header: d4c3b2a1, 2.4, snaplen 262144, link type', () => {
    expect(hex(buildPcap({ linkType: 1 }, []))).toBe('d4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000');
  });

  it('writes the big-endian ns header: a1b23c4d', () => {
    expect(hex(buildPcap({ linkType: 113, endian: 'be', nanos: true, snaplen: 65535 }, []))).toBe('a1b23c4d' + '0002' + '0004' + '00000000' + '00000000' + '0000ffff' + '00000071');
  });

  it('writes records as seconds + µs, captured and original length', () => {
    const w = new ByteWriter();
    writePcapRecord(w, { linkType: 1 }, { tsMicros: 1_714_557_600_123_456, data: Uint8Array.of(1, 2, 3) });
    // 1714557600 = 0x663212a0, 123456 = 0x0001e240
    expect(hex(w.toBytes())).toBe('a0123266' + '40e20100' + '03000000' + '03000000' + '010203');
  });

  it('writes nanoseconds from µs + extra ns in an ns file', () => {
    const w = new ByteWriter();
    writePcapRecord(w, { linkType: 1, endian: 'be', nanos: true }, { tsMicros: 1_714_557_600_123_456, tsExtraNanos: 789, data: new Uint8Array(0) });
    // 123456789 = 0x075bcd15
    expect(hex(w.toBytes())).toBe('663212a0' + '075bcd15' + '00000000' + '00000000');
  });

  it('cuts packets longer than the snap length and keeps their original length', () => {
    const file = buildPcap({ linkType: 1, snaplen: 4 }, [{ tsMicros: 0, data: Uint8Array.of(1, 2, 3, 4, 5, 6) }]);
    expect(hex(file.subarray(24))).toBe('00000000' + '00000000' + '04000000' + '06000000' + '01020304');
  });

  it('keeps a given original length longer than the data', () => {
    const file = buildPcap({ linkType: 1 }, [{ tsMicros: 0, data: Uint8Array.of(9), originalLength: 1514 }]);
    expect(hex(file.subarray(24 + 8, 24 + 16))).toBe('01000000' + 'ea050000');
  });
});

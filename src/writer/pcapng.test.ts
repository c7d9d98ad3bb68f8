import { describe, expect, it } from 'vitest';
import { BLOCK_TYPE, PcapngWriter } from './pcapng.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('pcapng writer', () => {
  it('writes a little-endian SHB: type, length 28, byte-order magic, 1.0, section length −1, trailer', () => {
    expect(hex(new PcapngWriter().section().toBytes())).toBe('0a0d0d0a' + '1c000000' + '4d3c2b1a' + '0100' + '0000' + 'ffffffffffffffff' + '1c000000');
  });

  it('writes a big-endian SHB with the magic in big-endian order', () => {
    expect(hex(new PcapngWriter().section({ endian: 'be', version: [1, 2] }).toBytes())).toBe('0a0d0d0a' + '0000001c' + '1a2b3c4d' + '0001' + '0002' + 'ffffffffffffffff' + '0000001c');
  });

  it('writes SHB options padded to 32 bits and closed by opt_endofopt', () => {
    const b = new PcapngWriter().section({ userappl: 'abcde' }).toBytes();
    // 24 fixed + option header 4 + "abcde" padded to 8 + end of options 4 + trailer 4 = 44
    expect(hex(b.subarray(4, 8))).toBe('2c000000');
    expect(hex(b.subarray(24, 40))).toBe('0400' + '0500' + '6162636465000000' + '0000' + '0000');
  });

  it('writes an IDB with link type, snaplen, if_tsresol (2^-10) and if_tsoffset', () => {
    const w = new PcapngWriter().section();
    const id = w.interface({ linkType: 113, snaplen: 65535, tsresol: { base: 2, exp: 10 }, tsoffset: -2 });
    expect(id).toBe(0);
    const idb = w.toBytes().subarray(28);
    expect(hex(idb)).toBe(
      '01000000' + '2c000000' + '7100' + '0000' + 'ffff0000' +
        '0900' + '0100' + '8a000000' + // if_tsresol 0x80 | 10
        '0e00' + '0800' + 'feffffffffffffff' + // if_tsoffset −2
        '00000000' + '2c000000',
    );
  });

  it('writes an EPB with the timestamp as high and low 32-bit halves and data padded to 32 bits', () => {
    const w = new PcapngWriter().section();
    w.interface({ linkType: 1 });
    w.packet({ tsMicros: 0x1_0000_0002, data: Uint8Array.of(0xaa, 0xbb, 0xcc), originalLength: 60 });
    const epb = w.toBytes().subarray(28 + 20);
    expect(hex(epb)).toBe('06000000' + '24000000' + '00000000' + '01000000' + '02000000' + '03000000' + '3c000000' + 'aabbcc00' + '24000000');
  });

  it('writes nanosecond ticks for an if_tsresol 10^-9 interface', () => {
    const w = new PcapngWriter().section({ endian: 'be' });
    w.interface({ linkType: 1, tsresol: { base: 10, exp: 9 } });
    w.packet({ tsMicros: 1_714_557_600_123_456, tsExtraNanos: 789, data: new Uint8Array(0) });
    const bytes = w.toBytes();
    const epb = new DataView(bytes.buffer, bytes.length - 32); // an EPB without data is 32 bytes
    const ticks = (BigInt(epb.getUint32(12)) << 32n) | BigInt(epb.getUint32(16));
    expect(ticks).toBe(1_714_557_600_123_456_789n);
  });

  it('cuts EPB data at the interface snaplen and keeps the original length', () => {
    const w = new PcapngWriter().section();
    w.interface({ linkType: 1, snaplen: 2 });
    w.packet({ tsMicros: 0, data: Uint8Array.of(1, 2, 3, 4, 5) });
    const epb = w.toBytes().subarray(28 + 20);
    expect(hex(epb.subarray(20, 32))).toBe('02000000' + '05000000' + '01020000');
  });

  it('writes an SPB as original length and data only', () => {
    const w = new PcapngWriter().section();
    w.interface({ linkType: 1 });
    w.packet({ block: 'spb', tsMicros: 0, data: Uint8Array.of(1, 2, 3, 4, 5) });
    expect(hex(w.toBytes().subarray(48))).toBe('03000000' + '18000000' + '05000000' + '0102030405000000' + '18000000');
  });

  it('writes an obsolete PB with a 16-bit interface id and drops count', () => {
    const w = new PcapngWriter().section();
    w.interface({ linkType: 1 });
    w.interface({ linkType: 1 });
    w.packet({ block: 'pb', interfaceId: 1, dropsCount: 3, tsMicros: 5, data: Uint8Array.of(7) });
    expect(hex(w.toBytes().subarray(68))).toBe('02000000' + '24000000' + '0100' + '0300' + '00000000' + '05000000' + '01000000' + '01000000' + '07000000' + '24000000');
  });

  it('writes EPB options: comment and epb_flags', () => {
    const w = new PcapngWriter().section();
    w.interface({ linkType: 1 });
    w.packet({ tsMicros: 0, data: new Uint8Array(0), comment: 'hi', flags: 1 });
    const epb = w.toBytes().subarray(48);
    expect(hex(epb.subarray(28, epb.length - 4))).toBe('0100' + '0200' + '68690000' + '0200' + '0400' + '01000000' + '00000000');
  });

  it('writes a name resolution block with IPv4 and IPv6 records', () => {
    const b = new PcapngWriter().section().nameResolution([{ ip: '10.0.0.2', names: ['a'] }, { ip: '::1', names: ['lo'] }]).toBytes().subarray(28);
    expect(hex(b)).toBe(
      '04000000' + '34000000' + '0100' + '0600' + '0a000002' + '6100' + '0000' + '0200' + '1300' + '00000000000000000000000000000001' + '6c6f00' + '00' + '0000' + '0000' + '34000000',
    );
  });

  it('writes custom blocks with their PEN, copyable or not, and any block type verbatim', () => {
    const w = new PcapngWriter().section();
    w.custom(32473, Uint8Array.of(1), { copyable: false });
    w.block(0x80000001, Uint8Array.of(9, 9));
    expect(hex(w.toBytes().subarray(28))).toBe('ad0b0040' + '14000000' + 'd97e0000' + '01000000' + '14000000' + '01000080' + '10000000' + '09090000' + '10000000');
    expect(BLOCK_TYPE.CUSTOM_NOCOPY).toBe(0x40000bad);
  });

  it('starts a default little-endian section when none was asked for', () => {
    const b = new PcapngWriter().custom(1, new Uint8Array(0)).toBytes();
    expect(hex(b.subarray(0, 12))).toBe('0a0d0d0a' + '1c000000' + '4d3c2b1a');
  });

  it('refuses a time before the interface offset', () => {
    const w = new PcapngWriter().section();
    w.interface({ linkType: 1, tsoffset: 10 });
    expect(() => w.packet({ tsMicros: 5, data: new Uint8Array(0) })).toThrow(/before the interface's if_tsoffset/);
  });
});

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BLOCK_TYPE, PcapngWriter, type PcapngPacket } from '../writer/index.js';
import { MAX_RECORD_BYTES } from './parser.js';
import { PcapngParser } from './pcapng.js';
import type { CaptureRecord } from './record.js';

/** What a test keeps of a record: its fields plus a copy of the captured bytes. */
type Seen = Omit<CaptureRecord, 'data' | 'start'> & { bytes: Uint8Array };

function snapshot(r: CaptureRecord): Seen {
  const { data, start, ...fields } = r;
  return { ...fields, bytes: data.slice(start, start + r.capturedLength) };
}

/** Feeds `bytes` in chunks of `chunkSize` (whole file when omitted) and collects every record. */
function parse(bytes: Uint8Array, chunkSize?: number): { seen: Seen[]; parser: PcapngParser } {
  const seen: Seen[] = [];
  const parser = new PcapngParser((r) => seen.push(snapshot(r)), 'test.pcapng');
  if (chunkSize === undefined) parser.push(bytes);
  else for (let i = 0; i < bytes.length; i += chunkSize) parser.push(bytes.subarray(i, i + chunkSize));
  parser.end();
  return { seen, parser };
}

const CHUNK_SIZES = [1, 7, 4096, undefined] as const;
const chunkName = (n: number | undefined): string => (n === undefined ? 'the whole file at once' : `${n}-byte chunks`);

/** Recognizable packet bytes: `n` bytes counting up from `seed`. */
function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (seed + i) & 0xff);
}

function patch32(bytes: Uint8Array, at: number, v: number, le = true): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, v >>> 0, le);
}

const T0 = 1_714_557_600_000_000; // 2024-05-01T10:00:00Z in µs

/**
 * Every block kind the reader knows, two sections in opposite byte orders, four timestamp
 * resolutions, an offset, SPB/PB/EPB, a snaplen cut and a zero-length packet; `expected` is
 * what the reader must hand on, worked out independently of the reader.
 */
function richCapture(): { bytes: Uint8Array; expected: Seen[]; skipped: Map<string, number> } {
  const w = new PcapngWriter();
  const expected: Seen[] = [];
  const skipped = new Map<string, number>();
  const skip = (name: string, write: () => void): void => {
    const before = w.out.length;
    write();
    skipped.set(name, (skipped.get(name) ?? 0) + w.out.length - before);
  };
  const packet = (p: PcapngPacket, e: Omit<Seen, 'frame' | 'fileOffset'>): void => {
    expected.push({ ...e, frame: expected.length + 1, fileOffset: w.out.length });
    w.packet(p);
  };
  const base = { hasTimestamp: true, tsExtraNanos: 0 };

  w.section({ endian: 'le', userappl: 'flowdoc tests' });
  w.interface({ linkType: 1, name: 'eth0' }); // 0: µs (option absent)
  skip('name-resolution', () => w.nameResolution([{ ip: '10.0.0.2', names: ['api.internal'] }, { ip: '2001:db8::2', names: ['api6'] }]));
  packet(
    { tsMicros: T0 + 123_456, data: pattern(60, 1) },
    { ...base, tsMicros: T0 + 123_456, precision: 6, linkType: 1, interfaceId: 0, capturedLength: 60, originalLength: 60, bytes: pattern(60, 1) },
  );
  w.interface({ linkType: 101, tsresol: { base: 10, exp: 9 } }); // 1: ns
  packet(
    { interfaceId: 1, tsMicros: T0 + 123_456, tsExtraNanos: 789, data: pattern(41, 2) },
    { ...base, tsMicros: T0 + 123_456, tsExtraNanos: 789, precision: 9, linkType: 101, interfaceId: 1, capturedLength: 41, originalLength: 41, bytes: pattern(41, 2) },
  );
  // 2: 1/1024 s ticks counted from if_tsoffset = T0 s. Half a second is 512 ticks exactly; one tick
  // is 976562.5 ns, which the reader truncates to 976 µs 562 ns.
  w.interface({ linkType: 113, tsresol: { base: 2, exp: 10 }, tsoffset: T0 / 1e6 });
  packet(
    { interfaceId: 2, tsMicros: T0 + 500_000, data: pattern(44, 3) },
    { ...base, tsMicros: T0 + 500_000, precision: 4, linkType: 113, interfaceId: 2, capturedLength: 44, originalLength: 44, bytes: pattern(44, 3) },
  );
  packet(
    { interfaceId: 2, tsMicros: T0 + 976, tsExtraNanos: 563, data: pattern(44, 4) },
    { ...base, tsMicros: T0 + 976, tsExtraNanos: 562, precision: 4, linkType: 113, interfaceId: 2, capturedLength: 44, originalLength: 44, bytes: pattern(44, 4) },
  );
  skip('interface-statistics', () => w.interfaceStatistics(0, { tsMicros: T0 + 600_000, received: 10n, dropped: 0n }));
  skip('custom', () => w.custom(32473, pattern(13, 5)));
  skip('custom', () => w.custom(32473, pattern(8, 6), { copyable: false }));
  skip('decryption-secrets', () => w.decryptionSecrets(0x544c534b, new TextEncoder().encode('CLIENT_RANDOM 00 11\n')));
  skip('systemd-journal', () => w.block(BLOCK_TYPE.SYSTEMD_JOURNAL, new TextEncoder().encode('MESSAGE=hi\n')));
  skip('unknown', () => w.block(0x80000001, pattern(20, 7)));
  // SPB: interface 0, no timestamp; 50 bytes on the wire, all captured (snaplen 0).
  packet(
    { block: 'spb', tsMicros: 0, data: pattern(50, 8) },
    { tsMicros: 0, tsExtraNanos: 0, hasTimestamp: false, precision: 6, linkType: 1, interfaceId: 0, capturedLength: 50, originalLength: 50, bytes: pattern(50, 8) },
  );
  packet(
    { block: 'pb', interfaceId: 1, tsMicros: T0 + 7, tsExtraNanos: 1, data: pattern(33, 9) },
    { ...base, tsMicros: T0 + 7, tsExtraNanos: 1, precision: 9, linkType: 101, interfaceId: 1, capturedLength: 33, originalLength: 33, bytes: pattern(33, 9) },
  );
  packet(
    { tsMicros: T0 + 8, data: new Uint8Array(0) },
    { ...base, tsMicros: T0 + 8, precision: 6, linkType: 1, interfaceId: 0, capturedLength: 0, originalLength: 0, bytes: new Uint8Array(0) },
  );
  w.interface({ linkType: 1, snaplen: 64 }); // 3: cuts packets at 64 bytes
  packet(
    { interfaceId: 3, tsMicros: T0 + 9, data: pattern(100, 10) },
    { ...base, tsMicros: T0 + 9, precision: 6, linkType: 1, interfaceId: 3, capturedLength: 64, originalLength: 100, bytes: pattern(64, 10) },
  );

  // Section 2, big-endian; interface ids start again at 0.
  w.section({ endian: 'be' });
  w.interface({ linkType: 276, snaplen: 96, tsresol: { base: 10, exp: 3 } }); // 0: ms
  packet(
    { block: 'spb', tsMicros: 0, data: pattern(200, 11) },
    { tsMicros: 0, tsExtraNanos: 0, hasTimestamp: false, precision: 3, linkType: 276, interfaceId: 0, capturedLength: 96, originalLength: 200, bytes: pattern(96, 11) },
  );
  packet(
    { tsMicros: T0 + 1_234_000, data: pattern(20, 12) },
    { ...base, tsMicros: T0 + 1_234_000, precision: 3, linkType: 276, interfaceId: 0, capturedLength: 20, originalLength: 20, bytes: pattern(20, 12) },
  );
  // 1: ns ticks stored relative to a negative offset of −3600 s − 300 ns.
  w.interface({ linkType: 1, tsresol: { base: 10, exp: 9 }, tsoffset: -3600, tsoffsetNs: -300 });
  packet(
    { interfaceId: 1, tsMicros: T0 + 5, tsExtraNanos: 999, data: pattern(61, 13) },
    { ...base, tsMicros: T0 + 5, tsExtraNanos: 999, precision: 9, linkType: 1, interfaceId: 1, capturedLength: 61, originalLength: 61, bytes: pattern(61, 13) },
  );
  return { bytes: w.toBytes(), expected, skipped };
}

describe('PcapngParser reading what the writer wrote', () => {
  const rich = richCapture();

  for (const size of CHUNK_SIZES) {
    it(`reads every block kind in both byte orders from ${chunkName(size)}`, () => {
      const { seen, parser } = parse(rich.bytes, size);
      expect(parser.error).toBeNull();
      expect(seen).toEqual(rich.expected);
      expect(parser.packets).toBe(rich.expected.length);
      expect(parser.linkTypes).toEqual([1, 101, 113, 276]);
      expect(parser.precision).toBe(9);
      expect(parser.skipped).toEqual(rich.skipped);
      expect(parser.format).toBe('pcapng');
    });
  }

  it('numbers frames by packets only, not by custom or other skipped blocks', () => {
    const { seen } = parse(rich.bytes);
    expect(seen.map((s) => s.frame)).toEqual(rich.expected.map((_, i) => i + 1));
    // The SPB follows six skipped blocks but is only the fifth packet.
    expect(seen[4].hasTimestamp).toBe(false);
    expect(seen[4].frame).toBe(5);
  });

  it('points fileOffset at the start of each packet block', () => {
    const { seen } = parse(rich.bytes);
    const dv = new DataView(rich.bytes.buffer);
    const packetTypes: number[] = [BLOCK_TYPE.EPB, BLOCK_TYPE.SPB, BLOCK_TYPE.PB];
    for (const s of seen) {
      // Either byte order: the file has a little- and a big-endian section.
      const le = dv.getUint32(s.fileOffset, true);
      const be = dv.getUint32(s.fileOffset, false);
      expect(packetTypes.includes(le) || packetTypes.includes(be)).toBe(true);
    }
  });
});

describe('PcapngParser memory discipline', () => {
  it('hands the sink a view into the chunk, not a copy, when the block lies inside it', () => {
    const w = new PcapngWriter();
    w.section();
    w.interface({ linkType: 1 });
    const at = w.out.length;
    w.packet({ tsMicros: T0, data: pattern(64, 1) });
    const file = w.toBytes();
    let data: Uint8Array | null = null;
    let start = -1;
    const parser = new PcapngParser((r) => {
      data = r.data;
      start = r.start;
    }, 'x');
    parser.push(file);
    expect(data).toBe(file);
    expect(start).toBe(at + 28);
  });

  it('refills one record object for every packet', () => {
    const { bytes } = richCapture();
    const objects = new Set<CaptureRecord>();
    const parser = new PcapngParser((r) => objects.add(r), 'x');
    parser.push(bytes);
    parser.end();
    expect(parser.packets).toBeGreaterThan(5);
    expect(objects.size).toBe(1);
  });

  it('splits an EPB that straddles two chunks without losing a byte', () => {
    const w = new PcapngWriter();
    w.section();
    w.interface({ linkType: 1 });
    w.packet({ tsMicros: T0, data: pattern(1500, 1) });
    w.packet({ tsMicros: T0 + 1, data: pattern(70, 2) });
    const file = w.toBytes();
    const cut = file.length - 84 - 700; // inside the first EPB's data
    const seen: Seen[] = [];
    const viewed: Uint8Array[] = [];
    const parser = new PcapngParser((r) => {
      seen.push(snapshot(r));
      viewed.push(r.data);
    }, 'x');
    const first = file.slice(0, cut);
    const second = file.slice(cut);
    parser.push(first);
    expect(seen).toHaveLength(0);
    parser.push(second);
    parser.end();
    expect(parser.error).toBeNull();
    expect(seen.map((s) => s.bytes)).toEqual([pattern(1500, 1), pattern(70, 2)]);
    // The straddling block came from the carry buffer; the next one is a view into `second`.
    expect(viewed[0]).not.toBe(first);
    expect(viewed[0]).not.toBe(second);
    expect(viewed[1]).toBe(second);
  });

  it('reassembles a 200 KB packet fed in 4 KiB chunks', () => {
    const w = new PcapngWriter();
    w.section();
    w.interface({ linkType: 1 });
    w.packet({ tsMicros: T0, data: pattern(200_000, 3) });
    const { seen, parser } = parse(w.toBytes(), 4096);
    expect(parser.error).toBeNull();
    expect(seen[0].bytes).toEqual(pattern(200_000, 3));
  });
});

describe('PcapngParser timestamps', () => {
  function oneFrom(tsresol: { base: 10 | 2; exp: number } | undefined, hi: number, lo: number, extra: { tsoffset?: number; tsoffsetNs?: number } = {}): Seen {
    const w = new PcapngWriter();
    w.section();
    w.interface({ linkType: 1, tsresol, ...extra });
    // Any time the writer accepts; the tick count under test is patched in below.
    w.packet({ tsMicros: ((extra.tsoffset ?? 0) + 1) * 1e6, data: pattern(4, 0) });
    const bytes = w.toBytes();
    // Overwrite the EPB's timestamp halves with the raw tick count under test.
    const epb = bytes.length - 36;
    patch32(bytes, epb + 12, hi);
    patch32(bytes, epb + 16, lo);
    const { seen, parser } = parse(bytes);
    expect(parser.error).toBeNull();
    return seen[0];
  }

  it('converts nanosecond ticks above 2^53 exactly', () => {
    // 1714557600123456789 ns = 0x17CB_8C2C_9A3B_4915 (hi 399215660, lo 2587617557)
    const ns = 1714557600123456789n;
    const s = oneFrom({ base: 10, exp: 9 }, Number(ns >> 32n), Number(ns & 0xffffffffn));
    expect(s.tsMicros).toBe(1714557600123456);
    expect(s.tsExtraNanos).toBe(789);
    expect(s.precision).toBe(9);
  });

  it('reads microsecond ticks when if_tsresol is absent', () => {
    const us = 1714557600123456;
    const s = oneFrom(undefined, Math.floor(us / 2 ** 32), us % 2 ** 32);
    expect(s.tsMicros).toBe(us);
    expect(s.tsExtraNanos).toBe(0);
    expect(s.precision).toBe(6);
  });

  it('reads 2^-10 ticks, truncating to whole nanoseconds', () => {
    // 1714557600 s · 1024 + 3 ticks: 3/1024 s = 2929687.5 ns.
    const ticks = 1714557600n * 1024n + 3n;
    const s = oneFrom({ base: 2, exp: 10 }, Number(ticks >> 32n), Number(ticks & 0xffffffffn));
    expect(s.tsMicros).toBe(1714557600_002929);
    expect(s.tsExtraNanos).toBe(687);
    expect(s.precision).toBe(4);
  });

  it('reads 2^-30 ticks through exact BigInt arithmetic', () => {
    const ticks = (1714557600n << 30n) + (1n << 29n); // half a second
    const s = oneFrom({ base: 2, exp: 30 }, Number(ticks >> 32n), Number(ticks & 0xffffffffn));
    expect(s.tsMicros).toBe(1714557600_500000);
    expect(s.tsExtraNanos).toBe(0);
    expect(s.precision).toBe(10);
  });

  it('reads 10^-7 ticks (100 ns) exactly', () => {
    const ticks = 17145576001234567n;
    const s = oneFrom({ base: 10, exp: 7 }, Number(ticks >> 32n), Number(ticks & 0xffffffffn));
    expect(s.tsMicros).toBe(1714557600123456);
    expect(s.tsExtraNanos).toBe(700);
    expect(s.precision).toBe(7);
  });

  it('reads whole-second ticks (10^0)', () => {
    const s = oneFrom({ base: 10, exp: 0 }, 0, 1714557600);
    expect(s.tsMicros).toBe(T0);
    expect(s.precision).toBe(0);
  });

  it('adds if_tsoffset seconds and if_tsoffset_ns, borrowing across the microsecond', () => {
    // 100 ns after the epoch, offset by +1714557600 s and −200 ns.
    const s = oneFrom({ base: 10, exp: 9 }, 0, 100, { tsoffset: 1714557600, tsoffsetNs: -200 });
    expect(s.tsMicros).toBe(T0 - 1);
    expect(s.tsExtraNanos).toBe(900);
  });

  it('reports precision 6 before any interface is described', () => {
    const p = new PcapngParser(() => undefined, 'x');
    expect(p.precision).toBe(6);
  });
});

describe('PcapngParser sections', () => {
  it('restarts interface ids with every section', () => {
    const w = new PcapngWriter();
    w.section();
    w.interface({ linkType: 1 });
    w.interface({ linkType: 113 });
    w.packet({ interfaceId: 1, tsMicros: T0, data: pattern(8, 1) });
    w.section({ endian: 'be' });
    w.interface({ linkType: 101 });
    w.packet({ interfaceId: 0, tsMicros: T0, data: pattern(8, 2) });
    const at = w.out.length;
    w.packet({ interfaceId: 1, tsMicros: T0, data: pattern(8, 3) });
    const { seen, parser } = parse(w.toBytes());
    expect(seen.map((s) => [s.linkType, s.interfaceId])).toEqual([
      [113, 1],
      [101, 0],
    ]);
    expect(parser.error?.code).toBe('bad-block');
    expect(parser.error?.offset).toBe(at);
    expect(parser.error?.frame).toBe(3);
    expect(parser.error?.detail).toBe(`pcapng enhanced packet block at ${at} refers to interface 1, but this section has described only 1 (0–0)`);
  });

  it('reads version 1.2 as 1.0', () => {
    const w = new PcapngWriter();
    w.section({ version: [1, 2] });
    w.interface({ linkType: 1 });
    w.packet({ tsMicros: T0, data: pattern(8, 1) });
    const { seen, parser } = parse(w.toBytes());
    expect(parser.error).toBeNull();
    expect(seen).toHaveLength(1);
  });

  it('caps an SPB at the block body when the original length claims more', () => {
    const w = new PcapngWriter();
    w.section();
    w.interface({ linkType: 1 });
    w.packet({ block: 'spb', tsMicros: 0, data: pattern(10, 1), originalLength: 1000 });
    const { seen } = parse(w.toBytes());
    // 10 bytes padded to 12: the body is all there is.
    expect(seen[0].capturedLength).toBe(12);
    expect(seen[0].originalLength).toBe(1000);
  });
});

/** SHB + IDB + two 16-byte EPBs, little-endian; offsets of each block. */
function twoPackets(): { bytes: Uint8Array; idb: number; epb1: number; epb2: number } {
  const w = new PcapngWriter();
  w.section();
  const idb = w.out.length;
  w.interface({ linkType: 1 });
  const epb1 = w.out.length;
  w.packet({ tsMicros: T0, data: pattern(16, 1) });
  const epb2 = w.out.length;
  w.packet({ tsMicros: T0 + 1, data: pattern(16, 2) });
  return { bytes: w.toBytes(), idb, epb1, epb2 };
}

interface ErrorCase {
  name: string;
  bytes: () => Uint8Array;
  code: string;
  offset: number;
  frame: number;
  packets: number;
  detail?: string | RegExp;
}

const { epb2, bytes: base } = twoPackets();
const SHB_LEN = 28;

function edited(edit: (b: Uint8Array) => void, from: Uint8Array = base): () => Uint8Array {
  return () => {
    const b = from.slice();
    edit(b);
    return b;
  };
}

function withBlockAfter(body: (w: PcapngWriter) => void): Uint8Array {
  const w = new PcapngWriter();
  w.section();
  w.interface({ linkType: 1 });
  w.packet({ tsMicros: T0, data: pattern(16, 1) });
  body(w);
  return w.toBytes();
}

const ERROR_CASES: ErrorCase[] = [
  { name: 'an empty stream', bytes: () => new Uint8Array(0), code: 'empty', offset: 0, frame: 1, packets: 0 },
  {
    name: 'a classic pcap header',
    bytes: () => Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0),
    code: 'not-a-capture',
    offset: 0,
    frame: 1,
    packets: 0,
    detail: 'stream starts with block type 0xa1b2c3d4, not a pcapng section header block (0x0a0d0d0a)',
  },
  { name: 'two bytes that are not pcapng', bytes: () => Uint8Array.of(0x1f, 0x8b), code: 'not-a-capture', offset: 0, frame: 1, packets: 0 },
  { name: 'a first SHB with a bad byte-order magic', bytes: edited((b) => patch32(b, 8, 0x11223344)), code: 'not-a-capture', offset: 0, frame: 1, packets: 0 },
  { name: 'a stream that ends inside the first SHB', bytes: () => base.slice(0, 20), code: 'truncated-header', offset: 0, frame: 1, packets: 0, detail: 'stream ends inside the first pcapng section header block (20 of 28 bytes)' },
  { name: 'a stream of 3 bytes of an SHB', bytes: () => base.slice(0, 3), code: 'truncated-header', offset: 0, frame: 1, packets: 0 },
  {
    name: 'a stream that ends inside an EPB',
    bytes: () => base.slice(0, base.length - 10),
    code: 'truncated-record',
    offset: epb2,
    frame: 2,
    packets: 1,
    detail: `stream ends inside the pcapng enhanced packet block at ${epb2} (38 of 48 bytes present)`,
  },
  {
    name: 'a stream that ends inside a block header',
    bytes: () => base.slice(0, epb2 + 5),
    code: 'truncated-record',
    offset: epb2,
    frame: 2,
    packets: 1,
    detail: `stream ends inside the header of the pcapng enhanced packet block at ${epb2} (5 bytes present)`,
  },
  {
    name: 'SHB version 1.1 (libpcap pcapng-invalid-vers-2)',
    bytes: edited((b) => new DataView(b.buffer).setUint16(14, 1, true)),
    code: 'bad-version',
    offset: 0,
    frame: 1,
    packets: 0,
    detail: 'pcapng section header block at 0 has version 1.1; only 1.0 is supported (unknown SHB version)',
  },
  { name: 'SHB version 2.0', bytes: edited((b) => new DataView(b.buffer).setUint16(12, 2, true)), code: 'bad-version', offset: 0, frame: 1, packets: 0 },
  {
    name: 'a block total length below 12',
    bytes: edited((b) => patch32(b, epb2 + 4, 7)),
    code: 'bad-length',
    offset: epb2,
    frame: 2,
    packets: 1,
    detail: `pcapng enhanced packet block at ${epb2} has total length 7, below the minimum of 12`,
  },
  { name: 'a block total length not a multiple of 4', bytes: edited((b) => patch32(b, epb2 + 4, 30)), code: 'bad-length', offset: epb2, frame: 2, packets: 1, detail: /total length 30, not a multiple of 4/ },
  { name: 'a block total length above 16 MiB', bytes: edited((b) => patch32(b, epb2 + 4, 0x01000004)), code: 'bad-length', offset: epb2, frame: 2, packets: 1, detail: /above the limit of 16777216/ },
  {
    name: 'an EPB shorter than its fixed fields',
    bytes: () => withBlockAfter((w) => w.block(BLOCK_TYPE.EPB, pattern(16, 0))),
    code: 'bad-length',
    offset: epb2,
    frame: 2,
    packets: 1,
    detail: `pcapng enhanced packet block at ${epb2} has total length 28, below the minimum of 32 for its kind`,
  },
  {
    name: 'an EPB captured length beyond its block',
    bytes: edited((b) => patch32(b, epb2 + 20, 17)),
    code: 'bad-length',
    offset: epb2,
    frame: 2,
    packets: 1,
    detail: `pcapng enhanced packet block at ${epb2} has captured length 17, more than its 16-byte packet area`,
  },
  {
    name: 'an EPB captured length above MAX_RECORD_BYTES',
    bytes: () => withBlockAfter((w) => w.packet({ tsMicros: T0, data: new Uint8Array(MAX_RECORD_BYTES + 4) })),
    code: 'bad-length',
    offset: epb2,
    frame: 2,
    packets: 1,
    detail: `pcapng enhanced packet block at ${epb2} has captured length ${MAX_RECORD_BYTES + 4}, above the maximum of ${MAX_RECORD_BYTES}`,
  },
  {
    name: 'a trailing length that differs from the leading one',
    bytes: edited((b) => patch32(b, b.length - 4, 52)),
    code: 'bad-block',
    offset: epb2,
    frame: 2,
    packets: 1,
    detail: `pcapng enhanced packet block at ${epb2} has trailing length 52, but its leading length is 48`,
  },
  { name: 'an EPB naming an interface never described', bytes: edited((b) => patch32(b, epb2 + 8, 1)), code: 'bad-block', offset: epb2, frame: 2, packets: 1 },
  {
    name: 'an SPB before any interface',
    bytes: () => {
      const w = new PcapngWriter();
      w.section();
      w.packet({ block: 'spb', tsMicros: 0, data: pattern(8, 0) });
      return w.toBytes();
    },
    code: 'bad-block',
    offset: SHB_LEN,
    frame: 1,
    packets: 0,
    detail: `pcapng simple packet block at ${SHB_LEN} refers to interface 0, but this section has described none`,
  },
  {
    name: 'a second SHB with a bad byte-order magic',
    bytes: () =>
      withBlockAfter((w) => {
        const at = w.out.length;
        w.section();
        patch32(w.out.peek(), at + 8, 0x11223344);
      }),
    code: 'bad-block',
    offset: epb2,
    frame: 2,
    packets: 1,
  },
  {
    name: 'a second SHB of version 0.1',
    bytes: () => withBlockAfter((w) => w.section({ version: [0, 1] })),
    code: 'bad-version',
    offset: epb2,
    frame: 2,
    packets: 1,
  },
  {
    name: 'an SHB option that runs past the block (libpcap shb-option-too-long)',
    bytes: () => {
      const w = new PcapngWriter();
      w.section({ userappl: 'abcd' });
      const b = w.toBytes();
      new DataView(b.buffer).setUint16(26, 0x3030, true); // option length 12336
      return b;
    },
    code: 'bad-block',
    offset: 0,
    frame: 1,
    packets: 0,
    detail: 'pcapng section header block at 0 has option 4 of length 12336 at byte 24, running past the end of the block',
  },
  {
    name: 'an if_tsresol finer than 10^-19',
    bytes: () => {
      const w = new PcapngWriter();
      w.section();
      w.interface({ linkType: 1, tsresol: { base: 10, exp: 20 } });
      return w.toBytes();
    },
    code: 'bad-block',
    offset: SHB_LEN,
    frame: 1,
    packets: 0,
  },
];

describe('PcapngParser errors', () => {
  for (const c of ERROR_CASES) {
    for (const size of CHUNK_SIZES) {
      it(`reports ${c.code} for ${c.name} at byte ${c.offset}, frame ${c.frame}, from ${chunkName(size)}`, () => {
        const { seen, parser } = parse(c.bytes(), size);
        const err = parser.error;
        expect(err?.code).toBe(c.code);
        expect(err?.offset).toBe(c.offset);
        expect(err?.frame).toBe(c.frame);
        expect(err?.file).toBe('test.pcapng');
        expect(seen).toHaveLength(c.packets);
        expect(parser.packets).toBe(c.packets);
        if (typeof c.detail === 'string') expect(err?.detail).toBe(c.detail);
        else if (c.detail !== undefined) expect(err?.detail).toMatch(c.detail);
        expect(err?.detail).not.toContain('\n');
      });
    }
  }

  it('delivers every packet before the bad block, then ignores further input', () => {
    const bad = base.slice();
    patch32(bad, bad.length - 4, 52);
    const seen: number[] = [];
    const parser = new PcapngParser((r) => seen.push(r.frame), 'x');
    parser.push(bad);
    expect(parser.error?.code).toBe('bad-block');
    parser.push(base);
    parser.end();
    expect(seen).toEqual([1]);
    expect(parser.error?.code).toBe('bad-block');
  });

  it('says where and which frame in one line', () => {
    const { parser } = parse(base.slice(0, base.length - 10));
    expect(parser.error?.oneLine()).toBe(`test.pcapng: stream ends inside the pcapng enhanced packet block at ${epb2} (38 of 48 bytes present) (byte offset ${epb2}, frame 2)`);
  });
});

/*
 * Real pcapng files from /work/shared/corpus/real, checked against what capinfos/tshark 4.0
 * said about them (corpus/real/oracle/*.json; see its README). The corpus lives outside the
 * repository, so the suite skips when it is absent (CI).
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shared = path.resolve(repoRoot, '../shared');
const corpus = path.join(shared, 'corpus/real');
const oracleDir = path.join(corpus, 'oracle');

interface Oracle {
  corpus_path: string;
  magic_hex: string;
  capinfos: {
    file_type?: string;
    packet_count?: number | null;
    first_packet_time?: string | null;
    last_packet_time?: string | null;
  };
  tshark: { rc: number; packet_count: number; error: string | null };
}

/** The oracles of every pcapng file (plain or gzipped), by oracle file name. */
function pcapngOracles(): Array<[string, Oracle]> {
  if (!existsSync(oracleDir)) return [];
  return readdirSync(oracleDir)
    .filter((f) => f.endsWith('.json'))
    .map((f): [string, Oracle] => [f, JSON.parse(readFileSync(path.join(oracleDir, f), 'utf8')) as Oracle])
    .filter(([, o]) => o.magic_hex === '0a0d0d0a' || (o.magic_hex.startsWith('1f8b') && o.capinfos.file_type === 'pcapng'));
}

/** capinfos prints epoch seconds with 6 or 9 digits; as integer ns so both compare exactly. */
function oracleNanos(t: string | null | undefined): bigint | null {
  if (t === null || t === undefined || t === 'n/a') return null;
  const [sec, frac = ''] = t.split('.');
  return BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
}

interface ReadResult {
  parser: PcapngParser;
  earliest: bigint | null;
  latest: bigint | null;
}

function read(o: Oracle, name: string): ReadResult {
  let bytes: Uint8Array = readFileSync(path.join(corpus, o.corpus_path.replace(/^real\//, '')));
  if (o.magic_hex.startsWith('1f8b')) bytes = gunzipSync(bytes);
  let earliest: bigint | null = null;
  let latest: bigint | null = null;
  // capinfos reports the earliest and latest timestamp; SPB packets have none.
  const parser = new PcapngParser((r) => {
    if (!r.hasTimestamp) return;
    const ns = BigInt(r.tsMicros) * 1000n + BigInt(r.tsExtraNanos);
    if (earliest === null || ns < earliest) earliest = ns;
    if (latest === null || ns > latest) latest = ns;
  }, name);
  for (let i = 0; i < bytes.length; i += 65_536) parser.push(bytes.subarray(i, i + 65_536));
  parser.end();
  return { parser, earliest, latest };
}

const oracles = pcapngOracles();

describe.skipIf(oracles.length === 0)('PcapngParser on the real corpus, against tshark 4.0', () => {
  for (const [name, o] of oracles) {
    const readable = o.tshark.rc === 0;
    it(`${readable ? 'reads' : 'rejects'} ${o.corpus_path} as capinfos does`, () => {
      const { parser, earliest, latest } = read(o, name);
      if (!readable) {
        // libpcap's pcapng-invalid-vers-1/2 and shb-option-too-long: tshark reads 0 packets.
        expect(parser.error).not.toBeNull();
        expect(['bad-version', 'bad-block']).toContain(parser.error?.code);
        expect(parser.packets).toBe(o.tshark.packet_count);
        return;
      }
      expect(parser.error).toBeNull();
      // packet_count excludes Custom Blocks, which tshark 4.0 (not capinfos) numbers as frames.
      expect(parser.packets).toBe(o.capinfos.packet_count);
      // capinfos leaves the times out (null) for files with SPBs, which have no timestamp.
      const first = oracleNanos(o.capinfos.first_packet_time);
      const last = oracleNanos(o.capinfos.last_packet_time);
      if (o.capinfos.first_packet_time !== null) expect(earliest).toBe(first);
      if (o.capinfos.last_packet_time !== null) expect(latest).toBe(last);
    });
  }

  it('finds the two sample files the brief names', () => {
    const names = oracles.map(([, o]) => o.corpus_path);
    expect(names).toContain('real/chrissanders-packets/tcp_handshake.pcapng');
    expect(names.some((n) => n.startsWith('real/pcapng-test-generator/'))).toBe(true);
  });

  it('reads the custom blocks of pcapng-test-generator test202 as skipped, not as frames', () => {
    const entry = oracles.find(([, o]) => o.corpus_path.endsWith('output_le/difficult/test202.pcapng'));
    expect(entry).toBeDefined();
    if (entry === undefined) return;
    const [name, o] = entry;
    const { parser } = read(o, name);
    expect(parser.packets).toBe(8);
    expect(parser.skipped.get('custom')).toBeGreaterThan(0);
    expect(o.tshark.packet_count).toBe(8);
  });
});

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CaptureScript } from '../writer/index.js';
import type { CaptureParser } from './parser.js';
import { PcapParser } from './pcap.js';
import { PcapReader } from './pcap-reader.js';
import type { CaptureRecord } from './record.js';

/*
 * One conformance suite for the two classic pcap readers: PcapParser (the `pcap-parser` wrapper)
 * and PcapReader (flowdoc's own). For every input and every way of cutting it into chunks, both
 * must hand on the same records (fields and bytes) and end with the same summary and error.
 */

type Seen = Omit<CaptureRecord, 'data' | 'start'> & { bytes: string };

interface Outcome {
  seen: Seen[];
  packets: number;
  linkTypes: readonly number[];
  precision: number;
  error: ReturnType<NonNullable<CaptureParser['error']>['toJSON']> | null;
}

const READERS = {
  'PcapParser (pcap-parser)': (sink: (r: CaptureRecord) => void) => new PcapParser(sink, 'test.pcap'),
  'PcapReader (own)': (sink: (r: CaptureRecord) => void) => new PcapReader(sink, 'test.pcap'),
} as const;

function run(make: (sink: (r: CaptureRecord) => void) => CaptureParser, bytes: Uint8Array, chunkSize?: number): Outcome {
  const seen: Seen[] = [];
  const parser = make((r) => {
    const { data, start, ...fields } = r;
    seen.push({ ...fields, bytes: Buffer.from(data.subarray(start, start + r.capturedLength)).toString('hex') });
  });
  if (chunkSize === undefined) parser.push(bytes);
  else for (let i = 0; i < bytes.length; i += chunkSize) parser.push(bytes.subarray(i, i + chunkSize));
  parser.end();
  return { seen, packets: parser.packets, linkTypes: [...parser.linkTypes], precision: parser.precision, error: parser.error ? parser.error.toJSON() : null };
}

function both(bytes: Uint8Array, chunkSize?: number): [Outcome, Outcome] {
  return [run(READERS['PcapParser (pcap-parser)'], bytes, chunkSize), run(READERS['PcapReader (own)'], bytes, chunkSize)];
}

/** A small capture with payloads of many sizes (0 to several MSS), in the given flavour. */
function sample(o: { nanos?: boolean; endian?: 'le' | 'be'; snaplen?: number } = {}): Uint8Array {
  const cap = new CaptureScript({ start: '2024-05-01T10:00:00.000000123Z' });
  const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
  c.handshake();
  c.clientSends('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
  c.serverSends('x'.repeat(3000));
  c.rst('server');
  return cap.toPcap({ nanos: o.nanos, endian: o.endian, snaplen: o.snaplen });
}

function setU32(bytes: Uint8Array, at: number, v: number, le = true): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(at, v >>> 0, le);
  return copy;
}

describe('classic pcap readers agree', () => {
  const flavours = {
    'µs little-endian': sample(),
    'ns little-endian': sample({ nanos: true }),
    'µs big-endian': sample({ endian: 'be' }),
    'ns big-endian, snaplen 100': sample({ nanos: true, endian: 'be', snaplen: 100 }),
  };
  for (const [name, bytes] of Object.entries(flavours)) {
    for (const chunk of [1, 7, 16, 17, 100, 4096, undefined]) {
      it(`reads a ${name} capture fed in ${chunk ?? 'one'}${chunk ? '-byte' : ''} chunk${chunk ? 's' : ''} the same way`, () => {
        const [a, b] = both(bytes, chunk);
        expect(a.error).toBeNull();
        expect(b).toEqual(a);
      });
    }
  }

  it('agrees on a capture cut short at every byte', () => {
    const cap = new CaptureScript();
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80' });
    c.handshake();
    c.clientSends('GET / HTTP/1.1\r\n\r\n');
    c.rst('server');
    const bytes = cap.toPcap();
    for (let n = 0; n <= bytes.length; n++) {
      for (const chunk of [5, undefined]) {
        const [a, b] = both(bytes.subarray(0, n), chunk);
        expect(b, `cut at ${n}, chunks ${chunk}`).toEqual(a);
      }
    }
  });

  it('agrees on damaged headers and record lengths', () => {
    const bytes = sample();
    const cases: Record<string, Uint8Array> = {
      'bad magic': setU32(bytes, 0, 0x12345678),
      'version 1.0': setU32(bytes, 4, 0x00000001),
      'reserved link-type bits': setU32(bytes, 20, 0x00010001),
      'record longer than the maximum': setU32(bytes, 24 + 8, 300_000),
      'record longer than the snap length': setU32(setU32(bytes, 16, 40), 24 + 8, 60),
      'second record longer than the maximum': setU32(bytes, 24 + 16 + bytes[24 + 8]! + 8, 0xffffffff),
      'sub-second field ≥ 1e6': setU32(bytes, 24 + 4, 1_500_000),
      'zero-length record': (() => {
        // Frame 1 claims 0 captured bytes: its 16-byte header is followed directly by frame 1's bytes,
        // which both readers must then read as the next record header.
        return setU32(bytes, 24 + 8, 0);
      })(),
    };
    for (const [name, damaged] of Object.entries(cases)) {
      for (const chunk of [3, 16, 64, undefined]) {
        const [a, b] = both(damaged, chunk);
        expect(b, `${name}, chunks ${chunk}`).toEqual(a);
      }
    }
  });

  it('hands on a view into the chunk, not a copy, when the record lies inside it', () => {
    const bytes = sample();
    const datas: Uint8Array[] = [];
    const reader = new PcapReader((r) => datas.push(r.data), 'test.pcap');
    reader.push(bytes);
    reader.end();
    expect(datas.length).toBeGreaterThan(3);
    for (const d of datas) expect(d).toBe(bytes);
  });
});

// ---- the real corpus ----------------------------------------------------------------------------

const here = path.dirname(fileURLToPath(import.meta.url));
const corpus = path.resolve(here, '../../../shared/corpus/real');

function classicPcaps(): string[] {
  if (!existsSync(corpus)) return [];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'oracle') walk(p);
      } else {
        out.push(p);
      }
    }
  };
  walk(corpus);
  return out.filter((p) => {
    let head: Uint8Array = readFileSync(p).subarray(0, 4);
    if (head[0] === 0x1f && head[1] === 0x8b) head = gunzipSync(readFileSync(p)).subarray(0, 4);
    const magic = Buffer.from(head).toString('hex');
    return ['d4c3b2a1', 'a1b2c3d4', '4d3cb2a1', 'a1b23c4d'].includes(magic);
  }).sort();
}

const pcaps = classicPcaps();

describe.skipIf(pcaps.length === 0)('classic pcap readers agree on the real corpus', () => {
  for (const file of pcaps) {
    it(`reads ${path.relative(corpus, file)} the same way`, () => {
      let bytes: Uint8Array = readFileSync(file);
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
      for (const chunk of [1000, 65_536]) {
        const [a, b] = both(bytes, chunk);
        expect(b).toEqual(a);
      }
    });
  }
});

import { describe, expect, it } from 'vitest';
import { HUFFMAN_CODE_LENGTHS, HUFFMAN_EOS, HUFFMAN_PADDING, huffmanCodes, huffmanDecode } from './huffman.js';
import { HpackDecoder, STATIC_TABLE, readInt } from './hpack.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

function decodeAll(d: HpackDecoder, block: Uint8Array): [string, string][] {
  const out: [string, string][] = [];
  const err = d.decode(block, 0, block.length, (n, v) => out.push([n, v]));
  expect(err).toBeNull();
  return out;
}

function table(d: HpackDecoder): [string | null, string][] {
  const t: [string | null, string][] = [];
  for (let i = 0; i < d.entryCount; i++) t.push([...d.entry(i)!]);
  return t;
}

describe('Huffman code (RFC 7541 Appendix B)', () => {
  it('the lengths make a complete prefix code (Kraft sum exactly 1) of 257 symbols', () => {
    expect(HUFFMAN_CODE_LENGTHS).toHaveLength(257);
    const kraft = HUFFMAN_CODE_LENGTHS.reduce((s, l) => s + 2 ** (30 - l), 0);
    expect(kraft).toBe(2 ** 30);
  });

  it('derives the codes printed in Appendix B', () => {
    const codes = huffmanCodes();
    // A sample across every length group, as printed (hex, aligned to LSB).
    const printed: [number, number, number][] = [
      [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [9, 0xffffea, 24], [10, 0x3ffffffc, 30], [32, 0x14, 6], [33, 0x3f8, 10],
      [35, 0xffa, 12], [39, 0x7fa, 11], [48, 0x0, 5], [58, 0x5c, 7], [60, 0x7ffc, 15], [88, 0xfc, 8], [92, 0x7fff0, 19],
      [94, 0x3ffc, 14], [97, 0x3, 5], [122, 0x7b, 7], [126, 0x1ffd, 13], [127, 0xffffffc, 28], [128, 0xfffe6, 20],
      [129, 0x3fffd2, 22], [153, 0x1fffdc, 21], [199, 0x1ffffec, 25], [192, 0x3ffffe0, 26], [203, 0x7ffffde, 27],
      [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
    ];
    for (const [sym, code, len] of printed) {
      expect([codes[sym], HUFFMAN_CODE_LENGTHS[sym]], `symbol ${sym}`).toEqual([code, len]);
    }
  });

  it('decodes the Appendix C strings and rejects EOS and bad padding (§5.2)', () => {
    expect(huffmanDecode(hex('f1e3c2e5f23a6ba0ab90f4ff'), 0, 12)).toBe('www.example.com');
    expect(huffmanDecode(hex('a8eb10649cbf'), 0, 6)).toBe('no-cache');
    expect(huffmanDecode(new Uint8Array(0), 0, 0)).toBe('');
    // '0' is 00000: one byte 00000111 = '0' + 3 bits of EOS-prefix padding.
    expect(huffmanDecode(Uint8Array.of(0x07), 0, 1)).toBe('0');
    expect(huffmanDecode(Uint8Array.of(0x06), 0, 1)).toBe(HUFFMAN_PADDING); // padding not all ones
    expect(huffmanDecode(Uint8Array.of(0x07, 0xff), 0, 2)).toBe(HUFFMAN_PADDING); // 11 bits of padding
    expect(huffmanDecode(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 0, 4)).toBe(HUFFMAN_EOS); // EOS (30 ones)
  });

  it('round-trips every octet value through an encoder built from the derived codes', () => {
    const codes = huffmanCodes();
    const text = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
    let bits = '';
    for (let i = 0; i < 256; i++) bits += codes[i]!.toString(2).padStart(HUFFMAN_CODE_LENGTHS[i]!, '0');
    while (bits.length % 8) bits += '1';
    const bytes = Uint8Array.from(bits.match(/.{8}/g)!, (b) => parseInt(b, 2));
    expect(huffmanDecode(bytes, 0, bytes.length)).toBe(text);
  });
});

describe('HPACK integers (RFC 7541 C.1)', () => {
  it('C.1.1–C.1.3', () => {
    expect(readInt(Uint8Array.of(0x0a), 0, 1, 5)).toBe(10);
    expect(readInt(Uint8Array.of(0x1f, 0x9a, 0x0a), 0, 3, 5)).toBe(1337);
    expect(readInt(Uint8Array.of(0x2a), 0, 1, 8)).toBe(42);
  });
  it('truncated and overlong integers are codes, not exceptions', () => {
    expect(readInt(Uint8Array.of(0x1f, 0x9a), 0, 2, 5)).toBe(-1);
    expect(readInt(Uint8Array.of(0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 0, 7, 5)).toBe(-2);
  });
});

describe('HPACK header blocks (RFC 7541 Appendix C)', () => {
  it('the static table has the 61 entries of Appendix A', () => {
    expect(STATIC_TABLE).toHaveLength(62);
    expect(STATIC_TABLE[1]).toEqual([':authority', '']);
    expect(STATIC_TABLE[16]).toEqual(['accept-encoding', 'gzip, deflate']);
    expect(STATIC_TABLE[31]).toEqual(['content-type', '']);
    expect(STATIC_TABLE[61]).toEqual(['www-authenticate', '']);
  });

  it('C.2.1 literal with indexing', () => {
    const d = new HpackDecoder();
    expect(decodeAll(d, hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572'))).toEqual([['custom-key', 'custom-header']]);
    expect(d.size).toBe(55);
    expect(table(d)).toEqual([['custom-key', 'custom-header']]);
  });

  it('C.2.2 literal without indexing, C.2.3 never indexed, C.2.4 indexed', () => {
    const d = new HpackDecoder();
    expect(decodeAll(d, hex('040c2f73616d706c652f70617468'))).toEqual([[':path', '/sample/path']]);
    expect(d.size).toBe(0);
    expect(decodeAll(d, hex('100870617373776f726406736563726574'))).toEqual([['password', 'secret']]);
    expect(d.size).toBe(0);
    expect(decodeAll(d, hex('82'))).toEqual([[':method', 'GET']]);
    expect(d.size).toBe(0);
  });

  const requests = (blocks: string[]): void => {
    const d = new HpackDecoder();
    expect(decodeAll(d, hex(blocks[0]!))).toEqual([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]);
    expect(d.size).toBe(57);
    expect(table(d)).toEqual([[':authority', 'www.example.com']]);
    expect(decodeAll(d, hex(blocks[1]!))).toEqual([[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]);
    expect(d.size).toBe(110);
    expect(table(d)).toEqual([['cache-control', 'no-cache'], [':authority', 'www.example.com']]);
    expect(decodeAll(d, hex(blocks[2]!))).toEqual([[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]);
    expect(d.size).toBe(164);
    expect(table(d)).toEqual([['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']]);
  };

  it('C.3 requests without Huffman', () => {
    requests([
      '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '8286 84be 5808 6e6f 2d63 6163 6865',
      '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    ]);
  });

  it('C.4 requests with Huffman', () => {
    requests([
      '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
      '8286 84be 5886 a8eb 1064 9cbf',
      '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    ]);
  });

  const date21 = 'Mon, 21 Oct 2013 20:13:21 GMT';
  const date22 = 'Mon, 21 Oct 2013 20:13:22 GMT';
  const loc = 'https://www.example.com';
  const cookie = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
  const responses = (blocks: string[], lengths: number[]): void => {
    // These examples run with SETTINGS_HEADER_TABLE_SIZE 256, so entries are evicted.
    const d = new HpackDecoder(true, 256);
    const bytes = blocks.map(hex);
    expect(bytes.map((b) => b.length)).toEqual(lengths);
    expect(decodeAll(d, bytes[0]!)).toEqual([[':status', '302'], ['cache-control', 'private'], ['date', date21], ['location', loc]]);
    expect(d.size).toBe(222);
    expect(table(d)).toEqual([['location', loc], ['date', date21], ['cache-control', 'private'], [':status', '302']]);
    expect(decodeAll(d, bytes[1]!)).toEqual([[':status', '307'], ['cache-control', 'private'], ['date', date21], ['location', loc]]);
    expect(d.size).toBe(222);
    expect(table(d)).toEqual([[':status', '307'], ['location', loc], ['date', date21], ['cache-control', 'private']]);
    expect(decodeAll(d, bytes[2]!)).toEqual([[':status', '200'], ['cache-control', 'private'], ['date', date22], ['location', loc], ['content-encoding', 'gzip'], ['set-cookie', cookie]]);
    expect(d.size).toBe(215);
    expect(table(d)).toEqual([['set-cookie', cookie], ['content-encoding', 'gzip'], ['date', date22]]);
  };

  it('C.5 responses without Huffman (eviction at 256 octets)', () => {
    responses([
      '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '4803 3330 37c1 c0bf',
      '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
    ], [70, 8, 98]);
  });

  it('C.6 responses with Huffman (eviction at 256 octets)', () => {
    responses([
      '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
      '4883 640e ffc1 c0bf',
      '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
    ], [54, 8, 79]);
  });

  it('a dynamic table size update shrinks the table (§6.3); one above the limit is noted and capped', () => {
    const d = new HpackDecoder();
    decodeAll(d, hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572'));
    expect(d.size).toBe(55);
    decodeAll(d, Uint8Array.of(0x20)); // size 0: everything evicted
    expect(d.entryCount).toBe(0);
    decodeAll(d, Uint8Array.of(0x3f, 0xe1, 0x1f)); // 4096 ≤ limit
    expect(d.notes.sizeOverLimit).toBe(false);
    decodeAll(d, Uint8Array.of(0x3f, 0xe1, 0x3f)); // 8192 > 4096
    expect(d.notes.sizeOverLimit).toBe(true);
  });
});

describe('HPACK on a connection whose start was not captured', () => {
  it('keeps static and literal fields, counts references to older entries, and learns new ones', () => {
    const d = new HpackDecoder(false);
    const out: [string, string][] = [];
    // :method GET (static 2), dynamic 62 (unknown), literal :path with indexing, then 62 again (now the :path just inserted)
    const block = Uint8Array.of(0x82, 0xbe, 0x44, 0x04, 0x2f, 0x61, 0x62, 0x63, 0xbe);
    expect(d.decode(block, 0, block.length, (n, v) => out.push([n, v]))).toBeNull();
    expect(out).toEqual([[':method', 'GET'], [':path', '/abc'], [':path', '/abc']]);
    expect(d.notes.unknownRefs).toBe(1);
    expect(d.fromStart).toBe(false);
  });

  it('an index past the tables is an error on a decoder that saw the start, and the decoder resyncs', () => {
    const d = new HpackDecoder(true);
    expect(d.decode(Uint8Array.of(0xbe), 0, 1, () => {})).toBe('hpack-bad-index');
    expect(d.fromStart).toBe(false);
    expect(d.decode(Uint8Array.of(0x80), 0, 1, () => {})).toBe('hpack-bad-index'); // index 0 is never valid
    expect(d.decode(Uint8Array.of(0x41, 0x85, 0x61), 0, 3, () => {})).toBe('hpack-truncated');
  });
});

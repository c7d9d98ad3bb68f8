/**
 * HPACK header block decoding (RFC 7541): integers (§5.1), strings with and without Huffman
 * (§5.2), the static table (Appendix A) and a dynamic table with eviction (§4).
 *
 * An analyzer decodes what someone else's encoder wrote, often from a capture that starts in the
 * middle of the connection. Two facts make that workable: the encoder only ever references
 * entries it still holds, and an index counts from the newest entry. So a decoder that has seen
 * every insertion since some point knows the k newest entries exactly, even without the older
 * ones; a reference past them is "unknown" (counted, the field skipped), not an error. Placeholder
 * entries (an inserted literal whose name was unknown) keep the positions right.
 * A decoder that lost bytes (a gap in the capture, a block it could not finish) calls `resync()`:
 * the table is emptied and the same rule applies from there on.
 */
import { HUFFMAN_EOS, huffmanDecode } from './huffman.js';

/** RFC 7541 Appendix A, index 1–61 (index 0 is unused). */
export const STATIC_TABLE: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_COUNT = 61;

/** SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 7540 §6.5.2). */
export const DEFAULT_TABLE_SIZE = 4096;
/** The most dynamic table flowdoc keeps per direction, whatever a peer announces (64 KiB). */
export const MAX_TABLE_SIZE = 64 * 1024;
/** Octets (name + value + 32 each, as §4.1 counts) of one header list handed to the caller. */
export const MAX_HEADER_LIST = 64 * 1024;
/** Entry overhead (§4.1). */
const ENTRY_OVERHEAD = 32;

/**
 * Why a block was not decoded to its end. Every one of these leaves the table in an unknown
 * state; the decoder resyncs itself before returning one.
 */
export type HpackError =
  | 'hpack-truncated' // a representation runs past the end of the block
  | 'hpack-integer-overflow' // an integer longer than 2^28
  | 'hpack-bad-index' // index 0, or past the tables on a decoder that saw the connection start
  | 'huffman-eos' // the EOS symbol inside a string
  | 'huffman-padding'; // padding over 7 bits, or not all ones

/** What decoding one block noted that the caller may want to count (none is fatal). */
export interface HpackNotes {
  /** Fields skipped because they referenced entries from before the capture (or a resync). */
  unknownRefs: number;
  /** A size update above the limit the receiver announced (applied, capped at MAX_TABLE_SIZE). */
  sizeOverLimit: boolean;
  /** The header list passed MAX_HEADER_LIST: later fields were decoded (for the table) but not handed on. */
  listTooLarge: boolean;
  /** A block whose end was not captured: the field whose value was handed on as only its captured prefix (null: none). */
  cutField: string | null;
}

interface Entry {
  readonly name: string | null; // null: a placeholder whose name referenced an unknown entry
  readonly value: string;
  readonly size: number;
}

export type OnField = (name: string, value: string) => void;

export class HpackDecoder {
  /** Ring buffer of entries, newest at `head`. */
  private ring: (Entry | undefined)[] = new Array<Entry | undefined>(16);
  private head = 0;
  private count = 0;
  private bytes = 0;
  private maxSize: number;
  /** The receiver's SETTINGS_HEADER_TABLE_SIZE: the most a size update may ask for. */
  private limit: number;
  /** False when the decoder did not see every insertion from the connection start. */
  private complete: boolean;
  readonly notes: HpackNotes = { unknownRefs: 0, sizeOverLimit: false, listTooLarge: false, cutField: null };

  constructor(fromStart = true, limit = DEFAULT_TABLE_SIZE) {
    this.complete = fromStart;
    this.limit = Math.min(limit, MAX_TABLE_SIZE);
    this.maxSize = this.limit;
  }

  /** Octets in the dynamic table as §4.1 counts them. */
  get size(): number { return this.bytes; }
  get entryCount(): number { return this.count; }
  /** Whether every entry of the table is known (the connection start was seen, no resync since). */
  get fromStart(): boolean { return this.complete; }

  /** The dynamic entry `i` (0 = newest) as [name, value], or null when unknown/absent (for tests and the report). */
  entry(i: number): readonly [string | null, string] | null {
    if (i < 0 || i >= this.count) return null;
    const e = this.ring[(this.head + i) % this.ring.length]!;
    return [e.name, e.value];
  }

  /** The receiver announced SETTINGS_HEADER_TABLE_SIZE (capped at MAX_TABLE_SIZE). */
  setLimit(n: number): void {
    this.limit = Math.min(n, MAX_TABLE_SIZE);
  }

  /** Bytes were lost: forget the table; from now on only entries inserted later are known. */
  resync(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.bytes = 0;
    this.complete = false;
  }

  /**
   * Decodes one complete header block b[start, end), handing each field to `onField`. Returns
   * null, or the error that stopped it (the decoder has then resynced). `notes` is reset first.
   *
   * `cut`: b[start, end) is only the captured prefix of the block (the snap length cut it).
   * Running out of bytes is then not an error: the fields before the cut are handed on, a value
   * cut short is handed on as its prefix (`notes.cutField` names it), and the decoder resyncs, as
   * the insertions in the rest of the block were never seen.
   */
  decode(b: Uint8Array, start: number, end: number, onField: OnField, cut = false): HpackError | null {
    const notes = this.notes;
    notes.unknownRefs = 0;
    notes.sizeOverLimit = false;
    notes.listTooLarge = false;
    notes.cutField = null;
    if (cut) {
      const err = this.decodeFields(b, start, end, onField, true);
      this.resync();
      return err === 'hpack-truncated' ? null : err;
    }
    return this.decodeFields(b, start, end, onField, false);
  }

  private decodeFields(b: Uint8Array, start: number, end: number, onField: OnField, cut: boolean): HpackError | null {
    const notes = this.notes;
    let listBytes = 0;
    let i = start;
    const emit = (name: string, value: string): void => {
      listBytes += name.length + value.length + ENTRY_OVERHEAD;
      if (listBytes > MAX_HEADER_LIST) notes.listTooLarge = true;
      else onField(name, value);
    };
    while (i < end) {
      const first = b[i]!;
      if (first & 0x80) { // §6.1 indexed field
        const idx = readInt(b, i, end, 7);
        if (idx < 0) return this.fail(idx);
        i = INT_END;
        const f = this.lookup(idx);
        if (f === BAD) return this.fail(BAD_INDEX);
        if (f === UNKNOWN || f[0] === null) notes.unknownRefs++;
        else emit(f[0], f[1]);
        continue;
      }
      if ((first & 0xe0) === 0x20) { // §6.3 dynamic table size update
        const size = readInt(b, i, end, 5);
        if (size < 0) return this.fail(size);
        i = INT_END;
        if (size > this.limit) notes.sizeOverLimit = true;
        this.maxSize = Math.min(size, MAX_TABLE_SIZE);
        this.evict(0);
        continue;
      }
      // §6.2 literals: with incremental indexing (01), without (0000), never indexed (0001)
      const indexing = (first & 0xc0) === 0x40;
      const idx = readInt(b, i, end, indexing ? 6 : 4);
      if (idx < 0) return this.fail(idx);
      i = INT_END;
      let name: string | null;
      if (idx === 0) {
        const s = readString(b, i, end);
        if (typeof s !== 'string') return this.fail(s);
        name = s;
        i = STRING_END;
      } else {
        const f = this.lookup(idx);
        if (f === BAD) return this.fail(BAD_INDEX);
        name = f === UNKNOWN ? null : f[0];
      }
      const value = readString(b, i, end);
      if (value === TRUNCATED && cut && name !== null) {
        const prefix = readString(b, i, end, true);
        if (typeof prefix === 'string' && prefix.length > 0) {
          notes.cutField = name;
          emit(name, prefix);
        }
      }
      if (typeof value !== 'string') return this.fail(value);
      i = STRING_END;
      if (name === null) notes.unknownRefs++;
      else emit(name, value);
      if (indexing) this.insert(name, value);
    }
    return null;
  }

  private fail(code: number): HpackError {
    this.resync();
    switch (code) {
      case TRUNCATED: return 'hpack-truncated';
      case OVERFLOW: return 'hpack-integer-overflow';
      case HUFF_EOS: return 'huffman-eos';
      case HUFF_PADDING: return 'huffman-padding';
      default: return 'hpack-bad-index';
    }
  }

  /** [name, value] of index `idx`, UNKNOWN for an entry from before what this decoder saw, BAD for an impossible index. */
  private lookup(idx: number): readonly [string | null, string] | typeof UNKNOWN | typeof BAD {
    if (idx === 0) return BAD;
    if (idx <= STATIC_COUNT) return STATIC_TABLE[idx]!;
    const d = idx - STATIC_COUNT - 1;
    if (d < this.count) return this.entry(d)!;
    return this.complete ? BAD : UNKNOWN;
  }

  private insert(name: string | null, value: string): void {
    // A placeholder counts its value only: the table then never holds less than the encoder's,
    // so nothing the encoder may still reference is evicted early.
    const size = (name === null ? 0 : name.length) + value.length + ENTRY_OVERHEAD;
    if (size > this.maxSize) { // §4.4: an entry larger than the table empties it
      this.evict(this.maxSize + 1);
      return;
    }
    this.evict(size);
    if (this.count === this.ring.length) this.grow();
    this.head = (this.head - 1 + this.ring.length) % this.ring.length;
    this.ring[this.head] = { name, value, size };
    this.count++;
    this.bytes += size;
  }

  /** Evicts oldest entries until `room` more octets fit in maxSize (§4.3, §4.4). */
  private evict(room: number): void {
    while (this.count > 0 && this.bytes + room > this.maxSize) {
      const at = (this.head + this.count - 1) % this.ring.length;
      this.bytes -= this.ring[at]!.size;
      this.ring[at] = undefined;
      this.count--;
    }
  }

  private grow(): void {
    const next = new Array<Entry | undefined>(this.ring.length * 2);
    for (let k = 0; k < this.count; k++) next[k] = this.ring[(this.head + k) % this.ring.length];
    this.ring = next;
    this.head = 0;
  }
}

const UNKNOWN = Symbol('unknown');
const BAD = Symbol('bad');
const TRUNCATED = -1;
const OVERFLOW = -2;
const BAD_INDEX = -3;
const HUFF_EOS = -4;
const HUFF_PADDING = -5;

/** Where the last readInt / readString stopped (module state: decoding is synchronous). */
let INT_END = 0;
let STRING_END = 0;

/** §5.1 integer with an N-bit prefix at b[i]; the value, or TRUNCATED / OVERFLOW. Sets INT_END. */
export function readInt(b: Uint8Array, i: number, end: number, prefixBits: number): number {
  if (i >= end) return TRUNCATED;
  const max = (1 << prefixBits) - 1;
  let value = b[i]! & max;
  i++;
  if (value === max) {
    let shift = 0;
    for (;;) {
      if (i >= end) return TRUNCATED;
      const byte = b[i++]!;
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
      if (shift > 28) return OVERFLOW;
    }
  }
  INT_END = i;
  return value;
}

/**
 * §5.2 string literal at b[i]: the string, or a negative code saying why not. Sets STRING_END.
 * `prefix`: the block was cut by the snap length — a string running past `end` gives its captured
 * octets (raw), or as many Huffman symbols as the captured bits hold.
 */
function readString(b: Uint8Array, i: number, end: number, prefix = false): string | number {
  if (i >= end) return TRUNCATED;
  const huffman = (b[i]! & 0x80) !== 0;
  const len = readInt(b, i, end, 7);
  if (len < 0) return len;
  i = INT_END;
  if (i + len > end && !prefix) return TRUNCATED;
  const stop = Math.min(end, i + len);
  STRING_END = stop;
  if (!huffman) return latin1(b, i, stop);
  const s = huffmanDecode(b, i, stop, prefix);
  return typeof s === 'string' ? s : s === HUFFMAN_EOS ? HUFF_EOS : HUFF_PADDING;
}

function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

import { CaptureError } from './errors.js';
import type { CaptureParser } from './parser.js';
import { HEADER, RECORD_HEADER_LENGTH, readPcapHeader, recordLengthProblem, setRecordTime } from './pcap.js';
import { newCaptureRecord, type RecordSink } from './record.js';

/** Record header fields (draft-ietf-opsawg-pcap §5), offsets from the record start. */
const REC = { TS_SEC: 0, TS_SUB: 4, CAPLEN: 8, ORIGLEN: 12 } as const;

/**
 * Classic pcap, read by flowdoc itself — the same `CaptureParser` contract, checks and error
 * words as `PcapParser` (the `pcap-parser` wrapper), without its per-packet costs. See
 * docs/performance.md for the measurements behind using it.
 *
 * Memory, as the pcapng reader: a record that lies whole inside the current chunk is handed on as
 * a view into that chunk (record.data = chunk, record.start = offset) — nothing is copied, sliced
 * or allocated per packet. Only a record that straddles two chunks is assembled in `carry`, one
 * reusable buffer that grows to the largest straddling record (≤ 16 + 262,144 bytes).
 */
export class PcapReader implements CaptureParser {
  readonly format = 'pcap' as const;
  error: CaptureError | null = null;
  packets = 0;
  linkTypes: number[] = [];
  precision = 6;
  readonly skipped = new Map<string, number>();

  private readonly record = newCaptureRecord();
  /** The global header while it is being collected; null once it is read. */
  private header: Uint8Array | null = new Uint8Array(HEADER.LENGTH);
  private headerFill = 0;
  private le = true;
  private nanos = false;
  private snaplen = 0;
  private linkType = 0;
  /** Stream offset of the first byte not yet consumed (the start of the next or carried record). */
  private offset = 0;
  /** The one partial record carried between chunks. */
  private carry = new Uint8Array(0);
  private carryLen = 0;
  /** Captured length of the carried record once its header is complete, else -1. */
  private carryDataLen = -1;

  constructor(private readonly sink: RecordSink, private readonly file: string) {}

  push(chunk: Uint8Array): void {
    if (this.error) return;
    let pos = 0;
    if (this.header) {
      const take = Math.min(HEADER.LENGTH - this.headerFill, chunk.length);
      this.header.set(chunk.subarray(0, take), this.headerFill);
      this.headerFill += take;
      if (this.headerFill < HEADER.LENGTH) return;
      const header = readPcapHeader(this.header);
      this.header = null;
      if ('code' in header) {
        this.fail(header.code, header.detail, header.offset);
        return;
      }
      this.le = header.littleEndian;
      this.nanos = header.nanos;
      this.precision = header.nanos ? 9 : 6;
      this.snaplen = header.snaplen;
      this.linkType = header.linkType;
      this.linkTypes.push(this.linkType);
      this.offset = HEADER.LENGTH;
      pos = take;
    }
    if (this.carryLen > 0) {
      pos = this.fillCarry(chunk, pos);
      if (pos < 0) return;
    }
    const end = chunk.length;
    while (end - pos >= RECORD_HEADER_LENGTH) {
      const len = this.capturedLength(chunk, pos);
      if (len < 0) return;
      if (end - pos - RECORD_HEADER_LENGTH < len) break;
      this.emit(chunk, pos, len);
      pos += RECORD_HEADER_LENGTH + len;
    }
    if (pos < end) this.startCarry(chunk, pos);
  }

  end(): void {
    if (this.error) return;
    if (this.header) {
      if (this.headerFill === 0) this.fail('empty', 'file is empty', 0);
      else this.fail('truncated-header', `file ends inside the pcap file header (${this.headerFill} of 24 bytes)`, 0);
      return;
    }
    if (this.carryLen === 0) return;
    if (this.carryDataLen >= 0) {
      const present = this.carryLen - RECORD_HEADER_LENGTH;
      this.fail('truncated-record', `file ends inside a record: ${present} of ${this.carryDataLen} captured bytes present (cut short in the middle of a packet)`, this.offset);
    } else {
      this.fail('truncated-record', `file ends inside a record header (${this.carryLen} of 16 bytes)`, this.offset);
    }
  }

  /** The checked captured length of the record whose header is at b[pos], or -1 (error set). */
  private capturedLength(b: Uint8Array, pos: number): number {
    const len = this.u32(b, pos + REC.CAPLEN);
    const problem = recordLengthProblem(len, this.snaplen);
    if (problem !== null) {
      this.fail('bad-length', problem, this.offset);
      return -1;
    }
    return len;
  }

  /** Hands on the record at b[pos] (header) whose `len` captured bytes follow it in `b`. */
  private emit(b: Uint8Array, pos: number, len: number): void {
    const r = this.record;
    r.frame = ++this.packets;
    setRecordTime(r, this.u32(b, pos + REC.TS_SEC), this.u32(b, pos + REC.TS_SUB), this.nanos);
    r.precision = this.precision;
    r.hasTimestamp = true;
    r.linkType = this.linkType;
    r.interfaceId = 0;
    r.data = b;
    r.start = pos + RECORD_HEADER_LENGTH;
    r.capturedLength = len;
    r.originalLength = this.u32(b, pos + REC.ORIGLEN);
    r.fileOffset = this.offset;
    this.offset += RECORD_HEADER_LENGTH + len;
    this.sink(r);
  }

  // ---- records that straddle chunks --------------------------------------------------------

  private startCarry(chunk: Uint8Array, pos: number): void {
    this.carryLen = 0;
    this.carryDataLen = -1;
    this.appendCarry(chunk, pos, chunk.length - pos);
    if (this.carryLen >= RECORD_HEADER_LENGTH) this.carryDataLen = this.capturedLength(this.carry, 0);
  }

  /**
   * Completes the carried record from chunk[pos…]. Returns where the chunk continues after it, or
   * -1 when the chunk was used up (the record is still partial) or the record was bad.
   */
  private fillCarry(chunk: Uint8Array, pos: number): number {
    if (this.carryDataLen < 0) {
      const take = Math.min(RECORD_HEADER_LENGTH - this.carryLen, chunk.length - pos);
      this.appendCarry(chunk, pos, take);
      pos += take;
      if (this.carryLen < RECORD_HEADER_LENGTH) return -1;
      this.carryDataLen = this.capturedLength(this.carry, 0);
      if (this.carryDataLen < 0) return -1;
    }
    const need = RECORD_HEADER_LENGTH + this.carryDataLen;
    const take = Math.min(need - this.carryLen, chunk.length - pos);
    this.appendCarry(chunk, pos, take);
    pos += take;
    if (this.carryLen < need) return -1;
    const len = this.carryDataLen;
    this.carryLen = 0;
    this.carryDataLen = -1;
    this.emit(this.carry, 0, len);
    return this.error ? -1 : pos;
  }

  private appendCarry(src: Uint8Array, pos: number, n: number): void {
    if (n <= 0) return;
    const want = this.carryLen + n;
    if (want > this.carry.length) {
      const grown = new Uint8Array(Math.max(want, this.carry.length * 2, 4096));
      grown.set(this.carry.subarray(0, this.carryLen));
      this.carry = grown;
    }
    this.carry.set(src.subarray(pos, pos + n), this.carryLen);
    this.carryLen = want;
  }

  private u32(b: Uint8Array, o: number): number {
    return this.le
      ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
      : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  private fail(code: CaptureError['code'], detail: string, offset: number): void {
    if (!this.error) this.error = new CaptureError(code, detail, offset, this.packets + 1, this.file);
  }
}

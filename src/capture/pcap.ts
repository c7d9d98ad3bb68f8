import { EventEmitter } from 'node:events';
import pcapParser from 'pcap-parser';
import type { PacketHeader, ParserInput } from 'pcap-parser';
import { CaptureError } from './errors.js';
import { MAX_RECORD_BYTES, type CaptureParser } from './parser.js';
import { newCaptureRecord, type CaptureRecord, type RecordSink } from './record.js';

/** Classic pcap file header layout (draft-ietf-opsawg-pcap §4). */
export const HEADER = { MAGIC: 0, MAJOR: 4, MINOR: 6, SNAPLEN: 16, LINKTYPE: 20, LENGTH: 24 } as const;
export const RECORD_HEADER_LENGTH = 16;
/** LinkType field: low 16 bits link type, bits 16–25 reserved (must be zero), 26–31 FCS info. */
const LINKTYPE_MASK = 0xffff;
const LINKTYPE_RESERVED_MASK = 0x03ff0000;

/** On-disk magic bytes (first four bytes of the file). */
export const PCAP_MAGICS = {
  'd4c3b2a1': { littleEndian: true, nanos: false },
  'a1b2c3d4': { littleEndian: false, nanos: false },
  '4d3cb2a1': { littleEndian: true, nanos: true },
  'a1b23c4d': { littleEndian: false, nanos: true },
} as const;

/** The classic pcap file header, checked. */
export interface PcapFileHeader {
  littleEndian: boolean;
  nanos: boolean;
  /** 0 = no limit. */
  snaplen: number;
  linkType: number;
}

/** Why a pcap file header was refused: error code, detail and the offset of the bad field. */
export interface PcapHeaderProblem {
  code: CaptureError['code'];
  detail: string;
  offset: number;
}

/**
 * Reads and checks the 24-byte global header (shared by both pcap readers, so they refuse the
 * same files with the same words).
 */
export function readPcapHeader(h: Uint8Array): PcapFileHeader | PcapHeaderProblem {
  const view = new DataView(h.buffer, h.byteOffset, h.length);
  const magic = Buffer.from(h.buffer, h.byteOffset, 4).toString('hex') as keyof typeof PCAP_MAGICS;
  const kind = PCAP_MAGICS[magic];
  if (!kind) return { code: 'not-a-capture', detail: `not a pcap file (magic ${magic})`, offset: 0 };
  const le = kind.littleEndian;
  const major = view.getUint16(HEADER.MAJOR, le);
  const minor = view.getUint16(HEADER.MINOR, le);
  // tshark accepts any 2.x (libpcap's test file with 2.5 reads); 1.x and others are refused.
  if (major !== 2) return { code: 'bad-version', detail: `unsupported pcap version ${major}.${minor} (only 2.x is defined)`, offset: HEADER.MAJOR };
  const linkField = view.getUint32(HEADER.LINKTYPE, le);
  if (linkField & LINKTYPE_RESERVED_MASK) {
    return { code: 'bad-version', detail: `pcap link-type field has reserved bits set (0x${linkField.toString(16).padStart(8, '0')})`, offset: HEADER.LINKTYPE };
  }
  return { littleEndian: le, nanos: kind.nanos, snaplen: view.getUint32(HEADER.SNAPLEN, le), linkType: linkField & LINKTYPE_MASK };
}

/**
 * Classic pcap, read with `pcap-parser` (the project's chosen dependency), with its known
 * weaknesses guarded here:
 * - it rejects the nanosecond magic: we hand it the microsecond magic of the same byte order and
 *   read its "microseconds" field as nanoseconds ourselves;
 * - its version check is wrong (`major != 2 && minor != 4`): we check the header ourselves;
 * - a corrupt record length makes it buffer the rest of the file waiting for the body: we check
 *   every record header in its `packetHeader` event (which comes before the body is buffered)
 *   and stop feeding it at the first bad one.
 * It is driven synchronously: we give it an EventEmitter as its "stream" and emit each chunk
 * into it, so every packet reaches the sink before `push()` returns.
 */
export class PcapParser implements CaptureParser {
  readonly format = 'pcap' as const;
  error: CaptureError | null = null;
  packets = 0;
  linkTypes: number[] = [];
  precision = 6;
  readonly skipped = new Map<string, number>();

  private readonly record = newCaptureRecord();
  private readonly input: ParserInput = makeInput();
  private header: Uint8Array | null = new Uint8Array(HEADER.LENGTH);
  private headerFill = 0;
  private nanos = false;
  private snaplen = 0;
  private linkType = 0;
  /** Bytes of the stream fed so far, and bytes fully accounted for by parsed headers/records. */
  private fed = 0;
  private consumed = 0;
  private pendingLength = 0;

  constructor(private readonly sink: RecordSink, private readonly file: string) {
    const parser = pcapParser.parse(this.input);
    parser.on('packetHeader', (h) => this.onPacketHeader(h));
    parser.on('packetData', (d) => this.onPacketData(d));
    // pcap-parser reports only magic/version problems, which we check before it sees the header.
    parser.on('error', (e) => this.fail('bad-version', e.message, 0));
  }

  push(chunk: Uint8Array): void {
    if (this.error) return;
    let body = chunk;
    if (this.header) {
      // Collect and validate the global header ourselves before pcap-parser sees a byte of it.
      const take = Math.min(HEADER.LENGTH - this.headerFill, chunk.length);
      this.header.set(chunk.subarray(0, take), this.headerFill);
      this.headerFill += take;
      this.fed += take;
      if (this.headerFill < HEADER.LENGTH) return;
      const header = this.header;
      this.header = null;
      if (!this.acceptHeader(header)) return;
      this.consumed = HEADER.LENGTH;
      this.input.emit('data', Buffer.from(header.buffer, header.byteOffset, header.length));
      body = chunk.subarray(take);
      if (body.length === 0) return;
    }
    this.fed += body.length;
    this.input.emit('data', Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length));
  }

  end(): void {
    if (this.error) return;
    if (this.header) {
      if (this.headerFill === 0) this.fail('empty', 'file is empty', 0);
      else this.fail('truncated-header', `file ends inside the pcap file header (${this.headerFill} of 24 bytes)`, 0);
      return;
    }
    // pendingLength > 0 with nothing left over: the file ends right after a record header (tshark:
    // "cut short in the middle of a packet").
    if (this.consumed < this.fed || this.pendingLength > 0) {
      if (this.pendingLength > 0) {
        // The record header was read (consumed counts it); its data is incomplete.
        const present = this.fed - this.consumed;
        this.fail('truncated-record', `file ends inside a record: ${present} of ${this.pendingLength} captured bytes present (cut short in the middle of a packet)`, this.consumed - RECORD_HEADER_LENGTH);
      } else {
        this.fail('truncated-record', `file ends inside a record header (${this.fed - this.consumed} of 16 bytes)`, this.consumed);
      }
    }
  }

  private acceptHeader(h: Uint8Array): boolean {
    const header = readPcapHeader(h);
    if ('code' in header) return this.fail(header.code, header.detail, header.offset);
    const le = header.littleEndian;
    this.nanos = header.nanos;
    this.precision = header.nanos ? 9 : 6;
    this.snaplen = header.snaplen;
    this.linkType = header.linkType;
    this.linkTypes.push(this.linkType);
    if (header.nanos) {
      // pcap-parser knows only the µs magic: show it that, in the same byte order.
      h.set(le ? [0xd4, 0xc3, 0xb2, 0xa1] : [0xa1, 0xb2, 0xc3, 0xd4], 0);
    }
    return true;
  }

  private onPacketHeader(h: PacketHeader): void {
    if (this.error) return;
    const offset = this.consumed;
    const len = h.capturedLength;
    const problem = recordLengthProblem(len, this.snaplen);
    if (problem !== null) {
      this.fail('bad-length', problem, offset);
      return;
    }
    const r = this.record;
    r.frame = this.packets + 1;
    setRecordTime(r, h.timestampSeconds, h.timestampMicroseconds, this.nanos);
    r.precision = this.precision;
    r.hasTimestamp = true;
    r.linkType = this.linkType;
    r.interfaceId = 0;
    r.capturedLength = len;
    r.originalLength = h.originalLength;
    r.fileOffset = offset;
    this.pendingLength = len;
    this.consumed += RECORD_HEADER_LENGTH;
  }

  private onPacketData(data: Buffer): void {
    if (this.error) return;
    const r = this.record;
    r.data = data;
    r.start = 0;
    this.consumed += this.pendingLength;
    this.pendingLength = 0;
    this.packets++;
    this.sink(r);
  }

  private fail(code: CaptureError['code'], detail: string, offset: number): false {
    if (!this.error) this.error = new CaptureError(code, detail, offset, this.packets + 1, this.file);
    // Drop pcap-parser's input: nothing more is fed, so it cannot buffer the rest of the file.
    this.input.removeAllListeners('data');
    return false;
  }
}

/** The minimal "stream" pcap-parser needs: it only calls pause/resume and listens for events. */
/**
 * Why a record's captured length cannot be right (more than any real packet, or more than the
 * file's snap length), or null. Shared by both classic pcap readers so their errors are the same.
 */
export function recordLengthProblem(len: number, snaplen: number): string | null {
  if (len > MAX_RECORD_BYTES) return `record claims ${len} captured bytes, more than the maximum of ${MAX_RECORD_BYTES}: the file is damaged or corrupt`;
  if (snaplen !== 0 && len > snaplen) return `record claims ${len} captured bytes, more than the file's snap length of ${snaplen}: the file is damaged or corrupt`;
  return null;
}

/**
 * Fills the record's time from a pcap record header's seconds and sub-second field (µs, or ns
 * with the nanosecond magic). Sub-second fields ≥ 1e9 ns / 1e6 µs occur in damaged files; like
 * tshark, they are carried into the seconds.
 */
export function setRecordTime(r: CaptureRecord, seconds: number, sub: number, nanos: boolean): void {
  if (nanos) {
    r.tsMicros = seconds * 1_000_000 + Math.floor(sub / 1000);
    r.tsExtraNanos = sub % 1000;
  } else {
    r.tsMicros = seconds * 1_000_000 + sub;
    r.tsExtraNanos = 0;
  }
}

function makeInput(): ParserInput {
  const input = new EventEmitter() as ParserInput;
  input.pause = () => input;
  input.resume = () => input;
  return input;
}

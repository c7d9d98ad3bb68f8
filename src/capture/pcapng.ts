import { CaptureError, type CaptureErrorCode } from './errors.js';
import { MAX_RECORD_BYTES, type CaptureFormat, type CaptureParser } from './parser.js';
import { newCaptureRecord, type CaptureRecord, type RecordSink } from './record.js';

/*
 * pcapng push parser (draft-ietf-opsawg-pcapng; facts in reference/anchors.md §5.2).
 *
 * Memory: a block that lies whole inside the current chunk is handed on as a view into that
 * chunk (record.data = chunk, record.start = offset) — nothing is copied or sliced. Only a block
 * that straddles chunks is assembled in `carry`, one reusable buffer that grows to the largest
 * straddling block (≤ 16 MiB) and is never shrunk, so memory is bounded by block size, not file
 * size.
 *
 * Frame numbers count packets (EPB, SPB, PB) only. tshark 4.0 also gives pcapng Custom Blocks a
 * frame number (frame.cb_pen), so in files with custom blocks its numbers run ahead of ours after
 * the first one; capinfos, like us, does not count them as packets.
 */

/** Block type codes. */
const BT = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  JOURNAL: 0x00000009,
  DSB: 0x0000000a,
  CUSTOM: 0x00000bad,
  CUSTOM_NOCOPY: 0x40000bad,
} as const;

/** Names under which skipped (non-packet) blocks are counted in `skipped`. */
function skippedName(type: number): string {
  switch (type) {
    case BT.NRB: return 'name-resolution';
    case BT.ISB: return 'interface-statistics';
    case BT.JOURNAL: return 'systemd-journal';
    case BT.DSB: return 'decryption-secrets';
    case BT.CUSTOM:
    case BT.CUSTOM_NOCOPY: return 'custom';
    default: return 'unknown';
  }
}

function blockKind(type: number): string {
  switch (type) {
    case BT.SHB: return 'section header block';
    case BT.IDB: return 'interface description block';
    case BT.EPB: return 'enhanced packet block';
    case BT.SPB: return 'simple packet block';
    case BT.PB: return 'packet block';
    default: return 'block';
  }
}

/** Byte-order magic as read little-endian: 0x1A2B3C4D written by a LE host, byte-swapped by a BE host. */
const BOM_LE = 0x1a2b3c4d;
const BOM_BE = 0x4d3c2b1a;

/** Wireshark's limit on one block; anything larger is a damaged length field, not a block. */
const MAX_BLOCK_BYTES = 16 * 1024 * 1024;

/** Smallest total length of each block kind: type + length + fixed body + trailing length. */
const MIN_LEN = { ANY: 12, SHB: 28, IDB: 20, EPB: 32, PB: 32, SPB: 16 } as const;

/** Field offsets from the block start. */
const SHB = { BOM: 8, MAJOR: 12, MINOR: 14, OPTIONS: 24 } as const;
const IDB = { LINKTYPE: 8, SNAPLEN: 12, OPTIONS: 16 } as const;
const EPB = { IFACE: 8, TS_HI: 12, TS_LO: 16, CAPLEN: 20, ORIGLEN: 24, DATA: 28 } as const;
/** Obsolete Packet Block: the EPB layout, but a 16-bit interface id then a 16-bit drops count. */
const PB = { IFACE: 8, DROPS: 10 } as const;
const SPB = { ORIGLEN: 8, DATA: 12 } as const;

/** Option codes we act on. */
const OPT = { END: 0, IF_TSRESOL: 9, IF_TSOFFSET: 14, IF_TSOFFSET_NS: 19, ISB_IFDROP: 5 } as const;

/** How an interface's timestamp units become µs + ns; MICROS and NANOS are the fast paths. */
const Res = { MICROS: 0, NANOS: 1, POW10: 2, POW2: 3 } as const;
type Res = (typeof Res)[keyof typeof Res];

interface Interface {
  linkType: number;
  /** 0 = no limit. */
  snaplen: number;
  res: Res;
  /** The n of 10^-n or 2^-n. */
  exp: number;
  precision: number;
  offsetSec: number;
  offsetNs: number;
}

const NEED_MORE = -1;
const FAILED = -2;
const TWO_32 = 4294967296;
/** 2^32 = 4294967 · 1000 + 296: splits a 64-bit ns count into µs without losing precision. */
const TWO_32_DIV_1000 = 4294967;
const TWO_32_MOD_1000 = 296;

function u16(b: Uint8Array, o: number, le: boolean): number {
  return le ? b[o] | (b[o + 1] << 8) : (b[o] << 8) | b[o + 1];
}

function u32(b: Uint8Array, o: number, le: boolean): number {
  return le
    ? (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0
    : ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

function hex32(v: number): string {
  return '0x' + v.toString(16).padStart(8, '0');
}

export class PcapngParser implements CaptureParser {
  readonly format: CaptureFormat = 'pcapng';

  private readonly record: CaptureRecord = newCaptureRecord();
  private readonly interfaces: Interface[] = [];
  private readonly seenLinkTypes: number[] = [];
  private readonly skippedBytes = new Map<string, number>();
  /** `section:interface` → the latest isb_ifdrop (the counter is cumulative). */
  private readonly dropsByInterface = new Map<string, number>();
  /** Byte order of the current section. */
  private le = true;
  /** Section headers read so far; 0 means the stream has not yet proven to be pcapng. */
  private sections = 0;
  /** Stream offset of the first byte not yet consumed: the start of the next (or carried) block. */
  private offset = 0;
  private bytesIn = 0;
  /** The one partial block carried between chunks. */
  private carry = new Uint8Array(0);
  private carryLen = 0;
  /** Total length of the carried block once its header is complete, else 0. */
  private carryNeed = 0;
  /** -1 until the first interface is described. */
  private finestPrecision = -1;
  private count = 0;
  private ended = false;
  private failure: CaptureError | null = null;

  constructor(
    private readonly sink: RecordSink,
    private readonly file: string,
  ) {}

  get error(): CaptureError | null {
    return this.failure;
  }

  get packets(): number {
    return this.count;
  }

  get linkTypes(): readonly number[] {
    return this.seenLinkTypes;
  }

  /** The finest interface resolution seen; 6 (the pcapng default, µs) before any interface. */
  get precision(): number {
    return this.finestPrecision < 0 ? 6 : this.finestPrecision;
  }

  /**
   * Packets the capturing system dropped, from the Interface Statistics Blocks' isb_ifdrop: the
   * last (cumulative) value of each interface, summed; null when no ISB carried one.
   */
  get kernelDrops(): number | null {
    if (this.dropsByInterface.size === 0) return null;
    let n = 0;
    for (const v of this.dropsByInterface.values()) n += v;
    return n;
  }

  get skipped(): ReadonlyMap<string, number> {
    return this.skippedBytes;
  }

  push(chunk: Uint8Array): void {
    if (this.failure !== null || this.ended) return;
    this.bytesIn += chunk.length;
    let pos = 0;
    if (this.carryLen > 0) {
      pos = this.fillCarry(chunk);
      if (pos < 0) return;
    }
    const end = chunk.length;
    while (pos < end) {
      const avail = end - pos;
      const len = this.blockLength(chunk, pos, avail);
      if (len === FAILED) return;
      if (len === NEED_MORE || avail < len) {
        this.startCarry(chunk, pos, len === NEED_MORE ? 0 : len);
        return;
      }
      if (!this.processBlock(chunk, pos, len)) return;
      pos += len;
      this.offset += len;
    }
  }

  end(): void {
    if (this.failure !== null || this.ended) return;
    this.ended = true;
    if (this.bytesIn === 0) {
      this.fail('empty', 'the capture is empty (0 bytes)');
      return;
    }
    if (this.carryLen === 0) return;
    if (this.sections === 0) {
      // Fewer than 4 bytes never reached blockLength's type check: do it here.
      if (!this.startsLikeShb()) {
        this.fail('not-a-capture', `stream of ${this.carryLen} bytes does not start with a pcapng section header block`);
        return;
      }
      this.fail('truncated-header', `stream ends inside the first pcapng section header block (${this.carryLen} of ${this.carryNeed > 0 ? this.carryNeed : 'at least 28'} bytes)`);
      return;
    }
    const what = this.carryLen >= 4 ? blockKind(u32(this.carry, 0, this.le)) : 'block';
    this.fail(
      'truncated-record',
      this.carryNeed > 0
        ? `stream ends inside the pcapng ${what} at ${this.offset} (${this.carryLen} of ${this.carryNeed} bytes present)`
        : `stream ends inside the header of the pcapng ${what} at ${this.offset} (${this.carryLen} bytes present)`,
    );
  }

  // ---- chunk bookkeeping -------------------------------------------------------------------

  /** Copies the rest of `chunk` from `pos` into the carry buffer; `need` = 0 if not yet known. */
  private startCarry(chunk: Uint8Array, pos: number, need: number): void {
    this.carryLen = 0;
    this.carryNeed = need;
    this.appendCarry(chunk, pos, chunk.length - pos);
  }

  /**
   * Feeds the carried block from the start of `chunk`. Returns where the chunk continues after
   * the block, or -1 if the chunk was used up (block still partial) or the block was bad.
   */
  private fillCarry(chunk: Uint8Array): number {
    let pos = 0;
    if (this.carryNeed === 0) {
      // 12 bytes are enough to know any block's length (an SHB needs its byte-order magic), and
      // no valid block is shorter, so taking up to 12 never reads past the block.
      const take = Math.min(MIN_LEN.ANY - this.carryLen, chunk.length);
      this.appendCarry(chunk, 0, take);
      pos = take;
      const len = this.blockLength(this.carry, 0, this.carryLen);
      if (len === FAILED || len === NEED_MORE) return -1;
      this.carryNeed = len;
    }
    const take = Math.min(this.carryNeed - this.carryLen, chunk.length - pos);
    this.appendCarry(chunk, pos, take);
    pos += take;
    if (this.carryLen < this.carryNeed) return -1;
    const len = this.carryNeed;
    this.carryLen = 0;
    this.carryNeed = 0;
    if (!this.processBlock(this.carry, 0, len)) return -1;
    this.offset += len;
    return pos;
  }

  private appendCarry(src: Uint8Array, pos: number, n: number): void {
    if (n <= 0) return;
    const want = this.carryLen + n;
    if (want > this.carry.length) {
      // Grow to the block's full length when known, so a straddling block is copied once.
      const grown = new Uint8Array(Math.max(want, this.carryNeed, this.carry.length * 2, 4096));
      grown.set(this.carry.subarray(0, this.carryLen));
      this.carry = grown;
    }
    this.carry.set(src.subarray(pos, pos + n), this.carryLen);
    this.carryLen = want;
  }

  private startsLikeShb(): boolean {
    const magic = [0x0a, 0x0d, 0x0d, 0x0a];
    for (let i = 0; i < this.carryLen && i < 4; i++) if (this.carry[i] !== magic[i]) return false;
    return true;
  }

  // ---- blocks ------------------------------------------------------------------------------

  /**
   * The validated total length of the block at `pos`, NEED_MORE if its header is not complete
   * in the `avail` bytes, or FAILED (error set).
   */
  private blockLength(buf: Uint8Array, pos: number, avail: number): number {
    if (avail < 4) return NEED_MORE;
    // The SHB type is a palindrome, so it reads the same in either byte order.
    const type = u32(buf, pos, this.le);
    let len: number;
    let min: number;
    if (type === BT.SHB) {
      if (avail < 12) return NEED_MORE;
      const bom = u32(buf, pos + SHB.BOM, true);
      let le: boolean;
      if (bom === BOM_LE) le = true;
      else if (bom === BOM_BE) le = false;
      else {
        this.fail(
          this.sections === 0 ? 'not-a-capture' : 'bad-block',
          `pcapng section header block at ${this.offset} has byte-order magic ${hex32(bom)}, neither 0x1a2b3c4d nor 0x4d3c2b1a`,
        );
        return FAILED;
      }
      len = u32(buf, pos + 4, le);
      min = MIN_LEN.SHB;
    } else {
      if (this.sections === 0) {
        this.fail('not-a-capture', `stream starts with block type ${hex32(type)}, not a pcapng section header block (0x0a0d0d0a)`);
        return FAILED;
      }
      if (avail < 8) return NEED_MORE;
      len = u32(buf, pos + 4, this.le);
      min = minLength(type);
    }
    const kind = blockKind(type);
    if (len < MIN_LEN.ANY) return this.badLength(`pcapng ${kind} at ${this.offset} has total length ${len}, below the minimum of ${MIN_LEN.ANY}`);
    if (len % 4 !== 0) return this.badLength(`pcapng ${kind} at ${this.offset} has total length ${len}, not a multiple of 4`);
    if (len > MAX_BLOCK_BYTES) return this.badLength(`pcapng ${kind} at ${this.offset} has total length ${len}, above the limit of ${MAX_BLOCK_BYTES} (16 MiB)`);
    if (len < min) return this.badLength(`pcapng ${kind} at ${this.offset} has total length ${len}, below the minimum of ${min} for its kind`);
    return len;
  }

  private badLength(detail: string): number {
    this.fail('bad-length', detail);
    return FAILED;
  }

  /** Handles one whole block at buf[pos, pos + len). Returns false once an error is set. */
  private processBlock(buf: Uint8Array, pos: number, len: number): boolean {
    const type = u32(buf, pos, this.le);
    // A section header carries its own byte order; every other block uses the section's.
    const le = type === BT.SHB ? u32(buf, pos + SHB.BOM, true) === BOM_LE : this.le;
    const trailer = u32(buf, pos + len - 4, le);
    if (trailer !== len) {
      this.fail('bad-block', `pcapng ${blockKind(type)} at ${this.offset} has trailing length ${trailer}, but its leading length is ${len}`);
      return false;
    }
    switch (type) {
      case BT.SHB: return this.sectionHeader(buf, pos, len, le);
      case BT.IDB: return this.interfaceDescription(buf, pos, len);
      case BT.EPB:
      case BT.PB: return this.timedPacket(buf, pos, len, type);
      case BT.SPB: return this.simplePacket(buf, pos, len);
      default: {
        if (type === BT.ISB) this.interfaceStatistics(buf, pos, len);
        const name = skippedName(type);
        this.skippedBytes.set(name, (this.skippedBytes.get(name) ?? 0) + len);
        return true;
      }
    }
  }

  /** Reads isb_ifdrop from an Interface Statistics Block (id, 64-bit time, then options); a malformed option is ignored, as Wireshark does. */
  private interfaceStatistics(buf: Uint8Array, pos: number, len: number): void {
    const end = pos + len - 4;
    const ifid = u32(buf, pos + 8, this.le);
    for (let p = pos + 20; p + 4 <= end;) {
      const code = u16(buf, p, this.le);
      const olen = u16(buf, p + 2, this.le);
      if (code === OPT.END || p + 4 + ((olen + 3) & ~3) > end) return;
      if (code === OPT.ISB_IFDROP && olen === 8) {
        const a = u32(buf, p + 4, this.le), b = u32(buf, p + 8, this.le);
        this.dropsByInterface.set(`${this.sections}:${ifid}`, this.le ? b * TWO_32 + a : a * TWO_32 + b);
      }
      p += 4 + ((olen + 3) & ~3);
    }
  }

  private sectionHeader(buf: Uint8Array, pos: number, len: number, le: boolean): boolean {
    const major = u16(buf, pos + SHB.MAJOR, le);
    const minor = u16(buf, pos + SHB.MINOR, le);
    // Minor 2 was written by some old tools and means the same as 0 (the draft says so).
    if (major !== 1 || (minor !== 0 && minor !== 2)) {
      this.fail('bad-version', `pcapng section header block at ${this.offset} has version ${major}.${minor}; only 1.0 is supported (unknown SHB version)`);
      return false;
    }
    if (!this.walkOptions(buf, pos, pos + SHB.OPTIONS, pos + len - 4, le, BT.SHB, null)) return false;
    this.le = le;
    // Interface ids restart with every section.
    this.interfaces.length = 0;
    this.sections++;
    return true;
  }

  private interfaceDescription(buf: Uint8Array, pos: number, len: number): boolean {
    const iface: Interface = {
      linkType: u16(buf, pos + IDB.LINKTYPE, this.le),
      snaplen: u32(buf, pos + IDB.SNAPLEN, this.le),
      res: Res.MICROS,
      exp: 6,
      precision: 6,
      offsetSec: 0,
      offsetNs: 0,
    };
    if (!this.walkOptions(buf, pos, pos + IDB.OPTIONS, pos + len - 4, this.le, BT.IDB, iface)) return false;
    this.interfaces.push(iface);
    if (!this.seenLinkTypes.includes(iface.linkType)) this.seenLinkTypes.push(iface.linkType);
    if (iface.precision > this.finestPrecision) this.finestPrecision = iface.precision;
    return true;
  }

  /**
   * Walks the TLV options in [start, end) and checks that none runs past the block (tshark:
   * "Not enough data to handle option of length N"). Fills the timestamp fields of `iface`.
   */
  private walkOptions(buf: Uint8Array, blockPos: number, start: number, end: number, le: boolean, type: number, iface: Interface | null): boolean {
    let p = start;
    while (p + 4 <= end) {
      const code = u16(buf, p, le);
      const olen = u16(buf, p + 2, le);
      if (code === OPT.END) return true;
      const padded = (olen + 3) & ~3;
      if (p + 4 + padded > end) {
        this.fail('bad-block', `pcapng ${blockKind(type)} at ${this.offset} has option ${code} of length ${olen} at byte ${p - blockPos}, running past the end of the block`);
        return false;
      }
      if (iface !== null && !this.interfaceOption(buf, p + 4, code, olen, iface)) return false;
      p += 4 + padded;
    }
    return true;
  }

  /** Options with an unexpected length are ignored, as Wireshark does. */
  private interfaceOption(buf: Uint8Array, v: number, code: number, olen: number, iface: Interface): boolean {
    if (code === OPT.IF_TSRESOL && olen === 1) {
      const raw = buf[v];
      const exp = raw & 0x7f;
      if (raw & 0x80) {
        // 2^-n; beyond 2^-63 a 64-bit counter cannot even hold one second.
        if (exp > 63) return this.badResolution(raw);
        iface.res = Res.POW2;
        iface.exp = exp;
        iface.precision = Math.ceil(exp * Math.log10(2));
      } else {
        if (exp > 19) return this.badResolution(raw);
        iface.res = exp === 6 ? Res.MICROS : exp === 9 ? Res.NANOS : Res.POW10;
        iface.exp = exp;
        iface.precision = exp;
      }
    } else if (code === OPT.IF_TSOFFSET && olen === 8) {
      const a = u32(buf, v, this.le);
      const b = u32(buf, v + 4, this.le);
      // Signed 64-bit seconds; as a number this is exact for any plausible offset (< 2^53 s).
      iface.offsetSec = this.le ? (b | 0) * TWO_32 + a : (a | 0) * TWO_32 + b;
    } else if (code === OPT.IF_TSOFFSET_NS && olen === 4) {
      iface.offsetNs = u32(buf, v, this.le) | 0;
    }
    return true;
  }

  private badResolution(raw: number): boolean {
    this.fail('bad-block', `pcapng interface description block at ${this.offset} has if_tsresol 0x${raw.toString(16)}, finer than a 64-bit timestamp can count`);
    return false;
  }

  /** EPB and the obsolete PB share a layout but for PB's 16-bit interface id (then a drops count). */
  private timedPacket(buf: Uint8Array, pos: number, len: number, type: number): boolean {
    const ifId = type === BT.EPB ? u32(buf, pos + EPB.IFACE, this.le) : u16(buf, pos + PB.IFACE, this.le);
    const iface = this.packetInterface(ifId, type);
    if (iface === null) return false;
    const capLen = u32(buf, pos + EPB.CAPLEN, this.le);
    if (!this.checkCapturedLength(capLen, len - MIN_LEN.EPB, type)) return false;
    this.setTimestamp(iface, u32(buf, pos + EPB.TS_HI, this.le), u32(buf, pos + EPB.TS_LO, this.le));
    this.emit(iface, ifId, buf, pos + EPB.DATA, capLen, u32(buf, pos + EPB.ORIGLEN, this.le));
    return true;
  }

  /** SPB: interface 0, no timestamp; captured length = min(original, IDB 0 snaplen, body). */
  private simplePacket(buf: Uint8Array, pos: number, len: number): boolean {
    const iface = this.packetInterface(0, BT.SPB);
    if (iface === null) return false;
    const origLen = u32(buf, pos + SPB.ORIGLEN, this.le);
    let capLen = Math.min(origLen, len - MIN_LEN.SPB);
    if (iface.snaplen !== 0 && iface.snaplen < capLen) capLen = iface.snaplen;
    if (!this.checkCapturedLength(capLen, len - MIN_LEN.SPB, BT.SPB)) return false;
    const r = this.record;
    r.tsMicros = 0;
    r.tsExtraNanos = 0;
    r.hasTimestamp = false;
    this.emit(iface, 0, buf, pos + SPB.DATA, capLen, origLen);
    return true;
  }

  private packetInterface(ifId: number, type: number): Interface | null {
    if (ifId < this.interfaces.length) return this.interfaces[ifId];
    const described = this.interfaces.length === 0 ? 'none' : `only ${this.interfaces.length} (0–${this.interfaces.length - 1})`;
    this.fail('bad-block', `pcapng ${blockKind(type)} at ${this.offset} refers to interface ${ifId}, but this section has described ${described}`);
    return null;
  }

  private checkCapturedLength(capLen: number, body: number, type: number): boolean {
    if (capLen > MAX_RECORD_BYTES) {
      this.fail('bad-length', `pcapng ${blockKind(type)} at ${this.offset} has captured length ${capLen}, above the maximum of ${MAX_RECORD_BYTES}`);
      return false;
    }
    if (capLen > body) {
      this.fail('bad-length', `pcapng ${blockKind(type)} at ${this.offset} has captured length ${capLen}, more than its ${body}-byte packet area`);
      return false;
    }
    return true;
  }

  private emit(iface: Interface, ifId: number, buf: Uint8Array, start: number, capLen: number, origLen: number): void {
    const r = this.record;
    r.frame = ++this.count;
    r.precision = iface.precision;
    r.linkType = iface.linkType;
    r.interfaceId = ifId;
    r.data = buf;
    r.start = start;
    r.capturedLength = capLen;
    r.originalLength = origLen;
    r.fileOffset = this.offset;
    this.sink(r);
  }

  // ---- timestamps --------------------------------------------------------------------------

  /** Sets record.tsMicros / tsExtraNanos from a 64-bit tick count (hi, lo) of `iface`'s units. */
  private setTimestamp(iface: Interface, hi: number, lo: number): void {
    const r = this.record;
    r.hasTimestamp = true;
    switch (iface.res) {
      case Res.MICROS:
        // Exact while the count is below 2^53 µs (year 2255); beyond that no number could hold it.
        r.tsMicros = hi * TWO_32 + lo;
        r.tsExtraNanos = 0;
        break;
      case Res.NANOS: {
        // hi·2^32 + lo ns = hi·4294967 µs + (hi·296 + lo) ns; every term stays below 2^53.
        const rest = hi * TWO_32_MOD_1000 + lo;
        const restMicros = Math.floor(rest / 1000);
        r.tsMicros = hi * TWO_32_DIV_1000 + restMicros;
        r.tsExtraNanos = rest - restMicros * 1000;
        break;
      }
      default:
        setUnusualTimestamp(iface, hi, lo, r);
    }
    if (iface.offsetSec !== 0 || iface.offsetNs !== 0) applyOffset(iface, r);
  }

  private fail(code: CaptureErrorCode, detail: string): void {
    this.failure = new CaptureError(code, detail, this.offset, this.count + 1, this.file);
  }
}

function minLength(type: number): number {
  switch (type) {
    case BT.IDB: return MIN_LEN.IDB;
    case BT.EPB: return MIN_LEN.EPB;
    case BT.PB: return MIN_LEN.PB;
    case BT.SPB: return MIN_LEN.SPB;
    default: return MIN_LEN.ANY;
  }
}

const POW10_BIG: readonly bigint[] = Array.from({ length: 20 }, (_, i) => 10n ** BigInt(i));

/**
 * Resolutions other than 10^-6 and 10^-9 (e.g. 10^-3, 2^-10). Number arithmetic where it is
 * provably exact; BigInt only for the rest (rare resolutions, so its allocation is acceptable).
 */
function setUnusualTimestamp(iface: Interface, hi: number, lo: number, r: CaptureRecord): void {
  const exp = iface.exp;
  if (iface.res === Res.POW10 && exp < 6) {
    const micros = (hi * TWO_32 + lo) * 10 ** (6 - exp);
    if (hi < 0x200000 && micros <= Number.MAX_SAFE_INTEGER) {
      r.tsMicros = micros;
      r.tsExtraNanos = 0;
      return;
    }
  } else if (iface.res === Res.POW2 && exp <= 23) {
    // Whole seconds are ticks >> exp; the fraction (< 2^23) times 1e9 stays below 2^53.
    const unit = 2 ** exp;
    const loSec = Math.floor(lo / unit);
    const sec = hi * (TWO_32 / unit) + loSec;
    const ns = Math.floor(((lo - loSec * unit) * 1e9) / unit);
    const micros = sec * 1e6 + Math.floor(ns / 1000);
    if (micros <= Number.MAX_SAFE_INTEGER) {
      r.tsMicros = micros;
      r.tsExtraNanos = ns % 1000;
      return;
    }
  }
  const ticks = (BigInt(hi) << 32n) | BigInt(lo);
  let ns: bigint;
  if (iface.res === Res.POW2) ns = (ticks * 1_000_000_000n) >> BigInt(exp);
  else ns = exp >= 9 ? ticks / POW10_BIG[exp - 9] : ticks * POW10_BIG[9 - exp];
  r.tsMicros = Number(ns / 1000n);
  r.tsExtraNanos = Number(ns % 1000n);
}

/** Adds if_tsoffset (seconds) and if_tsoffset_ns, keeping tsExtraNanos within 0–999. */
function applyOffset(iface: Interface, r: CaptureRecord): void {
  const nsPart = iface.offsetNs % 1000;
  let extra = r.tsExtraNanos + nsPart;
  let micros = r.tsMicros + iface.offsetSec * 1e6 + (iface.offsetNs - nsPart) / 1000;
  if (extra < 0) {
    extra += 1000;
    micros -= 1;
  } else if (extra >= 1000) {
    extra -= 1000;
    micros += 1;
  }
  r.tsMicros = micros;
  r.tsExtraNanos = extra;
}

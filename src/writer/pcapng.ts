import { parseIp } from './address.js';
import { ByteWriter, type Endian } from './bytes.js';
import type { PacketRecord } from './pcap.js';

/*
 * pcapng block writer (draft-ietf-opsawg-pcapng; reference/anchors.md §5.2). Writes whatever it is
 * told, in order, so tests can also build odd files: an EPB may name an interface that was never
 * described, a section may have no interfaces, any block type can be inserted.
 */

export const BLOCK_TYPE = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  SYSTEMD_JOURNAL: 0x00000009,
  DSB: 0x0000000a,
  CUSTOM: 0x00000bad,
  CUSTOM_NOCOPY: 0x40000bad,
} as const;

/** A raw option; text values are written as UTF-8 without a terminating NUL. */
export interface PcapngOption {
  code: number;
  value: Uint8Array | string;
}

export interface SectionOptions {
  /** Default 'le'. */
  endian?: Endian;
  /** Default 1.0. */
  version?: readonly [number, number];
  /** Section length field; default -1 (unknown), which is what streaming writers put. */
  sectionLength?: bigint;
  hardware?: string;
  os?: string;
  userappl?: string;
  options?: readonly PcapngOption[];
}

/** if_tsresol: 10^-exp or 2^-exp seconds per tick. */
export interface TsResolution {
  base: 10 | 2;
  exp: number;
}

export interface InterfaceOptions {
  linkType: number;
  /** 0 = no limit (default). Longer EPB/PB/SPB packets are cut, their original length kept. */
  snaplen?: number;
  /** Default: option absent, i.e. 10^-6. */
  tsresol?: TsResolution;
  /** if_tsoffset, whole seconds added by readers to every timestamp (signed). */
  tsoffset?: number;
  /** if_tsoffset_ns, |x| < 1e9. */
  tsoffsetNs?: number;
  name?: string;
  options?: readonly PcapngOption[];
}

export type PacketBlockKind = 'epb' | 'spb' | 'pb';

export interface PcapngPacket extends PacketRecord {
  /** Default 0. */
  interfaceId?: number;
  /** Enhanced (default), Simple (interface 0, no timestamp) or obsolete Packet Block. */
  block?: PacketBlockKind;
  /** epb_flags (direction, reception type …). */
  flags?: number;
  comment?: string;
  /** PB drops count; default 0xFFFF (unknown). */
  dropsCount?: number;
}

export interface NameResolutionEntry {
  ip: string;
  names: readonly string[];
}

const OPT = {
  END: 0,
  COMMENT: 1,
  SHB_HARDWARE: 2,
  SHB_OS: 3,
  SHB_USERAPPL: 4,
  IF_NAME: 2,
  IF_TSRESOL: 9,
  IF_TSOFFSET: 14,
  IF_TSOFFSET_NS: 19,
  EPB_FLAGS: 2,
  ISB_STARTTIME: 2,
  ISB_IFRECV: 4,
  ISB_IFDROP: 5,
} as const;
const NRB_RECORD = { END: 0, IPV4: 1, IPV6: 2 } as const;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const TWO_32 = 4294967296;

interface InterfaceClock {
  tsresol: TsResolution | undefined;
  offsetSec: number;
  offsetNs: number;
  snaplen: number;
}

const encoder = new TextEncoder();

export class PcapngWriter {
  private interfaces: InterfaceClock[] = [];
  private sectionStarted = false;

  /** Blocks go to `out`; a streaming caller may drain and reset it between blocks. */
  constructor(readonly out: ByteWriter = new ByteWriter()) {}

  /** Starts a section: its byte order applies to every block until the next one. */
  section(o: SectionOptions = {}): this {
    const w = this.out;
    w.le = (o.endian ?? 'le') === 'le';
    const [major, minor] = o.version ?? [1, 0];
    const start = this.begin(BLOCK_TYPE.SHB);
    w.u32(BYTE_ORDER_MAGIC).u16(major).u16(minor).i64(o.sectionLength ?? -1n);
    const opts: PcapngOption[] = [];
    if (o.hardware !== undefined) opts.push({ code: OPT.SHB_HARDWARE, value: o.hardware });
    if (o.os !== undefined) opts.push({ code: OPT.SHB_OS, value: o.os });
    if (o.userappl !== undefined) opts.push({ code: OPT.SHB_USERAPPL, value: o.userappl });
    this.options([...opts, ...(o.options ?? [])]);
    this.finish(start);
    this.interfaces = [];
    this.sectionStarted = true;
    return this;
  }

  /** Describes an interface; returns its id within the section. */
  interface(o: InterfaceOptions): number {
    this.ensureSection();
    const w = this.out;
    const start = this.begin(BLOCK_TYPE.IDB);
    w.u16(o.linkType).u16(0).u32(o.snaplen ?? 0);
    const opts: PcapngOption[] = [];
    if (o.name !== undefined) opts.push({ code: OPT.IF_NAME, value: o.name });
    if (o.tsresol !== undefined) {
      const { base, exp } = o.tsresol;
      opts.push({ code: OPT.IF_TSRESOL, value: Uint8Array.of((base === 2 ? 0x80 : 0) | exp) });
    }
    if (o.tsoffset !== undefined) opts.push({ code: OPT.IF_TSOFFSET, value: this.int64(BigInt(o.tsoffset)) });
    if (o.tsoffsetNs !== undefined) {
      const v = new Uint8Array(4);
      new DataView(v.buffer).setInt32(0, o.tsoffsetNs, w.le);
      opts.push({ code: OPT.IF_TSOFFSET_NS, value: v });
    }
    this.options([...opts, ...(o.options ?? [])]);
    this.finish(start);
    this.interfaces.push({ tsresol: o.tsresol, offsetSec: o.tsoffset ?? 0, offsetNs: o.tsoffsetNs ?? 0, snaplen: o.snaplen ?? 0 });
    return this.interfaces.length - 1;
  }

  packet(p: PcapngPacket): this {
    this.ensureSection();
    const kind = p.block ?? 'epb';
    const ifId = kind === 'spb' ? 0 : (p.interfaceId ?? 0);
    const clock = this.interfaces[ifId];
    const snaplen = clock?.snaplen ?? 0;
    const captured = snaplen > 0 ? Math.min(snaplen, p.data.length) : p.data.length;
    const original = p.originalLength ?? p.data.length;
    const w = this.out;
    if (kind === 'spb') {
      const start = this.begin(BLOCK_TYPE.SPB);
      w.u32(original).bytes(p.data, 0, captured).pad4();
      this.finish(start);
      return this;
    }
    const start = this.begin(kind === 'epb' ? BLOCK_TYPE.EPB : BLOCK_TYPE.PB);
    if (kind === 'epb') w.u32(ifId);
    else w.u16(ifId).u16(p.dropsCount ?? 0xffff);
    this.timestamp(clock, p.tsMicros, p.tsExtraNanos ?? 0);
    w.u32(captured).u32(original).bytes(p.data, 0, captured).pad4();
    const opts: PcapngOption[] = [];
    if (p.comment !== undefined) opts.push({ code: OPT.COMMENT, value: p.comment });
    if (p.flags !== undefined) opts.push({ code: OPT.EPB_FLAGS, value: this.uint32(p.flags) });
    this.options(opts);
    this.finish(start);
    return this;
  }

  /** Name Resolution Block with IPv4/IPv6 records. */
  nameResolution(entries: readonly NameResolutionEntry[]): this {
    this.ensureSection();
    const w = this.out;
    const start = this.begin(BLOCK_TYPE.NRB);
    for (const e of entries) {
      const ip = parseIp(e.ip).bytes;
      const names = e.names.map((n) => encoder.encode(n + '\0'));
      const len = ip.length + names.reduce((a, n) => a + n.length, 0);
      w.u16(ip.length === 4 ? NRB_RECORD.IPV4 : NRB_RECORD.IPV6).u16(len).bytes(ip);
      for (const n of names) w.bytes(n);
      w.pad4();
    }
    w.u16(NRB_RECORD.END).u16(0);
    this.finish(start);
    return this;
  }

  /** Interface Statistics Block with received / dropped counters. */
  interfaceStatistics(interfaceId: number, s: { tsMicros: number; received?: bigint; dropped?: bigint }): this {
    this.ensureSection();
    const w = this.out;
    const start = this.begin(BLOCK_TYPE.ISB);
    w.u32(interfaceId);
    this.timestamp(this.interfaces[interfaceId], s.tsMicros, 0);
    const opts: PcapngOption[] = [];
    if (s.received !== undefined) opts.push({ code: OPT.ISB_IFRECV, value: this.uint64(s.received) });
    if (s.dropped !== undefined) opts.push({ code: OPT.ISB_IFDROP, value: this.uint64(s.dropped) });
    this.options(opts);
    this.finish(start);
    return this;
  }

  /** Custom Block (0x0BAD, or 0x40000BAD when it must not be copied) with a Private Enterprise Number. */
  custom(pen: number, data: Uint8Array, o: { copyable?: boolean } = {}): this {
    this.ensureSection();
    const start = this.begin(o.copyable === false ? BLOCK_TYPE.CUSTOM_NOCOPY : BLOCK_TYPE.CUSTOM);
    this.out.u32(pen).bytes(data).pad4();
    this.finish(start);
    return this;
  }

  /** Decryption Secrets Block, e.g. type 0x544c534b (TLS key log). */
  decryptionSecrets(secretsType: number, data: Uint8Array): this {
    this.ensureSection();
    const start = this.begin(BLOCK_TYPE.DSB);
    this.out.u32(secretsType).u32(data.length).bytes(data).pad4();
    this.finish(start);
    return this;
  }

  /** Any block: type, body (padded to 32 bits) and the two length fields. */
  block(type: number, body: Uint8Array): this {
    const start = this.begin(type);
    this.out.bytes(body).pad4();
    this.finish(start);
    return this;
  }

  toBytes(): Uint8Array {
    return this.out.toBytes();
  }

  // ---- helpers ------------------------------------------------------------------------------

  private ensureSection(): void {
    if (!this.sectionStarted) this.section();
  }

  private begin(type: number): number {
    const start = this.out.length;
    this.out.u32(type).u32(0);
    return start;
  }

  private finish(start: number): void {
    const total = this.out.length - start + 4;
    this.out.u32(total).patchU32(start + 4, total);
  }

  private options(opts: readonly PcapngOption[]): void {
    if (opts.length === 0) return;
    const w = this.out;
    for (const o of opts) {
      const value = typeof o.value === 'string' ? encoder.encode(o.value) : o.value;
      w.u16(o.code).u16(value.length).bytes(value).pad4();
    }
    w.u16(OPT.END).u16(0);
  }

  private uint32(v: number): Uint8Array {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, this.out.le);
    return b;
  }

  private uint64(v: bigint): Uint8Array {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, this.out.le);
    return b;
  }

  private int64(v: bigint): Uint8Array {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, v, this.out.le);
    return b;
  }

  /**
   * Writes the 64-bit tick count (hi, lo) for a time, in the interface's resolution and relative
   * to its if_tsoffset. Ticks are rounded down, as a capturing clock would truncate.
   */
  private timestamp(clock: InterfaceClock | undefined, tsMicros: number, extraNanos: number): void {
    const res = clock?.tsresol;
    const offsetSec = clock?.offsetSec ?? 0;
    const offsetNs = clock?.offsetNs ?? 0;
    if ((res === undefined || (res.base === 10 && res.exp === 6)) && offsetNs === 0) {
      // Default µs: plain number arithmetic is exact below 2^53 µs.
      const ticks = tsMicros - offsetSec * 1e6;
      if (ticks < 0) throw new Error(`time ${tsMicros} µs is before the interface's if_tsoffset`);
      const hi = Math.floor(ticks / TWO_32);
      this.out.u32pair(hi, ticks - hi * TWO_32);
      return;
    }
    const ns = BigInt(tsMicros) * 1000n + BigInt(extraNanos) - BigInt(offsetSec) * 1_000_000_000n - BigInt(offsetNs);
    if (ns < 0n) throw new Error(`time ${tsMicros} µs is before the interface's if_tsoffset`);
    let ticks: bigint;
    if (res === undefined) ticks = ns / 1000n;
    else if (res.base === 2) ticks = (ns << BigInt(res.exp)) / 1_000_000_000n;
    else ticks = res.exp >= 9 ? ns * 10n ** BigInt(res.exp - 9) : ns / 10n ** BigInt(9 - res.exp);
    this.out.u32pair(Number(ticks >> 32n), Number(ticks & 0xffffffffn));
  }
}

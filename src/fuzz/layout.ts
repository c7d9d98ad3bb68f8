/**
 * Where things are in a capture, for structure-aware mutation: the regions a truncation can cut
 * (inside the pcap file header, a record header, an SHB, an IDB, an EPB's header, body or
 * trailer …), the length fields a mutation can set to 0 / huge / off by one (pcap caplen, pcapng
 * block and option lengths, IPv4 IHL and total length, TCP data offset, IPv6 payload and
 * extension-header lengths), and the records or blocks that can be duplicated or reordered.
 *
 * The scanner is deliberately independent of src/capture and src/decode (it must not share their
 * bugs) and lenient: on damaged input it stops where the structure stops making sense and
 * returns what it found so far.
 */

/** A region of the file that a truncation can cut into. */
export interface Region {
  readonly kind: string;
  readonly start: number;
  readonly end: number;
}

/** A field a mutation can rewrite. Nibble fields (IHL, data offset) have a shift and a 4-bit mask. */
export interface Field {
  readonly kind: string;
  readonly offset: number;
  readonly size: 1 | 2 | 4;
  readonly le: boolean;
  readonly shift?: number;
  readonly bits?: number;
}

/** A record (pcap) or block (pcapng) that can be duplicated, dropped or moved. */
export interface Unit {
  readonly kind: string;
  readonly start: number;
  readonly end: number;
}

export interface Layout {
  readonly format: 'pcap' | 'pcapng' | 'gzip' | 'unknown';
  readonly regions: Region[];
  readonly fields: Field[];
  readonly units: Unit[];
  /** Start of the first record / block after the file header (pcap: 24; pcapng: 0). */
  readonly bodyStart: number;
}

const MAX_UNITS = 4096;

function rd(b: Uint8Array, o: number, size: number, le: boolean): number {
  if (o + size > b.length) return -1;
  if (size === 1) return b[o]!;
  if (size === 2) return le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
  return le
    ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
    : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Reads a field's current value. */
export function readField(b: Uint8Array, f: Field): number {
  const raw = rd(b, f.offset, f.size, f.le);
  if (raw < 0) return 0;
  if (f.bits === undefined) return raw;
  return (raw >> (f.shift ?? 0)) & ((1 << f.bits) - 1);
}

/** Writes a field in place (the value is masked to the field's width). */
export function writeField(b: Uint8Array, f: Field, value: number): void {
  if (f.offset + f.size > b.length) return;
  if (f.bits !== undefined) {
    const mask = ((1 << f.bits) - 1) << (f.shift ?? 0);
    b[f.offset] = (b[f.offset]! & ~mask) | ((value << (f.shift ?? 0)) & mask);
    return;
  }
  const v = value >>> 0;
  if (f.size === 1) b[f.offset] = v & 0xff;
  else if (f.size === 2) {
    if (f.le) { b[f.offset] = v & 0xff; b[f.offset + 1] = (v >> 8) & 0xff; }
    else { b[f.offset] = (v >> 8) & 0xff; b[f.offset + 1] = v & 0xff; }
  } else if (f.le) {
    b[f.offset] = v & 0xff; b[f.offset + 1] = (v >>> 8) & 0xff; b[f.offset + 2] = (v >>> 16) & 0xff; b[f.offset + 3] = (v >>> 24) & 0xff;
  } else {
    b[f.offset] = (v >>> 24) & 0xff; b[f.offset + 1] = (v >>> 16) & 0xff; b[f.offset + 2] = (v >>> 8) & 0xff; b[f.offset + 3] = v & 0xff;
  }
}

/** Largest value a field can hold. */
export function fieldMax(f: Field): number {
  if (f.bits !== undefined) return (1 << f.bits) - 1;
  return f.size === 4 ? 0xffffffff : f.size === 2 ? 0xffff : 0xff;
}

export function scanLayout(b: Uint8Array): Layout {
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return { format: 'gzip', regions: [{ kind: 'gzip', start: 0, end: b.length }], fields: [], units: [], bodyStart: 0 };
  if (b.length >= 4) {
    const m = rd(b, 0, 4, false);
    if (m === 0x0a0d0d0a) return scanPcapng(b);
    if (m === 0xa1b2c3d4 || m === 0xa1b23c4d) return scanPcap(b, false);
    if (m === 0xd4c3b2a1 || m === 0x4d3cb2a1) return scanPcap(b, true);
  }
  return { format: 'unknown', regions: [{ kind: 'bytes', start: 0, end: b.length }], fields: [], units: [], bodyStart: 0 };
}

function scanPcap(b: Uint8Array, le: boolean): Layout {
  const regions: Region[] = [{ kind: 'pcap-file-header', start: 0, end: Math.min(24, b.length) }];
  const fields: Field[] = [
    { kind: 'pcap-version', offset: 4, size: 2, le },
    { kind: 'pcap-snaplen', offset: 16, size: 4, le },
    { kind: 'pcap-linktype', offset: 20, size: 4, le },
  ];
  const units: Unit[] = [];
  const linkType = rd(b, 20, 4, le) & 0xffff;
  let o = 24;
  while (o + 16 <= b.length && units.length < MAX_UNITS) {
    const caplen = rd(b, o + 8, 4, le);
    regions.push({ kind: 'pcap-record-header', start: o, end: o + 16 });
    fields.push({ kind: 'pcap-caplen', offset: o + 8, size: 4, le }, { kind: 'pcap-origlen', offset: o + 12, size: 4, le });
    fields.push({ kind: 'pcap-ts-sec', offset: o, size: 4, le }, { kind: 'pcap-ts-frac', offset: o + 4, size: 4, le });
    if (caplen > 262_144 || o + 16 + caplen > b.length) {
      regions.push({ kind: 'pcap-record-data', start: o + 16, end: b.length });
      break;
    }
    regions.push({ kind: 'pcap-record-data', start: o + 16, end: o + 16 + caplen });
    packetFields(b, o + 16, caplen, linkType, regions, fields);
    units.push({ kind: 'record', start: o, end: o + 16 + caplen });
    o += 16 + caplen;
  }
  if (o < b.length && o + 16 > b.length) regions.push({ kind: 'pcap-record-header', start: o, end: b.length });
  return { format: 'pcap', regions, fields, units, bodyStart: 24 };
}

const BT = { SHB: 0x0a0d0d0a, IDB: 1, PB: 2, SPB: 3, EPB: 6 } as const;

function blockName(type: number): string {
  switch (type) {
    case BT.SHB: return 'shb';
    case BT.IDB: return 'idb';
    case BT.EPB: return 'epb';
    case BT.SPB: return 'spb';
    case BT.PB: return 'pb';
    default: return 'block';
  }
}

function scanPcapng(b: Uint8Array): Layout {
  const regions: Region[] = [];
  const fields: Field[] = [];
  const units: Unit[] = [];
  let le = true;
  let o = 0;
  const linkTypes: number[] = [];
  while (o + 12 <= b.length && units.length < MAX_UNITS) {
    let type = rd(b, o, 4, le);
    if (type === BT.SHB) {
      const bom = rd(b, o + 8, 4, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else break;
      linkTypes.length = 0;
    }
    type = rd(b, o, 4, le);
    const len = rd(b, o + 4, 4, le);
    const name = blockName(type);
    fields.push({ kind: 'ng-block-length', offset: o + 4, size: 4, le });
    if (len < 12 || len % 4 !== 0 || o + len > b.length) {
      regions.push({ kind: `${name}-header`, start: o, end: Math.min(b.length, o + 8) });
      regions.push({ kind: `${name}-body`, start: o + 8, end: b.length });
      break;
    }
    const end = o + len;
    fields.push({ kind: 'ng-trailer-length', offset: end - 4, size: 4, le });
    regions.push({ kind: `${name}-trailer`, start: end - 4, end });
    units.push({ kind: name, start: o, end });
    switch (type) {
      case BT.SHB:
        regions.push({ kind: 'shb', start: o, end: end - 4 });
        fields.push({ kind: 'ng-shb-version', offset: o + 12, size: 2, le }, { kind: 'ng-bom', offset: o + 8, size: 4, le: true });
        options(b, o + 24, end - 4, le, regions, fields);
        break;
      case BT.IDB:
        regions.push({ kind: 'idb', start: o, end: end - 4 });
        fields.push({ kind: 'ng-idb-linktype', offset: o + 8, size: 2, le }, { kind: 'ng-idb-snaplen', offset: o + 12, size: 4, le });
        linkTypes.push(rd(b, o + 8, 2, le));
        options(b, o + 16, end - 4, le, regions, fields);
        break;
      case BT.EPB:
      case BT.PB: {
        regions.push({ kind: 'epb-header', start: o, end: Math.min(end, o + 28) });
        const ifId = type === BT.EPB ? rd(b, o + 8, 4, le) : rd(b, o + 8, 2, le);
        fields.push(type === BT.EPB ? { kind: 'ng-epb-ifid', offset: o + 8, size: 4, le } : { kind: 'ng-pb-ifid', offset: o + 8, size: 2, le });
        fields.push({ kind: 'ng-ts', offset: o + 12, size: 4, le }, { kind: 'ng-ts', offset: o + 16, size: 4, le });
        fields.push({ kind: 'ng-epb-caplen', offset: o + 20, size: 4, le }, { kind: 'ng-epb-origlen', offset: o + 24, size: 4, le });
        const cap = rd(b, o + 20, 4, le);
        if (len >= 32 && cap <= len - 32) {
          regions.push({ kind: 'epb-body', start: o + 28, end: o + 28 + cap });
          packetFields(b, o + 28, cap, linkTypes[ifId] ?? 1, regions, fields);
          options(b, o + 28 + ((cap + 3) & ~3), end - 4, le, regions, fields);
        }
        break;
      }
      case BT.SPB: {
        fields.push({ kind: 'ng-spb-origlen', offset: o + 8, size: 4, le });
        const orig = rd(b, o + 8, 4, le);
        const cap = Math.min(orig, len - 16);
        regions.push({ kind: 'spb-body', start: o + 12, end: o + 12 + cap });
        packetFields(b, o + 12, cap, linkTypes[0] ?? 1, regions, fields);
        break;
      }
      default:
        regions.push({ kind: 'other-block', start: o, end: end - 4 });
    }
    o = end;
  }
  if (o < b.length) regions.push({ kind: 'tail', start: o, end: b.length });
  return { format: 'pcapng', regions, fields, units, bodyStart: 0 };
}

/** pcapng options (TLVs) in [p, end): their length fields and regions. */
function options(b: Uint8Array, p: number, end: number, le: boolean, regions: Region[], fields: Field[]): void {
  let n = 0;
  while (p + 4 <= end && n++ < 64) {
    const code = rd(b, p, 2, le);
    const olen = rd(b, p + 2, 2, le);
    fields.push({ kind: 'ng-option-length', offset: p + 2, size: 2, le });
    if (code === 0) return;
    const next = p + 4 + ((olen + 3) & ~3);
    regions.push({ kind: 'option', start: p, end: Math.min(end, next) });
    if (next > end) return;
    p = next;
  }
}

/**
 * The link, IP and TCP header fields of one packet, found without the project's decoder.
 * Link types: Ethernet (+ VLAN tags), SLL, SLL2, raw IP, NULL/LOOP.
 */
function packetFields(b: Uint8Array, start: number, len: number, linkType: number, regions: Region[], fields: Field[]): void {
  const end = start + len;
  let o = start;
  let ethertype = -1;
  switch (linkType) {
    case 1: {
      if (end - o < 14) return;
      ethertype = rd(b, o + 12, 2, false);
      fields.push({ kind: 'ethertype', offset: o + 12, size: 2, le: false });
      o += 14;
      let tags = 0;
      while ((ethertype === 0x8100 || ethertype === 0x88a8 || ethertype === 0x9100) && end - o >= 4 && tags++ < 4) {
        ethertype = rd(b, o + 2, 2, false);
        fields.push({ kind: 'ethertype', offset: o + 2, size: 2, le: false });
        o += 4;
      }
      break;
    }
    case 113:
      if (end - o < 16) return;
      ethertype = rd(b, o + 14, 2, false);
      fields.push({ kind: 'ethertype', offset: o + 14, size: 2, le: false });
      o += 16;
      break;
    case 276:
      if (end - o < 20) return;
      ethertype = rd(b, o, 2, false);
      fields.push({ kind: 'ethertype', offset: o, size: 2, le: false });
      o += 20;
      break;
    case 0: case 108:
      if (end - o < 4) return;
      o += 4;
      ethertype = 0;
      break;
    case 12: case 14: case 101: case 228: case 229:
      ethertype = 0;
      break;
    default:
      return;
  }
  if (o >= end) return;
  const version = b[o]! >> 4;
  if (ethertype !== 0 && ethertype !== 0x0800 && ethertype !== 0x86dd) return;
  regions.push({ kind: 'mid-packet', start: o, end });
  if (version === 4 && end - o >= 20) {
    const ihl = (b[o]! & 0x0f) * 4;
    fields.push({ kind: 'ipv4-ihl', offset: o, size: 1, le: false, shift: 0, bits: 4 });
    fields.push({ kind: 'ipv4-total-length', offset: o + 2, size: 2, le: false });
    fields.push({ kind: 'ipv4-fragment', offset: o + 6, size: 2, le: false });
    fields.push({ kind: 'ip-protocol', offset: o + 9, size: 1, le: false });
    if (b[o + 9] === 6 && ihl >= 20) tcpFields(b, o + ihl, end, regions, fields);
  } else if (version === 6 && end - o >= 40) {
    fields.push({ kind: 'ipv6-payload-length', offset: o + 4, size: 2, le: false });
    fields.push({ kind: 'ip-protocol', offset: o + 6, size: 1, le: false });
    let next = b[o + 6]!;
    let h = o + 40;
    for (let i = 0; i < 8 && h + 8 <= end; i++) {
      if (next === 0 || next === 43 || next === 60 || next === 51) {
        fields.push({ kind: 'ipv6-ext-length', offset: h + 1, size: 1, le: false });
        fields.push({ kind: 'ip-protocol', offset: h, size: 1, le: false });
        const l = next === 51 ? (b[h + 1]! + 2) * 4 : (b[h + 1]! + 1) * 8;
        next = b[h]!;
        h += l;
      } else if (next === 44) {
        fields.push({ kind: 'ipv6-fragment', offset: h + 2, size: 2, le: false });
        fields.push({ kind: 'ip-protocol', offset: h, size: 1, le: false });
        next = b[h]!;
        h += 8;
      } else break;
    }
    if (next === 6) tcpFields(b, h, end, regions, fields);
  }
}

function tcpFields(b: Uint8Array, o: number, end: number, regions: Region[], fields: Field[]): void {
  if (end - o < 20) return;
  fields.push({ kind: 'tcp-data-offset', offset: o + 12, size: 1, le: false, shift: 4, bits: 4 });
  fields.push({ kind: 'tcp-flags', offset: o + 13, size: 1, le: false }, { kind: 'tcp-window', offset: o + 14, size: 2, le: false });
  fields.push({ kind: 'tcp-seq', offset: o + 4, size: 4, le: false }, { kind: 'tcp-ack', offset: o + 8, size: 4, le: false });
  fields.push({ kind: 'tcp-port', offset: o, size: 2, le: false }, { kind: 'tcp-port', offset: o + 2, size: 2, le: false });
  const hlen = (b[o + 12]! >> 4) * 4;
  let p = o + 20;
  const optEnd = Math.min(end, o + hlen);
  let n = 0;
  while (p + 2 <= optEnd && n++ < 40) {
    const kind = b[p]!;
    if (kind === 0) break;
    if (kind === 1) { p++; continue; }
    fields.push({ kind: 'tcp-option-length', offset: p + 1, size: 1, le: false });
    const l = b[p + 1]!;
    if (l < 2) break;
    p += l;
  }
  if (o + hlen < end) regions.push({ kind: 'tcp-payload', start: o + hlen, end });
}

/** The header fields and regions of one frame (link-layer bytes) under `linkType`. */
export function scanFrame(b: Uint8Array, linkType: number): { regions: Region[]; fields: Field[] } {
  const regions: Region[] = [];
  const fields: Field[] = [];
  packetFields(b, 0, b.length, linkType, regions, fields);
  return { regions, fields };
}

export interface Packet {
  ts: number;
  data: Uint8Array;
}

/** The packets of a seed (records only; timestamps in µs). */
export function packetsOf(bytes: Uint8Array): { linkType: number; packets: Packet[] } | null {
  const layout = scanLayout(bytes);
  if (layout.format !== 'pcap') return null;
  const le = bytes[0] === 0xd4 || bytes[0] === 0x4d;
  const nanos = bytes[0] === 0x4d || bytes[3] === 0x4d;
  const u32 = (o: number) => (le ? (bytes[o]! | (bytes[o + 1]! << 8) | (bytes[o + 2]! << 16) | (bytes[o + 3]! << 24)) >>> 0 : ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0);
  const linkType = u32(20) & 0xffff;
  const packets = layout.units.map((u) => ({ ts: u32(u.start) * 1e6 + (nanos ? Math.floor(u32(u.start + 4) / 1000) : u32(u.start + 4)), data: bytes.slice(u.start + 16, u.end) }));
  return { linkType, packets };
}

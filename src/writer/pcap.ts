import { ByteWriter, type Endian } from './bytes.js';

/** Classic pcap file settings (reference/anchors.md §5.1). */
export interface PcapFileOptions {
  linkType: number;
  /** Default 'le'. */
  endian?: Endian;
  /** Nanosecond timestamps (magic 0xA1B23C4D); default µs (0xA1B2C3D4). */
  nanos?: boolean;
  /** Packets longer than this are cut (their original length is kept); default 262144. */
  snaplen?: number;
  /** Version; default 2.4. */
  version?: readonly [number, number];
}

/** One packet to write: its link-layer bytes and when it was seen. */
export interface PacketRecord {
  /** Integer µs since the epoch. */
  tsMicros: number;
  /** Nanoseconds beyond tsMicros (0–999); written only where the file has ns resolution. */
  tsExtraNanos?: number;
  data: Uint8Array;
  /** Length on the wire; default data.length. */
  originalLength?: number;
}

export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
export const PCAP_DEFAULT_SNAPLEN = 262_144;

export function writePcapHeader(w: ByteWriter, o: PcapFileOptions): void {
  w.le = (o.endian ?? 'le') === 'le';
  const [major, minor] = o.version ?? [2, 4];
  w.u32(o.nanos ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS)
    .u16(major)
    .u16(minor)
    .u32(0) // thiszone
    .u32(0) // sigfigs
    .u32(o.snaplen ?? PCAP_DEFAULT_SNAPLEN)
    .u32(o.linkType);
}

/** Writes a 16-byte record header and the packet, cut at the snap length. */
export function writePcapRecord(w: ByteWriter, o: PcapFileOptions, r: PacketRecord): void {
  w.le = (o.endian ?? 'le') === 'le';
  const snaplen = o.snaplen ?? PCAP_DEFAULT_SNAPLEN;
  const captured = Math.min(r.data.length, snaplen);
  const sec = Math.floor(r.tsMicros / 1e6);
  const micros = r.tsMicros - sec * 1e6;
  w.u32(sec)
    .u32(o.nanos ? micros * 1000 + (r.tsExtraNanos ?? 0) : micros)
    .u32(captured)
    .u32(r.originalLength ?? r.data.length)
    .bytes(r.data, 0, captured);
}

/** A whole pcap file in memory. */
export function buildPcap(o: PcapFileOptions, records: Iterable<PacketRecord>): Uint8Array {
  const w = new ByteWriter();
  writePcapHeader(w, o);
  for (const r of records) writePcapRecord(w, o, r);
  return w.toBytes();
}

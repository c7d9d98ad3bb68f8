import { put16 } from './bytes.js';
import { sum16, finishChecksum } from './checksum.js';

/** IPv4 header fields (RFC 791); every field has the default a Linux TCP socket would use. */
export interface Ipv4Fields {
  /** Default 64. */
  ttl?: number;
  /** Identification; default 0. */
  id?: number;
  /** Don't Fragment; default true, except for fragments (mf or fragmentOffset set). */
  df?: boolean;
  /** More Fragments. */
  mf?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset?: number;
  /** Type of service / DSCP+ECN byte. */
  tos?: number;
  /** Raw option bytes; padded with zeros (End of Option List) to a multiple of 4, at most 40. */
  options?: Uint8Array;
  /** Force a header checksum (e.g. a wrong one); default: the correct value. */
  checksum?: number;
  /** Force the total length field; default: header + payload. */
  totalLength?: number;
}

/** Byte offsets of the IPv4 header fields. */
const F = { VER_IHL: 0, TOS: 1, TOTAL_LEN: 2, ID: 4, FLAGS_FRAG: 6, TTL: 8, PROTO: 9, CHECKSUM: 10, SRC: 12, DST: 16 } as const;
const DF = 0x4000;
const MF = 0x2000;

export function ipv4HeaderLength(f: Ipv4Fields = {}): number {
  const opts = f.options?.length ?? 0;
  const len = 20 + ((opts + 3) & ~3);
  if (len > 60) throw new Error(`IPv4 options of ${opts} bytes do not fit (at most 40)`);
  return len;
}

/**
 * Writes the header at out[off…] for a payload of `payloadLength` bytes that follows it; `ttl`
 * overrides f.ttl (callers pass it apart rather than spreading `f` into a new object per packet,
 * which V8 makes many times slower to read).
 */
export function writeIpv4Header(out: Uint8Array, off: number, src: Uint8Array, dst: Uint8Array, protocol: number, payloadLength: number, f: Ipv4Fields = {}, ttl = f.ttl ?? 64): void {
  const hlen = ipv4HeaderLength(f);
  const fragOffset = f.fragmentOffset ?? 0;
  if (fragOffset % 8 !== 0) throw new Error(`IPv4 fragment offset ${fragOffset} is not a multiple of 8`);
  const isFragment = (f.mf ?? false) || fragOffset > 0;
  // Byte by byte rather than through a DataView: this runs once per generated packet, and
  // benchmarks generate millions.
  put16(out, off + F.VER_IHL, ((0x40 | (hlen / 4)) << 8) | (f.tos ?? 0));
  put16(out, off + F.TOTAL_LEN, f.totalLength ?? hlen + payloadLength);
  put16(out, off + F.ID, f.id ?? 0);
  put16(out, off + F.FLAGS_FRAG, ((f.df ?? !isFragment) ? DF : 0) | (f.mf ? MF : 0) | (fragOffset / 8));
  put16(out, off + F.TTL, (ttl << 8) | protocol);
  put16(out, off + F.CHECKSUM, 0);
  for (let i = 0; i < 4; i++) {
    out[off + F.SRC + i] = src[i];
    out[off + F.DST + i] = dst[i];
  }
  if (f.options !== undefined) {
    out.set(f.options, off + 20);
    out.fill(0, off + 20 + f.options.length, off + hlen);
  }
  put16(out, off + F.CHECKSUM, f.checksum ?? finishChecksum(sum16(out, off, off + hlen)));
}

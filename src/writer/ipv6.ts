/** IPv6 extension headers the writer can insert between the fixed header and the payload. */
export type Ipv6Extension =
  /** Hop-by-hop (0) or destination (60) options; `options` are raw TLVs, padded with Pad1/PadN. */
  | { type: 'hop-by-hop' | 'destination'; options?: Uint8Array }
  /** Routing header (43); `data` is what follows the first 4 bytes (default 4 zero bytes). */
  | { type: 'routing'; routingType?: number; segmentsLeft?: number; data?: Uint8Array }
  /** Fragment header (44); offset in bytes (multiple of 8). */
  | { type: 'fragment'; offset?: number; more?: boolean; id?: number };

/** IPv6 header fields (RFC 8200). */
export interface Ipv6Fields {
  /** Default 64. */
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** In order, first after the fixed header. */
  extensions?: readonly Ipv6Extension[];
}

export const IPV6_EXT_PROTOCOL = { 'hop-by-hop': 0, routing: 43, fragment: 44, destination: 60 } as const;

function extensionLength(e: Ipv6Extension): number {
  switch (e.type) {
    case 'hop-by-hop':
    case 'destination':
      return Math.max(8, Math.ceil((2 + (e.options?.length ?? 0)) / 8) * 8);
    case 'routing':
      return Math.ceil((4 + (e.data?.length ?? 4)) / 8) * 8;
    case 'fragment':
      return 8;
  }
}

export function ipv6HeaderLength(f: Ipv6Fields = {}): number {
  let len = 40;
  for (const e of f.extensions ?? []) len += extensionLength(e);
  return len;
}

/**
 * Writes the fixed header and extension headers at out[off…]; `protocol` is the upper layer
 * (6 TCP, 17 UDP …) named by the last header, `upperLength` its length in bytes; `hopLimit`
 * overrides f.hopLimit.
 */
export function writeIpv6Header(out: Uint8Array, off: number, src: Uint8Array, dst: Uint8Array, protocol: number, upperLength: number, f: Ipv6Fields = {}, hopLimit = f.hopLimit ?? 64): void {
  const exts = f.extensions ?? [];
  const total = ipv6HeaderLength(f);
  const dv = new DataView(out.buffer, out.byteOffset + off, total);
  dv.setUint32(0, (6 << 28) | ((f.trafficClass ?? 0) << 20) | ((f.flowLabel ?? 0) & 0xfffff));
  dv.setUint16(4, total - 40 + upperLength);
  dv.setUint8(6, exts.length > 0 ? IPV6_EXT_PROTOCOL[exts[0].type] : protocol);
  dv.setUint8(7, hopLimit);
  out.set(src, off + 8);
  out.set(dst, off + 24);
  let p = 40;
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i];
    const next = i + 1 < exts.length ? IPV6_EXT_PROTOCOL[exts[i + 1].type] : protocol;
    const len = extensionLength(e);
    out.fill(0, off + p, off + p + len);
    dv.setUint8(p, next);
    switch (e.type) {
      case 'hop-by-hop':
      case 'destination': {
        dv.setUint8(p + 1, len / 8 - 1);
        const opts = e.options ?? new Uint8Array(0);
        out.set(opts, off + p + 2);
        writePadding(out, off + p + 2 + opts.length, len - 2 - opts.length);
        break;
      }
      case 'routing':
        dv.setUint8(p + 1, len / 8 - 1);
        dv.setUint8(p + 2, e.routingType ?? 0);
        dv.setUint8(p + 3, e.segmentsLeft ?? 0);
        if (e.data !== undefined) out.set(e.data, off + p + 4);
        break;
      case 'fragment': {
        const offset = e.offset ?? 0;
        if (offset % 8 !== 0) throw new Error(`IPv6 fragment offset ${offset} is not a multiple of 8`);
        dv.setUint16(p + 2, offset | (e.more ? 1 : 0));
        dv.setUint32(p + 4, e.id ?? 0);
        break;
      }
    }
    p += len;
  }
}

/** Pad1 (a single zero) for one byte, PadN (type 1, length n−2, zeros) for more. */
function writePadding(out: Uint8Array, at: number, n: number): void {
  if (n === 1) out[at] = 0;
  else if (n >= 2) {
    out[at] = 1;
    out[at + 1] = n - 2;
    out.fill(0, at + 2, at + n);
  }
}

import { u16 } from './bytes.js';
import { DecodeStatus, type DecodedPacket } from './packet.js';

/** IPv4 header layout (RFC 791). */
export const IPV4 = {
  VER_IHL: 0, TOTAL_LENGTH: 2, ID: 4, FLAGS_FRAG: 6, TTL: 8, PROTOCOL: 9, CHECKSUM: 10, SRC: 12, DST: 16,
  MIN_LENGTH: 20,
} as const;
const MORE_FRAGMENTS = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;

/**
 * Checks and decodes the IPv4 header at p.l3Start. The payload ends where the total length says,
 * so Ethernet padding after a short segment never becomes payload. A total length of 0 is what
 * TCP segmentation offload leaves in captures taken on the sender: the captured length is used.
 */
export function decodeIpv4(p: DecodedPacket): boolean {
  const b = p.data;
  const o = p.l3Start;
  const avail = p.capEnd - o;
  if (avail < IPV4.MIN_LENGTH) return fail(p, DecodeStatus.TRUNCATED);
  const verIhl = b[o + IPV4.VER_IHL]!;
  if (verIhl >> 4 !== 4) return fail(p, DecodeStatus.MALFORMED);
  const hlen = (verIhl & 0x0f) * 4;
  if (hlen < IPV4.MIN_LENGTH) return fail(p, DecodeStatus.MALFORMED);
  if (hlen > avail) return fail(p, DecodeStatus.TRUNCATED);
  let total = u16(b, o + IPV4.TOTAL_LENGTH);
  if (total === 0) total = avail; // TSO: the NIC fills it in after the capture point
  if (total < hlen) return fail(p, DecodeStatus.MALFORMED);

  p.ipVersion = 4;
  p.addrLen = 4;
  p.srcAddrOff = o + IPV4.SRC;
  p.dstAddrOff = o + IPV4.DST;
  p.ttl = b[o + IPV4.TTL]!;
  p.ipId = u16(b, o + IPV4.ID);
  p.protocol = b[o + IPV4.PROTOCOL]!;
  const wireEnd = o + total;
  if (wireEnd > p.capEnd) {
    p.truncated = true;
    p.ipEnd = p.capEnd;
  } else {
    p.ipEnd = wireEnd;
  }
  p.ipPayloadWireLen = total - hlen;
  p.l4Start = o + hlen;
  const frag = u16(b, o + IPV4.FLAGS_FRAG);
  const fragOffset = frag & FRAGMENT_OFFSET_MASK;
  if (fragOffset !== 0) p.isFragment = true;
  else if (frag & MORE_FRAGMENTS) p.isFirstFragment = true;
  return true;
}

function fail(p: DecodedPacket, status: DecodeStatus): false {
  p.fail(status, 'ipv4');
  return false;
}

/** Dotted quad of the 4 bytes at `o`. Allocates: for output, never the hot path. */
export function formatIpv4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

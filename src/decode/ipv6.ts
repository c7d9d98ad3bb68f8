import { u16 } from './bytes.js';
import { DecodeStatus, type DecodedPacket } from './packet.js';

/** IPv6 fixed header layout (RFC 8200). */
export const IPV6 = { VERSION: 0, PAYLOAD_LENGTH: 4, NEXT_HEADER: 6, HOP_LIMIT: 7, SRC: 8, DST: 24, LENGTH: 40 } as const;

/** Extension headers walked to reach the transport header. */
const EXT = { HOP_BY_HOP: 0, ROUTING: 43, FRAGMENT: 44, AH: 51, DEST_OPTS: 60, NO_NEXT: 59 } as const;
const FRAGMENT_HEADER_LENGTH = 8;
/** A chain longer than this is hostile; real stacks send a handful at most. */
const MAX_EXTENSION_HEADERS = 16;

/**
 * Checks and decodes the IPv6 header and its extension-header chain at p.l3Start. A payload length
 * of 0 (jumbogram or TSO) falls back to the captured length.
 */
export function decodeIpv6(p: DecodedPacket): boolean {
  const b = p.data;
  const o = p.l3Start;
  const avail = p.capEnd - o;
  if (avail < IPV6.LENGTH) return fail(p, DecodeStatus.TRUNCATED);
  if (b[o]! >> 4 !== 6) return fail(p, DecodeStatus.MALFORMED);
  let payloadLength = u16(b, o + IPV6.PAYLOAD_LENGTH);
  if (payloadLength === 0) payloadLength = avail - IPV6.LENGTH;

  p.ipVersion = 6;
  p.addrLen = 16;
  p.srcAddrOff = o + IPV6.SRC;
  p.dstAddrOff = o + IPV6.DST;
  p.ttl = b[o + IPV6.HOP_LIMIT]!;
  p.ipId = -1;
  const wireEnd = o + IPV6.LENGTH + payloadLength;
  if (wireEnd > p.capEnd) {
    p.truncated = true;
    p.ipEnd = p.capEnd;
  } else {
    p.ipEnd = wireEnd;
  }

  let next = b[o + IPV6.NEXT_HEADER]!;
  let h = o + IPV6.LENGTH;
  for (let i = 0; i < MAX_EXTENSION_HEADERS; i++) {
    // Each header is checked against the payload length first (a header the datagram has no
    // room for is malformed) and then against the captured bytes (one the capture cut is
    // truncated), so a cut chain is blamed on IPv6, not on the TCP header it never reached.
    if (next === EXT.HOP_BY_HOP || next === EXT.ROUTING || next === EXT.DEST_OPTS || next === EXT.AH) {
      if (wireEnd - h < 2) return fail(p, DecodeStatus.MALFORMED);
      if (p.ipEnd - h < 2) return fail(p, DecodeStatus.TRUNCATED);
      const len = next === EXT.AH ? (b[h + 1]! + 2) * 4 : (b[h + 1]! + 1) * 8;
      if (h + len > wireEnd) return fail(p, DecodeStatus.MALFORMED);
      if (h + len > p.ipEnd) return fail(p, DecodeStatus.TRUNCATED);
      next = b[h]!;
      h += len;
      continue;
    }
    if (next === EXT.FRAGMENT) {
      if (wireEnd - h < FRAGMENT_HEADER_LENGTH) return fail(p, DecodeStatus.MALFORMED);
      if (p.ipEnd - h < FRAGMENT_HEADER_LENGTH) return fail(p, DecodeStatus.TRUNCATED);
      const offsetFlags = u16(b, h + 2);
      if (offsetFlags & 0xfff8) p.isFragment = true;
      else if (offsetFlags & 1) p.isFirstFragment = true;
      next = b[h]!;
      h += FRAGMENT_HEADER_LENGTH;
      continue;
    }
    break;
  }
  if (h > wireEnd) return fail(p, DecodeStatus.MALFORMED);
  p.protocol = next === EXT.NO_NEXT ? -1 : next;
  p.l4Start = h;
  p.ipPayloadWireLen = wireEnd - h;
  return true;
}

function fail(p: DecodedPacket, status: DecodeStatus): false {
  p.fail(status, 'ipv6');
  return false;
}

/** RFC 5952 text form of the 16 bytes at `o` (zero-run compression, lower case). For output only. */
export function formatIpv6(b: Uint8Array, o: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(u16(b, o + i * 2));
  // IPv4-mapped ::ffff:a.b.c.d
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

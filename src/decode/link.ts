import { u16, u32, u32le } from './bytes.js';
import { DecodeStatus, type DecodedPacket } from './packet.js';

/** LINKTYPE_* values flowdoc decodes (tcpdump.org/linktypes.html; anchors.md §5.3). */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW_LEGACY_12: 12,
  RAW_LEGACY_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const LINK_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'NULL', 1: 'ETHERNET', 12: 'RAW', 14: 'RAW', 101: 'RAW', 108: 'LOOP', 113: 'LINUX_SLL',
  228: 'IPV4', 229: 'IPV6', 276: 'LINUX_SLL2',
};

export function linkTypeName(linkType: number): string {
  return LINK_TYPE_NAMES[linkType] ?? `LINKTYPE_${linkType}`;
}

export const EtherType = { IPV4: 0x0800, IPV6: 0x86dd, VLAN: 0x8100, QINQ: 0x88a8, QINQ_OLD: 0x9100, ARP: 0x0806 } as const;

/** Ethernet II header: destination, source, EtherType (or an 802.3 length ≤ 1500). */
const ETH = { TYPE: 12, LENGTH: 14 } as const;
/** An 802.1Q/802.1ad tag: TCI (PCP, DEI, VLAN id) then the inner EtherType. */
const VLAN_TAG = { TCI: 0, TYPE: 2, LENGTH: 4 } as const;
/** Linux cooked v1 (libpcap pcap/sll.h). */
const SLL = { PKTTYPE: 0, PROTOCOL: 14, LENGTH: 16 } as const;
/** Linux cooked v2. */
const SLL2 = { PROTOCOL: 0, IFINDEX: 4, PKTTYPE: 10, LENGTH: 20 } as const;
/** NULL / LOOP: a 4-byte address family. */
const NULL_HDR = { LENGTH: 4 } as const;

/** BSD address families for IP in NULL/LOOP headers: 2 is IPv4 everywhere; IPv6 varies by OS. */
const AF_INET = 2;
const AF_INET6 = new Set([10, 24, 28, 30]);

/**
 * Decodes the link layer at p.l3Start (the start of the frame), leaving p.l3Start at the network
 * header and p.etherType set (0x0800/0x86dd for IP). Returns false when there is no IP to decode
 * (status says why).
 */
export type LinkDecoder = (p: DecodedPacket) => boolean;

function ethernet(p: DecodedPacket): boolean {
  const b = p.data;
  let o = p.l3Start;
  if (p.capEnd - o < ETH.LENGTH) return truncated(p, 'ethernet');
  let type = u16(b, o + ETH.TYPE);
  o += ETH.LENGTH;
  // Stacked tags: 802.1ad (0x88a8, or the pre-standard 0x9100) outside, 802.1Q inside.
  while (type === EtherType.VLAN || type === EtherType.QINQ || type === EtherType.QINQ_OLD) {
    if (p.capEnd - o < VLAN_TAG.LENGTH) return truncated(p, 'vlan');
    const vid = u16(b, o + VLAN_TAG.TCI) & 0x0fff;
    if (p.vlanCount === 0) p.vlanOuter = vid;
    else p.vlanInner = vid;
    p.vlanCount++;
    type = u16(b, o + VLAN_TAG.TYPE);
    o += VLAN_TAG.LENGTH;
  }
  p.etherType = type;
  p.l3Start = o;
  return etherTypeIsIp(p);
}

function linuxSll(p: DecodedPacket): boolean {
  const b = p.data;
  const o = p.l3Start;
  if (p.capEnd - o < SLL.LENGTH) return truncated(p, 'linux-sll');
  p.linkPktType = u16(b, o + SLL.PKTTYPE);
  p.etherType = u16(b, o + SLL.PROTOCOL);
  p.l3Start = o + SLL.LENGTH;
  return etherTypeIsIp(p);
}

function linuxSll2(p: DecodedPacket): boolean {
  const b = p.data;
  const o = p.l3Start;
  if (p.capEnd - o < SLL2.LENGTH) return truncated(p, 'linux-sll2');
  p.etherType = u16(b, o + SLL2.PROTOCOL);
  p.linkIfIndex = u32(b, o + SLL2.IFINDEX);
  p.linkPktType = b[o + SLL2.PKTTYPE]!;
  p.l3Start = o + SLL2.LENGTH;
  return etherTypeIsIp(p);
}

/** Raw IP: the version nibble says which. */
function rawIp(p: DecodedPacket): boolean {
  if (p.capEnd - p.l3Start < 1) return truncated(p, 'raw');
  const version = p.data[p.l3Start]! >> 4;
  if (version === 4) p.etherType = EtherType.IPV4;
  else if (version === 6) p.etherType = EtherType.IPV6;
  else {
    p.fail(DecodeStatus.NOT_IP, 'raw');
    return false;
  }
  return true;
}

function rawIpv4(p: DecodedPacket): boolean {
  p.etherType = EtherType.IPV4;
  return true;
}

function rawIpv6(p: DecodedPacket): boolean {
  p.etherType = EtherType.IPV6;
  return true;
}

/**
 * NULL: the family is in the capturing host's byte order, which the file does not say. Like
 * tcpdump, read it little-endian and, if the upper 16 bits are set, it was big-endian.
 */
function nullLoopback(p: DecodedPacket): boolean {
  if (p.capEnd - p.l3Start < NULL_HDR.LENGTH) return truncated(p, 'null');
  let af = u32le(p.data, p.l3Start);
  if (af & 0xffff0000) af = u32(p.data, p.l3Start);
  return afToIp(p, af, 'null');
}

/** LOOP (OpenBSD): the family is in network byte order. */
function loop(p: DecodedPacket): boolean {
  if (p.capEnd - p.l3Start < NULL_HDR.LENGTH) return truncated(p, 'loop');
  return afToIp(p, u32(p.data, p.l3Start), 'loop');
}

function afToIp(p: DecodedPacket, af: number, layer: 'null' | 'loop'): boolean {
  p.l3Start += NULL_HDR.LENGTH;
  if (af === AF_INET) p.etherType = EtherType.IPV4;
  else if (AF_INET6.has(af)) p.etherType = EtherType.IPV6;
  else {
    p.fail(DecodeStatus.NOT_IP, layer);
    return false;
  }
  return true;
}

function etherTypeIsIp(p: DecodedPacket): boolean {
  if (p.etherType === EtherType.IPV4 || p.etherType === EtherType.IPV6) return true;
  p.fail(DecodeStatus.NOT_IP, 'link');
  return false;
}

function truncated(p: DecodedPacket, layer: string): false {
  p.fail(DecodeStatus.TRUNCATED, layer);
  return false;
}

/** The next decoder by link type. Unknown link types are counted by the caller, never thrown. */
const LINK_DECODERS = new Map<number, LinkDecoder>([
  [LinkType.NULL, nullLoopback],
  [LinkType.ETHERNET, ethernet],
  [LinkType.RAW_LEGACY_12, rawIp],
  [LinkType.RAW_LEGACY_14, rawIp],
  [LinkType.RAW, rawIp],
  [LinkType.LOOP, loop],
  [LinkType.LINUX_SLL, linuxSll],
  [LinkType.IPV4, rawIpv4],
  [LinkType.IPV6, rawIpv6],
  [LinkType.LINUX_SLL2, linuxSll2],
]);

export function linkDecoder(linkType: number): LinkDecoder | undefined {
  return LINK_DECODERS.get(linkType);
}

export function isSupportedLinkType(linkType: number): boolean {
  return LINK_DECODERS.has(linkType);
}

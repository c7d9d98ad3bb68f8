import type { IpAddress } from './address.js';
import { put16 } from './bytes.js';

/**
 * Link-layer headers (reference/anchors.md §5.3–5.4). The writer puts these in front of an IP
 * packet (or any EtherType payload) when a capture file is rendered, so one scripted
 * conversation can be written out under every link type.
 */

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  /** DLT_RAW as some platforms left it in files: 12 on most, 14 on OpenBSD / BSD/OS. */
  RAW_12: 12,
  RAW_14: 14,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export const ETHERTYPE = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  IPV6: 0x86dd,
  QINQ: 0x88a8,
} as const;

/** One 802.1Q (TPID 0x8100) or 802.1ad (0x88A8) tag, outermost first in `vlans`. */
export interface VlanTag {
  id: number;
  tpid?: number;
  /** Priority code point, 0–7. */
  pcp?: number;
  dei?: boolean;
}

/** Link details that can differ from frame to frame (direction, VLAN, which interface). */
export interface FrameLink {
  /** Ethernet: VLAN tags, outermost first. */
  vlans?: readonly VlanTag[];
  /** Ethernet source / destination, `'02:00:0a:00:00:01'` or 6 bytes; SLL/SLL2 use the source. */
  srcMac?: string | Uint8Array;
  dstMac?: string | Uint8Array;
  /** SLL/SLL2 packet type: 0 HOST, 1 BROADCAST, 2 MULTICAST, 3 OTHERHOST, 4 OUTGOING. */
  pkttype?: number;
  /** SLL2 interface index (1-based). */
  ifIndex?: number;
}

/** How frames are rendered for a file: its link type plus defaults for every frame. */
export interface LinkOptions extends FrameLink {
  linkType: number;
  /** Ethernet: pad frames shorter than 60 bytes with zeros, as a NIC does (FCS not included). */
  padToMinimum?: boolean;
  /** NULL: byte order of the capturing host for the 4-byte address family (default 'le'). */
  nullByteOrder?: 'le' | 'be';
  /** NULL/LOOP: AF value for IPv6 — 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS, default). */
  afInet6?: number;
  /** SLL/SLL2 ARPHRD_* type (default 1, ARPHRD_ETHER). */
  hatype?: number;
}

const ETHERNET_MIN_FRAME = 60;
const AF_INET = 2;
const DEFAULT_AF_INET6 = 30;
const DEFAULT_SRC_MAC = '02:00:00:00:00:01';
const DEFAULT_DST_MAC = '02:00:00:00:00:02';

export function parseMac(mac: string | Uint8Array): Uint8Array {
  if (typeof mac !== 'string') {
    if (mac.length !== 6) throw new Error(`a MAC address has 6 bytes, got ${mac.length}`);
    return mac;
  }
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`not a MAC address: ${JSON.stringify(mac)}`);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

/** A stable, locally administered MAC for an IP address: 02:00 + its last 4 bytes. */
export function macForIp(ip: IpAddress): Uint8Array {
  const mac = new Uint8Array(6);
  mac[0] = 0x02;
  mac.set(ip.bytes.subarray(ip.bytes.length - 4), 2);
  return mac;
}

/**
 * Wraps `payload` (an IP packet or other EtherType payload) in the link-layer header of
 * `link.linkType`. `frame` overrides the per-frame defaults in `link`.
 */
export function encapsulate(payload: Uint8Array, ethertype: number, link: LinkOptions, frame: FrameLink = {}): Uint8Array {
  const ipVersion = ethertype === ETHERTYPE.IPV4 ? 4 : ethertype === ETHERTYPE.IPV6 ? 6 : 0;
  switch (link.linkType) {
    case LINKTYPE.ETHERNET:
      return ethernet(payload, ethertype, link, frame);
    case LINKTYPE.LINUX_SLL:
      return sll(payload, ethertype, link, frame);
    case LINKTYPE.LINUX_SLL2:
      return sll2(payload, ethertype, link, frame);
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_12:
    case LINKTYPE.RAW_14:
      requireIp(ipVersion, ethertype, link.linkType);
      return payload;
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6: {
      const want = link.linkType === LINKTYPE.IPV4 ? 4 : 6;
      if (ipVersion !== want) throw new Error(`link type ${link.linkType} carries only IPv${want}, not EtherType 0x${ethertype.toString(16)}`);
      return payload;
    }
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      requireIp(ipVersion, ethertype, link.linkType);
      const af = ipVersion === 4 ? AF_INET : (link.afInet6 ?? DEFAULT_AF_INET6);
      // LOOP is always network order; NULL is in the capturing host's order.
      const le = link.linkType === LINKTYPE.NULL && (link.nullByteOrder ?? 'le') === 'le';
      const out = new Uint8Array(4 + payload.length);
      new DataView(out.buffer).setUint32(0, af, le);
      out.set(payload, 4);
      return out;
    }
    default:
      throw new Error(`the writer cannot build link type ${link.linkType}`);
  }
}

function requireIp(ipVersion: number, ethertype: number, linkType: number): void {
  if (ipVersion === 0) throw new Error(`link type ${linkType} carries only IP, not EtherType 0x${ethertype.toString(16)}`);
}

function ethernet(payload: Uint8Array, ethertype: number, link: LinkOptions, frame: FrameLink): Uint8Array {
  const vlans = frame.vlans ?? link.vlans ?? [];
  const header = 14 + 4 * vlans.length;
  const bare = header + payload.length;
  const total = link.padToMinimum && bare < ETHERNET_MIN_FRAME ? ETHERNET_MIN_FRAME : bare;
  const out = new Uint8Array(total);
  const dst = parseMac(frame.dstMac ?? link.dstMac ?? DEFAULT_DST_MAC);
  const src = parseMac(frame.srcMac ?? link.srcMac ?? DEFAULT_SRC_MAC);
  // Byte loops: TypedArray.set costs more than it saves for 6 bytes, once per generated frame.
  for (let i = 0; i < 6; i++) {
    out[i] = dst[i];
    out[6 + i] = src[i];
  }
  let p = 12;
  for (const tag of vlans) {
    put16(out, p, tag.tpid ?? ETHERTYPE.VLAN);
    put16(out, p + 2, ((tag.pcp ?? 0) << 13) | (tag.dei ? 0x1000 : 0) | (tag.id & 0x0fff));
    p += 4;
  }
  put16(out, p, ethertype);
  out.set(payload, header);
  return out;
}

/** Linux cooked capture v1: 16 bytes, all network order. */
function sll(payload: Uint8Array, ethertype: number, link: LinkOptions, frame: FrameLink): Uint8Array {
  const out = new Uint8Array(16 + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, frame.pkttype ?? link.pkttype ?? 0);
  dv.setUint16(2, link.hatype ?? 1);
  dv.setUint16(4, 6);
  out.set(parseMac(frame.srcMac ?? link.srcMac ?? DEFAULT_SRC_MAC), 6);
  dv.setUint16(14, ethertype);
  out.set(payload, 16);
  return out;
}

/** Linux cooked capture v2: 20 bytes (what `tcpdump -i any` writes with current libpcap). */
function sll2(payload: Uint8Array, ethertype: number, link: LinkOptions, frame: FrameLink): Uint8Array {
  const out = new Uint8Array(20 + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, ethertype);
  dv.setUint32(4, frame.ifIndex ?? link.ifIndex ?? 1);
  dv.setUint16(8, link.hatype ?? 1);
  out[10] = frame.pkttype ?? link.pkttype ?? 0;
  out[11] = 6;
  out.set(parseMac(frame.srcMac ?? link.srcMac ?? DEFAULT_SRC_MAC), 12);
  out.set(payload, 20);
  return out;
}

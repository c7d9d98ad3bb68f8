import { parseIp, type IpAddress } from './address.js';
import { payloadBytes, type Payload } from './bytes.js';
import { ipv4HeaderLength, writeIpv4Header, type Ipv4Fields } from './ipv4.js';
import { ipv6HeaderLength, writeIpv6Header, type Ipv6Fields } from './ipv6.js';
import { encapsulate, ETHERTYPE, parseMac, type FrameLink, type LinkOptions } from './link.js';
import { tcpHeaderLength, TCP_PROTOCOL, writeTcp, type TcpSegment } from './tcp.js';
import { UDP_PROTOCOL, writeUdp, type UdpDatagram } from './udp.js';

/** What the IP packet carries: a TCP segment, a UDP datagram, or raw bytes of any protocol. */
export type Transport =
  | ({ protocol: 'tcp' } & TcpSegment)
  | ({ protocol: 'udp' } & UdpDatagram)
  | { protocol: number; payload?: Payload };

export interface IpPacketSpec {
  src: string | IpAddress;
  dst: string | IpAddress;
  /** IPv4 TTL or IPv6 hop limit; default 64. Overrides ipv4.ttl / ipv6.hopLimit. */
  ttl?: number;
  ipv4?: Ipv4Fields;
  ipv6?: Ipv6Fields;
  transport: Transport;
}

const NO_FIELDS: Readonly<Record<string, never>> = {};

function toIp(a: string | IpAddress): IpAddress {
  return typeof a === 'string' ? parseIp(a) : a;
}

/** Builds one IPv4 or IPv6 packet (family from the addresses) in a single allocation. */
export function buildIpPacket(spec: IpPacketSpec): Uint8Array {
  const src = toIp(spec.src);
  const dst = toIp(spec.dst);
  if (src.family !== dst.family) throw new Error(`source ${src.text} and destination ${dst.text} are of different IP families`);
  const t = spec.transport;
  const payload = payloadBytes(t.payload);
  let protocol: number;
  let upperLength: number;
  if (t.protocol === 'tcp') {
    protocol = TCP_PROTOCOL;
    upperLength = tcpHeaderLength(t) + payload.length;
  } else if (t.protocol === 'udp') {
    protocol = UDP_PROTOCOL;
    upperLength = 8 + payload.length;
  } else {
    protocol = t.protocol;
    upperLength = payload.length;
  }
  const v4: Ipv4Fields = spec.ipv4 ?? NO_FIELDS;
  const v6: Ipv6Fields = spec.ipv6 ?? NO_FIELDS;
  const ipLength = src.family === 4 ? ipv4HeaderLength(v4) : ipv6HeaderLength(v6);
  const out = new Uint8Array(ipLength + upperLength);
  if (src.family === 4) writeIpv4Header(out, 0, src.bytes, dst.bytes, protocol, upperLength, v4, spec.ttl ?? v4.ttl ?? 64);
  else writeIpv6Header(out, 0, src.bytes, dst.bytes, protocol, upperLength, v6, spec.ttl ?? v6.hopLimit ?? 64);
  if (t.protocol === 'tcp') writeTcp(out, ipLength, t, payload, src.bytes, dst.bytes);
  else if (t.protocol === 'udp') writeUdp(out, ipLength, t, payload, src.bytes, dst.bytes);
  else out.set(payload, ipLength);
  return out;
}

/** EtherType of an IP packet, from its version nibble. */
export function ipEthertype(packet: Uint8Array): number {
  const version = packet[0] >> 4;
  if (version === 4) return ETHERTYPE.IPV4;
  if (version === 6) return ETHERTYPE.IPV6;
  throw new Error(`not an IP packet (version nibble ${version})`);
}

/** One whole frame: an IP packet under the link layer of `link.linkType`. */
export function buildFrame(spec: IpPacketSpec & { link: LinkOptions; frame?: FrameLink }): Uint8Array {
  const packet = buildIpPacket(spec);
  return encapsulate(packet, ipEthertype(packet), spec.link, spec.frame);
}

/** An ARP request or reply for IPv4 over Ethernet (RFC 826): a non-IP payload for EtherType 0x0806. */
export function arpPayload(a: { op?: 'request' | 'reply'; senderMac: string | Uint8Array; senderIp: string; targetMac?: string | Uint8Array; targetIp: string }): Uint8Array {
  const out = new Uint8Array(28);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 1); // hardware type Ethernet
  dv.setUint16(2, ETHERTYPE.IPV4);
  out[4] = 6;
  out[5] = 4;
  dv.setUint16(6, a.op === 'reply' ? 2 : 1);
  out.set(parseMac(a.senderMac), 8);
  out.set(ipv4Bytes(a.senderIp), 14);
  out.set(parseMac(a.targetMac ?? '00:00:00:00:00:00'), 18);
  out.set(ipv4Bytes(a.targetIp), 24);
  return out;
}

function ipv4Bytes(text: string): Uint8Array {
  const ip = parseIp(text);
  if (ip.family !== 4) throw new Error(`ARP here is for IPv4, got ${text}`);
  return ip.bytes;
}

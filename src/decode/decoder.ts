import type { CaptureRecord } from '../capture/record.js';
import { decodeIpv4, formatIpv4 } from './ipv4.js';
import { decodeIpv6, formatIpv6 } from './ipv6.js';
import { EtherType, linkDecoder, linkTypeName } from './link.js';
import { DECODE_STATUS_NAMES, DecodeStatus, DecodedPacket, IpProtocol } from './packet.js';
import { decodeTcp, formatTcpFlags } from './tcp.js';
import { decodeUdp } from './udp.js';

/**
 * Decodes records down to TCP into one reused DecodedPacket. No allocation per packet: the
 * struct is refilled, and every layer reads the record's own bytes through offsets.
 */
export class PacketDecoder {
  readonly packet = new DecodedPacket();

  decode(record: CaptureRecord): DecodedPacket {
    return this.decodeBytes(record.data, record.start, record.capturedLength, record.linkType);
  }

  decodeBytes(data: Uint8Array, start: number, capturedLength: number, linkType: number): DecodedPacket {
    const p = this.packet;
    p.reset(data, start, capturedLength, linkType);
    const link = linkDecoder(linkType);
    if (!link) {
      p.fail(DecodeStatus.UNSUPPORTED_LINK, 'link');
      return p;
    }
    if (!link(p)) return p;
    if (p.etherType === EtherType.IPV4) {
      if (!decodeIpv4(p)) return p;
    } else if (!decodeIpv6(p)) {
      return p;
    }
    if (p.isFragment) return p;
    if (p.protocol === IpProtocol.TCP) decodeTcp(p);
    else if (p.protocol === IpProtocol.UDP) decodeUdp(p);
    return p;
  }
}

/** `ip:port` or `[v6]:port` of the packet's source. Allocates: for output, not the hot path. */
export function formatSource(p: DecodedPacket): string {
  return formatEndpoint(p.data, p.srcAddrOff, p.addrLen, p.srcPort);
}

export function formatDestination(p: DecodedPacket): string {
  return formatEndpoint(p.data, p.dstAddrOff, p.addrLen, p.dstPort);
}

export function formatAddress(b: Uint8Array, o: number, len: number): string {
  return len === 4 ? formatIpv4(b, o) : formatIpv6(b, o);
}

export function formatEndpoint(b: Uint8Array, o: number, len: number, port: number): string {
  return endpointText(formatAddress(b, o, len), port, len === 4 ? 4 : 6);
}

/**
 * `10.0.0.1:80`, `[2001:db8::1]:443`: the one spelling of an endpoint as text (display, and the
 * key destinations are grouped by). Made here from an address and a port; never parsed back.
 */
export function endpointText(host: string, port: number, ipVersion: 4 | 6): string {
  return ipVersion === 4 ? `${host}:${port}` : `[${host}]:${port}`;
}

/** One tcpdump-like line for errors and debugging, e.g. `IPv4 10.0.0.1:40000 > 10.0.0.2:80 TCP [S.] seq 1 ack 2 win 64240 len 0 ttl 64`. */
export function describePacket(p: DecodedPacket): string {
  const link = linkTypeName(p.linkType);
  if (p.status === DecodeStatus.UNSUPPORTED_LINK) return `${link}: link type not decoded`;
  if (p.ipVersion === 0) return `${link}: ${DECODE_STATUS_NAMES[p.status]} at ${p.failedLayer}${p.etherType >= 0 ? ` (ethertype 0x${p.etherType.toString(16).padStart(4, '0')})` : ''}`;
  const ip = p.ipVersion === 4 ? 'IPv4' : 'IPv6';
  const src = formatAddress(p.data, p.srcAddrOff, p.addrLen);
  const dst = formatAddress(p.data, p.dstAddrOff, p.addrLen);
  const ttl = `${p.ipVersion === 4 ? 'ttl' : 'hlim'} ${p.ttl}`;
  if (p.status !== DecodeStatus.OK) return `${ip} ${src} > ${dst} proto ${p.protocol} ${ttl}: ${DECODE_STATUS_NAMES[p.status]} at ${p.failedLayer}`;
  if (p.isFragment) return `${ip} ${src} > ${dst} proto ${p.protocol} ${ttl} fragment`;
  if (p.protocol === IpProtocol.TCP) {
    const sp = p.ipVersion === 6 ? `[${src}]` : src;
    const dp = p.ipVersion === 6 ? `[${dst}]` : dst;
    return `${ip} ${sp}:${p.srcPort} > ${dp}:${p.dstPort} TCP [${formatTcpFlags(p.flags)}] seq ${p.seq} ack ${p.ack} win ${p.window} len ${p.payloadWireLen} ${ttl}${p.truncated ? ' (truncated)' : ''}`;
  }
  if (p.protocol === IpProtocol.UDP) return `${ip} ${src}:${p.srcPort} > ${dst}:${p.dstPort} UDP len ${p.payloadWireLen} ${ttl}`;
  return `${ip} ${src} > ${dst} proto ${p.protocol} ${ttl}`;
}

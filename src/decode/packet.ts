/**
 * The decoded form of one packet: ONE instance per capture stream, refilled for every record
 * (gopacket's DecodingLayerParser idea). Offsets point into `data`, the record's buffer, which is
 * only valid while the record is being processed; anything kept longer must be copied on purpose.
 */

/** How far decoding got. `ok` may still have `truncated` set (snap length cut the payload). */
export const DecodeStatus = {
  OK: 0,
  /** The capture cut a header short (snap length or a damaged record). */
  TRUNCATED: 1,
  /** A header field that cannot be right (IHL < 5, TCP data offset < 5, IP total length < header …). */
  MALFORMED: 2,
  /** Link type flowdoc does not decode: counted and skipped. */
  UNSUPPORTED_LINK: 3,
  /** A frame that carries no IP (ARP, LLDP, 802.3/LLC, …). */
  NOT_IP: 4,
} as const;
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

export const DECODE_STATUS_NAMES: readonly string[] = ['ok', 'truncated', 'malformed', 'unsupported-link', 'not-ip'];

/** IP protocol numbers flowdoc names. */
export const IpProtocol = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58 } as const;

/** TCP flag bits (RFC 9293 plus ECN bits). */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export class DecodedPacket {
  status: DecodeStatus = DecodeStatus.OK;
  /** The captured bytes ran out before the packet did (headers whole, payload cut short). */
  truncated = false;
  /** Which layer failed, for the skip counters and describe(): 'link', 'ipv4', 'ipv6', 'tcp', 'udp'. */
  failedLayer = '';

  data: Uint8Array = new Uint8Array(0);
  linkType = 0;
  /** Offset of the network-layer header. */
  l3Start = 0;
  /** End of the captured bytes of this packet in `data`. */
  capEnd = 0;
  /** Number of VLAN tags (802.1Q / 802.1ad) and the outer and inner VLAN ids (-1 when absent). */
  vlanCount = 0;
  vlanOuter = -1;
  vlanInner = -1;
  /** Linux cooked capture packet type (0 HOST … 4 OUTGOING), -1 when the link layer has none. */
  linkPktType = -1;
  /** LINUX_SLL2 interface index, -1 otherwise. */
  linkIfIndex = -1;
  /** EtherType carried (0x0800, 0x86dd, …) or -1. */
  etherType = -1;

  /** 4 or 6; 0 when the packet is not IP. */
  ipVersion = 0;
  /** Offsets of the source and destination addresses in `data`, and their length (4 or 16). */
  srcAddrOff = 0;
  dstAddrOff = 0;
  addrLen = 0;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl = 0;
  /** IPv4 identification, -1 for IPv6. */
  ipId = -1;
  /** Transport protocol number (after IPv6 extension headers), -1 when unknown. */
  protocol = -1;
  /** Offset just past the IP payload per the IP length field, clamped to the captured bytes. */
  ipEnd = 0;
  /** Bytes the IP header says follow the IP header(s) on the wire. */
  ipPayloadWireLen = 0;
  /** A non-first fragment (no transport header) — counted, not decoded further. */
  isFragment = false;
  /** First fragment of a fragmented datagram (the transport header is there, the payload is partial). */
  isFirstFragment = false;

  /** Offset of the transport header. */
  l4Start = 0;
  srcPort = 0;
  dstPort = 0;

  /** TCP fields (valid when protocol === TCP and status === OK). */
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  tcpHeaderLen = 0;
  /** TCP options; -1 when absent. */
  mss = -1;
  windowScale = -1;
  sackPermitted = false;
  hasTimestamps = false;
  tsVal = 0;
  tsEcr = 0;
  /** Number of SACK blocks in the options. */
  sackBlocks = 0;

  /** Payload: offset and captured length in `data`, and length on the wire (from the IP length). */
  payloadStart = 0;
  payloadLen = 0;
  payloadWireLen = 0;

  reset(data: Uint8Array, start: number, capturedLength: number, linkType: number): void {
    this.status = DecodeStatus.OK;
    this.truncated = false;
    this.failedLayer = '';
    this.data = data;
    this.linkType = linkType;
    this.l3Start = start;
    this.capEnd = start + capturedLength;
    this.vlanCount = 0;
    this.vlanOuter = -1;
    this.vlanInner = -1;
    this.linkPktType = -1;
    this.linkIfIndex = -1;
    this.etherType = -1;
    this.ipVersion = 0;
    this.srcAddrOff = 0;
    this.dstAddrOff = 0;
    this.addrLen = 0;
    this.ttl = 0;
    this.ipId = -1;
    this.protocol = -1;
    this.ipEnd = 0;
    this.ipPayloadWireLen = 0;
    this.isFragment = false;
    this.isFirstFragment = false;
    this.l4Start = 0;
    this.srcPort = 0;
    this.dstPort = 0;
    this.seq = 0;
    this.ack = 0;
    this.flags = 0;
    this.window = 0;
    this.tcpHeaderLen = 0;
    this.mss = -1;
    this.windowScale = -1;
    this.sackPermitted = false;
    this.hasTimestamps = false;
    this.tsVal = 0;
    this.tsEcr = 0;
    this.sackBlocks = 0;
    this.payloadStart = 0;
    this.payloadLen = 0;
    this.payloadWireLen = 0;
  }

  fail(status: DecodeStatus, layer: string): void {
    this.status = status;
    this.failedLayer = layer;
  }

  get isTcp(): boolean {
    return this.status === DecodeStatus.OK && this.protocol === IpProtocol.TCP && !this.isFragment;
  }
}

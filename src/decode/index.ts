export { PacketDecoder, describePacket, endpointText, formatAddress, formatEndpoint, formatSource, formatDestination } from './decoder.js';
export { DecodedPacket, DecodeStatus, DECODE_STATUS_NAMES, IpProtocol, TcpFlag } from './packet.js';
export { LinkType, EtherType, linkTypeName, isSupportedLinkType } from './link.js';
export { formatTcpFlags } from './tcp.js';
export { formatIpv4 } from './ipv4.js';
export { formatIpv6 } from './ipv6.js';

/**
 * Capture writer for tests and benchmarks: packet bytes, pcap and pcapng files, and a script API
 * for TCP conversations on a shared clock. Nothing here is used by the analyzer itself.
 */
export { parseEndpoint, parseIp, formatEndpoint, type Endpoint, type IpAddress } from './address.js';
export { ByteWriter, payloadBytes, type Endian, type Payload } from './bytes.js';
export { internetChecksum, pseudoHeaderSum, sum16, finishChecksum } from './checksum.js';
export { parseTime, type ScriptTime } from './clock.js';
export {
  TcpConversation,
  type PacketEmitter,
  type RawSegment,
  type ReplyOptions,
  type RstOptions,
  type SegmentOptions,
  type SendOptions,
  type Side,
  type TcpConversationOptions,
  type TcpHandshakeOptions,
} from './conversation.js';
export {
  CaptureFileWriter,
  fileOutput,
  renderCapture,
  type ByteOutput,
  type CaptureFileOptions,
  type RenderOptions,
} from './file-writer.js';
export { frameBytes, type ScriptFrame } from './frame.js';
export { ipv4HeaderLength, writeIpv4Header, type Ipv4Fields } from './ipv4.js';
export { IPV6_EXT_PROTOCOL, ipv6HeaderLength, writeIpv6Header, type Ipv6Extension, type Ipv6Fields } from './ipv6.js';
export { encapsulate, ETHERTYPE, LINKTYPE, parseMac, type FrameLink, type LinkOptions, type VlanTag } from './link.js';
export { arpPayload, buildFrame, buildIpPacket, ipEthertype, type IpPacketSpec, type Transport } from './packet.js';
export {
  buildPcap,
  PCAP_DEFAULT_SNAPLEN,
  PCAP_MAGIC_MICROS,
  PCAP_MAGIC_NANOS,
  writePcapHeader,
  writePcapRecord,
  type PacketRecord,
  type PcapFileOptions,
} from './pcap.js';
export {
  BLOCK_TYPE,
  PcapngWriter,
  type InterfaceOptions,
  type NameResolutionEntry,
  type PacketBlockKind,
  type PcapngOption,
  type PcapngPacket,
  type SectionOptions,
  type TsResolution,
} from './pcapng.js';
export { SeededRandom } from './rng.js';
export { CaptureScript, type CaptureScriptOptions, type UdpOptions } from './script.js';
export { tcpFlags, tcpHeaderLength, tcpOptionsLength, TCP_FLAGS, TCP_PROTOCOL, writeTcp, type TcpFlagsInput, type TcpOption, type TcpSegment } from './tcp.js';
export { UDP_PROTOCOL, writeUdp, type UdpDatagram } from './udp.js';
export { alpnExtension, sniExtension, TLS_EXTENSION, tlsClientHello, tlsServerHello, type ClientHelloOptions, type HelloOptions, type TlsExtension } from './tls.js';

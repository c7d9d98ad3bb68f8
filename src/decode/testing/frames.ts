import { buildFrame, type IpPacketSpec, type LinkOptions, type TcpSegment } from '../../writer/index.js';
import { PacketDecoder } from '../decoder.js';
import type { DecodedPacket } from '../packet.js';

/**
 * Test helpers for decode/: frames built by the capture writer (src/writer), decoded the way the
 * analyzer decodes them. Each call uses a fresh decoder so a test can keep the packet it got.
 */

/** Decodes `bytes` as one captured record of `linkType`, placed at `start` inside a larger buffer. */
export function decodeFrame(bytes: Uint8Array, linkType: number, start = 0): DecodedPacket {
  const buffer = new Uint8Array(start + bytes.length);
  buffer.set(bytes, start);
  return new PacketDecoder().decodeBytes(buffer, start, bytes.length, linkType);
}

/** A TCP segment 10.0.0.1:40000 → 10.0.0.2:80 (or the IPv6 pair when `v6`), fields overridable. */
export function tcpSpec(over: Partial<TcpSegment> = {}, v6 = false): IpPacketSpec {
  return {
    src: v6 ? '2001:db8::1' : '10.0.0.1',
    dst: v6 ? '2001:db8::2' : '10.0.0.2',
    transport: { protocol: 'tcp', srcPort: 40000, dstPort: 80, seq: 1000, ack: 2000, flags: 'PA', window: 501, payload: 'GET / HTTP/1.1\r\n\r\n', ...over },
  };
}

export function frame(spec: IpPacketSpec, link: LinkOptions): Uint8Array {
  return buildFrame({ ...spec, link });
}

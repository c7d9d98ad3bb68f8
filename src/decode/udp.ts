import { u16 } from './bytes.js';
import { DecodeStatus, type DecodedPacket } from './packet.js';

/** UDP header layout (RFC 768). flowdoc only counts UDP; ports help `info` and `describe`. */
export const UDP = { SRC_PORT: 0, DST_PORT: 2, LENGTH: 4, MIN_LENGTH: 8 } as const;

export function decodeUdp(p: DecodedPacket): boolean {
  const o = p.l4Start;
  if (p.ipEnd - o < UDP.MIN_LENGTH) {
    p.fail(p.ipPayloadWireLen < UDP.MIN_LENGTH ? DecodeStatus.MALFORMED : DecodeStatus.TRUNCATED, 'udp');
    return false;
  }
  p.srcPort = u16(p.data, o + UDP.SRC_PORT);
  p.dstPort = u16(p.data, o + UDP.DST_PORT);
  p.payloadStart = o + UDP.MIN_LENGTH;
  p.payloadLen = p.ipEnd - p.payloadStart;
  p.payloadWireLen = p.ipPayloadWireLen - UDP.MIN_LENGTH;
  return true;
}

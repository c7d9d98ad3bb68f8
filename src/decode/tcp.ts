import { u16, u32 } from './bytes.js';
import { DecodeStatus, TcpFlag, type DecodedPacket } from './packet.js';

/** TCP header layout (RFC 9293). */
export const TCP = {
  SRC_PORT: 0, DST_PORT: 2, SEQ: 4, ACK: 8, DATA_OFFSET: 12, FLAGS: 13, WINDOW: 14, CHECKSUM: 16, URGENT: 18,
  MIN_LENGTH: 20,
} as const;

/** Option kinds flowdoc reads. */
export const TcpOption = { EOL: 0, NOP: 1, MSS: 2, WINDOW_SCALE: 3, SACK_PERMITTED: 4, SACK: 5, TIMESTAMPS: 8 } as const;

/**
 * Checks and decodes the TCP header at p.l4Start. The payload starts at data offset × 4 and ends
 * where the IP length says (clamped to the captured bytes; `truncated` tells when cut — also when
 * the cut fell in the options: then only the options captured whole are read, and no payload).
 * Option parsing stops at a malformed option instead of failing the packet: the fixed header is
 * still right, and an analyzer must record such a segment, not drop it.
 */
export function decodeTcp(p: DecodedPacket): boolean {
  const b = p.data;
  const o = p.l4Start;
  const avail = p.ipEnd - o;
  if (avail < TCP.MIN_LENGTH) {
    p.fail(p.ipPayloadWireLen < TCP.MIN_LENGTH ? DecodeStatus.MALFORMED : DecodeStatus.TRUNCATED, 'tcp');
    return false;
  }
  const hlen = (b[o + TCP.DATA_OFFSET]! >> 4) * 4;
  if (hlen < TCP.MIN_LENGTH || hlen > p.ipPayloadWireLen) {
    p.fail(DecodeStatus.MALFORMED, 'tcp');
    return false;
  }
  // Options cut by the snap length (a SYN's 20 bytes of options at `tcpdump -s 68` on Ethernet):
  // the fixed header is whole, so the segment is decoded — ports, sequence numbers, flags — with
  // the options that were captured whole and `truncated` set, as tshark does ("[Packet size limited
  // during capture]"). Dropping it would lose every handshake of a headers-only capture.
  const cut = hlen > avail;
  if (cut) p.truncated = true;
  p.srcPort = u16(b, o + TCP.SRC_PORT);
  p.dstPort = u16(b, o + TCP.DST_PORT);
  p.seq = u32(b, o + TCP.SEQ);
  p.ack = u32(b, o + TCP.ACK);
  p.flags = b[o + TCP.FLAGS]!;
  p.window = u16(b, o + TCP.WINDOW);
  p.tcpHeaderLen = hlen;
  if (hlen > TCP.MIN_LENGTH) readOptions(p, o + TCP.MIN_LENGTH, cut ? p.ipEnd : o + hlen);
  p.payloadStart = cut ? p.ipEnd : o + hlen;
  p.payloadLen = p.ipEnd - p.payloadStart;
  p.payloadWireLen = p.ipPayloadWireLen - hlen;
  return true;
}

function readOptions(p: DecodedPacket, start: number, end: number): void {
  const b = p.data;
  let i = start;
  while (i < end) {
    const kind = b[i]!;
    if (kind === TcpOption.EOL) return;
    if (kind === TcpOption.NOP) { i++; continue; }
    if (i + 1 >= end) return;
    const len = b[i + 1]!;
    if (len < 2 || i + len > end) return; // malformed option: keep what was read
    switch (kind) {
      case TcpOption.MSS: if (len === 4) p.mss = u16(b, i + 2); break;
      case TcpOption.WINDOW_SCALE: if (len === 3) p.windowScale = b[i + 2]!; break;
      case TcpOption.SACK_PERMITTED: p.sackPermitted = true; break;
      case TcpOption.SACK: p.sackBlocks = (len - 2) >> 3; break;
      case TcpOption.TIMESTAMPS:
        if (len === 10) { p.hasTimestamps = true; p.tsVal = u32(b, i + 2); p.tsEcr = u32(b, i + 6); }
        break;
      default: break;
    }
    i += len;
  }
}

/** tcpdump-style flag letters: S F R P . U E W. */
export function formatTcpFlags(flags: number): string {
  let s = '';
  if (flags & TcpFlag.SYN) s += 'S';
  if (flags & TcpFlag.FIN) s += 'F';
  if (flags & TcpFlag.RST) s += 'R';
  if (flags & TcpFlag.PSH) s += 'P';
  if (flags & TcpFlag.URG) s += 'U';
  if (flags & TcpFlag.ECE) s += 'E';
  if (flags & TcpFlag.CWR) s += 'W';
  if (flags & TcpFlag.ACK) s += '.';
  return s || 'none';
}

import { put16, type Payload } from './bytes.js';
import { finishChecksum, pseudoHeaderSum, sum16 } from './checksum.js';

export const UDP_PROTOCOL = 17;

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload?: Payload;
  /** A forced checksum value, or false for "no checksum" (0, IPv4 only); default: correct. */
  checksum?: number | false;
}

/** Writes the 8-byte header + payload at out[off…] (RFC 768). */
export function writeUdp(out: Uint8Array, off: number, d: UdpDatagram, payload: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
  const total = 8 + payload.length;
  put16(out, off, d.srcPort);
  put16(out, off + 2, d.dstPort);
  put16(out, off + 4, total);
  put16(out, off + 6, 0);
  out.set(payload, off + 8);
  let checksum: number;
  if (d.checksum === false) checksum = 0;
  else if (d.checksum !== undefined) checksum = d.checksum;
  else {
    checksum = finishChecksum(sum16(out, off, off + total, pseudoHeaderSum(src, dst, UDP_PROTOCOL, total)));
    // A computed 0 is sent as all ones: 0 means "no checksum".
    if (checksum === 0) checksum = 0xffff;
  }
  put16(out, off + 6, checksum);
}

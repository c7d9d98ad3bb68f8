import { put16, put32, type Payload } from './bytes.js';
import { finishChecksum, pseudoHeaderSum, sum16 } from './checksum.js';

export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

const FLAG_LETTERS: Readonly<Record<string, number>> = {
  F: TCP_FLAGS.FIN,
  S: TCP_FLAGS.SYN,
  R: TCP_FLAGS.RST,
  P: TCP_FLAGS.PSH,
  A: TCP_FLAGS.ACK,
  U: TCP_FLAGS.URG,
  E: TCP_FLAGS.ECE,
  C: TCP_FLAGS.CWR,
};

/** Flags as a number or as scapy-style letters: `'S'`, `'SA'`, `'PA'`, `'FA'`, `'R'`, `'RA'`. */
export type TcpFlagsInput = number | string;

export function tcpFlags(f: TcpFlagsInput): number {
  if (typeof f === 'number') return f & 0xff;
  let v = 0;
  for (const ch of f) {
    const bit = FLAG_LETTERS[ch];
    if (bit === undefined) throw new Error(`unknown TCP flag letter ${JSON.stringify(ch)} in ${JSON.stringify(f)} (use F S R P A U E C)`);
    v |= bit;
  }
  return v;
}

export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sack-permitted' }
  | { kind: 'sack'; blocks: ReadonlyArray<readonly [number, number]> }
  | { kind: 'timestamps'; tsval: number; tsecr: number }
  /** Any option as its raw bytes (kind, length, value). */
  | { kind: 'raw'; bytes: Uint8Array };

const OPT_KIND = { EOL: 0, NOP: 1, MSS: 2, WSCALE: 3, SACK_PERMITTED: 4, SACK: 5, TIMESTAMPS: 8 } as const;

function optionLength(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
    case 'nop': return 1;
    case 'mss': return 4;
    case 'wscale': return 3;
    case 'sack-permitted': return 2;
    case 'sack': return 2 + 8 * o.blocks.length;
    case 'timestamps': return 10;
    case 'raw': return o.bytes.length;
  }
}

/** Options area length, padded with zeros (EOL) to a multiple of 4. */
export function tcpOptionsLength(opts: readonly TcpOption[]): number {
  let n = 0;
  for (const o of opts) n += optionLength(o);
  const padded = (n + 3) & ~3;
  if (padded > 40) throw new Error(`TCP options of ${n} bytes do not fit (at most 40)`);
  return padded;
}

function writeOptions(out: Uint8Array, at: number, opts: readonly TcpOption[], end: number): void {
  let p = at;
  for (const o of opts) {
    switch (o.kind) {
      case 'eol': out[p] = OPT_KIND.EOL; break;
      case 'nop': out[p] = OPT_KIND.NOP; break;
      case 'mss': out[p] = OPT_KIND.MSS; out[p + 1] = 4; put16(out, p + 2, o.value); break;
      case 'wscale': out[p] = OPT_KIND.WSCALE; out[p + 1] = 3; out[p + 2] = o.shift; break;
      case 'sack-permitted': out[p] = OPT_KIND.SACK_PERMITTED; out[p + 1] = 2; break;
      case 'sack':
        out[p] = OPT_KIND.SACK;
        out[p + 1] = 2 + 8 * o.blocks.length;
        o.blocks.forEach(([l, r], i) => {
          put32(out, p + 2 + 8 * i, l);
          put32(out, p + 6 + 8 * i, r);
        });
        break;
      case 'timestamps':
        out[p] = OPT_KIND.TIMESTAMPS;
        out[p + 1] = 10;
        put32(out, p + 2, o.tsval);
        put32(out, p + 6, o.tsecr);
        break;
      case 'raw':
        out.set(o.bytes, p);
        break;
    }
    p += optionLength(o);
  }
  out.fill(OPT_KIND.EOL, p, end);
}

/** One TCP segment (RFC 9293). Sequence numbers are taken modulo 2^32. */
export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  /** Written as given (0 when absent), whether or not the ACK flag is set. */
  ack?: number;
  flags: TcpFlagsInput;
  /** Raw window field (already scaled down); default 64240. */
  window?: number;
  urgent?: number;
  options?: readonly TcpOption[];
  payload?: Payload;
  /** Force the checksum (e.g. a wrong one); default: the correct value. */
  checksum?: number;
}

/** Byte offsets of the TCP header fields. */
const F = { SRC_PORT: 0, DST_PORT: 2, SEQ: 4, ACK: 8, OFFSET: 12, FLAGS: 13, WINDOW: 14, CHECKSUM: 16, URGENT: 18, OPTIONS: 20 } as const;

export const TCP_PROTOCOL = 6;

export function tcpHeaderLength(seg: TcpSegment): number {
  return 20 + tcpOptionsLength(seg.options ?? []);
}

/**
 * Writes header + payload at out[off…]; the checksum covers the pseudo-header built from
 * `src`/`dst` (4 or 16 bytes each).
 */
export function writeTcp(out: Uint8Array, off: number, seg: TcpSegment, payload: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
  const hlen = tcpHeaderLength(seg);
  const total = hlen + payload.length;
  put16(out, off + F.SRC_PORT, seg.srcPort);
  put16(out, off + F.DST_PORT, seg.dstPort);
  put32(out, off + F.SEQ, seg.seq);
  put32(out, off + F.ACK, seg.ack ?? 0);
  out[off + F.OFFSET] = (hlen / 4) << 4;
  out[off + F.FLAGS] = tcpFlags(seg.flags);
  put16(out, off + F.WINDOW, seg.window ?? 64240);
  put16(out, off + F.CHECKSUM, 0);
  put16(out, off + F.URGENT, seg.urgent ?? 0);
  writeOptions(out, off + F.OPTIONS, seg.options ?? [], off + hlen);
  out.set(payload, off + hlen);
  const sum = sum16(out, off, off + total, pseudoHeaderSum(src, dst, TCP_PROTOCOL, total));
  put16(out, off + F.CHECKSUM, seg.checksum ?? finishChecksum(sum));
}

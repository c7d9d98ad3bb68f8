import { TraceFlag, type TracedSegment } from '../../flows/index.js';
import type { TracedConnection } from './types.js';

/** Sequence numbers at a vantage point minus the anchor's, per side (a NAT that rewrites ISNs shifts them by a constant). */
export interface SeqDelta {
  readonly client: number;
  readonly server: number;
}

export const NO_DELTA: SeqDelta = { client: 0, server: 0 };

const CONTROL = TraceFlag.SYN | TraceFlag.FIN | TraceFlag.RST;

/**
 * What identifies one segment whatever the capture point: direction, sequence and ack numbers in
 * the anchor's numbering, payload length and the SYN/FIN/RST bits. (A NAT rewrites addresses and
 * ports, a TTL drops by one per hop; none of these changes.)
 */
export function segmentKey(s: TracedSegment, delta: SeqDelta): string {
  const own = s.fromClient ? delta.client : delta.server;
  const peer = s.fromClient ? delta.server : delta.client;
  const ack = (s.flags & TraceFlag.ACK) !== 0 ? (s.ack - peer) >>> 0 : -1;
  return `${s.fromClient ? 'c' : 's'}${(s.seq - own) >>> 0}/${s.len}/${s.flags & CONTROL}/${ack}`;
}

/** A data segment's key relative to its sender's ISN (for NATs that rewrite the ISN). */
export function relativeDataKey(s: TracedSegment, c: TracedConnection): string | null {
  const isn = s.fromClient ? c.trace.clientIsn : c.trace.serverIsn;
  if (isn < 0 || s.len === 0 || (s.flags & TraceFlag.RST) !== 0) return null;
  return `${s.fromClient ? 'c' : 's'}${(s.seq - isn) >>> 0}/${s.len}`;
}

/** A data segment's key on raw sequence numbers (a capture without the handshake, ISNs kept). */
export function rawDataKey(s: TracedSegment): string | null {
  if (s.len === 0 || (s.flags & TraceFlag.RST) !== 0) return null;
  return `${s.fromClient ? 'c' : 's'}${s.seq}/${s.len}`;
}

/** Each key seen exactly once in a trace, with its segment: retransmissions (a key seen twice) cannot say which copy is which. */
export function uniqueSegments(c: TracedConnection, delta: SeqDelta): Map<string, TracedSegment> {
  const out = new Map<string, TracedSegment>();
  const twice = new Set<string>();
  for (const s of c.trace.segments()) {
    const k = segmentKey(s, delta);
    if (out.has(k)) twice.add(k);
    else out.set(k, s);
  }
  for (const k of twice) out.delete(k);
  return out;
}

/** The same segments seen in both connections: [at the anchor, at the other vantage point]. */
export function commonSegments(anchor: TracedConnection, other: TracedConnection, delta: SeqDelta): [TracedSegment, TracedSegment][] {
  const a = uniqueSegments(anchor, NO_DELTA);
  const out: [TracedSegment, TracedSegment][] = [];
  for (const [k, s] of uniqueSegments(other, delta)) {
    const t = a.get(k);
    if (t) out.push([t, s]);
  }
  return out;
}

/** ISN differences per side when both captures saw that side's SYN (0 otherwise: the raw numbers are compared). */
export function isnDelta(anchor: TracedConnection, other: TracedConnection): SeqDelta {
  const d = (x: number, y: number) => (x >= 0 && y >= 0 ? (y - x) >>> 0 : 0);
  return { client: d(anchor.trace.clientIsn, other.trace.clientIsn), server: d(anchor.trace.serverIsn, other.trace.serverIsn) };
}

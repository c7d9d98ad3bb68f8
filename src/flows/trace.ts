/**
 * A bounded record of a connection's segments, kept only when the analysis needs to find the
 * same connection in another capture (`flowdoc analyze` with several captures): the first
 * TRACE_HEAD segments (the handshake and the first exchanges: what identifies the connection) and
 * the last TRACE_TAIL (where the failed request and what answered it are). Everything lives in
 * typed arrays allocated once per connection, so recording a segment allocates nothing and a
 * connection costs the same whatever its length.
 */

/** Segments kept from the start of the connection. */
export const TRACE_HEAD = 16;
/** Segments kept from its end (a ring). */
export const TRACE_TAIL = 64;
const CAPACITY = TRACE_HEAD + TRACE_TAIL;

/** TCP flag bits as the trace stores them (the wire's own bits). */
export const TraceFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** One recorded segment, as the readers of a trace see it. */
export interface TracedSegment {
  readonly frame: number;
  readonly micros: number;
  readonly fromClient: boolean;
  readonly seq: number;
  readonly ack: number;
  /** Payload length on the wire (the IP length says it; a snap length may have cut the bytes). */
  readonly len: number;
  readonly flags: number;
  readonly ttl: number;
}

export class SegmentTrace {
  private readonly frames = new Float64Array(CAPACITY);
  private readonly micros = new Float64Array(CAPACITY);
  private readonly seqs = new Uint32Array(CAPACITY);
  private readonly acks = new Uint32Array(CAPACITY);
  private readonly lens = new Uint32Array(CAPACITY);
  /** Flag bits in the low byte, 0x100 when the client sent it. */
  private readonly bits = new Uint16Array(CAPACITY);
  private readonly ttls = new Uint8Array(CAPACITY);
  /** Segments recorded in all (those beyond the capacity overwrote the oldest tail slots). */
  private count = 0;
  /** Client and server ISN from their SYNs (-1: no SYN seen from that side). */
  clientIsn = -1;
  serverIsn = -1;

  record(frame: number, micros: number, fromClient: boolean, seq: number, ack: number, len: number, flags: number, ttl: number): void {
    const i = this.count < TRACE_HEAD ? this.count : TRACE_HEAD + ((this.count - TRACE_HEAD) % TRACE_TAIL);
    this.frames[i] = frame;
    this.micros[i] = micros;
    this.seqs[i] = seq;
    this.acks[i] = ack;
    this.lens[i] = len;
    this.bits[i] = (flags & 0xff) | (fromClient ? 0x100 : 0);
    this.ttls[i] = ttl;
    this.count++;
    if ((flags & TraceFlag.SYN) !== 0) {
      if (fromClient && this.clientIsn < 0 && (flags & TraceFlag.ACK) === 0) this.clientIsn = seq;
      if (!fromClient && this.serverIsn < 0) this.serverIsn = seq;
    }
  }

  /** Segments recorded in all. */
  get recorded(): number {
    return this.count;
  }

  /** Segments between the head and the tail that are no longer kept. */
  get skipped(): number {
    return Math.max(0, this.count - CAPACITY);
  }

  /** The kept segments in capture order (head, then the tail from its oldest slot). Allocates: for the analysis, not the hot path. */
  segments(): TracedSegment[] {
    const out: TracedSegment[] = [];
    const at = (i: number): TracedSegment => {
      const b = this.bits[i]!;
      return {
        frame: this.frames[i]!, micros: this.micros[i]!, fromClient: (b & 0x100) !== 0, seq: this.seqs[i]!, ack: this.acks[i]!,
        len: this.lens[i]!, flags: b & 0xff, ttl: this.ttls[i]!,
      };
    };
    const head = Math.min(this.count, TRACE_HEAD);
    for (let i = 0; i < head; i++) out.push(at(i));
    const tail = Math.min(Math.max(0, this.count - TRACE_HEAD), TRACE_TAIL);
    const start = this.count > CAPACITY ? (this.count - TRACE_HEAD) % TRACE_TAIL : 0;
    for (let k = 0; k < tail; k++) out.push(at(TRACE_HEAD + ((start + k) % TRACE_TAIL)));
    return out;
  }
}

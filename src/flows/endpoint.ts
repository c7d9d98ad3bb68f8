import type { CloseEvent, EndpointStats } from './connection.js';

/** Endpoint states, as Zeek's TCP analyzer keeps them (TCP_Endpoint.h). */
export const EndpointState = {
  INACTIVE: 0, SYN_SENT: 1, SYN_ACK_SENT: 2, PARTIAL: 3, ESTABLISHED: 4, CLOSED: 5, RESET: 6,
} as const;
export type EndpointState = (typeof EndpointState)[keyof typeof EndpointState];

/** At most this many distinct TTL values are kept per side (real paths show one or two). */
const MAX_TTLS = 8;

/**
 * What few endpoints ever need — keepalive probes and their timing, zero windows, content gaps,
 * the t/w/g history counts, TTLs beyond the first — made on first use (Endpoint.extra).
 */
class EndpointExtra {
  keepaliveProbes = 0;
  keepaliveAcks = 0;
  zeroWindows = 0;
  segmentsNotCaptured = 0;
  keepaliveIdleMicros = -1;
  keepaliveIntervalMicros = -1;
  lastProbeMicros = -1;
  countT = 0;
  countW = 0;
  countG = 0;
  /** Distinct TTLs after the first and their counts, in order of first appearance. */
  ttlMore: number[] | null = null;
  ttlMoreCounts: number[] | null = null;
}

/** What an endpoint without extras reads as (never written). */
const NO_EXTRA: Readonly<EndpointExtra> = Object.freeze(new EndpointExtra());

/** Bits of Endpoint.bits: the state (0–6) in the low three, then hasSeq and hasIsn. */
const STATE_MASK = 7;
const HAS_SEQ = 8;
const HAS_ISN = 16;

/**
 * The mutable per-direction state of a live connection.
 *
 * Memory: an endpoint lives as long as its connection, and the table may hold hundreds of
 * thousands (two each), so it is plain small-integer fields (no boxes, see asSmall in live.ts),
 * the state and two flags packed in one, and what most endpoints never need in an object made
 * on first use. The counters and timings of that object read as their defaults until then.
 */
export class Endpoint {
  private bits: number = EndpointState.INACTIVE;
  packets = 0;
  payloadBytes = 0;
  retransmissions = 0;
  rsts = 0;
  fins = 0;
  // Sequence numbers are unsigned 32-bit, but kept as signed (`| 0`): a field that only ever
  // holds small integers is stored in the object itself, while one that holds a number past
  // 2^31 − 1 makes V8 box it in a 16-byte heap number of its own — for every endpoint.
  private nextSeqI32 = 0;
  private isnI32 = 0;
  firstFin: CloseEvent | null = null;
  firstRst: CloseEvent | null = null;
  /**
   * Sequence number of the last s, h, f, r letter recorded in the history (signed, `| 0`), so
   * repeats only show for a new one; valid once that letter was counted (countS … > 0).
   */
  private seqS = 0;
  private seqH = 0;
  private seqF = 0;
  private seqR = 0;
  /** How often each history letter was counted for this side (s h f r: new sequence numbers; t w g, in extra: occurrences). */
  private countS = 0;
  private countH = 0;
  private countF = 0;
  private countR = 0;
  /** The first distinct TTL on non-RST packets and its count (the rest, rare, in extra). */
  private ttlFirst = 0;
  private ttlFirstCount = 0;
  private extraState: EndpointExtra | null = null;

  /** The extras, made now if they were not (to write them). */
  private extra(): EndpointExtra {
    return (this.extraState ??= new EndpointExtra());
  }

  /** The extras to read: their defaults when none were made. */
  private get seen(): Readonly<EndpointExtra> {
    return this.extraState ?? NO_EXTRA;
  }

  get state(): EndpointState {
    return (this.bits & STATE_MASK) as EndpointState;
  }

  set state(s: EndpointState) {
    this.bits = (this.bits & ~STATE_MASK) | s;
  }

  /** Whether nextSeq is known. */
  get hasSeq(): boolean {
    return (this.bits & HAS_SEQ) !== 0;
  }

  set hasSeq(v: boolean) {
    this.bits = v ? this.bits | HAS_SEQ : this.bits & ~HAS_SEQ;
  }

  /** Whether isn is known (this side sent a SYN). */
  get hasIsn(): boolean {
    return (this.bits & HAS_ISN) !== 0;
  }

  set hasIsn(v: boolean) {
    this.bits = v ? this.bits | HAS_ISN : this.bits & ~HAS_ISN;
  }

  /**
   * Next sequence number expected from this side, signed (`| 0`: compare it with another signed
   * sequence number, or through seq.ts); valid when hasSeq. Signed so that reading it makes no
   * heap number: an unsigned value past 2^31 − 1 is a boxed double wherever it is passed on.
   */
  get nextSeq32(): number {
    return this.nextSeqI32;
  }

  set nextSeq32(seq: number) {
    this.nextSeqI32 = seq | 0;
  }

  /** Initial sequence number from this side's SYN, signed (`| 0`, as nextSeq32); valid when hasIsn. */
  get isn32(): number {
    return this.isnI32;
  }

  set isn32(seq: number) {
    this.isnI32 = seq | 0;
  }

  get keepaliveProbes(): number { return this.seen.keepaliveProbes; }
  set keepaliveProbes(n: number) { this.extra().keepaliveProbes = n; }
  get keepaliveAcks(): number { return this.seen.keepaliveAcks; }
  set keepaliveAcks(n: number) { this.extra().keepaliveAcks = n; }
  get zeroWindows(): number { return this.seen.zeroWindows; }
  set zeroWindows(n: number) { this.extra().zeroWindows = n; }
  get segmentsNotCaptured(): number { return this.seen.segmentsNotCaptured; }
  set segmentsNotCaptured(n: number) { this.extra().segmentsNotCaptured = n; }
  /** Shortest time from the last real packet to a first keepalive probe, µs (-1: none yet). */
  get keepaliveIdleMicros(): number { return this.seen.keepaliveIdleMicros; }
  set keepaliveIdleMicros(n: number) { this.extra().keepaliveIdleMicros = n; }
  /** Shortest time between two consecutive probes, µs (-1: none yet). */
  get keepaliveIntervalMicros(): number { return this.seen.keepaliveIntervalMicros; }
  set keepaliveIntervalMicros(n: number) { this.extra().keepaliveIntervalMicros = n; }
  /** When this side's last probe was sent, µs (-1: none yet). */
  get lastProbeMicros(): number { return this.seen.lastProbeMicros; }
  set lastProbeMicros(n: number) { this.extra().lastProbeMicros = n; }

  /**
   * False when `seq` is the sequence number `letter` was last recorded with; else remembers it.
   * (The caller counts the letter whenever this returns true, so a count of 0 means none yet.)
   */
  newHistorySeq(letter: 's' | 'h' | 'f' | 'r', seq: number): boolean {
    const s32 = seq | 0;
    switch (letter) {
      case 's': if (this.countS !== 0 && this.seqS === s32) return false; this.seqS = s32; return true;
      case 'h': if (this.countH !== 0 && this.seqH === s32) return false; this.seqH = s32; return true;
      case 'f': if (this.countF !== 0 && this.seqF === s32) return false; this.seqF = s32; return true;
      default: if (this.countR !== 0 && this.seqR === s32) return false; this.seqR = s32; return true;
    }
  }

  /** Counts one more `letter` for this side and returns the count so far. */
  countLetter(letter: 's' | 'h' | 'f' | 'r' | 't' | 'w' | 'g'): number {
    switch (letter) {
      case 's': return ++this.countS;
      case 'h': return ++this.countH;
      case 'f': return ++this.countF;
      case 'r': return ++this.countR;
      case 't': return ++this.extra().countT;
      case 'w': return ++this.extra().countW;
      default: return ++this.extra().countG;
    }
  }

  noteTtl(ttl: number): void {
    if (this.ttlFirstCount === 0) {
      this.ttlFirst = ttl;
      this.ttlFirstCount = 1;
      return;
    }
    if (ttl === this.ttlFirst) {
      this.ttlFirstCount++;
      return;
    }
    const x = this.extra();
    if (x.ttlMore === null) {
      x.ttlMore = [];
      x.ttlMoreCounts = [];
    }
    const i = x.ttlMore.indexOf(ttl);
    if (i >= 0) x.ttlMoreCounts![i]!++;
    else if (x.ttlMore.length < MAX_TTLS - 1) {
      x.ttlMore.push(ttl);
      x.ttlMoreCounts!.push(1);
    }
  }

  /** Most common TTL (ties: the larger, i.e. the nearer sender). */
  commonTtl(): number | null {
    if (this.ttlFirstCount === 0) return null;
    let best = this.ttlFirst, bestCount = this.ttlFirstCount;
    const more = this.seen.ttlMore, counts = this.seen.ttlMoreCounts;
    if (more !== null && counts !== null) {
      for (let i = 0; i < more.length; i++) {
        const c = counts[i]!, v = more[i]!;
        if (c > bestCount || (c === bestCount && v > best)) { best = v; bestCount = c; }
      }
    }
    return best;
  }

  /** The distinct TTLs seen, ascending. */
  private ttlList(): number[] {
    if (this.ttlFirstCount === 0) return [];
    const more = this.seen.ttlMore;
    return more === null ? [this.ttlFirst] : [this.ttlFirst, ...more].sort((a, b) => a - b);
  }

  /** `endpoint`: this side's `ip:port`, made by the connection from its tuple. */
  stats(endpoint: string): EndpointStats {
    return {
      endpoint,
      packets: this.packets,
      payloadBytes: this.payloadBytes,
      retransmissions: this.retransmissions,
      keepaliveProbes: this.keepaliveProbes,
      keepaliveAcks: this.keepaliveAcks,
      zeroWindows: this.zeroWindows,
      segmentsNotCaptured: this.segmentsNotCaptured,
      ttl: this.commonTtl(),
      ttls: this.ttlList(),
      firstFin: this.firstFin,
      firstRst: this.firstRst,
      keepaliveIdleSeconds: this.keepaliveIdleMicros < 0 ? null : this.keepaliveIdleMicros / 1e6,
      keepaliveIntervalSeconds: this.keepaliveIntervalMicros < 0 ? null : this.keepaliveIntervalMicros / 1e6,
      rsts: this.rsts,
      fins: this.fins,
    };
  }
}

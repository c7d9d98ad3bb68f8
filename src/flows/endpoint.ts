import type { CloseEvent, EndpointStats } from './connection.js';

/** Endpoint states, as Zeek's TCP analyzer keeps them (TCP_Endpoint.h). */
export const EndpointState = {
  INACTIVE: 0, SYN_SENT: 1, SYN_ACK_SENT: 2, PARTIAL: 3, ESTABLISHED: 4, CLOSED: 5, RESET: 6,
} as const;
export type EndpointState = (typeof EndpointState)[keyof typeof EndpointState];

/** At most this many distinct TTL values are kept per side (real paths show one or two). */
const MAX_TTLS = 8;

/** The mutable per-direction state of a live connection. */
export class Endpoint {
  state: EndpointState = EndpointState.INACTIVE;
  packets = 0;
  payloadBytes = 0;
  retransmissions = 0;
  keepaliveProbes = 0;
  keepaliveAcks = 0;
  zeroWindows = 0;
  segmentsNotCaptured = 0;
  rsts = 0;
  fins = 0;
  // Sequence numbers are unsigned 32-bit, but kept as signed (`| 0`): a field that only ever
  // holds small integers is stored in the object itself, while one that holds a number past
  // 2^31 − 1 makes V8 box it in a 16-byte heap number of its own — for every endpoint.
  private nextSeqI32 = 0;
  hasSeq = false;
  private isnI32 = 0;
  hasIsn = false;
  firstFin: CloseEvent | null = null;
  firstRst: CloseEvent | null = null;
  keepaliveIdleMicros = -1;
  keepaliveIntervalMicros = -1;
  lastProbeMicros = -1;
  // Memory: an endpoint lives as long as its connection, and the table may hold hundreds of
  // thousands, so its per-letter and per-TTL bookkeeping is plain number fields, not objects or
  // arrays (a second TTL, rare, is the only thing that allocates).

  /**
   * Sequence number of the last s, h, f, r letter recorded in the history (signed, `| 0`), so
   * repeats only show for a new one; valid once that letter was counted (countS … > 0).
   */
  private seqS = 0;
  private seqH = 0;
  private seqF = 0;
  private seqR = 0;
  /** How often each history letter was counted for this side (s h f r: new sequence numbers; t w g: occurrences). */
  private countS = 0;
  private countH = 0;
  private countF = 0;
  private countR = 0;
  private countT = 0;
  private countW = 0;
  private countG = 0;
  /** Distinct TTLs on non-RST packets and their counts, in order of first appearance: the first one in fields, the rest (rare) in parallel arrays. */
  private ttlFirst = 0;
  private ttlFirstCount = 0;
  private ttlMore: number[] | null = null;
  private ttlMoreCounts: number[] | null = null;

  /** Next sequence number expected from this side (unsigned); valid when hasSeq. */
  get nextSeq(): number {
    return this.nextSeqI32 >>> 0;
  }

  set nextSeq(seq: number) {
    this.nextSeqI32 = seq | 0;
  }

  /** Initial sequence number from this side's SYN (unsigned; valid when hasIsn). */
  get isn(): number {
    return this.isnI32 >>> 0;
  }

  set isn(seq: number) {
    this.isnI32 = seq | 0;
  }

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
      case 't': return ++this.countT;
      case 'w': return ++this.countW;
      default: return ++this.countG;
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
    if (this.ttlMore === null) {
      this.ttlMore = [];
      this.ttlMoreCounts = [];
    }
    const i = this.ttlMore.indexOf(ttl);
    if (i >= 0) this.ttlMoreCounts![i]!++;
    else if (this.ttlMore.length < MAX_TTLS - 1) {
      this.ttlMore.push(ttl);
      this.ttlMoreCounts!.push(1);
    }
  }

  /** Most common TTL (ties: the larger, i.e. the nearer sender). */
  commonTtl(): number | null {
    if (this.ttlFirstCount === 0) return null;
    let best = this.ttlFirst, bestCount = this.ttlFirstCount;
    const more = this.ttlMore, counts = this.ttlMoreCounts;
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
    return this.ttlMore === null ? [this.ttlFirst] : [this.ttlFirst, ...this.ttlMore].sort((a, b) => a - b);
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

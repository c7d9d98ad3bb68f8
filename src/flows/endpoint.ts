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
  /** Next sequence number expected from this side; valid when hasSeq. */
  nextSeq = 0;
  hasSeq = false;
  /** Initial sequence number from this side's SYN (valid when hasIsn). */
  isn = 0;
  hasIsn = false;
  firstFin: CloseEvent | null = null;
  firstRst: CloseEvent | null = null;
  keepaliveIdleMicros = -1;
  keepaliveIntervalMicros = -1;
  lastProbeMicros = -1;
  /** Sequence number of the last FIN/RST/SYN recorded in the history, so repeats only show for a new one. */
  lastHistorySeq: Record<string, number> = {};
  /** Occurrences per log-scale history letter. */
  letterCounts: Record<string, number> = {};
  /** Distinct TTLs on non-RST packets and their counts, parallel arrays (no Map per connection). */
  private readonly ttlValues: number[] = [];
  private readonly ttlCounts: number[] = [];

  constructor(readonly endpoint: string) {}

  noteTtl(ttl: number): void {
    const i = this.ttlValues.indexOf(ttl);
    if (i >= 0) this.ttlCounts[i]!++;
    else if (this.ttlValues.length < MAX_TTLS) {
      this.ttlValues.push(ttl);
      this.ttlCounts.push(1);
    }
  }

  /** Most common TTL (ties: the larger, i.e. the nearer sender). */
  commonTtl(): number | null {
    let best = -1, bestCount = 0;
    for (let i = 0; i < this.ttlValues.length; i++) {
      const c = this.ttlCounts[i]!, v = this.ttlValues[i]!;
      if (c > bestCount || (c === bestCount && v > best)) { best = v; bestCount = c; }
    }
    return bestCount ? best : null;
  }

  stats(): EndpointStats {
    return {
      endpoint: this.endpoint,
      packets: this.packets,
      payloadBytes: this.payloadBytes,
      retransmissions: this.retransmissions,
      keepaliveProbes: this.keepaliveProbes,
      keepaliveAcks: this.keepaliveAcks,
      zeroWindows: this.zeroWindows,
      segmentsNotCaptured: this.segmentsNotCaptured,
      ttl: this.commonTtl(),
      ttls: [...this.ttlValues].sort((a, b) => a - b),
      firstFin: this.firstFin,
      firstRst: this.firstRst,
      keepaliveIdleSeconds: this.keepaliveIdleMicros < 0 ? null : this.keepaliveIdleMicros / 1e6,
      keepaliveIntervalSeconds: this.keepaliveIntervalMicros < 0 ? null : this.keepaliveIntervalMicros / 1e6,
      rsts: this.rsts,
      fins: this.fins,
    };
  }
}

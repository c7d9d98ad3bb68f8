/**
 * Several captures of one path, taken at the same time at different vantage points (the client's
 * pod, the load balancer, the gateway …): the same TCP connection found in each, the clock offset
 * between them, and per incident what every vantage point saw.
 */
import type { SegmentTrace } from '../../flows/index.js';

/** What the alignment keeps of each connection of a capture (not the whole record: memory). */
export interface TracedConnection {
  /** Id in its capture (as `flowdoc flows` numbers it). */
  readonly id: number;
  readonly client: string;
  readonly server: string;
  readonly firstMicros: number;
  readonly lastMicros: number;
  /** Handshake not captured. */
  readonly partial: boolean;
  /** Segments that started beyond the next expected sequence number, both sides: data missing from this capture. */
  readonly segmentsNotCaptured: number;
  readonly trace: SegmentTrace;
}

/** One capture and the connections it holds, in path order (client side first). */
export interface VantageInput {
  /** The vantage point's name (`podA=podA.pcap` → podA; a bare file → its base name). */
  readonly name: string;
  readonly file: string;
  readonly connections: readonly TracedConnection[];
  /** First and last packet time of the capture (µs; null when it had no TCP). */
  readonly firstMicros: number | null;
  readonly lastMicros: number | null;
  /** Packets its capturing system dropped (pcapng statistics; null: not recorded). */
  readonly kernelDrops: number | null;
}

export type MatchMethod =
  | '4-tuple'       // same addresses and ports, and the sequence numbers agree
  | 'isn'           // same initial sequence numbers of both sides (a NAT rewrote addresses or ports, kept the ISNs)
  | 'sequence'      // no handshake in one capture: the same raw sequence numbers and payload lengths
  | 'relative-seq'; // ISNs differ (a NAT rewrote them): the same relative sequence progress and payload lengths at the same time

export type Confidence = 'high' | 'medium' | 'low';

/** A connection of one vantage point found in the first capture. */
export interface ConnectionMatch {
  readonly vantage: string;
  /** Connection id in that vantage point's capture. */
  readonly connection: number;
  /** Connection id in the first capture (the anchor). */
  readonly anchorConnection: number;
  readonly client: string;
  readonly server: string;
  readonly method: MatchMethod;
  readonly confidence: Confidence;
  /** Sequence numbers there minus in the anchor, per side (0 when the ISNs were kept). */
  readonly seqDelta: { readonly client: number; readonly server: number };
  /** Segments found in both captures (the evidence of the match). */
  readonly commonSegments: number;
}

export type UnmatchedReason = 'outside-time' | 'no-counterpart' | 'ambiguous' | 'not-in-capture';

export interface UnmatchedConnection {
  /** The vantage point whose connection it is. */
  readonly vantage: string;
  readonly connection: number;
  readonly client: string;
  readonly server: string;
  readonly reason: UnmatchedReason;
  readonly text: string;
}

/**
 * Clock offset of a vantage point's capture relative to the first one: its timestamp minus the
 * first capture's for the same instant. From segments seen at both points: the minimum over many
 * packets of one-way delay + offset in each direction brackets it (as NTP does), so
 * `offsetSeconds ± uncertaintySeconds` holds whatever the (non-negative) delays were.
 */
export interface ClockOffset {
  readonly vantage: string;
  /** null when no segment was seen at both points. */
  readonly offsetSeconds: number | null;
  /** Half the width of the bracket; null when only one direction was seen (then the offset is a bound, see `method`). */
  readonly uncertaintySeconds: number | null;
  /** 'two-way': bracketed from both directions; 'one-way': one direction only, an upper or lower bound; 'inconsistent': the two directions disagree (clock drift?). */
  readonly method: 'two-way' | 'one-way' | 'inconsistent' | 'none';
  readonly samples: { readonly toServer: number; readonly toClient: number };
  /** Which capture the client's segments reached first (path order), when the timing says so. */
  readonly upstream: 'anchor' | 'vantage' | null;
  readonly text: string;
}

/** How the captures of one vantage point line up with the first capture. */
export interface VantageAlignment {
  readonly vantage: string;
  readonly file: string;
  /** Connections of this capture found in the first one. */
  readonly matched: number;
  readonly matchedBy: Readonly<Partial<Record<MatchMethod, number>>>;
  readonly connections: number;
  readonly unmatched: number;
  /** Connections of the first capture, during this capture's time, not found here. */
  readonly anchorUnmatched: number;
  /** The first few of both (all counted above). */
  readonly unmatchedSamples: readonly UnmatchedConnection[];
  readonly clock: ClockOffset;
  /** Whether the two captures overlap in time at all (on the first capture's clock). */
  readonly overlap: boolean;
  readonly text: string;
}

/** A segment as seen at one vantage point, on its own clock and on the first capture's. */
export interface SeenSegment {
  readonly frame: number;
  /** ISO-8601 UTC on that capture's own clock. */
  readonly time: string;
  /** ISO-8601 UTC on the first capture's clock (its offset removed); null when the offset is unknown. */
  readonly commonTime: string | null;
  /** `ip:port` that sent it, as seen there. */
  readonly from: string;
  readonly ttl: number;
}

/** One leg of the connection at a vantage point (a middlebox's capture can hold both: before and after NAT). */
export interface VantageLeg {
  readonly connection: number;
  readonly client: string;
  readonly server: string;
  readonly method: MatchMethod | 'itself';
  readonly confidence: Confidence;
  readonly request: (SeenSegment & { readonly transmissions: number }) | null;
  readonly rst: SeenSegment | null;
  /** The server side's answer to the request there (payload, or an ACK of it), when one was seen. */
  readonly answer: (SeenSegment & { readonly kind: 'data' | 'ack' }) | null;
  /** Segments missing from this capture on this connection (dropped by the capture, or a capture that started late). */
  readonly segmentsNotCaptured: number;
  /** The request would be among the segments not kept (a very long connection): nothing can be said. */
  readonly traceIncomplete: boolean;
}

/** What one vantage point saw of an incident. */
export interface VantageEvidence {
  readonly vantage: string;
  readonly file: string;
  /** Whether the capture was running when the request was sent (on the common clock). */
  readonly covered: boolean;
  /** Packets this capture's system dropped (pcapng statistics; null: not recorded): any absence here may be one of them. */
  readonly kernelDrops: number | null;
  /** This vantage point's own incident on the connection, when it detected one. */
  readonly incident: string | null;
  readonly legs: readonly VantageLeg[];
  readonly requestSeen: boolean;
  readonly rstSeen: boolean;
  /** One sentence. */
  readonly text: string;
}

export type VantageLocus =
  | 'between'      // forged or dropped between two vantage points (a middlebox between them)
  | 'at-vantage'   // the request entered a vantage point's capture and never left it (a middlebox capture)
  | 'server'       // the far end got the request and reset it itself
  | 'return-path'  // the far end answered; the answer never came back
  | 'unknown';

export interface VantageVerdict {
  readonly locus: VantageLocus;
  /** The two vantage points the fault lies between (locus 'between' / 'return-path'), or the one it is at. */
  readonly after: string | null;
  readonly before: string | null;
  readonly reason: string;
  readonly confidence: Confidence;
  /** Vantage points whose captures carry evidence for this verdict. */
  readonly vantagePoints: number;
  /** Why the confidence is lower, and where captures and logs of the same name disagree. */
  readonly caveats: readonly string[];
}

/** The vantage-point part of an incident (several captures only). */
export interface IncidentVantages {
  /** The vantage point whose capture the incident's frames refer to. */
  readonly vantage: string;
  readonly vantages: readonly VantageEvidence[];
  readonly vantageVerdict: VantageVerdict;
}

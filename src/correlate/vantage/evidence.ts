import { TRACE_HEAD, TraceFlag, seqLe, type TracedSegment } from '../../flows/index.js';
import { isoWithPrecision } from '../../shared/time.js';
import type { SeqDelta } from './segments.js';
import type { Confidence, MatchMethod, SeenSegment, TracedConnection, VantageEvidence, VantageLeg } from './types.js';

/** The failed request as the incident's own capture saw it, in the anchor's numbering and on the anchor's clock. */
export interface RequestKey {
  /** Client sequence number in the anchor's numbering. */
  readonly seq: number;
  readonly len: number;
  /** Send time on the anchor's clock, µs. */
  readonly commonMicros: number;
}

/** A vantage point's clock relative to the anchor: its time minus the anchor's (µs), and how far off that may be. */
export interface VantageClock {
  readonly offsetMicros: number | null;
  readonly uncertaintyMicros: number | null;
}

/** Slack on time comparisons when the clock bracket is unknown or tight (timestamps are µs, packets are not instants). */
const TIME_SLACK_MICROS = 1000;

/**
 * What one leg of the connection at a vantage point shows about the request: the same client
 * segment (same sequence number in that capture's numbering, same length), the first RST from
 * the server side after it, and the server side's answer (payload, or an ACK covering it).
 */
export function legEvidence(
  leg: TracedConnection, method: MatchMethod | 'itself', confidence: Confidence, delta: SeqDelta, req: RequestKey, clock: VantageClock,
): VantageLeg {
  const segs = leg.trace.segments();
  const seq = (req.seq + delta.client) >>> 0;
  const slack = (clock.uncertaintyMicros ?? 0) + TIME_SLACK_MICROS;
  let reqIndex = -1, transmissions = 0;
  segs.forEach((s, n) => {
    if (s.fromClient && s.len === req.len && s.seq === seq && (s.flags & TraceFlag.RST) === 0) {
      if (reqIndex < 0) reqIndex = n;
      transmissions++;
    }
  });
  // Without the request here, "after it" is by time: the request's time on this capture's clock.
  const localReq = clock.offsetMicros !== null ? req.commonMicros + clock.offsetMicros : null;
  const after = (s: TracedSegment, n: number) => reqIndex >= 0 ? n > reqIndex : localReq !== null && s.micros >= localReq - slack;
  const seen = (s: TracedSegment): SeenSegment => ({
    frame: s.frame,
    time: isoWithPrecision(s.micros, 0, 6),
    commonTime: clock.offsetMicros !== null ? isoWithPrecision(Math.round(s.micros - clock.offsetMicros), 0, 6) : null,
    from: s.fromClient ? leg.client : leg.server,
    ttl: s.ttl,
  });
  let rst: SeenSegment | null = null;
  let answer: (SeenSegment & { kind: 'data' | 'ack' }) | null = null;
  const reqEnd = (seq + req.len) >>> 0;
  segs.forEach((s, n) => {
    if (s.fromClient || !after(s, n)) return;
    if ((s.flags & TraceFlag.RST) !== 0) {
      if (!rst) rst = seen(s);
      return;
    }
    if (answer || rst) return;
    if (s.len > 0) answer = { ...seen(s), kind: 'data' };
    else if ((s.flags & TraceFlag.ACK) !== 0 && reqIndex >= 0 && seqLe(reqEnd, s.ack)) answer = { ...seen(s), kind: 'ack' };
  });
  // The request may be among the segments a very long connection's trace did not keep.
  const firstKept = leg.trace.skipped > 0 ? segs[TRACE_HEAD]?.micros ?? null : null;
  const traceIncomplete = reqIndex < 0 && firstKept !== null && localReq !== null && firstKept > localReq - slack;
  return {
    connection: leg.id, client: leg.client, server: leg.server, method, confidence,
    request: reqIndex >= 0 ? { ...seen(segs[reqIndex]!), transmissions } : null,
    rst, answer, segmentsNotCaptured: leg.segmentsNotCaptured, traceIncomplete,
  };
}

/** Whether a capture was running at `commonMicros` (the anchor's clock). */
export function covers(first: number | null, last: number | null, commonMicros: number, clock: VantageClock): boolean {
  if (first === null || last === null) return false;
  const local = commonMicros + (clock.offsetMicros ?? 0);
  const slack = (clock.uncertaintyMicros ?? 0) + TIME_SLACK_MICROS;
  return local >= first - slack && local <= last + slack;
}

/** One vantage point's evidence from its legs, with a sentence. */
export function vantageEvidence(vantage: string, file: string, covered: boolean, kernelDrops: number | null, incident: string | null, legs: readonly VantageLeg[]): VantageEvidence {
  const requestLeg = legs.find((l) => l.request);
  const rstLeg = legs.find((l) => l.rst);
  const parts: string[] = [];
  if (legs.length === 0) parts.push(covered ? 'the connection is not in this capture' : 'the capture was not running at the time of the request');
  else {
    parts.push(requestLeg ? `request seen (frame ${requestLeg.request!.frame}${requestLeg.request!.transmissions > 1 ? `, sent ${requestLeg.request!.transmissions} times` : ''})` : 'request not seen');
    if (rstLeg) parts.push(`RST from ${rstLeg.rst!.from} TTL ${rstLeg.rst!.ttl} (frame ${rstLeg.rst!.frame})`);
    else parts.push('no RST');
    const ans = legs.find((l) => l.answer)?.answer;
    if (ans) parts.push(`answered (${ans.kind === 'data' ? 'payload' : 'ACK'}, frame ${ans.frame})`);
    if (!covered) parts.push('the capture was not running at the time of the request');
    const gaps = legs.reduce((n, l) => n + l.segmentsNotCaptured, 0);
    if (gaps) parts.push(`${gaps} segment${gaps === 1 ? '' : 's'} missing from this capture`);
    if (kernelDrops) parts.push(`the capture dropped ${kernelDrops} packet${kernelDrops === 1 ? '' : 's'}`);
    if (legs.length > 1) parts.push(`${legs.length} legs (before and after NAT)`);
  }
  return { vantage, file, covered, kernelDrops, incident, legs, requestSeen: Boolean(requestLeg), rstSeen: Boolean(rstLeg), text: parts.join('; ') };
}

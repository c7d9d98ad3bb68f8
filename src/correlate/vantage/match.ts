import { commonSegments, isnDelta, NO_DELTA, rawDataKey, relativeDataKey, type SeqDelta } from './segments.js';
import type { Confidence, ConnectionMatch, MatchMethod, TracedConnection, UnmatchedConnection, VantageInput } from './types.js';

/** A match before it is named for the report. */
export interface Pairing {
  readonly anchor: TracedConnection;
  readonly other: TracedConnection;
  readonly method: MatchMethod;
  readonly confidence: Confidence;
  readonly delta: SeqDelta;
  readonly common: number;
}

export interface PairingResult {
  readonly pairings: Pairing[];
  readonly unmatched: UnmatchedConnection[];
  /** Anchor connections, inside the other capture's time, that nothing there matched. */
  readonly anchorUnmatched: UnmatchedConnection[];
}

/** A rough time shift (other − anchor, µs) and how far off it may be, for the relative-sequence fallback's time check. */
export interface TimeHint {
  readonly offsetMicros: number;
  readonly toleranceMicros: number;
}

/** Without any clock estimate, a relative-sequence match must start within this of its counterpart. */
const UNKNOWN_CLOCK_TOLERANCE_MICROS = 60_000_000;

/**
 * Finds each connection of `other` in `anchor`, strongest evidence first: the same 4-tuple with
 * agreeing sequence numbers; the same ISNs of both sides (a NAT changed addresses or ports — most
 * keep ISNs); the same raw sequence numbers and payload lengths (a capture without the
 * handshake); and, only when `hint` allows it, the same relative sequence progress and payload
 * lengths at the same time (a NAT that rewrote the ISNs — lower confidence, never when two
 * candidates fit equally). With `self` (the anchor against itself) only other legs of the same
 * connection are looked for, by ISN. A connection that matches nothing is listed with why.
 */
export function pairConnections(anchor: VantageInput, other: VantageInput, hint: TimeHint | null, self = false): PairingResult {
  const byTuple = new Map<string, TracedConnection[]>();
  const byIsn = new Map<string, TracedConnection[]>();
  const byRaw = new Map<string, TracedConnection[]>();
  const byRelative = new Map<string, TracedConnection[]>();
  const push = <K>(m: Map<K, TracedConnection[]>, k: K, c: TracedConnection) => {
    const l = m.get(k);
    if (l) { if (l[l.length - 1] !== c) l.push(c); } else m.set(k, [c]);
  };
  for (const a of anchor.connections) {
    push(byTuple, `${a.client}|${a.server}`, a);
    const ik = isnKey(a);
    if (ik) push(byIsn, ik, a);
    for (const s of a.trace.segments()) {
      const rk = rawDataKey(s);
      if (rk) push(byRaw, rk, a);
      const lk = relativeDataKey(s, a);
      if (lk) push(byRelative, lk, a);
    }
  }
  const pairings: Pairing[] = [];
  const unmatched: UnmatchedConnection[] = [];
  const matchedAnchors = new Set<number>();
  for (const c of other.connections) {
    const p = self ? pairByIsn(c, byIsn, true) : pairOne(c, byTuple, byIsn, byRaw, byRelative, hint, matchedAnchors);
    if (p && 'anchor' in p) {
      pairings.push(p);
      matchedAnchors.add(p.anchor.id);
    } else if (!self) {
      unmatched.push(unmatchedEntry(other.name, c, anchor, hint, p?.ambiguous ?? 0));
    }
  }
  const anchorUnmatched: UnmatchedConnection[] = [];
  if (!self && other.firstMicros !== null && other.lastMicros !== null) {
    const shift = hint?.offsetMicros ?? 0;
    for (const a of anchor.connections) {
      if (matchedAnchors.has(a.id)) continue;
      // Only those alive while the other capture ran: before or after it, its absence says nothing.
      if (a.lastMicros < other.firstMicros - shift || a.firstMicros > other.lastMicros - shift) continue;
      anchorUnmatched.push({
        vantage: anchor.name, connection: a.id, client: a.client, server: a.server, reason: 'not-in-capture',
        text: `${other.name}'s capture ran while this connection was open but holds no connection with its 4-tuple, ISNs or sequence numbers: it did not pass ${other.name}`,
      });
    }
  }
  return { pairings, unmatched, anchorUnmatched };
}

function isnKey(c: TracedConnection): string | null {
  return c.trace.clientIsn >= 0 && c.trace.serverIsn >= 0 ? `${c.trace.clientIsn}/${c.trace.serverIsn}` : null;
}

type Attempt = Pairing | { ambiguous: number } | null;

function pairOne(
  c: TracedConnection,
  byTuple: Map<string, TracedConnection[]>,
  byIsn: Map<string, TracedConnection[]>,
  byRaw: Map<string, TracedConnection[]>,
  byRelative: Map<string, TracedConnection[]>,
  hint: TimeHint | null,
  taken: ReadonlySet<number>,
): Attempt {
  // 1. the same 4-tuple, and the sequence numbers agree (a reused port with a new ISN is another connection)
  for (const a of byTuple.get(`${c.client}|${c.server}`) ?? []) {
    const isnsKnown = a.trace.clientIsn >= 0 && c.trace.clientIsn >= 0;
    if (isnsKnown && a.trace.clientIsn !== c.trace.clientIsn) continue;
    const common = commonSegments(a, c, NO_DELTA).length;
    if (isnsKnown || common > 0) return { anchor: a, other: c, method: '4-tuple', confidence: 'high', delta: NO_DELTA, common };
  }
  // 2. the same ISNs of both sides: 64 bits chosen at random by two stacks do not repeat by chance
  const byIsns = pairByIsn(c, byIsn, false);
  if (byIsns) return byIsns;
  // 3. no handshake here (a capture that started late): the same raw sequence numbers and lengths
  const votes = new Map<TracedConnection, number>();
  for (const s of c.trace.segments()) {
    const k = rawDataKey(s);
    if (!k) continue;
    for (const a of byRaw.get(k) ?? []) votes.set(a, (votes.get(a) ?? 0) + 1);
  }
  const raw = best(votes);
  if (raw && raw.score >= 2 && !raw.tie) {
    const common = commonSegments(raw.conn, c, NO_DELTA).length;
    return { anchor: raw.conn, other: c, method: 'sequence', confidence: raw.score >= 3 ? 'high' : 'medium', delta: NO_DELTA, common };
  }
  // 4. ISNs rewritten: the same progress relative to each ISN, at the same time
  if (c.trace.clientIsn < 0) return null;
  const offset = hint?.offsetMicros ?? 0;
  const tolerance = hint?.toleranceMicros ?? UNKNOWN_CLOCK_TOLERANCE_MICROS;
  const rel = new Map<TracedConnection, number>();
  for (const s of c.trace.segments()) {
    const k = relativeDataKey(s, c);
    if (!k) continue;
    for (const a of byRelative.get(k) ?? []) {
      if (taken.has(a.id) || Math.abs(c.firstMicros - offset - a.firstMicros) > tolerance) continue;
      rel.set(a, (rel.get(a) ?? 0) + 1);
    }
  }
  const r = best(rel);
  if (!r) return null;
  if (r.tie) return { ambiguous: r.ties };
  const delta = isnDelta(r.conn, c);
  const common = commonSegments(r.conn, c, delta).length;
  // Payload lengths repeat across connections of one client (the same request every time), so this
  // is never 'high'; with a clock estimate to check the time against and several segments, 'medium'.
  const confidence: Confidence = hint && r.score >= 3 ? 'medium' : 'low';
  return { anchor: r.conn, other: c, method: 'relative-seq', confidence, delta, common };
}

function pairByIsn(c: TracedConnection, byIsn: Map<string, TracedConnection[]>, self: boolean): Pairing | null {
  const k = isnKey(c);
  if (!k) return null;
  let bestPair: Pairing | null = null;
  for (const a of byIsn.get(k) ?? []) {
    if (self && a.id === c.id) continue;
    const common = commonSegments(a, c, NO_DELTA).length;
    if (!bestPair || common > bestPair.common) bestPair = { anchor: a, other: c, method: 'isn', confidence: 'high', delta: NO_DELTA, common };
  }
  return bestPair;
}

function best(votes: Map<TracedConnection, number>): { conn: TracedConnection; score: number; tie: boolean; ties: number } | null {
  let conn: TracedConnection | null = null, score = 0, ties = 0;
  for (const [a, n] of votes) {
    if (n > score) { conn = a; score = n; ties = 1; } else if (n === score) ties++;
  }
  return conn ? { conn, score, tie: ties > 1, ties } : null;
}

function unmatchedEntry(vantage: string, c: TracedConnection, anchor: VantageInput, hint: TimeHint | null, ambiguous: number): UnmatchedConnection {
  const base = { vantage, connection: c.id, client: c.client, server: c.server };
  if (ambiguous > 1) {
    return { ...base, reason: 'ambiguous', text: `${ambiguous} connections of ${anchor.name} fit equally (same relative sequence progress and lengths at about the same time): none is chosen` };
  }
  const shift = hint?.offsetMicros ?? 0;
  if (anchor.firstMicros === null || anchor.lastMicros === null ||
    c.lastMicros - shift < anchor.firstMicros || c.firstMicros - shift > anchor.lastMicros) {
    return { ...base, reason: 'outside-time', text: `${anchor.name}'s capture was not running while this connection was open` };
  }
  const why = c.partial
    ? 'no handshake here and no segment with the same sequence numbers there'
    : 'no connection there with this 4-tuple, these ISNs, or the same sequence progress at that time';
  return { ...base, reason: 'no-counterpart', text: `not found in ${anchor.name}'s capture: ${why} (it did not pass there, or a NAT rewrote more than flowdoc can follow)` };
}

/** The report form of a pairing. */
export function toMatch(vantage: string, p: Pairing): ConnectionMatch {
  return {
    vantage, connection: p.other.id, anchorConnection: p.anchor.id, client: p.other.client, server: p.other.server,
    method: p.method, confidence: p.confidence, seqDelta: { client: p.delta.client, server: p.delta.server }, commonSegments: p.common,
  };
}

import type { Incident } from '../../detect/index.js';
import { estimateClock, fmtSeconds } from './clock.js';
import { covers, legEvidence, vantageEvidence, type RequestKey, type VantageClock } from './evidence.js';
import { pairConnections, type Pairing, type PairingResult, type TimeHint } from './match.js';
import { isnDelta, NO_DELTA } from './segments.js';
import type { ClockOffset, MatchMethod, TracedConnection, VantageAlignment, VantageEvidence, VantageInput, VantageLeg } from './types.js';

/** Unmatched connections listed by name per vantage point (all are counted). */
const MAX_UNMATCHED_SAMPLES = 10;

/** An incident found in one of the captures, with what every vantage point saw of it. */
export interface AlignedIncident<T extends Incident> {
  readonly incident: T;
  /** Index of the capture the incident's frames refer to. */
  readonly vantageIndex: number;
  readonly evidence: readonly VantageEvidence[];
}

export interface Alignment<T extends Incident> {
  /** One per capture after the first (the anchor), in the order given. */
  readonly vantages: readonly VantageAlignment[];
  /** Every capture's incidents, the same connection's counted once (the earliest capture in path order that found it). */
  readonly incidents: readonly AlignedIncident<T>[];
}

/**
 * Lines up several captures of one path taken at the same time: each capture's connections
 * found in the first one (the anchor), the clock offset of each capture from the anchor's,
 * and per incident what every vantage point saw — the request, the RST, the answer — on the
 * anchor's clock. `incidents[k]` are the incidents found in `inputs[k]`.
 */
export function alignCaptures<T extends Incident>(inputs: readonly VantageInput[], incidents: readonly (readonly T[])[]): Alignment<T> {
  const anchor = inputs[0]!;
  // The anchor's own other legs (a middlebox capture sees a NAT's both sides) share its ISNs.
  const self = pairConnections(anchor, anchor, null, true);
  const canonical = new Map<number, number>();
  for (const p of self.pairings) {
    const low = Math.min(p.anchor.id, p.other.id, canonical.get(p.anchor.id) ?? Infinity, canonical.get(p.other.id) ?? Infinity);
    canonical.set(p.anchor.id, low);
    canonical.set(p.other.id, low);
  }
  const canon = (id: number) => canonical.get(id) ?? id;
  const anchorById = new Map(anchor.connections.map((c) => [c.id, c]));
  const anchorLegs = new Map<number, TracedConnection[]>();
  for (const c of anchor.connections) {
    const k = canon(c.id);
    const l = anchorLegs.get(k);
    if (l) l.push(c); else anchorLegs.set(k, [c]);
  }

  const results: PairingResult[] = [];
  const clocks: VantageClock[] = [{ offsetMicros: 0, uncertaintyMicros: 0 }];
  const summaries: VantageAlignment[] = [];
  for (let v = 1; v < inputs.length; v++) {
    const other = inputs[v]!;
    const first = pairConnections(anchor, other, null);
    const firstClock = estimateClock(other.name, first.pairings.filter((p) => p.method !== 'relative-seq'));
    const hint = hintFrom(firstClock);
    const result = hint ? pairConnections(anchor, other, hint) : first;
    const trusted = result.pairings.filter((p) => p.confidence !== 'low');
    const clock = estimateClock(other.name, trusted.length ? trusted : result.pairings);
    results.push(result);
    clocks.push({
      offsetMicros: clock.offsetSeconds === null ? null : Math.round(clock.offsetSeconds * 1e6),
      uncertaintyMicros: clock.uncertaintySeconds === null ? null : Math.round(clock.uncertaintySeconds * 1e6),
    });
    summaries.push(summarize(anchor, other, result, clock));
  }

  // Where each capture's connection is in the anchor.
  const toAnchor = results.map((r) => new Map(r.pairings.map((p) => [p.other.id, p])));
  const legsAt = results.map((r) => {
    const m = new Map<number, Pairing[]>();
    for (const p of r.pairings) {
      const k = canon(p.anchor.id);
      const l = m.get(k);
      if (l) l.push(p); else m.set(k, [p]);
    }
    return m;
  });

  const merged: { incident: T; v: number; key: number | null; seenAt: Map<number, string> }[] = [];
  const byKey = new Map<number, (typeof merged)[number]>();
  incidents.forEach((list, v) => {
    for (const i of list) {
      const a = v === 0 ? i.connection : toAnchor[v - 1]!.get(i.connection)?.anchor.id;
      const key = a === undefined ? null : canon(a);
      const known = key !== null ? byKey.get(key) : undefined;
      if (known) {
        if (!known.seenAt.has(v)) known.seenAt.set(v, i.kind);
        continue;
      }
      const m = { incident: i, v, key, seenAt: new Map([[v, i.kind as string]]) };
      merged.push(m);
      if (key !== null) byKey.set(key, m);
    }
  });

  const aligned = merged.map(({ incident, v, key, seenAt }): AlignedIncident<T> => {
    const own = v === 0 ? anchorById.get(incident.connection) : toAnchor[v - 1]!.get(incident.connection)?.other ?? inputs[v]!.connections.find((c) => c.id === incident.connection);
    const req = own ? requestKey(incident, own, v === 0 ? NO_DELTA : toAnchor[v - 1]!.get(incident.connection)?.delta ?? null, clocks[v]!) : null;
    const evidence = inputs.map((input, w): VantageEvidence => {
      const clock = clocks[w]!;
      if (!req) return vantageEvidence(input.name, input.file, false, input.kernelDrops, seenAt.get(w) ?? null, []);
      const legs: VantageLeg[] = [];
      if (key === null) {
        // Not in the anchor: only its own capture can speak.
        if (w === v && own) legs.push(legEvidence(own, 'itself', 'high', NO_DELTA, { ...req, seq: req.ownSeq }, clock));
      } else if (w === 0) {
        const base = anchorById.get(key)!;
        const via = v === 0 ? null : toAnchor[v - 1]!.get(incident.connection) ?? null;
        for (const c of anchorLegs.get(key) ?? []) {
          // The incident's own connection, the leg its capture was matched to, or another leg of it here (same ISNs).
          const method: MatchMethod | 'itself' = v === 0 && c.id === incident.connection ? 'itself' : via && c.id === via.anchor.id ? via.method : 'isn';
          legs.push(legEvidence(c, method, via && c.id === via.anchor.id ? via.confidence : 'high', isnDelta(base, c), req, clock));
        }
      } else {
        for (const p of legsAt[w - 1]!.get(key) ?? []) legs.push(legEvidence(p.other, w === v && p.other.id === incident.connection ? 'itself' : p.method, p.confidence, p.delta, req, clock));
      }
      return vantageEvidence(input.name, input.file, covers(input.firstMicros, input.lastMicros, req.commonMicros, clock), input.kernelDrops, seenAt.get(w) ?? null, legs);
    });
    return { incident, vantageIndex: v, evidence };
  });
  return { vantages: summaries, incidents: aligned };
}

/** The request segment of an incident, from its own capture's trace, in the anchor's numbering and clock. */
function requestKey(i: Incident, own: TracedConnection, delta: { client: number } | null, clock: VantageClock): (RequestKey & { ownSeq: number }) | null {
  if (i.frames.request === null) return null;
  const s = own.trace.segments().find((x) => x.frame === i.frames.request);
  if (!s) return null;
  return {
    seq: ((s.seq - (delta?.client ?? 0)) >>> 0), ownSeq: s.seq, len: s.len,
    commonMicros: s.micros - (clock.offsetMicros ?? 0),
  };
}

function hintFrom(clock: ClockOffset): TimeHint | null {
  if (clock.offsetSeconds === null) return null;
  // A bracket of a few ms still leaves the two connections' start times apart by their RTTs; a second is plenty.
  const tolerance = Math.max(1, 10 * (clock.uncertaintySeconds ?? 0.1));
  return { offsetMicros: clock.offsetSeconds * 1e6, toleranceMicros: tolerance * 1e6 };
}

function summarize(anchor: VantageInput, other: VantageInput, r: PairingResult, clock: ClockOffset): VantageAlignment {
  const matchedBy: Partial<Record<MatchMethod, number>> = {};
  for (const p of r.pairings) matchedBy[p.method] = (matchedBy[p.method] ?? 0) + 1;
  const shift = clock.offsetSeconds !== null ? clock.offsetSeconds * 1e6 : 0;
  const overlap = anchor.firstMicros !== null && anchor.lastMicros !== null && other.firstMicros !== null && other.lastMicros !== null &&
    other.firstMicros - shift <= anchor.lastMicros && other.lastMicros - shift >= anchor.firstMicros;
  const n = other.connections.length;
  let text: string;
  if (!overlap && r.pairings.length === 0) {
    text = `${other.name} and ${anchor.name} do not overlap in time: nothing can be matched`;
  } else if (r.pairings.length === 0) {
    text = `none of ${other.name}'s ${n} connection${n === 1 ? '' : 's'} is in ${anchor.name}'s capture: the two captures share no traffic (another path, or not the same time?)`;
  } else {
    const by = Object.entries(matchedBy).map(([m, k]) => `${k} by ${m}`).join(', ');
    text = `${r.pairings.length} of ${other.name}'s ${n} connection${n === 1 ? '' : 's'} found in ${anchor.name}'s capture (${by})` +
      (r.unmatched.length ? `; ${r.unmatched.length} not found` : '') +
      (r.anchorUnmatched.length ? `; ${r.anchorUnmatched.length} of ${anchor.name}'s, open while ${other.name} captured, not there` : '') +
      (clock.offsetSeconds !== null ? `; clock ${fmtSeconds(clock.offsetSeconds)}${clock.uncertaintySeconds !== null ? ` ± ${fmtSeconds(clock.uncertaintySeconds).slice(1)}` : ' (one-way bound)'}` : '');
  }
  return {
    vantage: other.name, file: other.file, matched: r.pairings.length, matchedBy, connections: n,
    unmatched: r.unmatched.length, anchorUnmatched: r.anchorUnmatched.length,
    unmatchedSamples: [...r.unmatched.slice(0, MAX_UNMATCHED_SAMPLES), ...r.anchorUnmatched.slice(0, MAX_UNMATCHED_SAMPLES)],
    clock, overlap, text,
  };
}

import type { Pairing } from './match.js';
import { commonSegments } from './segments.js';
import type { ClockOffset } from './types.js';

/**
 * The clock offset θ of a capture relative to the anchor (its time minus the anchor's for the same
 * instant), from segments seen at both points. For a segment going the anchor → other way,
 * t_other − t_anchor = θ + delay ≥ θ; the other way it is θ − delay ≤ θ. So, whatever the delays,
 * θ lies between the largest difference of one direction and the smallest of the other — the
 * minimum over many packets is what makes the bracket tight (NTP's reasoning, RFC 5905 §8).
 * Which direction is "anchor → other" is whichever makes the bracket consistent: the client's
 * segments reach the upstream capture first.
 */
export function estimateClock(vantage: string, pairings: readonly Pairing[]): ClockOffset {
  let minToServer = Infinity, maxToServer = -Infinity, minToClient = Infinity, maxToClient = -Infinity;
  let toServer = 0, toClient = 0;
  for (const p of pairings) {
    for (const [a, o] of commonSegments(p.anchor, p.other, p.delta)) {
      const d = o.micros - a.micros;
      if (a.fromClient) {
        toServer++;
        if (d < minToServer) minToServer = d;
        if (d > maxToServer) maxToServer = d;
      } else {
        toClient++;
        if (d < minToClient) minToClient = d;
        if (d > maxToClient) maxToClient = d;
      }
    }
  }
  const samples = { toServer, toClient };
  if (toServer + toClient === 0) {
    return { vantage, offsetSeconds: null, uncertaintySeconds: null, method: 'none', samples, upstream: null, text: `no segment was seen in both captures: the clock offset of ${vantage} is unknown` };
  }
  if (toServer === 0 || toClient === 0) {
    // One direction only: θ is bounded on one side by delay ≥ 0, the other side is open.
    const [lo, hi] = toServer ? [minToServer, maxToServer] : [minToClient, maxToClient];
    const offset = (lo + hi) / 2;
    return {
      vantage, offsetSeconds: offset / 1e6, uncertaintySeconds: null, method: 'one-way', samples, upstream: null,
      text: `segments of one direction only (${toServer || toClient}): ${vantage}'s clock is ${fmtSeconds(lo / 1e6)} … ${fmtSeconds(hi / 1e6)} plus an unknown one-way delay from the first capture's (shown at the midpoint, no bracket)`,
    };
  }
  let lo: number, hi: number, upstream: 'anchor' | 'vantage';
  if (minToServer >= maxToClient) { lo = maxToClient; hi = minToServer; upstream = 'anchor'; }
  else if (minToClient >= maxToServer) { lo = maxToServer; hi = minToClient; upstream = 'vantage'; }
  else {
    // Overlapping directions: no offset makes every delay non-negative (drift during the capture, or a bad match).
    const offset = (minToServer + maxToClient) / 2;
    return {
      vantage, offsetSeconds: offset / 1e6, uncertaintySeconds: Math.abs(minToServer - maxToClient) / 2e6, method: 'inconsistent', samples, upstream: null,
      text: `the two directions disagree (the clocks drifted during the capture, or timestamps are not monotonic): ${vantage}'s offset is about ${fmtSeconds(offset / 1e6)}, not bracketed`,
    };
  }
  const offset = (lo + hi) / 2, half = (hi - lo) / 2;
  return {
    vantage, offsetSeconds: offset / 1e6, uncertaintySeconds: half / 1e6, method: 'two-way', samples, upstream,
    text: `${vantage}'s clock is ${fmtSeconds(offset / 1e6)} ± ${fmtSeconds(half / 1e6).slice(1)} from the first capture's (${toServer} + ${toClient} segments seen at both points, both directions)`,
  };
}

/** Seconds with a sign, to µs when small: +0.000012 s, −2.500 s. */
export function fmtSeconds(s: number): string {
  const sign = s < 0 ? '−' : '+';
  const a = Math.abs(s);
  return `${sign}${a < 1 ? a.toFixed(6) : a.toFixed(3)} s`;
}

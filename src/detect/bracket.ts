/**
 * The idle-timeout bracket: the one implementation behind `analyze` (one capture) and `scan`
 * (an archive). The timer T of whatever forgot the connections lies above the longest idle that
 * still worked and at or below the shortest that failed. Both callers gather their evidence
 * (per capture, or combined over captures) and hand it here, so they say the same thing.
 */
import { candidatesIn, type KnownTimeout } from './middleboxes.js';

/** `request-gap`: the time between requests on one upstream connection, from access logs (`flowdoc logs`). */
export type BracketMeasure = 'packet-gap' | 'data-idle' | 'request-gap';

/**
 * A survived idle counts as a lower bound worth stating when it is at least this share of the
 * shortest failed idle (and 1 s): requests 13 ms apart before a failure at 58 s say nothing
 * about the timer. The remedies use the same rule.
 */
export const SURVIVED_MIN_SHARE = 0.1;

export interface BracketEvidence {
  /** Shortest idle that ended in an incident (seconds, rounded to ms), with its frame when known. */
  readonly failedSeconds: number;
  readonly failedFrame: number | null;
  /** Longest idle that still worked (null: none seen), with its frame when known. */
  readonly survivedSeconds: number | null;
  readonly survivedFrame: number | null;
  readonly measure: BracketMeasure;
  /** A timeout the user stated (`--lb-timeout`), checked against the evidence. */
  readonly statedSeconds?: number | null;
  /** Appended to the figures, e.g. " (over 3 captures)". */
  readonly scope?: string;
  /** What the evidence came from, for the wording ("capture" by default, "archive" with a scope, "access logs"). */
  readonly evidence?: string;
}

export interface Bracket {
  readonly survivedSeconds: number | null;
  readonly survivedFrame: number | null;
  readonly failedSeconds: number | null;
  readonly failedFrame: number | null;
  /** Whether the two are consistent with a single idle timer (survived < failed). */
  readonly consistent: boolean;
  /** True when the survived idle is too short to say anything (see SURVIVED_MIN_SHARE). */
  readonly survivedTrivial: boolean;
  readonly candidates: readonly { readonly name: string; readonly seconds: number; readonly note: string }[];
  readonly measure: BracketMeasure;
  /** The timeout the user stated, and whether the evidence agrees with it (null when none was stated). */
  readonly stated: { readonly seconds: number; readonly consistent: boolean; readonly note: string } | null;
  readonly text: string;
}

export function fmtSeconds(s: number): string {
  if (s >= 100) return `${s.toFixed(0)} s`;
  if (s >= 10) return `${s.toFixed(1)} s`;
  return `${s.toFixed(3)} s`;
}

export function makeBracket<M extends BracketMeasure>(e: BracketEvidence & { readonly measure: M }): Bracket & { readonly measure: M } {
  const failed = e.failedSeconds;
  const survived = e.survivedSeconds;
  const scope = e.scope ?? '';
  const evidence = e.evidence ?? (scope ? 'archive' : 'capture');
  const contradicted = e.evidence ?? 'capture';
  const consistent = survived === null || survived < failed;
  const survivedTrivial = survived !== null && consistent && survived < Math.max(1, failed * SURVIVED_MIN_SHARE);
  const lower = survived !== null && !survivedTrivial ? survived : null;
  const candidates = consistent ? candidatesIn(lower, failed).map((k: KnownTimeout) => ({ name: k.name, seconds: k.seconds, note: k.note })) : [];
  let text: string;
  if (!consistent) {
    text = `inconsistent: an idle of ${fmtSeconds(survived!)} survived but one of ${fmtSeconds(failed)} failed${scope} — not a single idle timer (several paths or boxes, or state lost for another reason)`;
  } else if (lower !== null) {
    text = `idle timeout between ${fmtSeconds(lower)} and ${fmtSeconds(failed)}${scope}`;
  } else {
    text = `idle timeout at most ${fmtSeconds(failed)}${scope} (no longer idle gap survived in ${e.evidence !== undefined ? 'these' : 'this'} ${evidence})`;
  }
  if (candidates.length) text += `; known defaults in range: ${candidates.slice(0, 3).map((k) => `${k.name} ${k.seconds} s`).join(', ')} (hints, not facts)`;
  let stated: Bracket['stated'] = null;
  if (e.statedSeconds != null) {
    const s = e.statedSeconds;
    if (s > failed + 1e-9) {
      stated = { seconds: s, consistent: false, note: `the stated load-balancer timeout (${fmtSeconds(s)}) contradicts the ${contradicted}: a connection was forgotten after only ${fmtSeconds(failed)}${e.failedFrame !== null ? ` (frame ${e.failedFrame})` : ''} — something on the path times out sooner` };
    } else if (survived !== null && consistent && s <= survived) {
      stated = { seconds: s, consistent: false, note: `the stated load-balancer timeout (${fmtSeconds(s)}) contradicts the ${contradicted}: a connection idle ${fmtSeconds(survived)}${e.survivedFrame !== null ? ` (frame ${e.survivedFrame})` : ''} still worked` };
    } else {
      stated = { seconds: s, consistent: true, note: `the stated load-balancer timeout (${fmtSeconds(s)}) agrees with the ${contradicted}` };
    }
    text += `; ${stated.note}`;
  }
  return {
    survivedSeconds: survived, survivedFrame: e.survivedFrame, failedSeconds: failed, failedFrame: e.failedFrame,
    consistent, survivedTrivial, candidates, measure: e.measure, stated, text,
  };
}

/**
 * The postmortem as a small document model: headings, paragraphs of inline spans, lists, tables,
 * code blocks and incident timelines. `postmortem.ts` builds it once from the analysis; the
 * Markdown and HTML renderers only lay it out, so both carry the same content. Every string here
 * is plain text: each renderer escapes it for its own syntax.
 */

export type Inline =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'code'; readonly text: string }
  | { readonly kind: 'strong'; readonly text: string }
  | { readonly kind: 'em'; readonly text: string }
  /** A link to a section of the same report (`target` is a heading's id): never to anything outside it. */
  | { readonly kind: 'link'; readonly text: string; readonly target: string };

export type Rich = readonly Inline[];

export type Tone = 'bad' | 'good' | 'note';

export type Block =
  | { readonly kind: 'heading'; readonly level: 1 | 2 | 3 | 4; readonly text: string; readonly id?: string }
  | { readonly kind: 'para'; readonly content: Rich; readonly tone?: Tone }
  | { readonly kind: 'list'; readonly items: readonly Rich[] }
  | { readonly kind: 'table'; readonly head: readonly string[]; readonly rows: readonly (readonly Rich[])[] }
  | { readonly kind: 'code'; readonly language: string; readonly code: string; readonly title?: string }
  | { readonly kind: 'timeline'; readonly timeline: IncidentTimeline };

/** One packet (or event) on an incident's timeline. */
export interface TimelinePoint {
  /** Which direction's lane: packets from the client, from the server's address, or a packet of unknown direction (drawn across both). */
  readonly lane: 'client' | 'server' | 'both';
  /** µs since the epoch; null when the evidence has only its frame number. */
  readonly micros: number | null;
  readonly frame: number | null;
  readonly mark: 'last' | 'request' | 'rst' | 'fin' | 'retransmission';
  /** Short label, e.g. `GET /api`, `RST TTL 64`. */
  readonly label: string;
}

/** A hop's matched log line: START_TIME .. START_TIME + DURATION. */
export interface TimelineLog {
  readonly hop: string;
  readonly line: number;
  readonly startMicros: number | null;
  readonly durationMs: number | null;
  /** e.g. `503 UC`. */
  readonly label: string;
  readonly failed: boolean;
}

/** Everything the SVG timeline of one incident draws. */
export interface IncidentTimeline {
  /** 1-based incident number in the report. */
  readonly number: number;
  readonly title: string;
  readonly points: readonly TimelinePoint[];
  /** The idle gap before the request, when there was one. */
  readonly gap: {
    readonly fromMicros: number;
    readonly toMicros: number;
    readonly seconds: number;
    readonly probes: { readonly client: number; readonly server: number };
  } | null;
  /** Retransmissions of the request (no answer), drawn as a band after it. */
  readonly retransmissions: { readonly count: number; readonly lastFrame: number | null; readonly lastMicros: number | null } | null;
  /** Hops in the order given, each with its matched lines (none: the hop never logged the request). */
  readonly hops: readonly { readonly hop: string; readonly logs: readonly TimelineLog[] }[];
  /** Several captures only: one lane per vantage point, its request and RST on the first capture's clock. */
  readonly vantages?: readonly TimelineVantage[];
}

/** A vantage point's lane: what its capture shows of the incident (times on the first capture's clock). */
export interface TimelineVantage {
  readonly name: string;
  readonly marks: readonly { readonly micros: number; readonly frame: number; readonly mark: 'request' | 'rst'; readonly label: string }[];
  /** Shown when there is nothing to mark (e.g. "request not seen, no RST"). */
  readonly note: string | null;
}

export const text = (s: string): Inline => ({ kind: 'text', text: s });
export const code = (s: string): Inline => ({ kind: 'code', text: s });
export const strong = (s: string): Inline => ({ kind: 'strong', text: s });
export const em = (s: string): Inline => ({ kind: 'em', text: s });
export const link = (s: string, target: string): Inline => ({ kind: 'link', text: s, target });

/** Strings become text spans; spans pass through. */
export function rich(...parts: (string | Inline | null | undefined | false)[]): Rich {
  return parts.filter((p): p is string | Inline => p !== null && p !== undefined && p !== false && p !== '').map((p) => (typeof p === 'string' ? text(p) : p));
}

/** Plain text of rich content (for the terminal, titles, alt text). */
export function plain(r: Rich): string {
  return r.map((i) => i.text).join('');
}

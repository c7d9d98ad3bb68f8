/**
 * From lines to entries: format detection per file, wrapper peeling, one entry per parsed line,
 * rejected lines counted and the first few quoted. Pure — the file reader (read.ts) and
 * `parseLogText` feed it lines.
 *
 * ## Format detection (per file)
 *
 * With no format given, the first {@link SAMPLE_LINES} non-empty lines (at most
 * {@link SAMPLE_BYTES} of them) are held back and tried against every candidate — Istio JSON and
 * each built-in text format, wrappers peeled. The candidate that parses the most sample lines is the
 * file's format; a tie goes to the newer one (JSON, then istio-1.23, istio-1.9, … envoy-default).
 * Note that istio-1.9 and istio-1.23 write identical-looking lines (only the cluster operator
 * differs), so a 1.9–1.22 log is reported as 'istio-1.23'.
 *
 * Every line is then tried against the file's format first and, when that fails, against the
 * other built-ins (newest first) and JSON, so a file that spans an Istio upgrade or mixes JSON
 * and text still parses; each entry's `format` says which one read it. With a custom format,
 * only that format (and self-describing JSON lines) is tried.
 *
 * ## Per line
 *
 * Trailing whitespace (and so CR of CRLF) is dropped, empty lines are skipped. The line is tried
 * as is; if nothing matches, its outermost wrapper (Docker JSON, CRI, kubectl timestamp, compose
 * prefix — see wrappers.ts) is peeled and the rest tried again, up to {@link MAX_WRAPPER_DEPTH}
 * layers. Lines longer than {@link MAX_LINE_BYTES} are rejected unread.
 */
import type { LogEntry } from './entry.js';
import { LogError } from './errors.js';
import { finishDraft, type EntryDraft } from './fields.js';
import { BUILTIN_FORMATS, compileFormat, matchFormat, type CompiledFormat, type EntryOrigin } from './format.js';
import { entryFromJsonObject, isPlainObject, parseJsonLine, type JsonParse } from './json.js';
import { looksLikeWrapper, peelWrapper, type WrapperKind } from './wrappers.js';

/** Lines longer than this (bytes in a file, UTF-8 bytes of a string) are rejected unread. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Non-empty lines sampled for format detection. */
export const SAMPLE_LINES = 32;
/** Detection stops sampling once the held-back lines reach this many bytes. */
export const SAMPLE_BYTES = 1024 * 1024;
/** Wrapper layers peeled at most (compose → timestamp → Docker JSON → line needs three). */
export const MAX_WRAPPER_DEPTH = 4;
/** Rejected lines quoted in `rejectedSamples`. */
export const MAX_REJECTED_SAMPLES = 5;
/** Characters of a rejected line kept in its sample. */
export const SAMPLE_TEXT_CHARS = 200;

export interface LogReadOptions {
  /** The hop these lines belong to; default: the file's base name. */
  readonly hop?: string;
  /** A custom Envoy format string (`--log-format`); default: detect per file. */
  readonly format?: string;
}

export interface ParseTextOptions extends LogReadOptions {
  /** The name to put in entries and errors; default `<text>`. */
  readonly file?: string;
}

/** A line that did not parse. */
export interface RejectedLine {
  /** 1-based line number in the file. */
  readonly line: number;
  /** The line, control characters escaped, cut to about 200 characters. */
  readonly text: string;
  /** Why, e.g. `does not match istio-1.23: expected " \"" after %RESPONSE_FLAGS% at column 57`. */
  readonly reason: string;
}

/** What reading one access-log file gave. Plain and JSON-serializable (LogError has toJSON). */
export interface LogReadResult {
  /** The file as the caller named it. */
  readonly file: string;
  readonly hop: string;
  /** The format detected for the file ('istio-1.23', 'json', …), 'custom' when one was given, null when none matched. */
  readonly format: string | null;
  readonly entries: LogEntry[];
  /** Lines read, empty ones included (a last line without a newline counts). */
  readonly lines: number;
  /** Non-empty lines that did not parse. */
  readonly rejected: number;
  /** The first {@link MAX_REJECTED_SAMPLES} of them. */
  readonly rejectedSamples: RejectedLine[];
  /** A problem with the whole file; what was parsed before it is still in `entries`. */
  readonly error: LogError | null;
}

type LineOutcome =
  | { readonly kind: 'entry'; readonly draft: EntryDraft }
  | { readonly kind: 'reject'; readonly reason: string }
  | { readonly kind: 'partial'; readonly wrapper: WrapperKind; readonly text: string };

type AttemptResult =
  | { readonly ok: true; readonly draft: EntryDraft }
  | { readonly ok: false; readonly reason: string; readonly json: JsonParse | null };

interface HeldLine {
  readonly text: string;
  readonly line: number;
  /** Byte length when the line was too long to keep (text then holds only its head). */
  readonly oversize: number | null;
}

interface Pending {
  readonly wrapper: WrapperKind;
  readonly text: string;
  readonly line: number;
}

/** Tries one unwrapped text against JSON (if it looks like JSON) and the given text formats. */
function attempt(text: string, origin: EntryOrigin, formats: readonly CompiledFormat[], allowJson: boolean): AttemptResult {
  let json: JsonParse | null = null;
  let jsonReason: string | null = null;
  if (text.charCodeAt(0) === 123 /* { */) {
    json = parseJsonLine(text);
    if (!json.ok) jsonReason = json.reason;
    else if (!isPlainObject(json.value)) jsonReason = 'JSON value is not an object';
    else if (allowJson) {
      const r = entryFromJsonObject(json.value, origin);
      if (r.ok) return r;
      jsonReason = r.reason;
    } else {
      jsonReason = 'JSON line (the file is not JSON)';
    }
  }
  let firstReason: string | null = null;
  for (const f of formats) {
    const r = matchFormat(f, text, origin);
    if (r.ok) return r;
    firstReason ??= r.reason;
  }
  return { ok: false, reason: jsonReason ?? firstReason ?? 'no format to match against', json };
}

const BINARY_THRESHOLD = 0.1;

/** `s` with control characters escaped, cut to `max` characters. */
export function printable(s: string, max: number): string {
  const cut = s.length > max ? s.slice(0, max) : s;
  let out = '';
  for (let i = 0; i < cut.length; i++) {
    const c = cut.charCodeAt(i);
    if (c < 32 || c === 127) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += cut[i];
  }
  return s.length > max ? out + '…' : out;
}

function looksBinary(s: string): boolean {
  const n = Math.min(s.length, 200);
  if (n === 0) return false;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c === 0xfffd) bad++;
  }
  return bad / n > BINARY_THRESHOLD;
}

function utf8Length(s: string): number {
  return s.length * 3 <= MAX_LINE_BYTES ? s.length : Buffer.byteLength(s, 'utf8');
}

/**
 * Turns lines into entries for one file. Feed it every line in order with `pushLine` (or
 * `pushOversizeLine` for a line too long to hold), then call `finish()` once.
 */
export class LogLineProcessor {
  private readonly file: string;
  private readonly hop: string;
  private readonly custom: CompiledFormat | null;
  private readonly compileError: LogError | null;
  /** Format order for the main pass; set once detection is done. */
  private order: readonly CompiledFormat[] | null = null;
  private detected: string | null = null;
  private readonly held: HeldLine[] = [];
  private heldBytes = 0;
  private heldNonEmpty = 0;
  private pending: Pending | null = null;
  private readonly entries: LogEntry[] = [];
  private readonly rejectedSamples: RejectedLine[] = [];
  private rejected = 0;
  private lines = 0;
  private nonEmpty = 0;
  private firstLine: { readonly text: string; readonly line: number } | null = null;

  constructor(file: string, options: LogReadOptions & { readonly hop: string }) {
    this.file = file;
    this.hop = options.hop;
    if (options.format !== undefined) {
      const r = compileFormat(options.format, 'custom');
      this.custom = r.ok ? r.format : null;
      this.compileError = r.ok ? null : new LogError('bad-format', `cannot use the format string: ${r.message}`, file);
      if (r.ok) {
        this.order = [r.format];
        this.detected = 'custom';
      }
    } else {
      this.custom = null;
      this.compileError = null;
    }
  }

  /** One line of the file, without its `\n`; `line` is its 1-based number. */
  pushLine(text: string, line: number): void {
    this.lines = Math.max(this.lines, line);
    if (this.compileError !== null) return;
    let t = line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    t = t.trimEnd();
    if (t.length === 0) return;
    this.noteNonEmpty(t, line);
    const bytes = utf8Length(t);
    if (bytes > MAX_LINE_BYTES) {
      this.oversize(line, bytes, t.slice(0, SAMPLE_TEXT_CHARS + 1));
      return;
    }
    if (this.order === null) {
      this.hold({ text: t, line, oversize: null }, t.length);
      return;
    }
    this.process(t, line);
  }

  /** A line longer than {@link MAX_LINE_BYTES}: `byteLength` of it was read, `head` is its start. */
  pushOversizeLine(line: number, byteLength: number, head: string): void {
    this.lines = Math.max(this.lines, line);
    if (this.compileError !== null) return;
    this.noteNonEmpty(head, line);
    this.oversize(line, byteLength, head);
  }

  private oversize(line: number, byteLength: number, head: string): void {
    if (this.order === null) {
      this.hold({ text: head, line, oversize: byteLength }, head.length);
      return;
    }
    this.flushPending();
    this.reject(line, head, `line is ${byteLength} bytes, longer than the ${MAX_LINE_BYTES}-byte limit`);
  }

  /**
   * Live use (a followed file): the entries parsed since the last call, handed over and forgotten
   * here. A file still short of the detection sample is settled on what it has (its lines would
   * otherwise wait for lines that may not come for hours).
   */
  takeEntries(): LogEntry[] {
    if (this.compileError === null && this.order === null && this.held.length > 0) this.detect();
    return this.entries.splice(0);
  }

  /** Ends the file: settles detection, flushes a partial record, builds the result. */
  finish(): LogReadResult {
    if (this.compileError !== null) {
      return this.result(this.compileError);
    }
    if (this.order === null) this.detect();
    this.flushPending();
    let error: LogError | null = null;
    if (this.entries.length === 0 && this.nonEmpty > 0) error = this.notAnAccessLog();
    return this.result(error);
  }

  /** A result for a file that could not be read at all or part-way (used by read.ts). */
  finishWithError(error: LogError): LogReadResult {
    if (this.compileError !== null) return this.result(this.compileError);
    if (this.order === null) this.detect();
    this.flushPending();
    return this.result(error);
  }

  private result(error: LogError | null): LogReadResult {
    return {
      file: this.file,
      hop: this.hop,
      format: this.detected ?? this.mostUsedFormat(),
      entries: this.entries,
      lines: this.lines,
      rejected: this.rejected,
      rejectedSamples: this.rejectedSamples,
      error,
    };
  }

  private noteNonEmpty(text: string, line: number): void {
    this.nonEmpty++;
    if (this.firstLine === null) this.firstLine = { text: text.slice(0, 4096), line };
  }

  private hold(h: HeldLine, bytes: number): void {
    this.held.push(h);
    this.heldBytes += bytes;
    this.heldNonEmpty++;
    if (this.heldNonEmpty >= SAMPLE_LINES || this.heldBytes >= SAMPLE_BYTES) this.detect();
  }

  /** Picks the file's format from the held lines, then runs them through the main pass. */
  private detect(): void {
    const candidates: Array<CompiledFormat | 'json'> = ['json', ...BUILTIN_FORMATS];
    let best: CompiledFormat | 'json' | null = null;
    let bestCount = 0;
    for (const c of candidates) {
      let count = 0;
      for (const h of this.held) {
        if (h.oversize !== null) continue;
        const formats = c === 'json' ? [] : [c];
        if (this.parseLine(h.text, h.line, formats, c === 'json', false).kind === 'entry') count++;
      }
      if (count > bestCount) { best = c; bestCount = count; } // strict: ties keep the newer (earlier) one
    }
    if (best === 'json') {
      this.detected = 'json';
      this.order = BUILTIN_FORMATS;
    } else if (best !== null) {
      this.detected = best.name;
      this.order = [best, ...BUILTIN_FORMATS.filter((f) => f !== best)];
    } else {
      this.detected = null;
      this.order = BUILTIN_FORMATS;
    }
    const held = this.held.splice(0);
    this.heldBytes = 0;
    for (const h of held) {
      if (h.oversize !== null) {
        this.flushPending();
        this.reject(h.line, h.text, `line is ${h.oversize} bytes, longer than the ${MAX_LINE_BYTES}-byte limit`);
      } else {
        this.process(h.text, h.line);
      }
    }
  }

  private process(text: string, line: number): void {
    const order = this.order ?? BUILTIN_FORMATS;
    if (this.pending !== null && !looksLikeWrapper(text, this.pending.wrapper)) this.flushPending();
    const out = this.parseLine(text, line, order, true, true);
    this.settle(out, text, line);
  }

  private settle(out: LineOutcome, raw: string, line: number): void {
    const at = this.joinedLine ?? line;
    this.joinedLine = null;
    if (out.kind === 'entry') this.entries.push(finishDraft(out.draft));
    else if (out.kind === 'reject') this.reject(at, raw, out.reason);
  }

  /** Line number of the first fragment when the last parseLine joined a partial record. */
  private joinedLine: number | null = null;

  /**
   * The per-line pipeline: try, peel a wrapper, try again. With `joinPartials`, a partial record
   * is kept in `pending` and the next record of the same wrapper completes it.
   */
  private parseLine(
    raw: string,
    line: number,
    formats: readonly CompiledFormat[],
    allowJson: boolean,
    joinPartials: boolean,
  ): LineOutcome {
    let text = raw;
    let origin: EntryOrigin = { file: this.file, line, hop: this.hop };
    const peeled: WrapperKind[] = [];
    const rejectAt = (reason: string): LineOutcome => ({
      kind: 'reject',
      reason: peeled.length === 0 ? reason : `${reason} (inside a ${peeled.join(' > ')} wrapper)`,
    });
    for (let depth = 0; ; depth++) {
      const r = attempt(text, origin, formats, allowJson);
      if (r.ok) return { kind: 'entry', draft: r.draft };
      if (depth === MAX_WRAPPER_DEPTH) return rejectAt(r.reason);
      const p = peelWrapper(text, r.json);
      if (p === null) return rejectAt(r.reason);
      peeled.push(p.kind);
      text = p.inner.trimEnd();
      if (!joinPartials) {
        if (p.partial) return rejectAt('partial record');
        continue;
      }
      if (this.pending !== null && this.pending.wrapper === p.kind) {
        // This record continues the one before it: the entry gets the first fragment's line.
        text = this.pending.text + p.inner;
        origin = { file: this.file, line: this.pending.line, hop: this.hop };
        this.joinedLine = this.pending.line;
        this.pending = null;
        if (!p.partial) text = text.trimEnd();
        if (text.length > MAX_LINE_BYTES) {
          return rejectAt(`record joined from partial lines is longer than ${MAX_LINE_BYTES} characters`);
        }
      }
      if (p.partial) {
        this.pending = { wrapper: p.kind, text, line: origin.line };
        return { kind: 'partial', wrapper: p.kind, text };
      }
      if (text.length === 0) return rejectAt('empty record');
    }
  }

  /** A partial record that nothing continued is parsed on its own. */
  private flushPending(): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    const out = this.parseLine(p.text.trimEnd(), p.line, this.order ?? BUILTIN_FORMATS, true, false);
    if (out.kind === 'entry') this.entries.push(finishDraft(out.draft));
    else if (out.kind === 'reject') this.reject(p.line, p.text, `${out.reason} (partial ${p.wrapper} record, never completed)`);
  }

  private reject(line: number, text: string, reason: string): void {
    this.rejected++;
    if (this.rejectedSamples.length < MAX_REJECTED_SAMPLES) {
      this.rejectedSamples.push({ line, text: printable(text, SAMPLE_TEXT_CHARS), reason });
    }
  }

  private mostUsedFormat(): string | null {
    const counts = new Map<string, number>();
    for (const e of this.entries) counts.set(e.format, (counts.get(e.format) ?? 0) + 1);
    let best: string | null = null;
    let bestCount = 0;
    for (const [name, n] of counts) if (n > bestCount) { best = name; bestCount = n; }
    return best;
  }

  private notAnAccessLog(): LogError {
    const first = this.firstLine;
    const shown = first === null ? '' : printable(first.text, 80);
    const looks = first === null ? 'nothing' : describeLine(first.text);
    const what = this.custom !== null ? 'the given format' : 'a known Envoy/Istio access-log format';
    const n = this.nonEmpty;
    return new LogError(
      'not-an-access-log',
      `not an access log: none of its ${n} non-empty line${n === 1 ? '' : 's'} matched ${what}; ` +
        `line ${first?.line ?? 1} looks like ${looks}: "${shown}"`,
      this.file,
    );
  }
}

/** What a line that no format read looks like, for the not-an-access-log message. */
function describeLine(line: string): string {
  if (looksBinary(line)) return 'binary data';
  let text = line;
  for (let depth = 0; depth < MAX_WRAPPER_DEPTH; depth++) {
    const p = peelWrapper(text, text.startsWith('{') ? parseJsonLine(text) : null);
    if (p === null) break;
    text = p.inner;
  }
  if (/^\[\d{4}-\d\d-\d\dT[^\]]{0,40}\] "/.test(text)) {
    return 'an Envoy access log in a format flowdoc does not know (pass its format string)';
  }
  if (text.startsWith('{')) return 'JSON without Istio access-log keys';
  return 'text';
}

/** The base name of a path, for the default hop. */
export function baseName(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts[parts.length - 1] || file;
}

/**
 * Parses access-log text held in memory (tests, callers with a string). Same rules as
 * `readLogFile`; never throws.
 */
export function parseLogText(text: string, options: ParseTextOptions = {}): LogReadResult {
  const file = options.file ?? '<text>';
  const p = new LogLineProcessor(file, { ...options, hop: options.hop ?? baseName(file) });
  let start = 0;
  let line = 0;
  while (start < text.length) {
    let nl = text.indexOf('\n', start);
    if (nl === -1) nl = text.length;
    line++;
    p.pushLine(text.slice(start, nl), line);
    start = nl + 1;
  }
  return p.finish();
}

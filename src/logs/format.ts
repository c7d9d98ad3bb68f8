/**
 * Envoy access-log format strings: compiled once into a list of segments (literal text and
 * operators), then matched against lines by a small walker — no regular expression is built
 * from the format, nothing is evaluated, and there is no backtracking.
 *
 * ## How a line is matched (the ambiguity rules)
 *
 * Envoy writes each operator's value verbatim, `-` when it is unset, and escapes nothing, so a
 * line can only be split by knowing how Envoy's values look:
 *
 * 1. **Literal text must match exactly**, at the position where the previous value ended.
 * 2. **An operator's value runs up to the first occurrence of the literal that follows it.**
 *    There is no backtracking: if a value contains that literal (a User-Agent containing `" "`),
 *    the line does not match. This is what makes matching linear in the line length.
 * 3. **Outside quotes a value cannot contain whitespace.** Whether an operator is "quoted" is
 *    decided from the format: an odd number of `"` in the literal text before it. Unquoted values
 *    (response code, flags, details, byte counts, addresses, cluster, route) never contain spaces
 *    in what Envoy writes — it replaces spaces in `%RESPONSE_CODE_DETAILS%` with `_` — so the first
 *    whitespace ends the search and, if the literal is not there, the line does not match.
 *    Quoted values (user agent, path, x-forwarded-for …) may contain spaces.
 * 4. **An operator at the very end** takes the rest of the line (unquoted: with no whitespace).
 * 5. **Values are checked by kind**: a response code, byte count, duration or upstream service time
 *    must be digits or `-`; response flags must be upper-case codes or `-`; `%START_TIME%` must be a
 *    timestamp of its format. This is what tells the built-in formats apart on one line.
 * 6. **`%START_TIME%` is self-delimiting**: it is read by its own strftime-driven parser (see
 *    time.ts), so a custom time format may contain spaces and may sit right before another operator.
 *    Any other two operators with no literal between them cannot be split and are rejected when the
 *    format is compiled.
 * 7. **A line without the leading `[%START_TIME%] `** (as users paste lines into issues) is matched
 *    against the rest of the format when the format starts with `[%START_TIME%] ` and the line does
 *    not start with `[`; `startMs` is then null.
 *
 * The format's trailing whitespace (Envoy's closing `\n`) is dropped when it is compiled; the line
 * reader drops each line's trailing whitespace (and so the CR of CRLF) before matching.
 */
import { compileTimeFormat, ISO_TIME, matchTime, type TimeFormat } from './time.js';
import { newDraft, quoteShort, setNumber, storeField, type EntryDraft, type FieldId, type ValueKind } from './fields.js';

/** Literal text that must appear verbatim. */
export interface LiteralSegment {
  readonly kind: 'literal';
  readonly text: string;
}

/** One `%OPERATOR%` of the format. */
export interface OperatorSegment {
  readonly kind: 'operator';
  /** As written in the format, e.g. `%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%`. */
  readonly text: string;
  /** `REQ`, `START_TIME`, `RESPONSE_CODE` … */
  readonly name: string;
  /** What was between the parentheses, or null. */
  readonly arg: string | null;
  /** The `:N` truncation length, or null. Values are taken as logged (already cut by Envoy). */
  readonly maxLength: number | null;
  /** The entry field it fills; null for operators flowdoc does not use (matched, then ignored). */
  readonly field: FieldId | null;
  readonly valueKind: ValueKind;
  /** Inside a `"…"` of the format: the value may contain spaces. */
  readonly quoted: boolean;
  /** For START_TIME operators whose rendering could be compiled: the self-delimiting parser. */
  readonly time: TimeFormat | null;
}

export type Segment = LiteralSegment | OperatorSegment;

/** A format string compiled for matching. */
export interface CompiledFormat {
  /** 'envoy-default', 'istio-1.9', … or 'custom'. Becomes `LogEntry.format`. */
  readonly name: string;
  /** The format string as given. */
  readonly source: string;
  readonly segments: readonly Segment[];
  /** The segments after a leading `[%START_TIME%] `, for lines pasted without it (rule 7); else null. */
  readonly headless: readonly Segment[] | null;
}

export type CompileResult =
  | { readonly ok: true; readonly format: CompiledFormat }
  | { readonly ok: false; readonly message: string };

/** Optional counter of the characters the matcher looked at (tests assert linear work with it). */
export interface MatchStats {
  steps: number;
}

export type MatchResult =
  | { readonly ok: true; readonly draft: EntryDraft }
  | { readonly ok: false; readonly reason: string };

/** Where an entry came from, copied into every entry a match makes. */
export interface EntryOrigin {
  readonly file: string;
  readonly line: number;
  readonly hop: string;
}

// ---------------------------------------------------------------------------------------------
// Built-in formats (anchors.md §1.1–1.2 and the Istio sources cited there)

const ENVOY_HEAD =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ';
const ENVOY_MIDDLE =
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" ' +
  '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"';
const ISTIO_TAIL = ' %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME%';
const MIXER = '"%DYNAMIC_METADATA(istio.mixer:status)%" ';
const TRANSPORT = '"%UPSTREAM_TRANSPORT_FAILURE_REASON%" ';
const DETAILS = '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% ';

/**
 * The built-in text formats, newest first (the order breaks ties in detection). The five the
 * anchors name — envoy-default, istio-1.1, istio-1.3, istio-1.9, istio-1.23 — plus three layouts
 * real Istio proxies also wrote, so logs from those releases parse without a custom format:
 * - istio-1.3-nomixer: what Istio 1.9/1.10 control planes sent to pre-1.9 proxies (anchors §1.2
 *   row "1.9/1.10 control planes serving pre-1.9 proxies"; istio/istio accesslog.go).
 * - istio-1.2: `EnvoyTextLogFormat12` in istio/istio listener.go (mixer status and transport
 *   failure reason, no route name) — line 4 of corpus istio-text-legacy.log.
 * - istio-1.0: the Envoy default plus cluster, addresses and SNI, as found in Istio-generated
 *   `envoy.file_access_log` configs of the v2-API era — lines 1–3 of istio-text-legacy.log.
 * - istio-connection-id: Istio's 1.23 default with ` %UPSTREAM_CONNECTION_ID%` appended, the line
 *   docs/logs.md tells users to set in `meshConfig.accessLogFormat` so that `flowdoc logs` can group
 *   requests per pooled upstream connection; built in so those logs need no `--log-format`. Listed after istio-1.23 so that the
 *   reason a line matched nothing still names the current Istio default (no line matches both).
 */
export const BUILTIN_FORMAT_STRINGS: ReadonlyArray<readonly [name: string, format: string]> = [
  ['istio-1.23', ENVOY_HEAD + DETAILS + TRANSPORT + ENVOY_MIDDLE + ' %UPSTREAM_CLUSTER_RAW%' + ISTIO_TAIL + ' %ROUTE_NAME%\n'],
  ['istio-connection-id', ENVOY_HEAD + DETAILS + TRANSPORT + ENVOY_MIDDLE + ' %UPSTREAM_CLUSTER_RAW%' + ISTIO_TAIL + ' %ROUTE_NAME% %UPSTREAM_CONNECTION_ID%\n'],
  ['istio-1.9', ENVOY_HEAD + DETAILS + TRANSPORT + ENVOY_MIDDLE + ' %UPSTREAM_CLUSTER%' + ISTIO_TAIL + ' %ROUTE_NAME%\n'],
  ['istio-1.3-nomixer', ENVOY_HEAD + TRANSPORT + ENVOY_MIDDLE + ' %UPSTREAM_CLUSTER%' + ISTIO_TAIL + ' %ROUTE_NAME%\n'],
  ['istio-1.3', ENVOY_HEAD + MIXER + TRANSPORT + ENVOY_MIDDLE + ' %UPSTREAM_CLUSTER%' + ISTIO_TAIL + ' %ROUTE_NAME%\n'],
  ['istio-1.2', ENVOY_HEAD + MIXER + TRANSPORT + ENVOY_MIDDLE + ' %UPSTREAM_CLUSTER%' + ISTIO_TAIL + '\n'],
  ['istio-1.1', ENVOY_HEAD + MIXER + ENVOY_MIDDLE + ' %UPSTREAM_CLUSTER%' + ISTIO_TAIL + '\n'],
  ['istio-1.0', ENVOY_HEAD + ENVOY_MIDDLE + ' %UPSTREAM_CLUSTER%' + ISTIO_TAIL + '\n'],
  ['envoy-default', ENVOY_HEAD + ENVOY_MIDDLE + '\n'],
];

// ---------------------------------------------------------------------------------------------
// Operators → entry fields

interface FieldSpec {
  readonly field: FieldId | null;
  readonly kind: ValueKind;
}

const IGNORED: FieldSpec = { field: null, kind: 'string' };

const SIMPLE_OPERATORS: ReadonlyMap<string, FieldSpec> = new Map<string, FieldSpec>([
  ['START_TIME', { field: 'startMs', kind: 'time' }],
  ['START_TIME_LOCAL', { field: 'startMs', kind: 'time' }],
  ['PROTOCOL', { field: 'protocol', kind: 'string' }],
  ['RESPONSE_CODE', { field: 'responseCode', kind: 'number' }],
  ['RESPONSE_FLAGS', { field: 'flags', kind: 'flags' }],
  ['RESPONSE_FLAGS_LONG', { field: 'flags', kind: 'flags-long' }],
  ['RESPONSE_CODE_DETAILS', { field: 'responseCodeDetails', kind: 'string' }],
  ['CONNECTION_TERMINATION_DETAILS', { field: 'connectionTerminationDetails', kind: 'string' }],
  ['UPSTREAM_TRANSPORT_FAILURE_REASON', { field: 'upstreamTransportFailureReason', kind: 'string' }],
  ['BYTES_RECEIVED', { field: 'bytesReceived', kind: 'number' }],
  ['BYTES_SENT', { field: 'bytesSent', kind: 'number' }],
  ['DURATION', { field: 'durationMs', kind: 'number' }],
  ['UPSTREAM_HOST', { field: 'upstreamHost', kind: 'host' }],
  ['UPSTREAM_CLUSTER', { field: 'upstreamCluster', kind: 'cluster' }],
  ['UPSTREAM_CLUSTER_RAW', { field: 'upstreamCluster', kind: 'cluster' }],
  ['UPSTREAM_LOCAL_ADDRESS', { field: 'upstreamLocalAddress', kind: 'string' }],
  ['UPSTREAM_CONNECTION_ID', { field: 'upstreamConnectionId', kind: 'number-text' }],
  ['DOWNSTREAM_LOCAL_ADDRESS', { field: 'downstreamLocalAddress', kind: 'string' }],
  ['DOWNSTREAM_REMOTE_ADDRESS', { field: 'downstreamRemoteAddress', kind: 'string' }],
  ['REQUESTED_SERVER_NAME', { field: 'requestedServerName', kind: 'string' }],
  ['ROUTE_NAME', { field: 'routeName', kind: 'string' }],
]);

/** `%REQ(…)%` headers flowdoc keeps (upper case; `HOST` is Envoy's alias of `:AUTHORITY`). */
const REQUEST_HEADERS: ReadonlyMap<string, FieldId> = new Map<string, FieldId>([
  [':METHOD', 'method'],
  [':PATH', 'path'],
  ['X-ENVOY-ORIGINAL-PATH', 'path'],
  ['X-REQUEST-ID', 'requestId'],
  [':AUTHORITY', 'authority'],
  ['HOST', 'authority'],
  ['USER-AGENT', 'userAgent'],
  ['X-FORWARDED-FOR', 'xForwardedFor'],
]);

function fieldSpec(name: string, arg: string | null): FieldSpec {
  if (name === 'REQ' && arg !== null) {
    // `X?Y`: X, or Y when X is absent; both name the same thing for the headers kept here.
    const first = (arg.split('?')[0] ?? '').trim().toUpperCase();
    const field = REQUEST_HEADERS.get(first);
    return field === undefined ? IGNORED : { field, kind: 'string' };
  }
  if (name === 'RESP' && arg !== null) {
    const first = (arg.split('?')[0] ?? '').trim().toUpperCase();
    return first === 'X-ENVOY-UPSTREAM-SERVICE-TIME' ? { field: 'upstreamServiceTimeMs', kind: 'number' } : IGNORED;
  }
  if (name === 'DYNAMIC_METADATA' && arg !== null && arg.trim() === 'istio.mixer:status') {
    return { field: 'mixerStatus', kind: 'string' };
  }
  return SIMPLE_OPERATORS.get(name) ?? IGNORED;
}

// ---------------------------------------------------------------------------------------------
// Compiling

function isOperatorNameChar(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95; // A-Z 0-9 _
}

interface ParsedOperator {
  readonly name: string;
  readonly arg: string | null;
  readonly maxLength: number | null;
  /** Index just past the closing `%`. */
  readonly end: number;
}

/**
 * Reads `%NAME%`, `%NAME(arg)%` or `%NAME(arg):N%` at `i` (which holds a `%`). The argument may
 * itself contain `%` and `)` (START_TIME's strftime text), so it ends at the first `)` that is
 * followed by `%` or `:digits%`. Null when the text at `i` is not an operator (then the `%` is
 * literal text, as in Envoy).
 */
function parseOperator(src: string, i: number): ParsedOperator | null {
  let j = i + 1;
  while (j < src.length && isOperatorNameChar(src.charCodeAt(j))) j++;
  if (j === i + 1) return null;
  const name = src.slice(i + 1, j);
  let arg: string | null = null;
  let maxLength: number | null = null;
  if (src[j] === '(') {
    let k = src.indexOf(')', j + 1);
    while (k !== -1) {
      const after = src[k + 1];
      if (after === '%') break;
      if (after === ':' && /^:\d+%/.test(src.slice(k + 1, k + 12))) break;
      k = src.indexOf(')', k + 1);
    }
    if (k === -1) return null;
    arg = src.slice(j + 1, k);
    j = k + 1;
  }
  if (src[j] === ':') {
    let k = j + 1;
    while (k < src.length && src.charCodeAt(k) >= 48 && src.charCodeAt(k) <= 57) k++;
    if (k === j + 1) return null;
    maxLength = Number(src.slice(j + 1, k));
    j = k;
  }
  if (src[j] !== '%') return null;
  return { name, arg, maxLength, end: j + 1 };
}

/**
 * Normalises a format string as users hand it over: Envoy's closing newline is dropped, and a
 * format copied from Istio's docs or Go source (`\"` for `"`, a trailing `\n` written as two
 * characters) is unescaped — Envoy never writes a backslash before a quote of the format.
 */
function normaliseSource(source: string): string {
  let s = source.split('\\"').join('"');
  for (;;) {
    const before = s.length;
    s = s.trimEnd();
    if (s.endsWith('\\n')) s = s.slice(0, -2);
    if (s.length === before) return s;
  }
}

/**
 * Compiles an Envoy access-log format string. Never throws: a format that cannot be matched
 * (empty, several lines, no operator, two operators with nothing between them) gives
 * `{ ok: false, message }`.
 */
export function compileFormat(source: string, name = 'custom'): CompileResult {
  const src = normaliseSource(source);
  if (src.length === 0) return { ok: false, message: 'the format string is empty' };
  if (src.includes('\n')) {
    return { ok: false, message: 'the format string spans several lines; flowdoc reads one access-log record per line' };
  }
  const segments: Segment[] = [];
  let literal = '';
  let quotes = 0;
  const flushLiteral = (): void => {
    if (literal.length === 0) return;
    segments.push({ kind: 'literal', text: literal });
    for (let q = 0; q < literal.length; q++) if (literal.charCodeAt(q) === 34) quotes++;
    literal = '';
  };
  let i = 0;
  while (i < src.length) {
    const at = src.indexOf('%', i);
    if (at === -1) { literal += src.slice(i); break; }
    literal += src.slice(i, at);
    const op = parseOperator(src, at);
    if (op === null) { literal += '%'; i = at + 1; continue; }
    flushLiteral();
    const spec = fieldSpec(op.name, op.arg);
    let time: TimeFormat | null = null;
    if (spec.kind === 'time') time = op.arg === null || op.arg === '' ? ISO_TIME : compileTimeFormat(op.arg);
    segments.push({
      kind: 'operator',
      text: src.slice(at, op.end),
      name: op.name,
      arg: op.arg,
      maxLength: op.maxLength,
      field: spec.field,
      valueKind: spec.kind,
      quoted: quotes % 2 === 1,
      time,
    });
    i = op.end;
  }
  flushLiteral();

  let operators = 0;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s] as Segment;
    if (seg.kind !== 'operator') continue;
    operators++;
    const next = segments[s + 1];
    if (next !== undefined && next.kind === 'operator' && seg.time === null) {
      return {
        ok: false,
        message: `${seg.text} and ${next.text} have no text between them, so their values cannot be told apart`,
      };
    }
  }
  if (operators === 0) return { ok: false, message: 'the format string has no %OPERATOR%' };

  return { ok: true, format: { name, source, segments, headless: headlessSegments(segments) } };
}

/** Rule 7: the segments after a leading `[%START_TIME%] `, or null when the format has no such head. */
function headlessSegments(segments: readonly Segment[]): readonly Segment[] | null {
  const [open, time, close] = segments;
  if (open?.kind !== 'literal' || open.text !== '[') return null;
  if (time?.kind !== 'operator' || time.valueKind !== 'time') return null;
  if (close?.kind !== 'literal' || !close.text.startsWith('] ')) return null;
  const rest = close.text.slice(2);
  const tail = segments.slice(3);
  if (rest.length === 0) return tail.length > 0 ? tail : null;
  return [{ kind: 'literal', text: rest }, ...tail];
}

// ---------------------------------------------------------------------------------------------
// Matching

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 11 || c === 12 || c === 13 || c === 10;
}

function describeOperatorEnd(seg: OperatorSegment, next: LiteralSegment | undefined): string {
  return next === undefined ? `the end of the line after ${seg.text}` : `${JSON.stringify(next.text)} after ${seg.text}`;
}

/**
 * Matches one line (already unwrapped, trailing whitespace removed) against `format`. On success
 * the draft holds every mapped field; on failure the reason names the format, what was expected
 * and the 1-based column.
 */
export function matchFormat(format: CompiledFormat, line: string, origin: EntryOrigin, stats?: MatchStats): MatchResult {
  let segments = format.segments;
  if (format.headless !== null && line.charCodeAt(0) !== 91 /* [ */) segments = format.headless;
  const draft = newDraft(origin.file, origin.line, origin.hop, format.name);
  const fail = (what: string, pos: number): MatchResult => ({
    ok: false,
    reason: `does not match ${format.name}: ${what} at column ${pos + 1}`,
  });
  let pos = 0;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s] as Segment;
    if (seg.kind === 'literal') {
      if (stats !== undefined) stats.steps += seg.text.length;
      if (!line.startsWith(seg.text, pos)) return fail(`expected ${JSON.stringify(seg.text)}`, pos);
      pos += seg.text.length;
      continue;
    }
    const nextSeg = segments[s + 1];
    const next = nextSeg?.kind === 'literal' ? nextSeg : undefined;
    if (seg.time !== null) {
      const m = matchTime(seg.time, line, pos);
      if (stats !== undefined) stats.steps += m === null ? 1 : m.end - pos;
      if (m === null) return fail(`expected a timestamp for ${seg.text}`, pos);
      if (m.ms !== null) setNumber(draft, 'startMs', m.ms);
      pos = m.end;
      continue;
    }
    let end: number;
    if (seg.quoted) {
      // Rule 2: up to the first occurrence of the next literal (or the end of the line).
      if (next === undefined) {
        end = line.length;
        if (stats !== undefined) stats.steps += end - pos;
      } else {
        end = line.indexOf(next.text, pos);
        if (stats !== undefined) stats.steps += (end === -1 ? line.length : end + next.text.length) - pos;
        if (end === -1) return fail(`expected ${describeOperatorEnd(seg, next)}`, pos);
      }
    } else {
      // Rule 3: the same, but whitespace before the literal ends the search.
      end = -1;
      const lit = next?.text ?? '';
      const first = lit.length > 0 ? lit.charCodeAt(0) : -1;
      let q = pos;
      for (; q < line.length; q++) {
        const c = line.charCodeAt(q);
        if (c === first && line.startsWith(lit, q)) { end = q; break; }
        if (isSpace(c)) break;
      }
      if (stats !== undefined) stats.steps += q - pos + 1;
      if (next === undefined && q === line.length) end = q;
      if (end === -1) return fail(`expected ${describeOperatorEnd(seg, next)}`, pos);
    }
    if (seg.field !== null) {
      const problem = storeField(draft, seg.field, seg.valueKind, line.slice(pos, end));
      if (problem !== null) return fail(`${seg.text}: ${problem}`, pos);
    }
    pos = end;
  }
  if (pos !== line.length) return fail(`unexpected text ${quoteShort(line.slice(pos))} after the last field`, pos);
  return { ok: true, draft };
}

// ---------------------------------------------------------------------------------------------
// Compiled built-ins (after the tables compileFormat reads)

/** The built-in formats, compiled, newest first. */
export const BUILTIN_FORMATS: readonly CompiledFormat[] = BUILTIN_FORMAT_STRINGS.map(([name, source]) => {
  const r = compileFormat(source, name);
  if (!r.ok) throw new Error(`built-in format ${name} does not compile: ${r.message}`); // a bug, not input
  return r.format;
});

/** A built-in format by name, or undefined. */
export function builtinFormat(name: string): CompiledFormat | undefined {
  return BUILTIN_FORMATS.find((f) => f.name === name);
}

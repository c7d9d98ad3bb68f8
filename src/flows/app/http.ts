/**
 * HTTP/1.x message heads on a TCP payload. Only heads are parsed (request line or status line and
 * the headers flowdoc reports); bodies are skipped by Content-Length so the next message of a
 * keep-alive or pipelined sequence is found where it starts.
 */

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE']);
const MAX_METHOD = 7;

export interface HttpHead {
  readonly kind: 'request' | 'response';
  readonly method?: string;
  readonly path?: string;
  readonly status?: number;
  readonly host?: string;
  readonly requestId?: string;
  readonly userAgent?: string;
  /** `Upgrade: h2c` (RFC 7540 §3.2): on a request, the client asks; on a 101 response, the server switched. */
  readonly upgradeH2c?: true;
  /** Body bytes that follow the head: a number, or 'chunked' / 'unknown' (until close). */
  readonly body: number | 'chunked' | 'unknown';
}

/** The methods as bytes, to recognise a request line without making a string of it. */
const METHOD_BYTES: readonly Uint8Array[] = [...METHODS].map((m) => Uint8Array.from(m, (c) => c.charCodeAt(0)));

const METHOD_NAMES: readonly string[] = [...METHODS];

/** The index in METHOD_NAMES of the method b[o, o + n), or -1. */
function methodIndex(b: Uint8Array, o: number, n: number): number {
  for (let i = 0; i < METHOD_BYTES.length; i++) {
    const m = METHOD_BYTES[i]!;
    if (m.length !== n) continue;
    let k = 0;
    while (k < n && b[o + k] === m[k]) k++;
    if (k === n) return i;
  }
  return -1;
}

/** The index in METHOD_NAMES of a known method at b[o] followed by a space before `end`, or -1. */
function methodBeforeSpace(b: Uint8Array, o: number, end: number): number {
  let i = o;
  while (i < end && i - o < MAX_METHOD && b[i]! >= 0x41 && b[i]! <= 0x5a) i++;
  return i > o && i < end && b[i] === 0x20 ? methodIndex(b, o, i - o) : -1;
}

function isMethod(b: Uint8Array, o: number, n: number): boolean {
  return methodIndex(b, o, n) >= 0;
}

/** Does a request line start at b[o]? (method token of capitals, then a space). */
export function looksLikeRequest(b: Uint8Array, o: number, end: number): boolean {
  let i = o;
  while (i < end && i - o <= MAX_METHOD && b[i]! >= 0x41 && b[i]! <= 0x5a) i++;
  if (i === o || i >= end || b[i] !== 0x20) return false;
  return isMethod(b, o, i - o);
}

/** Does a status line start at b[o]? ("HTTP/1.") */
export function looksLikeResponse(b: Uint8Array, o: number, end: number): boolean {
  return end - o >= 8 && b[o] === 0x48 && b[o + 1] === 0x54 && b[o + 2] === 0x54 && b[o + 3] === 0x50 &&
    b[o + 4] === 0x2f && b[o + 5] === 0x31 && b[o + 6] === 0x2e;
}

/** Offset just past the blank line ending the head (\r\n\r\n, or a bare \n\n), or -1. */
export function findHeadEnd(b: Uint8Array, o: number, end: number): number {
  for (let i = o; i < end - 1; i++) {
    if (b[i] === 0x0a) {
      if (b[i + 1] === 0x0a) return i + 2;
      if (b[i + 1] === 0x0d && i + 2 < end && b[i + 2] === 0x0a) return i + 3;
    }
  }
  return -1;
}

/**
 * Whitespace as String.prototype.trim and /\s/ see it, for the characters latin1 decoding can
 * give (0x00–0xFF): \t \n \v \f \r, space and no-break space.
 */
function isSpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0;
}

/** b[start, end) as latin1 text (a Buffer decodes in place; a plain Uint8Array needs a Buffer view). */
function latin1(b: Uint8Array, start: number, end: number): string {
  return Buffer.isBuffer(b) ? b.toString('latin1', start, end) : Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1');
}

/** b[start, end) as latin1 text with whitespace trimmed, as `.trim()` would trim the decoded string. */
function latin1Trimmed(b: Uint8Array, start: number, end: number): string {
  while (start < end && isSpace(b[start]!)) start++;
  while (end > start && isSpace(b[end - 1]!)) end--;
  return start === end ? '' : latin1(b, start, end);
}

/**
 * Host and User-Agent values repeat from request to request. A small direct-mapped cache of the
 * strings made for them lets equal bytes give back the same string: less garbage, and the kept
 * messages share one string instead of holding a copy each. (Values only: a cache miss makes
 * the string exactly as latin1Trimmed does.)
 */
class StringCache {
  private readonly slots: (string | undefined)[] = new Array<string | undefined>(64).fill(undefined);

  get(b: Uint8Array, start: number, end: number): string {
    while (start < end && isSpace(b[start]!)) start++;
    while (end > start && isSpace(b[end - 1]!)) end--;
    const n = end - start;
    if (n === 0) return '';
    const slot = (n * 31 + b[start]! * 7 + b[end - 1]! + b[start + (n >> 1)]!) & 63;
    const cached = this.slots[slot];
    if (cached !== undefined && cached.length === n) {
      let k = 0;
      while (k < n && cached.charCodeAt(k) === b[start + k]) k++;
      if (k === n) return cached;
    }
    const made = latin1(b, start, end);
    this.slots[slot] = made;
    return made;
  }
}

const HOST_STRINGS = new StringCache();
const USER_AGENT_STRINGS = new StringCache();

const HTTP_1_DOT = bytesOf('HTTP/1.');

/** Does b[o, …) start with `prefix`? (the caller has checked the length) */
function startsWith(b: Uint8Array, o: number, prefix: Uint8Array): boolean {
  for (let k = 0; k < prefix.length; k++) if (b[o + k] !== prefix[k]) return false;
  return true;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * The Content-Length value as `Number(text.trim())` reads it. A value of 1–15 decimal digits (the
 * one every real message sends) is read from the bytes, no string made per message; anything else
 * (empty, signs, hex, exponents, 16+ digits) goes through Number() on the text, so every odd value
 * reads exactly as before.
 */
function contentLengthValue(b: Uint8Array, start: number, end: number): number {
  let s = start, e = end;
  while (s < e && isSpace(b[s]!)) s++;
  while (e > s && isSpace(b[e - 1]!)) e--;
  if (e - s >= 1 && e - s <= 15) {
    let n = 0;
    let k = s;
    for (; k < e; k++) {
      const c = b[k]!;
      if (!isDigit(c)) break;
      n = n * 10 + (c - 0x30);
    }
    if (k === e) return n;
  }
  return Number(latin1Trimmed(b, start, end));
}

function indexOfLf(b: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (b[i] === 0x0a) return i;
  return -1;
}

/** The header names parseHead reports, lower case, as bytes. */
const HEADER = {
  HOST: bytesOf('host'),
  REQUEST_ID: bytesOf('x-request-id'),
  USER_AGENT: bytesOf('user-agent'),
  CONTENT_LENGTH: bytesOf('content-length'),
  TRANSFER_ENCODING: bytesOf('transfer-encoding'),
  UPGRADE: bytesOf('upgrade'),
} as const;

function bytesOf(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** Is b[s, e) equal to `name` (lower case) ignoring ASCII case, as toLowerCase() would compare it? */
function nameIs(b: Uint8Array, s: number, e: number, name: Uint8Array): boolean {
  if (e - s !== name.length) return false;
  for (let k = 0; k < name.length; k++) {
    const c = b[s + k]!;
    if (c !== name[k] && !(c >= 0x41 && c <= 0x5a && c + 0x20 === name[k])) return false;
  }
  return true;
}

/**
 * Parses a head (the bytes up to and including the blank line, or as much as was captured).
 *
 * It reads the bytes as latin1 text split into lines at \n or \r\n, as
 * `text.split(/\r?\n/)` would, but makes strings only of the first line and of the values it
 * keeps: header names are trimmed and compared byte by byte, ignoring ASCII case, exactly as
 * `.trim().toLowerCase()` would compare them.
 */
export function parseHead(b: Uint8Array, o: number, end: number): HttpHead | null {
  const firstLf = indexOfLf(b, o, end);
  const firstEnd = firstLf < 0 ? end : firstLf > o && b[firstLf - 1] === 0x0d ? firstLf - 1 : firstLf;
  let kind: 'request' | 'response';
  let method: string | undefined, path: string | undefined, status: number | undefined;
  // The first line, matched byte by byte exactly as /^([A-Z]{1,7}) (\S+) HTTP\/1\.[01]$/ (with a
  // known method) or /^HTTP\/1\.[01] (\d{3})(?: |$)/ would match the decoded line.
  const methodAt = methodBeforeSpace(b, o, firstEnd);
  if (methodAt >= 0) {
    // The path is the whole run of non-space after the method; exactly " HTTP/1.0" or " HTTP/1.1" must end the line.
    const pathStart = o + METHOD_NAMES[methodAt]!.length + 1;
    let pathEnd = pathStart;
    while (pathEnd < firstEnd && !isSpace(b[pathEnd]!)) pathEnd++;
    const v = pathEnd + 8;
    if (pathEnd === pathStart || v + 1 !== firstEnd || b[pathEnd] !== 0x20 || !startsWith(b, pathEnd + 1, HTTP_1_DOT) || (b[v] !== 0x30 && b[v] !== 0x31)) {
      return null; // not a request line (and, starting with a method and a space, not a status line either)
    }
    kind = 'request';
    method = METHOD_NAMES[methodAt]!;
    path = latin1(b, pathStart, pathEnd);
  } else {
    const code = parseStatusLine(b, o, firstEnd);
    if (code < 0) return null;
    kind = 'response';
    status = code;
  }
  let host: string | undefined, requestId: string | undefined, userAgent: string | undefined;
  let contentLength: number | null = null;
  let chunked = false;
  let upgradeH2c = false;
  let next = firstLf < 0 ? -1 : firstLf + 1;
  while (next >= 0) {
    const s = next;
    const lf = indexOfLf(b, s, end);
    const e = lf < 0 ? end : lf > s && b[lf - 1] === 0x0d ? lf - 1 : lf;
    next = lf < 0 ? -1 : lf + 1;
    if (e === s) break; // the blank line
    let colon = s;
    while (colon < e && b[colon] !== 0x3a) colon++;
    if (colon === e || colon === s) continue;
    let ns = s, ne = colon;
    while (ns < ne && isSpace(b[ns]!)) ns++;
    while (ne > ns && isSpace(b[ne - 1]!)) ne--;
    switch (ne - ns) {
      case 4:
        if (nameIs(b, ns, ne, HEADER.HOST)) host = HOST_STRINGS.get(b, colon + 1, e);
        break;
      case 12:
        if (nameIs(b, ns, ne, HEADER.REQUEST_ID)) requestId = latin1Trimmed(b, colon + 1, e);
        break;
      case 10:
        if (nameIs(b, ns, ne, HEADER.USER_AGENT)) userAgent = USER_AGENT_STRINGS.get(b, colon + 1, e);
        break;
      case 14:
        if (nameIs(b, ns, ne, HEADER.CONTENT_LENGTH)) {
          const n = contentLengthValue(b, colon + 1, e);
          if (Number.isInteger(n) && n >= 0) contentLength = n;
        }
        break;
      case 7:
        if (nameIs(b, ns, ne, HEADER.UPGRADE) && /(^|[\s,])h2c([\s,]|$)/i.test(latin1Trimmed(b, colon + 1, e))) upgradeH2c = true;
        break;
      case 17:
        if (nameIs(b, ns, ne, HEADER.TRANSFER_ENCODING) && /chunked/i.test(latin1Trimmed(b, colon + 1, e))) chunked = true;
        break;
      default:
        break;
    }
  }
  let body: HttpHead['body'];
  if (chunked) body = 'chunked';
  else if (contentLength !== null) body = contentLength;
  else if (kind === 'request') body = 0; // a request without a length has no body (RFC 9112 §6.3)
  else if (status! < 200 || status === 204 || status === 304) body = 0;
  else body = 'unknown';
  // Built key by key (no spreads) in the order the record has always had: kind, method, path or
  // status, then host, requestId, userAgent when present, then body.
  const head: Mutable<HttpHead> = kind === 'request' ? { kind, method: method!, path: path! } as Mutable<HttpHead> : { kind, status: status! } as Mutable<HttpHead>;
  if (host !== undefined) head.host = host;
  if (requestId !== undefined) head.requestId = requestId;
  if (userAgent !== undefined) head.userAgent = userAgent;
  if (upgradeH2c) head.upgradeH2c = true;
  head.body = body;
  return head;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A head whose bytes b[o, end) are only the captured prefix (the snap length cut the segment):
 * what the prefix holds, and where the cut fell (`cutIn`: 'path' inside the request path,
 * 'request-line' after it, a header's lower-case name inside that header line, undefined between
 * lines). A request line cut inside the path gives that path's prefix (`GET /api/v1/items/w1/4 H`
 * gives method GET and path /api/v1/items/w1/4, cut in the request line); a header line cut short
 * is left out, never reported with half its value. The body length is unknown.
 */
export function parseCutHead(b: Uint8Array, o: number, end: number): { head: HttpHead; cutIn: string | undefined } | null {
  let lastLf = -1;
  for (let i = end - 1; i >= o; i--) if (b[i] === 0x0a) { lastLf = i; break; }
  if (lastLf >= 0) {
    const head = parseHead(b, o, lastLf + 1);
    if (!head) return null;
    // The cut fell in the line after lastLf: name it when its header name was captured whole.
    let colon = lastLf + 1;
    while (colon < end && b[colon] !== 0x3a) colon++;
    const cutIn = colon < end && colon > lastLf + 1 ? latin1Trimmed(b, lastLf + 1, colon).toLowerCase() : undefined;
    return { head: { ...head, body: 'unknown' }, cutIn };
  }
  // The first line itself was cut.
  const methodAt = methodBeforeSpace(b, o, end);
  if (methodAt >= 0) {
    const pathStart = o + METHOD_NAMES[methodAt]!.length + 1;
    let pathEnd = pathStart;
    while (pathEnd < end && !isSpace(b[pathEnd]!)) pathEnd++;
    if (pathEnd < end) {
      // After the path, what was captured must be the start of " HTTP/1.x".
      if (b[pathEnd] !== 0x20) return null;
      const v = pathEnd + 1;
      for (let k = 0; v + k < end; k++) {
        const c = b[v + k]!;
        const ok = k < HTTP_1_DOT.length ? c === HTTP_1_DOT[k] : k === HTTP_1_DOT.length ? c === 0x30 || c === 0x31 : k === HTTP_1_DOT.length + 1 && c === 0x0d;
        if (!ok) return null;
      }
    }
    const head: HttpHead = { kind: 'request', method: METHOD_NAMES[methodAt]!, path: latin1(b, pathStart, pathEnd), body: 'unknown' };
    return { head, cutIn: pathEnd === end ? 'path' : 'request-line' };
  }
  const code = parseStatusLine(b, o, end);
  if (code < 0) return null;
  return { head: { kind: 'response', status: code, body: 'unknown' }, cutIn: undefined };
}

/** The status of a status line b[o, end) ("HTTP/1.x NNN" then a space or the end), or -1. */
function parseStatusLine(b: Uint8Array, o: number, end: number): number {
  if (end - o < 12 || !startsWith(b, o, HTTP_1_DOT)) return -1;
  const v = b[o + 7];
  if ((v !== 0x30 && v !== 0x31) || b[o + 8] !== 0x20) return -1;
  const d1 = b[o + 9]!, d2 = b[o + 10]!, d3 = b[o + 11]!;
  if (!isDigit(d1) || !isDigit(d2) || !isDigit(d3)) return -1;
  if (end - o > 12 && b[o + 12] !== 0x20) return -1;
  return (d1 - 0x30) * 100 + (d2 - 0x30) * 10 + (d3 - 0x30);
}

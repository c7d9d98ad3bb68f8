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
  /** Body bytes that follow the head: a number, or 'chunked' / 'unknown' (until close). */
  readonly body: number | 'chunked' | 'unknown';
}

/** Does a request line start at b[o]? (method token of capitals, then a space). */
export function looksLikeRequest(b: Uint8Array, o: number, end: number): boolean {
  let i = o;
  while (i < end && i - o <= MAX_METHOD && b[i]! >= 0x41 && b[i]! <= 0x5a) i++;
  if (i === o || i >= end || b[i] !== 0x20) return false;
  return METHODS.has(Buffer.from(b.buffer, b.byteOffset + o, i - o).toString('latin1'));
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

/** Parses a head (the bytes up to and including the blank line, or as much as was captured). */
export function parseHead(b: Uint8Array, o: number, end: number): HttpHead | null {
  const text = Buffer.from(b.buffer, b.byteOffset + o, end - o).toString('latin1');
  const lines = text.split(/\r?\n/);
  const first = lines[0] ?? '';
  let head: { kind: 'request' | 'response'; method?: string; path?: string; status?: number };
  let m: RegExpExecArray | null;
  if ((m = /^([A-Z]{1,7}) (\S+) HTTP\/1\.[01]$/.exec(first)) && METHODS.has(m[1]!)) {
    head = { kind: 'request', method: m[1]!, path: m[2]! };
  } else if ((m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(first))) {
    head = { kind: 'response', status: Number(m[1]) };
  } else {
    return null;
  }
  let host: string | undefined, requestId: string | undefined, userAgent: string | undefined;
  let contentLength: number | null = null;
  let chunked = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    switch (name) {
      case 'host': host = value; break;
      case 'x-request-id': requestId = value; break;
      case 'user-agent': userAgent = value; break;
      case 'content-length': {
        const n = Number(value);
        if (Number.isInteger(n) && n >= 0) contentLength = n;
        break;
      }
      case 'transfer-encoding': if (/chunked/i.test(value)) chunked = true; break;
      default: break;
    }
  }
  let body: HttpHead['body'];
  if (chunked) body = 'chunked';
  else if (contentLength !== null) body = contentLength;
  else if (head.kind === 'request') body = 0; // a request without a length has no body (RFC 9112 §6.3)
  else if (head.status! < 200 || head.status === 204 || head.status === 304) body = 0;
  else body = 'unknown';
  return {
    ...head,
    ...(host !== undefined && { host }),
    ...(requestId !== undefined && { requestId }),
    ...(userAgent !== undefined && { userAgent }),
    body,
  };
}

import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../writer/index.js';
import { findHeadEnd, looksLikeRequest, looksLikeResponse, parseHead, type HttpHead } from './http.js';

/*
 * parseHead and looksLikeRequest read bytes directly (no string of the whole head, no split).
 * These tests hold them to the string-based implementation they replaced, kept below verbatim as
 * the reference: same result, same keys in the same order, on hand-picked edge cases and on
 * seeded random heads.
 */

const REF_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE']);

function referenceLooksLikeRequest(b: Uint8Array, o: number, end: number): boolean {
  let i = o;
  while (i < end && i - o <= 7 && b[i]! >= 0x41 && b[i]! <= 0x5a) i++;
  if (i === o || i >= end || b[i] !== 0x20) return false;
  return REF_METHODS.has(Buffer.from(b.buffer, b.byteOffset + o, i - o).toString('latin1'));
}

function referenceParseHead(b: Uint8Array, o: number, end: number): HttpHead | null {
  const text = Buffer.from(b.buffer, b.byteOffset + o, end - o).toString('latin1');
  const lines = text.split(/\r?\n/);
  const first = lines[0] ?? '';
  let head: { kind: 'request' | 'response'; method?: string; path?: string; status?: number };
  let m: RegExpExecArray | null;
  if ((m = /^([A-Z]{1,7}) (\S+) HTTP\/1\.[01]$/.exec(first)) && REF_METHODS.has(m[1]!)) {
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
  else if (head.kind === 'request') body = 0;
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

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/**
 * Same result and the same keys in the same order (JSON output keeps that order), whether the
 * bytes are a plain Uint8Array (a reassembled head) or a Buffer (a record in a read chunk).
 */
function expectSame(bytes: Uint8Array, o = 0, end = bytes.length): void {
  const want = referenceParseHead(bytes, o, end);
  for (const b of [bytes, Buffer.from(bytes)]) {
    const got = parseHead(b, o, end);
    expect(JSON.stringify(got)).toBe(JSON.stringify(want));
    expect(got).toStrictEqual(want);
    expect(looksLikeRequest(b, o, end)).toBe(referenceLooksLikeRequest(bytes, o, end));
  }
}

const CASES: Record<string, string> = {
  'a plain request': 'GET /api/items/4 HTTP/1.1\r\nHost: api\r\nx-request-id: r1\r\nUser-Agent: curl/8\r\n\r\n',
  'a response with a length': 'HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n',
  'a chunked response': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n',
  'a response without a length': 'HTTP/1.0 200 OK\r\n\r\n',
  '204 and 304 and 1xx': 'HTTP/1.1 204 No Content\r\n\r\n',
  'a status line without a reason': 'HTTP/1.1 304\r\n\r\n',
  'bare LF lines': 'POST /x HTTP/1.0\nhost: h\ncontent-length: 7\n\nbody',
  'CR CR LF keeps a CR on the line': 'GET / HTTP/1.1\r\r\nHost: h\r\n\r\n',
  'a header line ending CR CR LF': 'GET / HTTP/1.1\r\nHost: h\r\r\nX-Request-ID: a\r\n\r\n',
  'a line of just CR is not the blank line': 'GET / HTTP/1.1\r\n\r\r\nHost: h\r\n\r\n',
  'names with spaces, tabs and no-break spaces around them': 'GET / HTTP/1.1\r\n \tHOST\u00a0 :  h1 \r\n\u000bx-REQUEST-id\u000c:\tid \u00a0\r\n\r\n',
  'a name with a latin1 capital is not a known name': 'GET / HTTP/1.1\r\nHOST\u00c0: h\r\n\r\n',
  'the last of repeated headers wins': 'GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n',
  'a colon first on the line': 'GET / HTTP/1.1\r\n: x\r\nHost: h\r\n\r\n',
  'a line without a colon': 'GET / HTTP/1.1\r\nnonsense\r\nHost: h\r\n\r\n',
  'a value with a colon': 'GET / HTTP/1.1\r\nHost: h:8080\r\n\r\n',
  'content lengths Number() reads oddly': 'HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n',
  'an empty content length': 'HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n',
  'a negative content length': 'HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n',
  'an exponent content length': 'HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n',
  'a fractional content length': 'HTTP/1.1 200 OK\r\nContent-Length: 1.5\r\nContent-Length: 12\r\n\r\n',
  // Content-Length digits are read from the bytes (no string) when there are 1–15 of them; the rest goes through Number().
  'a content length with leading zeros and spaces': 'HTTP/1.1 200 OK\r\nContent-Length: \t 007 \r\n\r\n',
  'a content length in no-break spaces': 'HTTP/1.1 200 OK\r\nContent-Length:\u00a012\u00a0\r\n\r\n',
  'a fifteen-digit content length': 'HTTP/1.1 200 OK\r\nContent-Length: 999999999999999\r\n\r\n',
  'a content length past 2^53': 'HTTP/1.1 200 OK\r\nContent-Length: 9007199254740993123\r\n\r\n',
  'a content length with a sign': 'HTTP/1.1 200 OK\r\nContent-Length: +12\r\n\r\n',
  'digits then a letter': 'HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n',
  'digits, a space, digits': 'HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n',
  'a head cut off before its blank line': 'GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: x',
  'a head cut off after a CR': 'GET /a HTTP/1.1\r\nHost: h\r',
  'a request line alone': 'GET /a HTTP/1.1',
  'a request line with a trailing CR and no LF': 'GET /a HTTP/1.1\r',
  'an unknown method': 'FETCH /a HTTP/1.1\r\n\r\n',
  'an eight-letter token': 'PROPFIND /a HTTP/1.1\r\n\r\n',
  'a path with a space': 'GET /a b HTTP/1.1\r\n\r\n',
  'a path with a no-break space': 'GET /a\u00a0b HTTP/1.1\r\n\r\n',
  'HTTP/2 is not HTTP/1.x': 'GET / HTTP/2.0\r\n\r\n',
  'a lower-case method': 'get / HTTP/1.1\r\n\r\n',
  'two spaces after the method': 'GET  / HTTP/1.1\r\n\r\n',
  'a status with four digits': 'HTTP/1.1 2000 OK\r\n\r\n',
  'latin1 bytes in values': 'GET /\u00e9 HTTP/1.1\r\nHost: h\u00ff\u0085\r\n\r\n',
  'an empty buffer': '',
};

describe('parseHead reads heads exactly as the string-based reference did', () => {
  for (const [name, text] of Object.entries(CASES)) {
    it(`agrees on ${name}`, () => expectSame(latin1(text)));
  }

  it('agrees when the head sits in the middle of a larger buffer', () => {
    const text = 'xxGET /a HTTP/1.1\r\nHost: h\r\n\r\nyy';
    const b = latin1(text);
    expectSame(b, 2, text.length - 2);
  });

  it('agrees on 20,000 seeded random first lines', () => {
    const r = new SeededRandom(7);
    const pick = <T>(xs: readonly T[]): T => xs[r.next32() % xs.length]!;
    const methods = ['GET', 'POST', 'OPTIONS', 'CONNECT', 'PROPFIND', 'GETS', 'get', 'G', '', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2', 'HTTP/1.1x'];
    const gaps = [' ', ' ', ' ', '  ', '\t', '\u00a0', ''];
    const paths = ['/', '/a/b?c=d', '200', '20', '2000', '404', '/\u00e9', '/a\u0085b', '/a\rb', '', 'HTTP/1.1', '*'];
    const tails = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/1.1 ', 'HTTP/1.', 'http/1.1', 'OK', 'Not Found', '', 'HTTP/1.1\r'];
    for (let n = 0; n < 20_000; n++) {
      let line = pick(methods) + pick(gaps) + pick(paths);
      if (r.next32() % 3 !== 0) line += pick(gaps) + pick(tails);
      const eol = pick(['\r\n', '\n', '', '\r\r\n']);
      expectSame(latin1(line + eol + (r.next32() % 2 ? 'Host: h\r\n\r\n' : '')));
    }
  });

  it('agrees on 20,000 seeded random heads', () => {
    const r = new SeededRandom(42);
    const pick = <T>(xs: readonly T[]): T => xs[r.next32() % xs.length]!;
    const firsts = ['GET /p HTTP/1.1', 'POST /a/b?c=d HTTP/1.0', 'HTTP/1.1 200 OK', 'HTTP/1.0 404', 'HTTP/1.1 101 Switching', 'PUT  /x HTTP/1.1', 'GET /x HTTP/1.2', 'DELETE / HTTP/1.1 ', 'HTTP/1.1 20x'];
    const names = ['Host', 'host', 'HOST', 'X-Request-Id', 'x-request-id', 'User-Agent', 'content-length', 'Content-Length', 'Transfer-Encoding', 'Accept', 'X', ''];
    const values = ['', 'a', ' spaced ', '12', '0', '-1', '0x1f', '1e2', 'chunked', 'gzip, Chunked', '\u00a0nb\u00a0', 'a:b', '\t'];
    const pads = ['', ' ', '\t', '\u00a0', '\u000b', '\r'];
    const eols = ['\r\n', '\n', '\r\r\n', '\r\n', '\r\n'];
    for (let n = 0; n < 20_000; n++) {
      let text = pick(firsts) + pick(eols);
      const lines = r.next32() % 6;
      for (let i = 0; i < lines; i++) {
        if (r.next32() % 15 === 0) text += pick(['nocolon', ':lead', '']) + pick(eols);
        else text += `${pick(pads)}${pick(names)}${pick(pads)}:${pick(pads)}${pick(values)}${pick(pads)}${pick(eols)}`;
      }
      if (r.next32() % 4 !== 0) text += pick(eols);
      if (r.next32() % 5 === 0) text = text.slice(0, r.next32() % (text.length + 1));
      expectSame(latin1(text));
    }
  });
});

describe('the other HTTP recognisers', () => {
  it('recognises request and status lines and finds the end of a head', () => {
    const req = latin1('GET / HTTP/1.1\r\n\r\nrest');
    expect(looksLikeRequest(req, 0, req.length)).toBe(true);
    expect(looksLikeResponse(latin1('HTTP/1.1 200 OK\r\n'), 0, 17)).toBe(true);
    expect(findHeadEnd(req, 0, req.length)).toBe(18);
  });
});

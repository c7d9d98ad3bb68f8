import { describe, expect, it } from 'vitest';
import type { AppMessage } from '../connection.js';
import { CLIENT_PREFACE, Flag, FrameReader, FrameType, type RawFrame } from './h2/frames.js';
import { HpackDecoder } from './h2/hpack.js';
import { huffmanDecode } from './h2/huffman.js';
import { parseCutHead } from './http.js';
import { AppSniffer } from './sniffer.js';
import { connectionsOf } from '../../../test/support/analyze.js';
import { CaptureScript, TLS_EXTENSION, alpnExtension, sniExtension, tlsClientHello, tlsServerHello } from '../../writer/index.js';

/*
 * Segments cut by a snap length: the sniffer is given the captured prefix and the length on the
 * wire. What the prefix holds is reported, marked truncated; the missing bytes are skipped by
 * count, so the next message is still found where it starts.
 */

const bytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const cat = (...parts: ArrayLike<number>[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
function frame(type: number, flags: number, stream: number, payload: ArrayLike<number>): Uint8Array {
  const n = payload.length;
  return Uint8Array.from([n >> 16, (n >> 8) & 255, n & 255, type, flags, (stream >>> 24) & 127, (stream >> 16) & 255, (stream >> 8) & 255, stream & 255, ...Array.from(payload)]);
}
const lit = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];

/** Feeds segments [bytes, captured] (captured < length: cut) from one side or the other; returns the messages and anomalies. */
function sniff(segments: [fromClient: boolean, b: Uint8Array, captured?: number][]) {
  const out: AppMessage[] = [];
  const anomalies: string[] = [];
  const s = new AppSniffer({ appMessage: (m) => out.push(m), appAnomaly: (code) => anomalies.push(code) });
  segments.forEach(([fromClient, b, captured], k) => s.onPayload(fromClient, b, 0, captured ?? b.length, k + 1, k + 1, b.length));
  return { out: out.map(({ micros: _, ...m }) => m), anomalies, sniffer: s };
}

describe('parseCutHead: the captured prefix of an HTTP/1 head', () => {
  const cut = (s: string) => parseCutHead(bytes(s), 0, s.length);
  it('a request line cut inside the path gives the path prefix', () => {
    expect(cut('GET /api/v1/items/w1/4')).toEqual({ head: { kind: 'request', method: 'GET', path: '/api/v1/items/w1/4', body: 'unknown' }, cutIn: 'path' });
  });
  it('a request line cut in the version gives the whole path', () => {
    expect(cut('GET /api/v1/items/w1/4 H')).toEqual({ head: { kind: 'request', method: 'GET', path: '/api/v1/items/w1/4', body: 'unknown' }, cutIn: 'request-line' });
    expect(cut('POST /orders HTTP/1.1\r')!.cutIn).toBe('request-line');
  });
  it('a head cut inside a header keeps the lines before it and names the header, never half its value', () => {
    expect(cut('GET /a HTTP/1.1\r\nHost: api.local\r\nx-request-id: 12')).toEqual({ head: { kind: 'request', method: 'GET', path: '/a', host: 'api.local', body: 'unknown' }, cutIn: 'x-request-id' });
    expect(cut('GET /a HTTP/1.1\r\nHos')).toEqual({ head: { kind: 'request', method: 'GET', path: '/a', body: 'unknown' }, cutIn: undefined });
  });
  it('a status line of 12 bytes or more gives the status', () => {
    expect(cut('HTTP/1.1 503 Service Unav')!.head).toEqual({ kind: 'response', status: 503, body: 'unknown' });
    expect(cut('HTTP/1.1 50')).toBeNull();
  });
  it('what is not the start of a request line is nothing', () => {
    expect(cut('GET /a XTTP')).toBeNull();
    expect(cut('GET /a HTTP/1.2')).toBeNull();
    expect(cut('FOO /a')).toBeNull();
  });
});

describe('AppSniffer on cut segments (HTTP/1, TLS)', () => {
  it('reports the cut request, then finds the next one after a body whose end was not captured', () => {
    const req1 = bytes('POST /api/orders HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789');
    const req2 = bytes('GET /api/items/42 HTTP/1.1\r\nHost: a\r\n\r\n');
    const { out } = sniff([[true, req1, 50], [false, bytes('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')], [true, req2, 15]]);
    expect(out).toEqual([
      { frame: 1, kind: 'http-request', method: 'POST', path: '/api/orders', host: 'a', truncated: { capturedBytes: 50, wireBytes: req1.length } },
      { frame: 2, kind: 'http-response', status: 200 },
      { frame: 3, kind: 'http-request', method: 'GET', path: '/api/items/', truncated: { capturedBytes: 15, wireBytes: req2.length, cutIn: 'path' } },
    ]);
  });

  it('a request whose captured part ends inside the body is not truncated (its head was whole); the body is skipped by count', () => {
    const req = bytes('POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\n' + 'x'.repeat(100));
    const next = bytes('GET /b HTTP/1.1\r\n\r\n');
    // Two pipelined requests in one segment, cut inside the body: the second is among the lost bytes.
    const { out } = sniff([[true, cat(req, next), 60], [true, bytes('GET /c HTTP/1.1\r\n\r\n')]]);
    expect(out.map((m) => [m.path, m.truncated])).toEqual([['/a', undefined], ['/c', undefined]]);
  });

  it('a headers-only segment (nothing of the payload captured) still moves the body count on', () => {
    const head = bytes('POST /a HTTP/1.1\r\nContent-Length: 20\r\n\r\n');
    const { out } = sniff([[true, head], [true, bytes('y'.repeat(20)), 0], [true, bytes('GET /next HTTP/1.1\r\n\r\n')]]);
    expect(out.map((m) => m.path)).toEqual(['/a', '/next']);
  });

  it('TLS: a cut ClientHello gives its SNI when the prefix holds it; cut application data is marked truncated', () => {
    const sni = 'api.example.com';
    const ext = [0, 0, 0, sni.length + 5, 0, sni.length + 3, 0, 0, sni.length, ...Buffer.from(sni)];
    const body = [3, 3, ...new Array(32).fill(7), 0, 0, 2, 0x13, 0x01, 1, 0, 0, ext.length, ...ext, ...new Array(200).fill(0)];
    const hs = [1, 0, body.length >> 8, body.length & 255, ...body];
    const hello = Uint8Array.from([22, 3, 1, hs.length >> 8, hs.length & 255, ...hs]);
    const appData = Uint8Array.from([23, 3, 3, 1, 0, ...new Array(256).fill(9)]);
    const { out, sniffer } = sniff([[true, hello, 90], [true, appData, 30]]);
    expect(out).toEqual([
      { frame: 1, kind: 'tls-client-hello', sni, tlsLegacyVersion: 'TLS 1.2', cipherSuiteCount: 1, truncated: { capturedBytes: 90, wireBytes: hello.length } },
      { frame: 2, kind: 'tls-application-data', truncated: { capturedBytes: 30, wireBytes: appData.length } },
    ]);
    expect(sniffer.protocol()).toBe('tls');
  });
});

describe('HTTP/2 on cut segments', () => {
  const block = (path: string, id: string) => [0x82, 0x86, 0x44, ...lit(path), 0x41, ...lit('api.local'), 0x40, ...lit('x-request-id'), ...lit(id)];
  const settings = frame(FrameType.SETTINGS, 0, 0, [0, 1, 0, 0, 0x10, 0]);

  it('a HEADERS cut inside :path gives the method, the stream and the path prefix; the next segment is read in step', () => {
    const s1 = cat(CLIENT_PREFACE, settings);
    const h1 = frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, block('/api/items/1', 'r1'));
    const h3 = frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, block('/api/items/2', 'r2'));
    const { out, anomalies, sniffer } = sniff([[true, s1], [true, h1, 9 + 3 + 5], [true, h3]]);
    expect(anomalies).toEqual([]);
    expect(out).toEqual([
      { frame: 2, kind: 'http-request', method: 'GET', path: '/api', protocol: 'h2', streamId: 1, truncated: { capturedBytes: 17, wireBytes: h1.length, cutIn: ':path' } },
      // The cut block's later insertions were lost: the table is resynced, literals still read.
      { frame: 3, kind: 'http-request', method: 'GET', path: '/api/items/2', host: 'api.local', requestId: 'r2', protocol: 'h2', streamId: 3 },
    ]);
    expect(sniffer.protocol()).toBe('h2c');
  });

  it('a cut that takes whole frames resynchronises at the next segment that starts with frames, not inside one', () => {
    const h1 = frame(FrameType.HEADERS, Flag.END_HEADERS, 1, block('/a', 'r1'));
    const data = frame(FrameType.DATA, Flag.END_STREAM, 1, new Array(40).fill(0x41));
    const h3 = frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, block('/b', 'r3'));
    // Segment 2 holds HEADERS + DATA + HEADERS; only HEADERS(1) and 4 bytes of DATA's header were captured.
    const seg = cat(h1, data, h3);
    const { out, anomalies } = sniff([[true, cat(CLIENT_PREFACE, settings)], [true, seg, h1.length + 4], [true, bytes('garbage that is not a frame')], [true, h3]]);
    expect(anomalies).toEqual([]);
    expect(out.map((m) => [m.frame, m.streamId, m.path, m.truncated !== undefined])).toEqual([[2, 1, '/a', false], [4, 3, '/b', false]]);
  });

  it('a cut HEADERS on a new stream with nothing decodable is still that stream\'s request', () => {
    const h5 = frame(FrameType.HEADERS, Flag.END_HEADERS, 5, block('/x', 'r5'));
    const { out } = sniff([[true, cat(CLIENT_PREFACE, settings)], [true, h5, 9]]);
    expect(out).toEqual([{ frame: 2, kind: 'http-request', method: '?', path: '?', protocol: 'h2', streamId: 5, truncated: { capturedBytes: 9, wireBytes: h5.length } }]);
  });

  it('FrameReader.skip accounts lost bytes inside a frame exactly and hands the frame on as cut', () => {
    const seen: { type: number; length: number; kept: number; cut: boolean }[] = [];
    const r = new FrameReader((f: RawFrame) => seen.push({ type: f.type, length: f.length, kept: f.kept, cut: f.cut }));
    const ping = frame(FrameType.PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]);
    const s = frame(FrameType.SETTINGS, 0, 0, [0, 1, 0, 0, 0x10, 0, 0, 5, 0, 0, 0x40, 0]);
    r.push(s, 0, 12, 1, 1);
    expect(r.skip(s.length - 12)).toBe(true); // the rest of SETTINGS: in step
    r.push(ping, 0, ping.length, 2, 2);
    expect(seen).toEqual([{ type: FrameType.SETTINGS, length: 12, kept: 3, cut: true }, { type: FrameType.PING, length: 8, kept: 8, cut: false }]);
    expect(r.skip(5)).toBe(false); // at a frame boundary: a frame header was lost
    expect(r.lostPlace).toBe(true);
  });

  it('HPACK: a cut block gives the fields before the cut and the prefix of the value it fell in (raw and Huffman), then resyncs', () => {
    const d = new HpackDecoder(true);
    const fields: [string, string][] = [];
    const b = Uint8Array.from([0x82, 0x44, ...lit('/api/items/1'), 0x41, ...lit('x')]);
    expect(d.decode(b, 0, 8, (n, v) => fields.push([n, v]), true)).toBeNull();
    expect(fields).toEqual([[':method', 'GET'], [':path', '/api/']]);
    expect(d.notes.cutField).toBe(':path');
    expect(d.fromStart).toBe(false);
    // RFC 7541 C.4.1: "www.example.com" Huffman-coded; its first 4 octets hold "www.e" and a few bits.
    const www = Uint8Array.from([0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff]);
    expect(huffmanDecode(www, 0, www.length)).toBe('www.example.com');
    expect(huffmanDecode(www, 0, 4, true)).toBe('www.e');
    const h: [string, string][] = [];
    new HpackDecoder(true).decode(Uint8Array.from([0x41, 0x80 | www.length, ...www]), 0, 6, (n, v) => h.push([n, v]), true);
    expect(h).toEqual([[':authority', 'www.e']]);
  });
});

describe('a TLS ClientHello cut by the snap length (capture writer, every cut length)', () => {
  // Laid out like a browser's: a session id, 17 suites, GREASE first, then server_name, then ALPN.
  const SNI = 'api.example.com';
  const hello = tlsClientHello({
    sessionIdBytes: 32,
    cipherSuites: [0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035, 0x000a],
    extensions: [{ type: 0x0a0a, body: [] }, sniExtension(SNI), { type: 23, body: [] }, alpnExtension(['h2', 'http/1.1']), { type: TLS_EXTENSION.SUPPORTED_VERSIONS, body: [4, 3, 4, 3, 3] }],
  });
  // Offsets in the record of the fields the cut may fall in.
  const at = { version: 9, random: 11, sessionId: 43, suites: 76, compression: 112, extensions: 114, sniExt: 120, sniEnd: 120 + 4 + SNI.length + 5, alpnExt: 0, alpnEnd: 0 };
  at.alpnExt = at.sniEnd + 4;
  at.alpnEnd = at.alpnExt + 4 + 2 + 3 + 9;
  const expectedCut = (n: number): string | undefined => {
    if (n >= hello.length) return undefined;
    if (n < at.version) return 'handshake-header';
    if (n < at.random) return 'version';
    if (n < at.sessionId) return 'random';
    if (n < at.suites) return 'session-id';
    if (n < at.compression) return 'cipher-suites';
    if (n < at.extensions) return 'compression-methods';
    if (n < at.sniExt + 4) return 'extensions';
    if (n < at.sniEnd) return 'sni';
    if (n >= at.alpnExt + 4 && n < at.alpnEnd) return 'alpn';
    return 'extensions';
  };
  const serverHello = tlsServerHello({ sessionIdBytes: 32, extensions: [alpnExtension(['h2'])] });
  const SERVER_HELLO_ALPN_END = serverHello.length; // its only extension, last
  const HEADERS = 14 + 20 + 20; // Ethernet, IPv4, TCP without options

  function capture(): Uint8Array[] {
    const cap = new CaptureScript({ start: '2024-05-01T10:00:00Z' });
    // No options but the MSS: the SYNs (58 bytes) fit the shortest cut, so only payloads are cut.
    // (A cut inside a TCP header drops that packet in decode; not what is tested here.)
    const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:443', tcpOptions: { wscale: null, sackPermitted: false, timestamps: false } });
    c.handshake();
    c.clientSends(hello);
    c.serverSends(serverHello);
    c.clientSends(Uint8Array.from([23, 3, 3, 0, 40, ...new Array<number>(40).fill(1)]));
    c.fin('client');
    c.fin('server');
    return [cap.toPcap(), ...Array.from({ length: hello.length - 5 + 1 }, (_, k) => cap.toPcap({ snaplen: HEADERS + 5 + k }))];
  }

  it('every prefix from the record header to the whole record: a hello with the fields before the cut, or nothing; never a wrong SNI', async () => {
    const [whole, ...cuts] = capture();
    const full = (await connectionsOf(whole!)).connections[0]!;
    expect(full.app[0]).toEqual({ frame: 4, micros: full.app[0]!.micros, kind: 'tls-client-hello', sni: SNI, tlsLegacyVersion: 'TLS 1.2', cipherSuiteCount: 17 });
    expect(full.alpn).toEqual({ offered: ['h2', 'http/1.1'], selected: 'h2' });
    for (const [k, bytes] of cuts.entries()) {
      const n = 5 + k; // bytes of the record captured
      const { connections } = await connectionsOf(bytes);
      const conn = connections[0]!;
      const hellos = conn.app.filter((m) => m.kind === 'tls-client-hello');
      const label = `${n} of ${hello.length} bytes`;
      expect(hellos.length, label).toBeLessThanOrEqual(1);
      // The record header alone does not say which handshake message follows.
      if (n === 5) { expect(hellos, label).toEqual([]); continue; }
      const [m] = hellos;
      expect(m, label).toBeDefined();
      if (n < hello.length) expect(m!.truncated, label).toEqual({ capturedBytes: n, wireBytes: hello.length, cutIn: expectedCut(n) });
      else expect(m!.truncated, label).toBeUndefined();
      // The SNI only when the server_name extension was captured whole; never a part of it.
      expect(m!.sni, label).toBe(n >= at.sniEnd ? SNI : undefined);
      expect(conn.sni, label).toBe(n >= at.sniEnd ? SNI : null);
      expect(m!.tlsLegacyVersion, label).toBe(n >= at.random ? 'TLS 1.2' : undefined);
      expect(m!.cipherSuiteCount, label).toBe(n >= at.suites + 2 ? 17 : undefined);
      // The TCP story does not depend on the cut.
      expect([conn.state, conn.history, conn.clientStats.payloadBytes, conn.clientStats.segmentsNotCaptured], label).toEqual([full.state, full.history, full.clientStats.payloadBytes, 0]);
      expect(conn.anomalyCounts, label).toEqual(full.anomalyCounts);
      // The ServerHello is cut at the same length: its ALPN (h2) when its extension was captured whole.
      expect(conn.alpn?.selected ?? null, label).toBe(n >= SERVER_HELLO_ALPN_END ? 'h2' : null);
    }
  });
});

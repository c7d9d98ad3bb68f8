import { once } from 'node:events';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CLIENT_PREFACE, FrameType, Flag, looksLikeFrames } from './frames.js';
import { H2Session, H2_MAX_BUFFERED, MAX_CONTINUATIONS, MAX_HEADER_BLOCK, grpcMethodOf, isGrpc, type H2Event } from './session.js';

function frame(type: number, flags: number, stream: number, payload: ArrayLike<number>): Uint8Array {
  const n = payload.length;
  return Uint8Array.from([n >> 16, (n >> 8) & 255, n & 255, type, flags, (stream >>> 24) & 127, (stream >> 16) & 255, (stream >> 8) & 255, stream & 255, ...Array.from(payload)]);
}
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(Buffer.concat(parts));
const lit = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];

/** Runs a session over client/server byte streams cut at the given chunk size (0: whole). */
function run(client: Uint8Array, server: Uint8Array, chunk = 0, fromStart = true) {
  const events: H2Event[] = [];
  const anomalies: string[] = [];
  const s = new H2Session(fromStart, fromStart, (e) => events.push(e), (c) => anomalies.push(c));
  const feed = (fromClient: boolean, b: Uint8Array) => {
    const step = chunk || b.length || 1;
    for (let o = 0, n = 0; o < b.length; o += step, n++) s.push(fromClient, b, o, Math.min(b.length, o + step), n, n);
  };
  feed(true, client);
  feed(false, server);
  return { events: events.map((e) => ({ ...e, frame: 0, micros: 0 })), anomalies, session: s };
}

// A request split over HEADERS + CONTINUATION, a gRPC-shaped POST, PING / ACK, RST_STREAM, GOAWAY.
const requestBlock = [0x82, 0x86, 0x44, ...lit('/items/1'), 0x41, ...lit('api.local'), 0x40, ...lit('x-request-id'), ...lit('req-1')];
const grpcBlock = [0x83, 0x86, 0x44, ...lit('/shop.Cart/AddItem'), 0x41, ...lit('api.local'), 0x5f, ...lit('application/grpc')];
const clientBytes = cat(
  CLIENT_PREFACE,
  frame(FrameType.SETTINGS, 0, 0, [0, 1, 0, 0, 0x10, 0, 0, 5, 0, 0, 0x40, 0]),
  frame(FrameType.HEADERS, Flag.END_STREAM, 1, requestBlock.slice(0, 5)),
  frame(FrameType.CONTINUATION, 0, 1, requestBlock.slice(5, 12)),
  frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, requestBlock.slice(12)),
  frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.PADDED | Flag.PRIORITY, 3, [2, 0, 0, 0, 0, 16, ...grpcBlock, 0, 0]),
  frame(FrameType.DATA, Flag.END_STREAM, 3, [0, 0, 0, 0, 2, 8, 1]),
  frame(FrameType.WINDOW_UPDATE, 0, 0, [0, 0, 0x10, 0]),
  frame(FrameType.PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]),
  frame(FrameType.RST_STREAM, 0, 3, [0, 0, 0, 8]),
);
const serverBytes = cat(
  frame(FrameType.SETTINGS, 0, 0, []),
  frame(FrameType.HEADERS, Flag.END_HEADERS, 1, [0x88]),
  frame(FrameType.PING, Flag.ACK, 0, [1, 2, 3, 4, 5, 6, 7, 8]),
  frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 3, [0x88, 0x40, ...lit('grpc-status'), ...lit('14')]),
  frame(FrameType.GOAWAY, 0, 0, [0, 0, 0, 3, 0, 0, 0, 0, 0x68, 0x69]),
);

describe('H2Session', () => {
  const whole = run(clientBytes, serverBytes);

  it('reads requests, responses, trailers, PING, RST_STREAM, GOAWAY and SETTINGS', () => {
    expect(whole.anomalies).toEqual([]);
    const headers = whole.events.filter((e) => e.type === 'headers');
    expect(headers.map((e) => [e.fromClient, e.streamId, e.endStream, e.headers])).toEqual([
      [true, 1, true, { method: 'GET', scheme: 'http', path: '/items/1', authority: 'api.local', requestId: 'req-1' }],
      [true, 3, false, { method: 'POST', scheme: 'http', path: '/shop.Cart/AddItem', authority: 'api.local', contentType: 'application/grpc' }],
      [false, 1, false, { status: 200 }],
      [false, 3, true, { status: 200, grpcStatus: 14 }],
    ]);
    expect(whole.events.filter((e) => e.type !== 'headers').map((e) => e.type)).toEqual(['settings', 'data', 'ping', 'rst-stream', 'settings', 'ping', 'goaway']);
    expect(whole.events.find((e) => e.type === 'settings')).toMatchObject({ headerTableSize: 4096, maxFrameSize: 16384 });
    expect(whole.events.find((e) => e.type === 'goaway')).toMatchObject({ lastStreamId: 3, errorCode: 0 });
    expect(whole.events.find((e) => e.type === 'rst-stream')).toMatchObject({ streamId: 3, errorCode: 8 });
    expect(whole.events.filter((e) => e.type === 'ping').map((e) => e.type === 'ping' && [e.fromClient, e.ack, e.opaque])).toEqual([
      [true, false, '0102030405060708'], [false, true, '0102030405060708'],
    ]);
    expect(whole.session.highestClientStream).toBe(3);
  });

  it('gives the same events whatever the segment boundaries (every chunk size 1–40)', () => {
    for (let chunk = 1; chunk <= 40; chunk++) {
      const cut = run(clientBytes, serverBytes, chunk);
      expect(cut.events, `chunk ${chunk}`).toEqual(whole.events);
      expect(cut.anomalies).toEqual([]);
    }
  });

  it('counts hostile frames as anomalies and keeps going', () => {
    const hostile = cat(
      CLIENT_PREFACE,
      frame(FrameType.PING, 0, 0, [1, 2, 3]), // bad length
      frame(0x42, 0, 0, [9, 9]), // unknown type
      frame(FrameType.HEADERS, 0, 1, [0x82]),
      frame(FrameType.DATA, 0, 1, [1]), // between HEADERS and CONTINUATION
      frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, [0x84]), // no block open any more
      frame(FrameType.SETTINGS, 0, 0, [0, 1, 0]), // not a multiple of 6
      frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.PADDED, 5, [200, 0x82]), // padding longer than the frame
      frame(FrameType.HEADERS, Flag.END_HEADERS, 7, [0x82, 0x44, 0x85, 0x61]), // string runs past the block
      frame(FrameType.HEADERS, Flag.END_HEADERS, 9, [0x82, 0x84]), // still decodes after all that
    );
    const r = run(hostile, new Uint8Array(0));
    expect(r.anomalies).toEqual([
      'h2-bad-ping', 'h2-unknown-frame-type', 'h2-continuation-expected', 'h2-unexpected-continuation', 'h2-bad-settings', 'h2-bad-padding', 'hpack-truncated',
    ]);
    const last = r.events.filter((e) => e.type === 'headers').at(-1);
    expect(last).toMatchObject({ streamId: 9, headers: { method: 'GET', path: '/' } });
  });

  it('drops a CONTINUATION flood past MAX_HEADER_BLOCK, counting it once, without buffering it', () => {
    const parts = [CLIENT_PREFACE, frame(FrameType.HEADERS, 0, 1, [0x82])];
    const filler = new Uint8Array(16000).fill(0x82);
    for (let i = 0; i < 10; i++) parts.push(frame(FrameType.CONTINUATION, 0, 1, filler));
    parts.push(frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, [0x82]));
    parts.push(frame(FrameType.HEADERS, Flag.END_HEADERS, 3, [0x83, 0x84]));
    expect(10 * 16000).toBeGreaterThan(MAX_HEADER_BLOCK);
    const r = run(cat(...parts), new Uint8Array(0), 1400);
    expect(r.anomalies).toEqual(['h2-header-block-too-large']);
    expect(r.events.filter((e) => e.type === 'headers').map((e) => e.type === 'headers' && e.streamId)).toEqual([3]);
  });

  it('midstream: a capture that starts after the preface still reads frames and static/literal fields', () => {
    const mid = cat(frame(FrameType.HEADERS, Flag.END_HEADERS, 41, [0x83, 0xbe, 0x44, ...lit('/late')]), frame(FrameType.PING, 0, 0, [0, 0, 0, 0, 0, 0, 0, 1]));
    expect(looksLikeFrames(mid, 0, mid.length)).toBe(true);
    expect(looksLikeFrames(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n'), 0, 27)).toBe(false);
    const r = run(mid, new Uint8Array(0), 0, false);
    expect(r.anomalies).toEqual([]);
    expect(r.events[0]).toMatchObject({ type: 'headers', streamId: 41, headers: { method: 'POST', path: '/late' }, unknownFields: 1 });
  });

  it('gRPC: content type and /Service/Method', () => {
    expect(isGrpc('application/grpc')).toBe(true);
    expect(isGrpc('application/grpc+proto')).toBe(true);
    expect(isGrpc('application/json')).toBe(false);
    expect(grpcMethodOf('/shop.Cart/AddItem')).toEqual({ service: 'shop.Cart', method: 'AddItem' });
    expect(grpcMethodOf('/items/1/x')).toBeNull();
  });
});

describe('H2Session on bytes written by node:http2 (nghttp2)', () => {
  it('decodes every request and response header the peers exchanged, Huffman and dynamic table included', async () => {
    const serverSaw: Record<string, unknown>[] = [];
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      serverSaw.push({ ...headers });
      stream.respond({ ':status': headers[':path'] === '/missing' ? 404 : 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c2s: Buffer[] = [];
    const s2c: Buffer[] = [];
    // Resolved when the proxy has seen both sides close: every byte is recorded by then.
    let proxyDone!: () => void;
    const proxyClosed = new Promise<void>((resolve) => { proxyDone = resolve; });
    const proxy = net.createServer((down) => {
      const up = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
      down.on('data', (d: Buffer) => { c2s.push(d); up.write(d); });
      up.on('data', (d: Buffer) => { s2c.push(d); down.write(d); });
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
      let open = 2;
      const closed = () => { if (--open === 0) proxyDone(); };
      down.on('close', closed);
      up.on('close', closed);
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const session = http2.connect(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    const paths = ['/shop.Cart/AddItem', '/shop.Cart/AddItem', '/missing', '/shop.Cart/Checkout?x=%20y'];
    const statuses: number[] = [];
    for (const [i, path] of paths.entries()) {
      const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', 'x-request-id': `rid-${i}-${'z'.repeat(i * 7)}` });
      req.on('response', (h) => statuses.push(Number(h[':status'])));
      req.end(Buffer.from([0, 0, 0, 0, 1, 7]));
      req.resume();
      await once(req, 'close');
    }
    await new Promise<void>((resolve) => session.ping(() => resolve()));
    session.close();
    await once(session, 'close');
    await proxyClosed;
    proxy.close();
    server.close();

    const r = run(Uint8Array.from(Buffer.concat(c2s)), Uint8Array.from(Buffer.concat(s2c)));
    expect(r.anomalies).toEqual([]);
    const requests = r.events.filter((e) => e.type === 'headers' && e.fromClient);
    expect(requests.map((e) => e.type === 'headers' && e.headers)).toEqual(serverSaw.map((h) => ({
      method: h[':method'], path: h[':path'], authority: h[':authority'], scheme: h[':scheme'], contentType: h['content-type'], requestId: h['x-request-id'],
    })));
    const responses = r.events.filter((e) => e.type === 'headers' && !e.fromClient && e.headers.status !== undefined);
    expect(responses.map((e) => e.type === 'headers' && e.headers.status)).toEqual(statuses);
    const trailers = r.events.filter((e) => e.type === 'headers' && !e.fromClient && e.headers.grpcStatus !== undefined);
    expect(trailers).toHaveLength(paths.length);
    expect(r.events.filter((e) => e.type === 'ping').map((e) => e.type === 'ping' && [e.fromClient, e.ack])).toEqual([[true, false], [false, true]]);
    expect(r.events.some((e) => e.type === 'goaway')).toBe(true);
  });
});

describe('H2Session bounds', () => {
  it('a flood of empty CONTINUATIONs is cut at MAX_CONTINUATIONS (h2-continuation-flood), and what the session buffers stays within H2_MAX_BUFFERED', () => {
    const parts = [CLIENT_PREFACE, frame(FrameType.HEADERS, 0, 1, [0x82])];
    for (let k = 0; k < MAX_CONTINUATIONS + 10; k++) parts.push(frame(FrameType.CONTINUATION, 0, 1, []));
    parts.push(frame(FrameType.CONTINUATION, Flag.END_HEADERS, 1, []), frame(FrameType.HEADERS, Flag.END_HEADERS, 3, [0x82, 0x86, 0x84]));
    const r = run(cat(...parts), new Uint8Array(0), 7);
    expect(r.anomalies).toEqual(['h2-continuation-flood']);
    expect(r.events.filter((e) => e.type === 'headers').map((e) => e.type === 'headers' && e.streamId)).toEqual([3]); // the flooded block dropped, the next one read
    expect(r.session.bufferedBytes).toBeLessThanOrEqual(H2_MAX_BUFFERED);
  });
});

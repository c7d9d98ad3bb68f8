// Lab HTTP/2 client (issue 19): an app talking h2c (prior knowledge) to the VIP over one pooled
// connection, logging like its Istio client sidecar. Two engines:
//   - `node:http2` (nghttp2: Huffman, HPACK dynamic table, its own SETTINGS/WINDOW_UPDATE), with
//     optional PING keepalive (session.ping() every N ms) — h2-rst-after-idle, h2-ping-keepalive;
//   - a raw-socket client that writes its own frames and, like a pool that missed the GOAWAY,
//     opens a new stream after the server's GOAWAY — h2-goaway-race (nghttp2 would refuse to).
//
//   node lab/h2-client.mjs SCENARIO OUTDIR    (writes OUTDIR/client.log and OUTDIR/client-run.json)

import http2 from 'node:http2';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { render, hostPort, LOCAL_REPLY } from './accesslog.mjs';
import { scenario, requestId, REQUEST_TIMEOUT_MS } from './scenarios.mjs';

const [name, outDir] = process.argv.slice(2);
if (!name || !outDir) {
  console.error('usage: h2-client.mjs SCENARIO OUTDIR');
  process.exit(2);
}
const S = scenario(name);
const logPath = path.join(outDir, 'client.log');
fs.writeFileSync(logPath, '');
const USER_AGENT = 'flowdoc-lab-h2-client/1.0';
const run = { scenario: S.name, protocol: 'h2c', requests: [], sockets: [], pings: [] };
let seq = 0;

function logLine(svc, r, local, result) {
  const common = {
    START_TIME: new Date(r.startMs).toISOString(),
    'REQ(:METHOD)': r.method,
    'REQ(X-ENVOY-ORIGINAL-PATH?:PATH)': r.path,
    PROTOCOL: 'HTTP/2',
    BYTES_RECEIVED: r.bodyBytes,
    DURATION: r.durationMs,
    'REQ(USER-AGENT)': USER_AGENT,
    'REQ(X-REQUEST-ID)': r.id,
    'REQ(:AUTHORITY)': svc.authority,
    UPSTREAM_HOST: hostPort(svc.host, svc.port),
    UPSTREAM_CLUSTER: svc.cluster,
    UPSTREAM_LOCAL_ADDRESS: local,
    DOWNSTREAM_LOCAL_ADDRESS: hostPort(svc.host, svc.port),
    DOWNSTREAM_REMOTE_ADDRESS: null,
    ROUTE_NAME: 'default',
  };
  const v = result.outcome === 'ok'
    ? { ...common, RESPONSE_CODE: result.status, RESPONSE_FLAGS: null, RESPONSE_CODE_DETAILS: 'via_upstream', BYTES_SENT: result.bytes }
    : result.outcome === 'timeout'
      ? { ...common, RESPONSE_CODE: 504, RESPONSE_FLAGS: 'UT', RESPONSE_CODE_DETAILS: 'response_timeout', BYTES_SENT: LOCAL_REPLY.UT.length }
      : { ...common, RESPONSE_CODE: 503, RESPONSE_FLAGS: 'UC', RESPONSE_CODE_DETAILS: 'upstream_reset_before_response_started{connection_termination}', BYTES_SENT: LOCAL_REPLY.UC.length };
  fs.appendFileSync(logPath, render(v));
}

function newRequest(svc, method, p, body) {
  const n = ++seq;
  const r = { id: requestId(S, n), n, conn: null, local: null, remote: hostPort(svc.host, svc.port), method, path: p, startMs: Date.now(), bodyBytes: Buffer.byteLength(body), streamId: null, outcome: null };
  run.requests.push(r);
  return r;
}

function finish(svc, r, local, result, t0) {
  r.durationMs = Math.floor(performance.now() - t0);
  r.outcome = result.outcome;
  r.status = result.outcome === 'ok' ? result.status : result.outcome === 'timeout' ? 504 : 503;
  logLine(svc, r, local, result);
  process.stderr.write(`h2-client ${r.id} ${r.method} ${r.path} stream ${r.streamId} via ${local} -> ${r.outcome} ${r.status} (${r.durationMs} ms)\n`);
  return r;
}

/** A pooled connection through node:http2; a dead session is replaced on the next request. */
class NodePool {
  constructor(name, svc) {
    this.name = name;
    this.svc = svc;
    this.gen = 0;
    this.st = null;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const session = http2.connect(`http://${this.svc.host}:${this.svc.port}`);
      const rec = { name: `${this.name}#${++this.gen}`, local: null, remote: hostPort(this.svc.host, this.svc.port), openedMs: Date.now(), end: null, goaway: null };
      run.sockets.push(rec);
      const st = { session, rec, dead: false, pinger: null };
      session.on('goaway', (code, last) => { rec.goaway = { code, lastStreamId: last, ms: Date.now() }; st.dead = true; });
      session.on('error', (e) => { st.dead = true; rec.end = rec.end ?? `error ${e.code}`; });
      session.on('close', () => { st.dead = true; rec.closedMs = Date.now(); clearInterval(st.pinger); });
      session.once('connect', () => {
        rec.local = hostPort(session.socket.localAddress, session.socket.localPort);
        this.st = st;
        resolve(st);
      });
      session.once('error', reject);
    });
  }

  /** PING frames every `ms` (gRPC keepalive / Envoy connection_keepalive do the same). */
  startPings(ms) {
    const st = this.st;
    st.pinger = setInterval(() => {
      const at = Date.now();
      st.session.ping((err, rttMs) => run.pings.push({ conn: st.rec.name, atMs: at, ok: !err, rttMs: err ? null : Math.round(rttMs * 1000) / 1000 }));
    }, ms);
  }

  stopPings() { clearInterval(this.st?.pinger); }

  async request({ method, path: p, body = '', grpc = false }) {
    // gRPC: POST application/grpc with one length-prefixed message, `te: trailers` (the gRPC wire format).
    if (grpc) body = Buffer.concat([Buffer.from([0, 0, 0, 0, Buffer.byteLength(body)]), Buffer.from(body)]);
    const r = newRequest(this.svc, method, p, body);
    if (!this.st || this.st.dead) await this.connect();
    const st = this.st;
    r.conn = st.rec.name;
    r.local = st.rec.local;
    const t0 = performance.now();
    const headers = { ':method': method, ':path': p, ':authority': this.svc.authority, 'user-agent': USER_AGENT, accept: '*/*', 'x-request-id': r.id };
    if (grpc) Object.assign(headers, { 'content-type': 'application/grpc', te: 'trailers' });
    else if (body) headers['content-type'] = 'application/json';
    const result = await new Promise((resolve) => {
      let status = 0;
      let bytes = 0;
      const stream = st.session.request(headers, { endStream: !body });
      const timer = setTimeout(() => { stream.close(http2.constants.NGHTTP2_CANCEL); st.session.destroy(); st.dead = true; resolve({ outcome: 'timeout' }); }, REQUEST_TIMEOUT_MS);
      stream.on('ready', () => { r.streamId = stream.id; });
      stream.on('response', (h) => { status = Number(h[':status']); });
      stream.on('data', (d) => { bytes += d.length; });
      stream.on('end', () => { clearTimeout(timer); resolve({ outcome: 'ok', status, bytes }); });
      stream.on('error', (e) => { clearTimeout(timer); st.dead = true; resolve({ outcome: e.code === 'ECONNRESET' || /RST|reset|closed/i.test(String(e.message)) ? 'reset' : `error:${e.code}` }); });
      stream.on('close', () => { if (r.streamId === null) r.streamId = stream.id ?? null; clearTimeout(timer); if (!stream.readableEnded) resolve({ outcome: 'reset' }); });
      if (body) stream.end(body);
    });
    return finish(this.svc, r, st.rec.local, result, t0);
  }

  close() {
    return new Promise((resolve) => {
      const st = this.st;
      if (!st || st.session.destroyed) return resolve();
      st.rec.end = st.rec.end ?? 'close() by client';
      st.session.close(resolve);
    });
  }
}

// ---- raw frames (h2-goaway-race): literal header fields, never indexed, no Huffman (RFC 7541 §6.2.3)
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
function frame(type, flags, streamId, payload = Buffer.alloc(0)) {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}
function hpackLiteral(headers) {
  const parts = [];
  for (const [k, v] of headers) {
    const kb = Buffer.from(k, 'latin1'), vb = Buffer.from(v, 'latin1');
    if (kb.length > 126 || vb.length > 126) throw new Error('header too long for the lab encoder');
    parts.push(Buffer.from([0x10, kb.length]), kb, Buffer.from([vb.length]), vb);
  }
  return Buffer.concat(parts);
}

/** One raw h2c connection that keeps using the connection after GOAWAY (it does not read them). */
class RawH2 {
  constructor(name, svc) {
    this.name = name;
    this.svc = svc;
    this.nextStream = 1;
    this.buf = Buffer.alloc(0);
    this.waiters = new Map(); // stream id -> { status, bytes, done }
  }

  connect() {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: this.svc.host, port: this.svc.port, allowHalfOpen: true, noDelay: true });
      this.rec = { name: `${this.name}#1`, local: null, remote: hostPort(this.svc.host, this.svc.port), openedMs: Date.now(), end: null, goaway: null, finReceivedMs: null };
      run.sockets.push(this.rec);
      this.sock = sock;
      sock.once('connect', () => {
        this.rec.local = hostPort(sock.localAddress, sock.localPort);
        sock.write(Buffer.concat([PREFACE, frame(4, 0, 0)]));
        resolve();
      });
      sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.parse(); });
      sock.on('end', () => { this.rec.finReceivedMs = Date.now(); });
      sock.on('error', (e) => { this.rec.end = this.rec.end ?? `error ${e.code}`; for (const w of this.waiters.values()) w.done({ outcome: 'reset' }); this.waiters.clear(); });
      sock.once('error', reject);
    });
  }

  parse() {
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3), type = this.buf[3], flags = this.buf[4], sid = this.buf.readUInt32BE(5) & 0x7fffffff;
      if (this.buf.length < 9 + len) return;
      const p = this.buf.subarray(9, 9 + len);
      this.buf = this.buf.subarray(9 + len);
      const w = this.waiters.get(sid);
      if (type === 4 && !(flags & 1)) this.sock.write(frame(4, 1, 0)); // SETTINGS ACK
      else if (type === 7) this.rec.goaway = { lastStreamId: p.readUInt32BE(0) & 0x7fffffff, code: p.readUInt32BE(4), ms: Date.now() };
      else if (type === 1 && w) {
        // The server's first header field is :status from the static table (0x88 = 200), as nghttp2 writes it.
        w.status = p[0] === 0x88 ? 200 : p[0] & 0x80 ? 0 : w.status;
        if (flags & 1) w.done({ outcome: 'ok', status: w.status, bytes: w.bytes });
      } else if (type === 0 && w) {
        w.bytes += len;
        if (flags & 1) w.done({ outcome: 'ok', status: w.status, bytes: w.bytes });
      } else if (type === 3 && w) w.done({ outcome: 'reset' });
    }
  }

  async request({ method, path: p }) {
    const r = newRequest(this.svc, method, p, '');
    if (!this.sock) await this.connect();
    r.conn = this.rec.name;
    r.local = this.rec.local;
    const sid = this.nextStream;
    this.nextStream += 2;
    r.streamId = sid;
    const t0 = performance.now();
    const result = await new Promise((resolve) => {
      const timer = setTimeout(() => { this.waiters.delete(sid); this.sock.destroy(); resolve({ outcome: 'timeout' }); }, REQUEST_TIMEOUT_MS);
      this.waiters.set(sid, { status: 0, bytes: 0, done: (x) => { clearTimeout(timer); this.waiters.delete(sid); resolve(x); } });
      const block = hpackLiteral([[':method', method], [':scheme', 'http'], [':path', p], [':authority', this.svc.authority], ['user-agent', USER_AGENT], ['x-request-id', r.id]]);
      this.sock.write(frame(1, 0x5, sid, block), (e) => { if (e) this.waiters.get(sid)?.done({ outcome: 'reset' }); }); // END_STREAM | END_HEADERS
      if (this.rec.finReceivedMs) {
        // Node stops reading at EOF: a zero-length write reports the peer's RST (as client.mjs does).
        const poll = setInterval(() => {
          if (!this.waiters.has(sid)) return clearInterval(poll);
          this.sock.write(Buffer.alloc(0), (e) => { if (e) { clearInterval(poll); this.rec.end = `write error ${e.code}`; this.waiters.get(sid)?.done({ outcome: 'reset' }); } });
        }, 20);
      }
    });
    return finish(this.svc, r, this.rec.local, result, t0);
  }

  close() {
    return new Promise((resolve) => {
      if (!this.sock || this.sock.destroyed) return resolve();
      const t = setTimeout(resolve, 1500);
      this.sock.once('close', () => { clearTimeout(t); resolve(); });
      this.sock.end();
    });
  }
}

const pools = new Map();
const ctx = {
  pool(name, svc) {
    if (!pools.has(name)) pools.set(name, new NodePool(name, svc));
    return pools.get(name);
  },
  raw(name, svc) {
    if (!pools.has(name)) pools.set(name, new RawH2(name, svc));
    return pools.get(name);
  },
  async closeAll() { await Promise.all([...pools.values()].map((p) => p.close())); },
};

try {
  await S.run(ctx);
} finally {
  fs.writeFileSync(path.join(outDir, 'client-run.json'), JSON.stringify(run, null, 2) + '\n');
}
process.exit(0);

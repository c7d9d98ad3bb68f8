// Lab client: an app with a tiny HTTP/1.1 connection pool, logging like its Istio client
// sidecar (Istio 1.9+ default text format). Raw `net` sockets, no dependencies, so the lab
// controls exactly what a pooled connection does: SO_KEEPALIVE on/off, reuse after idle,
// ignoring a server FIN (allowHalfOpen), give-up timeout then destroy().
//
//   node lab/client.mjs SCENARIO OUTDIR     (writes OUTDIR/client.log and OUTDIR/client-run.json)

import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { render, hostPort, LOCAL_REPLY, CONNECTION_ID_TEXT_FORMAT, ISTIO_19_TEXT_FORMAT } from './accesslog.mjs';
import { scenario, requestId, REQUEST_TIMEOUT_MS } from './scenarios.mjs';

const [name, outDir] = process.argv.slice(2);
if (!name || !outDir) {
  console.error('usage: client.mjs SCENARIO OUTDIR');
  process.exit(2);
}
const S = scenario(name);
const logPath = path.join(outDir, 'client.log');
fs.writeFileSync(logPath, '');

const USER_AGENT = 'flowdoc-lab-client/1.0';
const run = { scenario: S.name, requests: [], sockets: [] };
let seq = 0;
// Envoy numbers connections from one counter per process (downstream and upstream alike), so ids
// of one upstream pool are increasing but not consecutive; the lab's sidecar has no downstream
// sockets, so its ids are consecutive from an arbitrary start.
let connectionIds = 4180;
const logFormat = S.connectionIds ? CONNECTION_ID_TEXT_FORMAT : ISTIO_19_TEXT_FORMAT;

function log(fields) {
  fs.appendFileSync(logPath, render(fields, logFormat));
}

class Upstream {
  constructor(name, svc) {
    this.name = name;
    this.svc = svc;
    this.sock = null;
    this.gen = 0;
  }

  /** Dial a new connection (the pool's replacement for a dead one). */
  connect() {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: this.svc.host, port: this.svc.port, allowHalfOpen: true, noDelay: true });
      const rec = { name: `${this.name}#${++this.gen}`, connectionId: ++connectionIds, local: null, remote: hostPort(this.svc.host, this.svc.port), openedMs: Date.now(), finReceivedMs: null, end: null, keepalive: S.clientKeepalive };
      run.sockets.push(rec);
      const st = { sock, rec, buf: Buffer.alloc(0), pending: null, dead: false };
      sock.once('connect', () => {
        rec.local = hostPort(sock.localAddress, sock.localPort);
        if (S.clientKeepalive) sock.setKeepAlive(true, S.clientKeepalive.idleSeconds * 1000);
        this.sock = st;
        resolve(st);
      });
      sock.on('data', (d) => {
        st.buf = Buffer.concat([st.buf, d]);
        st.pending?.onData();
      });
      sock.on('end', () => {
        // The server sent FIN. A careful pool drops the connection; the scenario
        // `server-fin` models a client that does not notice and reuses it anyway.
        rec.finReceivedMs = Date.now();
        if (st.pending) st.pending.fail('closed');
        else if (!S.ignoreFin) { st.dead = true; sock.end(); }
      });
      sock.on('error', (e) => {
        st.dead = true;
        rec.end = rec.end ?? `error ${e.code}`;
        if (st.pending) st.pending.fail(e.code === 'ECONNRESET' ? 'reset' : `error:${e.code}`);
        else if (!sock.connecting) return;
        reject(e);
      });
      sock.on('close', () => {
        st.dead = true;
        rec.closedMs = Date.now();
      });
    });
  }

  async request({ method, path: p, body = '' }) {
    const n = ++seq;
    const id = requestId(S, n);
    const startMs = Date.now();
    const t0 = performance.now();
    const r = { id, n, conn: null, local: null, remote: hostPort(this.svc.host, this.svc.port), method, path: p, startMs, outcome: null };
    run.requests.push(r);
    if (!this.sock || this.sock.dead) await this.connect();
    const st = this.sock;
    r.conn = st.rec.name;
    r.local = st.rec.local;
    const bodyBuf = Buffer.from(body);
    const head =
      `${method} ${p} HTTP/1.1\r\n` +
      `host: ${this.svc.authority}\r\n` +
      `user-agent: ${USER_AGENT}\r\n` +
      `accept: */*\r\n` +
      `x-request-id: ${id}\r\n` +
      (bodyBuf.length ? `content-type: application/json\r\ncontent-length: ${bodyBuf.length}\r\n` : '') +
      `\r\n`;
    let tSent = 0;
    const result = await new Promise((resolve) => {
      let timer;
      const done = (res) => {
        clearTimeout(timer);
        st.pending = null;
        resolve(res);
      };
      st.pending = {
        onData() {
          const i = st.buf.indexOf('\r\n\r\n');
          if (i < 0) return;
          const headText = st.buf.subarray(0, i).toString('latin1');
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headText)?.[1]);
          const len = Number(/\r\ncontent-length: *(\d+)/i.exec(headText)?.[1] ?? 0);
          if (st.buf.length < i + 4 + len) return;
          st.buf = st.buf.subarray(i + 4 + len);
          done({ outcome: 'ok', status, bytes: len, tFirst: performance.now() });
        },
        fail(kind) {
          done({ outcome: kind });
        },
      };
      timer = setTimeout(() => {
        // Give up like Envoy's route timeout: reset the upstream stream, close the connection.
        st.dead = true;
        st.rec.end = 'destroy() after request timeout';
        st.sock.destroy();
        done({ outcome: 'timeout' });
      }, REQUEST_TIMEOUT_MS);
      st.sock.write(Buffer.concat([Buffer.from(head, 'latin1'), bodyBuf]));
      tSent = performance.now();
      if (st.rec.finReceivedMs) {
        // Writing into a connection the server already closed (we ignored its FIN). Node
        // stopped reading at the EOF, so the peer's RST would never surface as an event;
        // a zero-length write reports it (EPIPE: RST received in CLOSE_WAIT), the way a
        // blocking client's next read()/write() would.
        const poll = setInterval(() => {
          if (!st.pending) return clearInterval(poll);
          st.sock.write(Buffer.alloc(0), (e) => {
            if (e && st.pending) { clearInterval(poll); st.dead = true; st.rec.end = `write error ${e.code}`; st.pending.fail('reset'); }
          });
        }, 20);
      }
    });
    const duration = Math.floor(performance.now() - t0);
    r.outcome = result.outcome;
    r.endMs = startMs + duration;
    const common = {
      START_TIME: new Date(startMs).toISOString(),
      'REQ(:METHOD)': method,
      'REQ(X-ENVOY-ORIGINAL-PATH?:PATH)': p,
      PROTOCOL: 'HTTP/1.1',
      BYTES_RECEIVED: bodyBuf.length,
      DURATION: duration,
      'REQ(USER-AGENT)': USER_AGENT,
      'REQ(X-REQUEST-ID)': id,
      'REQ(:AUTHORITY)': this.svc.authority,
      UPSTREAM_HOST: hostPort(this.svc.host, this.svc.port),
      UPSTREAM_CLUSTER: this.svc.cluster,
      UPSTREAM_LOCAL_ADDRESS: st.rec.local,
      // The connection the request was sent on, also when it failed on it (a UC on a reused connection).
      UPSTREAM_CONNECTION_ID: st.rec.connectionId,
      // The app dialed the VIP; an Istio sidecar logs that original destination here.
      DOWNSTREAM_LOCAL_ADDRESS: hostPort(this.svc.host, this.svc.port),
      // App and sidecar are one process in the lab: there is no app->sidecar socket, so no
      // downstream remote address exists to log (written as "-", see captures/README.md).
      DOWNSTREAM_REMOTE_ADDRESS: null,
      ROUTE_NAME: 'default',
    };
    if (result.outcome === 'ok') {
      r.status = result.status;
      log({ ...common, RESPONSE_CODE: result.status, RESPONSE_FLAGS: null, RESPONSE_CODE_DETAILS: 'via_upstream', BYTES_SENT: result.bytes, 'RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)': Math.floor(result.tFirst - tSent) });
    } else if (result.outcome === 'timeout') {
      r.status = 504;
      log({ ...common, RESPONSE_CODE: 504, RESPONSE_FLAGS: 'UT', RESPONSE_CODE_DETAILS: 'response_timeout', BYTES_SENT: LOCAL_REPLY.UT.length });
    } else {
      r.status = 503;
      log({ ...common, RESPONSE_CODE: 503, RESPONSE_FLAGS: 'UC', RESPONSE_CODE_DETAILS: 'upstream_reset_before_response_started{connection_termination}', BYTES_SENT: LOCAL_REPLY.UC.length });
    }
    process.stderr.write(`client ${id} ${method} ${p} via ${r.local} -> ${r.outcome} ${r.status} (${duration} ms)\n`);
    return r;
  }
}

const ups = new Map();
const ctx = {
  upstream(name, svc) {
    if (!ups.has(name)) ups.set(name, new Upstream(name, svc));
    return ups.get(name);
  },
  /** Graceful close of every live pooled connection (FIN), waiting for the peer's FIN. */
  async closeAll() {
    await Promise.all([...ups.values()].map((u) => new Promise((resolve) => {
      const st = u.sock;
      if (!st || st.dead || st.sock.destroyed) return resolve();
      st.rec.end = st.rec.end ?? 'end() by client';
      const t = setTimeout(resolve, 1500);
      st.sock.once('close', () => { clearTimeout(t); resolve(); });
      st.sock.end();
    })));
  },
};

try {
  await S.run(ctx);
} finally {
  fs.writeFileSync(path.join(outDir, 'client-run.json'), JSON.stringify(run, null, 2) + '\n');
}
if (S.holdOpen) {
  // The capture must end while these connections are still open (a capture stopped mid-outage):
  // say so, then keep the sockets open until run.sh has stopped the captures and kills us.
  fs.writeFileSync(path.join(outDir, 'client.holding'), `${Date.now()}\n`);
  await new Promise(() => {});
}
// Sockets that are still half-open (e.g. orphaned after destroy()) must not keep us alive.
process.exit(0);

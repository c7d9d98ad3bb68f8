// Lab server: an HTTP/1.1 keep-alive server (node:http) that logs like its Istio server
// sidecar (inbound, Istio 1.9+ default text format) — one line per request that actually
// arrived, with DOWNSTREAM_REMOTE_ADDRESS = the peer address its socket sees.
//
//   node lab/server.mjs --log FILE --ready FILE --keep-alive-timeout MS LISTEN...
//   LISTEN = ip:port or [ip6]:port

import http from 'node:http';
import http2 from 'node:http2';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { render, hostPort } from './accesslog.mjs';

const args = process.argv.slice(2);
const opt = (k) => {
  const i = args.indexOf(k);
  if (i < 0) throw new Error(`missing ${k}`);
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const logPath = opt('--log');
const readyPath = opt('--ready');
const keepAliveTimeout = Number(opt('--keep-alive-timeout'));
// HTTP/2 (issue 19): `--h2 GOAWAY_MS` serves h2c (prior knowledge) with node:http2; GOAWAY_MS > 0
// closes a session idle that long (GOAWAY, then FIN), like Envoy's idle_timeout or gRPC's
// max_connection_idle. Without --h2: HTTP/1.1.
const h2At = args.indexOf('--h2');
const h2GoawayMs = h2At >= 0 ? Number(opt('--h2')) : null;
const listens = args.map((a) => {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(a);
  return { host: m[1], port: Number(m[2]) };
});
fs.writeFileSync(logPath, '');

function handler(req, res) {
  // node:http2's compat socket is gone once the stream closed: take its addresses now.
  const s = { localAddress: req.socket.localAddress, localPort: req.socket.localPort, remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort };
  const startMs = Date.now();
  const t0 = performance.now();
  const chunks = [];
  let received = 0;
  req.on('data', (d) => { chunks.push(d); received += d.length; });
  req.on('end', () => {
    const id = req.headers['x-request-id'] ?? null;
    const body = JSON.stringify({ ok: true, path: req.url, requestId: id, servedBy: hostPort(s.localAddress, s.localPort) }) + '\n';
    const svc = Math.floor(performance.now() - t0);
    if (String(req.headers['content-type'] ?? '').startsWith('application/grpc')) {
      // gRPC over HTTP/2 (issue 19): one length-prefixed message (not compressed), then the trailers.
      const msg = Buffer.from(body);
      const framed = Buffer.concat([Buffer.from([0, msg.length >>> 24, (msg.length >>> 16) & 255, (msg.length >>> 8) & 255, msg.length & 255]), msg]);
      res.writeHead(200, { 'content-type': 'application/grpc+proto' });
      res.addTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' });
      res.end(framed);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }
    res.on('finish', () => {
      fs.appendFileSync(logPath, render({
        START_TIME: new Date(startMs).toISOString(),
        'REQ(:METHOD)': req.method,
        'REQ(X-ENVOY-ORIGINAL-PATH?:PATH)': req.url,
        PROTOCOL: req.httpVersion === '2.0' ? 'HTTP/2' : `HTTP/${req.httpVersion}`,
        RESPONSE_CODE: 200,
        RESPONSE_FLAGS: null,
        RESPONSE_CODE_DETAILS: 'via_upstream',
        BYTES_RECEIVED: received,
        BYTES_SENT: Buffer.byteLength(body),
        DURATION: Math.floor(performance.now() - t0),
        'RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)': svc,
        'REQ(X-FORWARDED-FOR)': req.headers['x-forwarded-for'],
        'REQ(USER-AGENT)': req.headers['user-agent'],
        'REQ(X-REQUEST-ID)': id,
        'REQ(:AUTHORITY)': req.headers.host ?? req.headers[':authority'],
        // The inbound sidecar's upstream is the app; in the lab app and sidecar are one
        // process, so the "app" address is this socket's own and no sidecar->app socket
        // exists (UPSTREAM_LOCAL_ADDRESS "-", Istio would show 127.0.0.6:port).
        UPSTREAM_HOST: hostPort(s.localAddress, s.localPort),
        UPSTREAM_CLUSTER: `inbound|${s.localPort}||`,
        UPSTREAM_LOCAL_ADDRESS: null,
        DOWNSTREAM_LOCAL_ADDRESS: hostPort(s.localAddress, s.localPort),
        DOWNSTREAM_REMOTE_ADDRESS: hostPort(s.remoteAddress, s.remotePort),
        REQUESTED_SERVER_NAME: null,
        ROUTE_NAME: 'default',
      }));
    });
  });
}

const servers = [];
let pending = listens.length;
for (const l of listens) {
  const srv = h2GoawayMs === null ? http.createServer(handler) : http2.createServer(handler);
  // 0 disables Node's idle keep-alive close (default 5000 ms); >0 = the server-fin scenario.
  if (h2GoawayMs === null) srv.keepAliveTimeout = keepAliveTimeout;
  else if (h2GoawayMs > 0) {
    srv.on('session', (session) => {
      // Like Envoy's idle_timeout: GOAWAY, then close the connection for good once the session
      // ends (node:http2 alone only half-closes and keeps reading, so later streams would be ACKed
      // and ignored; a closed socket makes the kernel answer them with an RST).
      session.setTimeout(h2GoawayMs, () => session.close());
    });
    // session.socket is a proxy that is unbound once the session ends: hold the raw socket, and
    // once its FIN has gone out (write side finished) close it for good.
    srv.on('connection', (sock) => sock.on('finish', () => sock.destroy()));
  }
  srv.listen({ host: l.host, port: l.port, ipv6Only: l.host.includes(':') }, () => {
    if (--pending === 0) fs.writeFileSync(readyPath, `${process.pid}\n`);
  });
  servers.push(srv);
}

process.on('SIGTERM', () => process.exit(0));

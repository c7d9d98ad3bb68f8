// Peers for lab/sockets/run.sh: real kernel sockets left idle, with and without SO_KEEPALIVE, so
// that `ss -tnoi` and /proc/net/tcp show what they show in production. No dependencies.
//
//   node peer.mjs server ADDR...        listen on each ADDR (host:port or [v6]:port); answer each
//                                       HTTP/1.1 request with a small 200, keep the connection open
//   node peer.mjs client PLAN.json      open the connections of PLAN, send one request on each,
//                                       print "ready" once every response is in; then on each line
//                                       "close NAME" on stdin destroy that connection (print
//                                       "closed NAME"), "send NAME" write one request on it without
//                                       waiting for an answer (print "sent NAME"); exit on EOF.
import net from 'node:net';
import fs from 'node:fs';
import readline from 'node:readline';

const [role, ...args] = process.argv.slice(2);

function split(addr) {
  const m = /^\[(.+)\]:(\d+)$/.exec(addr) ?? /^(.+):(\d+)$/.exec(addr);
  if (!m) throw new Error(`bad address ${addr}`);
  return { host: m[1], port: Number(m[2]) };
}

const REQUEST = (host) => `GET / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: flowdoc-lab-sockets/1.0\r\n\r\n`;
const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok';

if (role === 'server') {
  for (const a of args) {
    const { host, port } = split(a);
    net.createServer((s) => {
      s.on('data', (d) => { if (d.includes('\r\n\r\n')) s.write(RESPONSE); });
      s.on('error', () => {});
    }).listen({ host, port });
  }
  console.log('listening');
} else if (role === 'client') {
  /** @type {{name:string, to:string, keepalive:null|number}[]} keepalive: null = off, 0 = on with the kernel's time, N = on after N ms idle */
  const plan = JSON.parse(fs.readFileSync(args[0], 'utf8'));
  const socks = new Map();
  let waiting = plan.length;
  for (const c of plan) {
    const { host, port } = split(c.to);
    const s = net.connect({ host, port });
    socks.set(c.name, s);
    s.on('error', () => {});
    s.once('connect', () => {
      if (c.keepalive !== null) s.setKeepAlive(true, c.keepalive);
      s.write(REQUEST(c.to));
    });
    let seen = '';
    const onData = (d) => {
      seen += d;
      if (seen.endsWith('ok')) {
        s.off('data', onData);
        s.on('data', () => {});
        if (--waiting === 0) console.log('ready');
      }
    };
    s.on('data', onData);
  }
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [cmd, name] = line.trim().split(/\s+/);
    const s = socks.get(name);
    if (!s) return console.log(`unknown ${name}`);
    if (cmd === 'close') { s.destroy(); console.log(`closed ${name}`); }
    else if (cmd === 'send') { s.write(REQUEST(name)); console.log(`sent ${name}`); }
  });
  rl.on('close', () => process.exit(0));
} else {
  console.error('usage: peer.mjs server ADDR... | client PLAN.json');
  process.exit(2);
}

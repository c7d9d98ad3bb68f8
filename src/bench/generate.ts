/**
 * Synthetic captures for the benchmark, written with the project's own capture writer
 * (`CaptureScript` streaming into a `CaptureFileWriter`), so a capture of any size is generated
 * without holding it in memory. Every choice comes from a seeded generator: same options, same
 * bytes.
 *
 * Two workloads:
 * - `http`: thousands of concurrent HTTP/1.1 keep-alive connections from many client hosts to a
 *   few dozen servers; requests and responses from tens of bytes to several MTU-sized segments;
 *   connections closed by FIN after 2–20 exchanges (about as many seconds) and replaced by new
 *   ones (handshake), so a 200 MB capture (~25 s) already shows the steady state of the table;
 *   now and then a connection is parked for 11–20 s of capture time and then reused: two times in
 *   three a middlebox answers the request with a forged RST (a stale-reuse incident), else the
 *   server answers it (a survived idle gap, which the idle-timeout bracket uses).
 * - `churn`: a configurable number of short connections (SYN, SYN-ACK, ACK, FIN, ACK, FIN, ACK),
 *   a window of them open at once and advanced in random order, to stress the connection table:
 *   at 20 µs a frame, the 10 s linger keeps ~70,000 closed connections in the table on top of the
 *   open window.
 * - `synflood`: one SYN from each of N unique spoofed tuples to one server, none answered (a SYN
 *   flood, or a scan): every packet is a new half-open connection. At 2 µs a frame 1.5 M tuples
 *   take 3 s of capture time, less than the attempt timeout, so all of them are live at once —
 *   the worst case for the table's memory per connection.
 * - `held`: N connections opened and never closed — the table's memory per established
 *   connection, measured by `conn-bytes.ts`: three in four are HTTP/1.1 keep-alive (a handshake,
 *   then two exchanges, the second after every connection made its first), one in four a
 *   Redis-like client that answers to a small `PING` after the quiet (so it has a ping tracker).
 */
import { CaptureFileWriter, CaptureScript, SeededRandom, type TcpConversation } from '../writer/index.js';

export interface HttpMixOptions {
  path: string;
  format: 'pcap' | 'pcapng';
  /** Stop once this many bytes have been written. */
  targetBytes: number;
  /** Keep-alive connections open at once (default 4000). */
  concurrency?: number;
  seed?: number;
}

export interface ChurnOptions {
  path: string;
  format: 'pcap' | 'pcapng';
  /** Connections in the capture (default 200,000). */
  connections: number;
  /** Connections open at once (default 2000). */
  window?: number;
  seed?: number;
}

export interface SynFloodOptions {
  path: string;
  format: 'pcap' | 'pcapng';
  /** Unique tuples, one SYN each (default 1,500,000). */
  tuples: number;
  /** Capture time between two SYNs, µs (default 2). */
  stepMicros?: number;
  seed?: number;
}

export interface HeldOptions {
  path: string;
  format: 'pcap' | 'pcapng';
  /** Connections opened, none closed (default 20,000). */
  connections: number;
  seed?: number;
}

export interface GeneratedCapture {
  path: string;
  bytes: number;
  packets: number;
  /** Connections opened in the capture. */
  connections: number;
  /** Requests answered by a forged RST after an idle gap (http only). */
  staleResets: number;
  /** Requests after an idle gap that were answered (http only). */
  survivedIdles: number;
  /** Capture time covered, seconds. */
  durationSeconds: number;
  generateSeconds: number;
}

const START = '2024-05-01T10:00:00Z';
const MSS = 1460;

/** Uniform integer in [lo, hi]. */
function between(r: SeededRandom, lo: number, hi: number): number {
  return lo + (r.next32() % (hi - lo + 1));
}

/** Log-uniform integer in [lo, hi]: many small sizes, a tail of large ones. */
function logBetween(r: SeededRandom, lo: number, hi: number): number {
  const u = r.next32() / 4294967296;
  return Math.round(lo * Math.pow(hi / lo, u));
}

/** Client hosts (10.10.0.1, …, 64 per /24) and their next ephemeral ports: 32768–60999, then wrapping. */
class ClientPool {
  private readonly ports: number[];
  constructor(private readonly hosts: number) {
    this.ports = new Array<number>(hosts).fill(32768);
  }
  next(r: SeededRandom): string {
    const h = r.next32() % this.hosts;
    const port = this.ports[h]!;
    this.ports[h] = port >= 60999 ? 32768 : port + 1;
    return `10.${10 + (h >> 14)}.${(h >> 6) & 0xff}.${(h & 63) + 1}:${port}`;
  }
}

const FILLER = 'x'.repeat(16_384);
const PATHS = ['/api/items', '/api/users', '/api/orders', '/healthz', '/api/search', '/static/app.js'];

interface Live {
  conv: TcpConversation;
  /** Exchanges left before the client closes it. */
  remaining: number;
}

interface Parked {
  conv: TcpConversation;
  wakeMicros: number;
  staleRst: boolean;
}

/** The HTTP/1.1 keep-alive mix (see the file comment). */
export function generateHttpMix(o: HttpMixOptions): GeneratedCapture {
  const started = performance.now();
  const writer = CaptureFileWriter.toFile(o.path, { format: o.format, linkType: 1 });
  // 50 µs a frame: with 4000 connections each is used about once a second, so ordinary traffic
  // has no idle gap near the 10 s threshold; only parked connections do.
  const script = new CaptureScript({ writer, start: START, stepMicros: 50, seed: o.seed ?? 1 });
  const t0 = script.now;
  const r = new SeededRandom((o.seed ?? 1) * 7919);
  const concurrency = o.concurrency ?? 4000;
  const clients = new ClientPool(1024);
  const servers = Array.from({ length: 48 }, (_, i) => `10.20.${i >> 4}.${(i & 15) + 10}:8080`);
  const live: Live[] = [];
  const parked: Parked[] = [];
  let connections = 0, requests = 0, staleResets = 0, survivedIdles = 0;

  const open = (): Live => {
    const conv = script.tcp({ client: clients.next(r), server: servers[r.next32() % servers.length]!, clientTtl: 64, serverTtl: 62 });
    conv.handshake();
    connections++;
    return { conv, remaining: between(r, 2, 20) };
  };

  const exchange = (conv: TcpConversation, answered: boolean): void => {
    requests++;
    const path = `${PATHS[r.next32() % PATHS.length]!}/${r.next32() % 100000}`;
    const id = `req-${requests}`;
    let request: string;
    if (r.next32() % 5 === 0) {
      const body = logBetween(r, 10, 1200);
      request = `POST ${path} HTTP/1.1\r\nHost: api.internal\r\nx-request-id: ${id}\r\ncontent-type: application/json\r\nContent-Length: ${body}\r\n\r\n${FILLER.slice(0, body)}`;
    } else {
      request = `GET ${path} HTTP/1.1\r\nHost: api.internal\r\nx-request-id: ${id}\r\nuser-agent: bench/1.0\r\naccept: */*\r\n\r\n`;
    }
    conv.clientSends(request, { ack: answered ? true : false });
    if (!answered) return;
    const body = logBetween(r, 20, 6 * MSS);
    conv.serverSends(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: ${body}\r\n\r\n${FILLER.slice(0, body)}`);
  };

  for (let i = 0; i < concurrency; i++) live.push(open());

  while (writer.bytesWritten < o.targetBytes) {
    if (parked.length > 0 && parked[0]!.wakeMicros <= script.now) {
      const p = parked.shift()!;
      if (p.staleRst) {
        // The load balancer forgot the connection: its RST carries the server's address, its own TTL.
        exchange(p.conv, false);
        p.conv.rst('server', { ttl: 250 });
        staleResets++;
      } else {
        exchange(p.conv, true);
        p.conv.fin('client');
        p.conv.fin('server');
        survivedIdles++;
      }
      continue;
    }
    const i = r.next32() % live.length;
    const l = live[i]!;
    if (l.remaining <= 0) {
      l.conv.fin('client');
      l.conv.fin('server');
      live[i] = open();
      continue;
    }
    if (r.next32() % 4000 === 0) {
      // Park it: idle 11–20 s, then reused (parked in wake order: the delay grows with the clock).
      parked.push({ conv: l.conv, wakeMicros: script.now + between(r, 11_000, 20_000) * 1000, staleRst: r.next32() % 3 !== 0 });
      parked.sort((a, b) => a.wakeMicros - b.wakeMicros);
      live[i] = open();
      continue;
    }
    exchange(l.conv, true);
    l.remaining--;
  }
  writer.close();
  return {
    path: o.path, bytes: writer.bytesWritten, packets: writer.packets, connections, staleResets, survivedIdles,
    durationSeconds: (script.now - t0) / 1e6, generateSeconds: (performance.now() - started) / 1000,
  };
}

const CHURN_STEPS = 7;

/** Short connections, a window of them open at once (see the file comment). */
export function generateChurn(o: ChurnOptions): GeneratedCapture {
  const started = performance.now();
  const writer = CaptureFileWriter.toFile(o.path, { format: o.format, linkType: 1 });
  const stepMicros = 20;
  const script = new CaptureScript({ writer, start: START, stepMicros, seed: o.seed ?? 2 });
  const t0 = script.now;
  const r = new SeededRandom((o.seed ?? 2) * 104729);
  const windowSize = Math.min(o.window ?? 2000, o.connections);
  // 4096 client hosts × 28k ports: no tuple repeats within a million connections.
  const clients = new ClientPool(4096);
  const servers = Array.from({ length: 16 }, (_, i) => `10.30.0.${i + 10}:${i % 2 ? 443 : 80}`);
  const convs: TcpConversation[] = [];
  const steps: number[] = [];
  let opened = 0;
  const open = (): TcpConversation => {
    opened++;
    return script.tcp({ client: clients.next(r), server: servers[r.next32() % servers.length]!, tcpOptions: { timestamps: false } });
  };
  for (let i = 0; i < windowSize; i++) {
    convs.push(open());
    steps.push(0);
  }
  let active = windowSize;
  while (active > 0) {
    const i = r.next32() % active;
    const c = convs[i]!;
    switch (steps[i]!) {
      case 0: c.syn(); break;
      case 1: c.synAck(); break;
      case 2: c.ack('client'); break;
      case 3: c.fin('client', { ack: false }); break;
      case 4: c.ack('server'); break;
      case 5: c.fin('server', { ack: false }); break;
      default: c.ack('client'); break;
    }
    steps[i]!++;
    if (steps[i] === CHURN_STEPS) {
      if (opened < o.connections) {
        convs[i] = open();
        steps[i] = 0;
      } else {
        active--;
        convs[i] = convs[active]!;
        steps[i] = steps[active]!;
      }
    }
  }
  writer.close();
  return {
    path: o.path, bytes: writer.bytesWritten, packets: writer.packets, connections: opened, staleResets: 0, survivedIdles: 0,
    durationSeconds: (script.now - t0) / 1e6, generateSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * A SYN flood (see the file comment): source addresses walk 100.64.0.0/10 (shared address space,
 * never a real client) in a seeded order, source ports are random above 1024, so no tuple
 * repeats; the server never answers.
 */
export function generateSynFlood(o: SynFloodOptions): GeneratedCapture {
  const started = performance.now();
  const writer = CaptureFileWriter.toFile(o.path, { format: o.format, linkType: 1 });
  const script = new CaptureScript({ writer, start: START, stepMicros: o.stepMicros ?? 2, seed: o.seed ?? 3 });
  const t0 = script.now;
  const r = new SeededRandom((o.seed ?? 3) * 15485863);
  // 2^22 addresses in 100.64/10; an odd multiplier visits each once in a scattered order.
  const SPACE = 1 << 22;
  if (o.tuples > SPACE) throw new Error(`at most ${SPACE} tuples`);
  for (let i = 0; i < o.tuples; i++) {
    const a = (Math.imul(i, 2654435761) >>> 0) % SPACE; // 2654435761 is odd: a bijection mod 2^22
    const client = `100.${64 + (a >>> 16)}.${(a >>> 8) & 0xff}.${a & 0xff}:${1024 + (r.next32() % 64512)}`;
    script.tcp({ client, server: '10.40.0.10:443', tcpOptions: { timestamps: false } }).syn();
  }
  writer.close();
  return {
    path: o.path, bytes: writer.bytesWritten, packets: writer.packets, connections: o.tuples, staleResets: 0, survivedIdles: 0,
    durationSeconds: (script.now - t0) / 1e6, generateSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * N established connections, none closed (see the file comment): at the end of the capture every
 * one is live, with what a connection that carried traffic holds (sniffer, ping tracker).
 */
export function generateHeld(o: HeldOptions): GeneratedCapture {
  const started = performance.now();
  const writer = CaptureFileWriter.toFile(o.path, { format: o.format, linkType: 1 });
  const script = new CaptureScript({ writer, start: START, stepMicros: 50, seed: o.seed ?? 4 });
  const t0 = script.now;
  const r = new SeededRandom((o.seed ?? 4) * 7927);
  // 1024 hosts × 28k ports: no tuple repeats below 28 M connections.
  const clients = new ClientPool(1024);
  const convs: TcpConversation[] = [];
  const redis = (i: number) => i % 4 === 3;
  let requests = 0;
  const exchange = (conv: TcpConversation): void => {
    requests++;
    conv.clientSends(`GET ${PATHS[r.next32() % PATHS.length]!}/${r.next32() % 100000} HTTP/1.1\r\nHost: api.internal\r\nx-request-id: req-${requests}\r\nuser-agent: bench/1.0\r\n\r\n`);
    const body = logBetween(r, 20, 2000);
    conv.serverSends(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: ${body}\r\n\r\n${FILLER.slice(0, body)}`);
  };
  for (let i = 0; i < o.connections; i++) {
    const server = redis(i) ? `10.21.0.${10 + (i % 8)}:6379` : `10.20.${(i >> 4) % 3}.${(i & 15) + 10}:8080`;
    const conv = script.tcp({ client: clients.next(r), server, clientTtl: 64, serverTtl: 62 });
    conv.handshake();
    if (redis(i)) {
      conv.clientSends('*2\r\n$3\r\nGET\r\n$8\r\nsession:\r\n');
      conv.serverSends(`$${between(r, 100, 900)}\r\n${FILLER.slice(0, 100)}\r\n`);
    } else exchange(conv);
    convs.push(conv);
  }
  // The second round comes after seconds of quiet on each connection (N × ~7 frames × 50 µs).
  script.idle(2);
  for (let i = 0; i < convs.length; i++) {
    const conv = convs[i]!;
    if (redis(i)) {
      conv.clientSends('PING\r\n');
      conv.serverSends('+PONG\r\n');
    } else exchange(conv);
  }
  writer.close();
  return {
    path: o.path, bytes: writer.bytesWritten, packets: writer.packets, connections: o.connections, staleResets: 0, survivedIdles: 0,
    durationSeconds: (script.now - t0) / 1e6, generateSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * Captures for scan tests, written by the project's capture writer: a stale-reuse incident (a
 * request after a long idle, answered by a middlebox's forged RST), a healthy capture, and a
 * long connection split into rotated files like `tcpdump -C` makes.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CaptureScript, renderCapture } from '../../src/writer/index.js';

export function tempDir(prefix = 'flowdoc-scan-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function put(dir: string, rel: string, bytes: Uint8Array | string): string {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, bytes);
  return p;
}

export interface StaleOptions {
  start?: string;
  client?: string;
  server?: string;
  /** Silence before the request that meets the RST. */
  idle?: number;
  /** A first idle that the connection survives (the request after it is answered). */
  survived?: number;
  seed?: number;
}

/** One connection: a request, an idle it survives (optional), a stale idle, a request, a forged RST. */
export function staleScript(o: StaleOptions = {}): CaptureScript {
  const cap = new CaptureScript({ start: o.start ?? '2024-05-01T10:00:00Z', seed: o.seed ?? 1 });
  const c = cap.tcp({ client: o.client ?? '10.0.0.1:40000', server: o.server ?? '10.0.9.9:80', serverTtl: 61 });
  c.handshake();
  c.clientSends('GET /a HTTP/1.1\r\nHost: api\r\n\r\n');
  c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  if (o.survived !== undefined) {
    cap.idle(o.survived);
    c.clientSends('GET /b HTTP/1.1\r\nHost: api\r\n\r\n');
    c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  }
  cap.idle(o.idle ?? 900);
  c.clientSends('GET /c HTTP/1.1\r\nHost: api\r\n\r\n', { ack: false });
  c.rst('server', { ttl: 62 }); // one hop closer than the server (61): a middlebox
  return cap;
}

export function staleCapture(o: StaleOptions & { format?: 'pcap' | 'pcapng' } = {}): Uint8Array {
  const cap = staleScript(o);
  return o.format === 'pcapng' ? cap.toPcapng() : cap.toPcap();
}

/** A few short connections that all get their answers: no incident. */
export function healthyCapture(o: { start?: string; connections?: number; seed?: number; server?: string } = {}): Uint8Array {
  const cap = new CaptureScript({ start: o.start ?? '2024-05-01T11:00:00Z', seed: o.seed ?? 2 });
  for (let i = 0; i < (o.connections ?? 3); i++) {
    const c = cap.tcp({ client: `10.0.0.2:${41000 + i}`, server: o.server ?? '10.0.8.8:443', serverTtl: 62 });
    c.handshake();
    c.clientSends('GET / HTTP/1.1\r\nHost: ok\r\n\r\n');
    c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    c.fin('client');
    c.fin('server');
    c.ack('client');
    cap.idle(1);
  }
  return cap.toPcap();
}

/**
 * The stale connection split at `splitAfter` frames into two pcap files, the cut falling inside
 * the idle gap: the request and the RST are in the second file.
 */
export function splitStale(o: StaleOptions & { splitAfter?: number } = {}): { first: Uint8Array; second: Uint8Array; frames: number } {
  const cap = staleScript(o);
  const frames = cap.frames;
  const cut = o.splitAfter ?? frames.length - 2;
  return {
    first: renderCapture(frames.slice(0, cut), { format: 'pcap' }),
    second: renderCapture(frames.slice(cut), { format: 'pcap' }),
    frames: frames.length,
  };
}

export const gzip = (b: Uint8Array): Uint8Array => gzipSync(b);

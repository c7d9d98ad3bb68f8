import { describe, expect, it } from 'vitest';
import { CaptureScript, ETHERTYPE, LINKTYPE, PcapngWriter, encapsulate, type ScriptFrame } from '../../src/writer/index.js';
import { isoWithPrecision } from '../../src/shared/time.js';
import { runCli } from '../support/io.js';
import { SlowWriter, WatchRun } from '../support/watch.js';

const CONNECTIONS = 1500;
const APART_SECONDS = 40;
const EXPIRY_SECONDS = 600;

/**
 * 1500 connections, one every 40 s of capture time (16.7 hours), each used once and left open
 * without a FIN; then one that goes stale and is reset. pcapng with nanosecond timestamps; the
 * second half of the stream is captured on a second interface (Linux cooked v2) whose
 * description block arrives mid-stream, after the first half's packets.
 */
function longStream(): { bytes: Uint8Array; stale: { request: number; rst: number; requestMicros: number; rstMicros: number } } {
  const cap = new CaptureScript({ start: '2024-03-01T00:00:00.000000001Z', stepMicros: 137 });
  for (let i = 0; i < CONNECTIONS; i++) {
    const c = cap.tcp({ client: `10.1.${i >> 8}.${i & 255}:40000`, server: '10.9.0.1:80', serverTtl: 63 });
    c.handshake();
    c.clientSends('GET /ok HTTP/1.1\r\nHost: api\r\n\r\n');
    c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    cap.idle(APART_SECONDS);
  }
  const z = cap.tcp({ client: '10.2.0.1:50000', server: '10.9.0.1:80', serverTtl: 63 });
  z.handshake();
  z.clientSends('GET /a HTTP/1.1\r\nHost: api\r\n\r\n');
  z.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  cap.idle(30);
  const requestMicros = cap.now;
  const [request] = z.clientSends('GET /b HTTP/1.1\r\nHost: api\r\n\r\n', { ack: false });
  const rstMicros = cap.now;
  const [rst] = z.rst('server', { ttl: 64 });
  const w = new PcapngWriter();
  w.section();
  const ns = { base: 10, exp: 9 } as const;
  w.interface({ linkType: LINKTYPE.ETHERNET, tsresol: ns });
  const half = Math.floor(cap.frames.length / 2);
  const put = (f: ScriptFrame, interfaceId: number, linkType: number) =>
    w.packet({ interfaceId, tsMicros: f.tsMicros, tsExtraNanos: f.tsExtraNanos, data: encapsulate(f.payload, f.ethertype, { linkType }, f.link) });
  cap.frames.slice(0, half).forEach((f) => put(f, 0, LINKTYPE.ETHERNET));
  w.interface({ linkType: LINKTYPE.LINUX_SLL2, tsresol: ns });
  cap.frames.slice(half).forEach((f) => put(f, 1, LINKTYPE.LINUX_SLL2));
  expect(cap.frames[0]!.ethertype).toBe(ETHERTYPE.IPV4);
  return { bytes: w.toBytes(), stale: { request: request!, rst: rst!, requestMicros, rstMicros } };
}

describe('flowdoc watch holds only the connections that can still tell something', () => {
  it('lets idle connections go by capture time: live connections stay bounded over 16 hours, and frames and times stay exact', async () => {
    const { bytes, stale } = longStream();
    const run = new WatchRun(['-', '--idle-expiry', String(EXPIRY_SECONDS), '--stats-interval', '3600'], new SlowWriter(bytes, { chunk: 8192, pauseMs: 0 }).stream);
    expect(await run.done).toBe(1);
    const stats = run.events.filter((e) => e.event === 'stats').map((e) => e.stats as Record<string, number>);
    expect(stats.length).toBe(16);
    // Alive at once: the connections used within the expiry (600 s / 40 s apart), plus one sweep's slack (1/16 of it) and the newest.
    const bound = Math.ceil((EXPIRY_SECONDS * 17 / 16) / APART_SECONDS) + 1;
    for (const s of stats) {
      expect(s.connectionsLive).toBeLessThanOrEqual(bound);
      // Every connection is accounted for: none closed, so each one not live was let go idle.
      expect(s.expired).toBe(s.connections - s.connectionsLive);
    }
    const summary = run.events.at(-1)!.report as Record<string, any>;
    expect(summary.summary.connections).toBe(CONNECTIONS + 1);
    expect(summary.summary.peakLiveConnections).toBeLessThanOrEqual(bound);
    expect(summary.summary.peakLiveConnections).toBeGreaterThanOrEqual(EXPIRY_SECONDS / APART_SECONDS);
    expect(summary.capture.linkTypes).toEqual([LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL2]);
    const expired = summary.warnings.map((w: string) => /^(\d+) connections idle past the idle expiry were let go/.exec(w)?.[1]).find(Boolean);
    expect(Number(expired)).toBeGreaterThanOrEqual(CONNECTIONS + 1 - bound);
    // The stale reuse at the end, 16.7 hours in: frame numbers from the start of the stream and µs times exact.
    const incidents = run.events.filter((e) => e.event === 'incident').map((e) => e.incident as Record<string, any>);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]!.frames).toMatchObject({ request: stale.request, rst: stale.rst });
    expect(incidents[0]!.times).toMatchObject({ request: isoWithPrecision(stale.requestMicros, 0, 6), rst: isoWithPrecision(stale.rstMicros, 0, 6) });
    // analyze keeps every connection to the end of the file: the bound is the expiry's doing.
    const analyzed = JSON.parse((await runCli(['analyze', '-f', 'json', '-'], { stdin: bytes })).stdout);
    expect(analyzed.summary.peakLiveConnections).toBe(CONNECTIONS + 1);
    expect(analyzed.incidents[0]).toEqual(incidents[0]);
  });
});

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_OPEN_AT_END } from '../detect/index.js';
import { CaptureScript } from '../writer/index.js';
import { analyzeCapture, type AnalyzeOptions } from './analyze.js';

const START = '2024-05-01T10:00:00Z';
const GET = 'GET /a HTTP/1.1\r\nHost: api\r\n\r\n';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const FLOODED = '10.0.0.9:443';
const FLOOD = MAX_OPEN_AT_END + 2000;

/**
 * A SYN flood on a server whose connections also go stale (so its destination has a timeout
 * bracket and its open attempts can be at risk), with ordinary traffic through it: answered,
 * refused, retried and IPv6 attempts, a survived idle, and a last packet 1 s after the flood
 * (which lasts less than the 5 s attempt timeout: every attempt is open at the end by default).
 */
function floodOnAStaleServer(): Uint8Array {
  const cap = new CaptureScript({ start: START, stepMicros: 200 });
  const stale = cap.tcp({ client: '10.1.9.1:41000', server: FLOODED, serverTtl: 60 });
  stale.handshake();
  stale.clientSends(GET);
  stale.serverSends(OK);
  const survived = cap.tcp({ client: '10.1.9.2:41001', server: FLOODED, serverTtl: 60 });
  survived.handshake();
  survived.clientSends(GET);
  survived.serverSends(OK);
  cap.idle(12);
  survived.clientSends(GET);
  survived.serverSends(OK);
  cap.idle(20);
  stale.clientSends(GET, { ack: false });
  stale.rst('server', { ttl: 250 }); // a middlebox forgot it after 32 s idle: stale-reuse-rst
  for (let i = 0; i < FLOOD; i++) {
    cap.tcp({ client: `100.64.${i >> 8}.${i & 0xff}:${1024 + i}`, server: FLOODED }).syn();
    if (i % 500 === 0) {
      const c = cap.tcp({ client: `10.1.0.${i / 500}:40000`, server: '10.0.0.2:80' });
      c.handshake();
      c.clientSends(GET);
      c.serverSends(OK);
      c.fin('client');
      c.fin('server');
      const refused = cap.tcp({ client: `10.2.0.${i / 500}:40001`, server: FLOODED });
      refused.syn();
      refused.rst('server', { ack: true });
      const retried = cap.tcp({ client: `10.3.0.${i / 500}:40002`, server: '10.0.0.2:82' });
      retried.syn();
      retried.syn(); // the same ISN again
      cap.tcp({ client: `[2001:db8::${(i / 500).toString(16)}]:40004`, server: '[2001:db8::2]:443' }).syn();
    }
  }
  cap.idle(1);
  survived.clientSends(GET);
  return cap.toPcap();
}

function analyze(bytes: Uint8Array, options: AnalyzeOptions) {
  return analyzeCapture('-', { ...options, stdin: Readable.from([Buffer.from(bytes)]) });
}

describe('connection attempts counted as data by the detector (no connection or record for a never-answered SYN)', () => {
  it('reports the same summary, destinations, incidents and at-risk connections as records of every attempt', async () => {
    const bytes = floodOnAStaleServer();
    const settings: AnalyzeOptions[] = [
      {}, // every attempt open at the end (the flood lasts less than the attempt timeout)
      { lbTimeouts: { any: 0.5, byServer: new Map() } }, // …and idle past the stated timeout: at risk
      { maxConnections: 4000 }, // evicted at the cap
      { attemptTimeoutSeconds: 0.5 }, // expired (all but the last half second's)
      { attemptTimeoutSeconds: 0, maxConnections: 5000, lbTimeouts: { any: 2, byServer: new Map([[FLOODED, 1]]) } },
    ];
    for (const options of settings) {
      const asData = await analyze(bytes, options);
      // Any onConnection makes the table hand every attempt on as a connection record.
      let records = 0;
      const asRecords = await analyze(bytes, { ...options, onConnection: () => { records++; } });
      expect(records).toBe(asRecords.summary.connections);
      expect(asData).toEqual(asRecords);
      const flooded = asData.destinations.find((d) => d.server === FLOODED)!;
      // The flood, the stale and the survived connection, the refused ones (and, past the cap, a
      // partial one when the evicted survivor sends again).
      expect(flooded.connections).toBeGreaterThanOrEqual(FLOOD + 2 + FLOOD / 500);
      expect(flooded.keepalive.connectionsWithoutProbes).toBe(flooded.connections);
      expect(asData.summary.incidentsByKind['stale-reuse-rst']).toBe(1);
    }
  });

  it('checks the attempts open at the end for risk, up to the at-risk limit, like any open connection', async () => {
    const r = await analyze(floodOnAStaleServer(), { lbTimeouts: { any: 0.5, byServer: new Map() } });
    expect(r.summary.attemptsExpired).toBe(0);
    // Every flood SYN is ≥ 1 s idle at the end, past the stated 0.5 s: the first 10,000 connections
    // open at the end (in id order; a few dozen are the retried and IPv6 ones) are checked.
    expect(r.atRisk).toHaveLength(MAX_OPEN_AT_END - 1); // the survivor sent the last packet: not idle
    expect(r.atRisk.every((a) => a.level === 'will-fail')).toBe(true);
    expect(r.atRisk.filter((a) => `${a.endpoints.server.host}:${a.endpoints.server.port}` === FLOODED).length).toBeGreaterThan(MAX_OPEN_AT_END - 100);
    const open = FLOOD + 1 + 2 * (FLOOD / 500); // flood, survivor, retried, IPv6
    expect(r.warnings).toContain(`${open - MAX_OPEN_AT_END} connections open at the end of the capture were not checked for risk (more than ${MAX_OPEN_AT_END} were open)`);
  });
});

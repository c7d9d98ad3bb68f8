import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture, type AnalysisResult } from '../../src/analysis/analyze.js';
import type { Connection } from '../../src/flows/index.js';
import { HAVE_SHARED, REAL, REPO_ROOT } from '../corpus/shared.js';
import { connectionsOf } from '../support/analyze.js';
import { runCli } from '../support/io.js';
import { clipPcap } from '../support/snaplen.js';
import { incidentSummary } from '../../src/report/index.js';
import { formatEnds, formatPath } from '../../src/report/address.js';
import { sameHostPort } from '../../src/detect/index.js';

/**
 * Headers-only captures: captures/snaplen/ holds lab captures cut with `editcap -s 96` / `-s 128`
 * (what `tcpdump -s 96` writes: every record's captured length clipped, its original length
 * kept). flowdoc must find the same incidents as on the full capture — sequence and byte
 * accounting on the wire length — and show what each cut request's captured prefix holds,
 * marked truncated, instead of "unrecognised payload".
 */

const CAPTURES = join(REPO_ROOT, 'captures');
const SNAP = join(CAPTURES, 'snaplen');

interface Cut { scenario: string; source: string; snap: number }
const CUTS: Cut[] = [
  ...['rst-after-idle', 'h2-rst-after-idle', 'h2-goaway-race', 'h2-ping-keepalive'].flatMap((scenario) => [96, 128].map((snap) => ({ scenario, source: 'client-eth.pcap', snap }))),
  { scenario: 'h2-rst-after-idle', source: 'client-any.pcap', snap: 96 },
  { scenario: 'rst-after-idle', source: 'lb-any.pcap', snap: 96 },
];
const cutFile = (c: Cut) => join(SNAP, `${c.scenario}-${c.source.replace('.pcap', '')}-s${c.snap}.pcap`);
const fullFile = (c: Cut) => join(CAPTURES, c.scenario, c.source);
const label = (c: Cut) => `${c.scenario}/${c.source} -s ${c.snap}`;

/** What must not depend on the snap length: the TCP story of every connection. */
function tcpStory(conns: readonly Connection[]) {
  return conns.map((c) => ({
    client: c.client, server: c.server, state: c.state, history: c.history, maxIdle: c.maxIdleSeconds,
    clientBytes: c.clientStats.payloadBytes, serverBytes: c.serverStats.payloadBytes,
    retransmissions: [c.clientStats.retransmissions, c.serverStats.retransmissions],
    notCaptured: [c.clientStats.segmentsNotCaptured, c.serverStats.segmentsNotCaptured],
    gaps: c.idleGaps.map((g) => [g.fromFrame, g.toFrame, g.seconds]),
    // gRPC is told by content-type, which HPACK may send as a reference to a table entry that a
    // cut header block inserted: after a cut, it can be unknown (h2c). Everything else is the same.
    appProtocol: c.appProtocol === 'grpc' ? 'h2c' : c.appProtocol,
    pings: c.h2?.pings.client ?? null,
  }));
}

/** The incidents, without what the snap length may cut (request fields, streams, text). */
function incidentShape(r: AnalysisResult) {
  return r.incidents.map((i) => ({ kind: i.kind, client: formatEnds(i.endpoints).client, frames: i.frames, idle: i.idleSeconds, rst: i.rst?.origin ?? null, retry: i.retry.safe, goaway: i.goaway ?? null }));
}

describe('headers-only captures (snap length 96 / 128): the same incidents as the full capture', () => {
  it('the files really are cut: captured length below the length on the wire', async () => {
    for (const c of CUTS) {
      const { connections } = await connectionsOf(readFileSync(cutFile(c)));
      expect(connections.some((x) => x.app.some((m) => m.truncated !== undefined)), label(c)).toBe(true);
    }
  });

  for (const c of CUTS) {
    it(`${label(c)}: every connection's sequence and byte accounting, and every incident, equal the full capture's`, async () => {
      const full = await connectionsOf(readFileSync(fullFile(c)));
      const cut = await connectionsOf(readFileSync(cutFile(c)));
      expect(tcpStory(cut.connections)).toEqual(tcpStory(full.connections));
      // No anomaly the full capture does not have (a cut must not read as lost segments or broken frames).
      expect(cut.connections.map((x) => x.anomalyCounts)).toEqual(full.connections.map((x) => x.anomalyCounts));
      expect(incidentShape(cut.result)).toEqual(incidentShape(full.result));
      expect(cut.result.destinations.map((d) => [d.server, d.keepalive.verdict, d.keepalive.text])).toEqual(full.result.destinations.map((d) => [d.server, d.keepalive.verdict, d.keepalive.text]));
    });

    it(`${label(c)}: each request is what its captured prefix holds — method, a prefix of the path, the stream — never more`, async () => {
      const full = await connectionsOf(readFileSync(fullFile(c)));
      const cut = await connectionsOf(readFileSync(cutFile(c)));
      // A request whose HEADERS lay wholly in the bytes a cut left out is not there (stream 1 of an
      // h2 connection shares its segment with the preface and SETTINGS); what is there is right.
      expect(cut.connections.flatMap((x) => x.app).filter((m) => m.kind === 'http-request').length).toBeGreaterThan(0);
      cut.connections.forEach((conn, k) => {
        const whole = full.connections[k]!.app;
        const requests = conn.app.filter((m) => m.kind === 'http-request');
        for (const m of requests) {
          const w = whole.find((x) => x.kind === 'http-request' && x.frame === m.frame && x.streamId === m.streamId);
          expect(w, `${label(c)} frame ${m.frame}`).toBeDefined();
          if (m.method !== '?') expect(m.method).toBe(w!.method);
          if (m.path !== '?') expect(w!.path!.startsWith(m.path!), `${m.path} is a prefix of ${w!.path}`).toBe(true);
          if (m.requestId !== undefined) expect(m.requestId).toBe(w!.requestId);
          if (m.truncated) {
            expect(m.truncated.capturedBytes).toBeLessThan(m.truncated.wireBytes);
            expect(m.truncated.capturedBytes).toBeLessThanOrEqual(c.snap);
          } else {
            // Not cut: every field it has is the full capture's. HTTP/2 fields that referenced HPACK
            // entries a cut block inserted are unknown (counted), never guessed.
            const { unknownHeaderFields, ...known } = m;
            for (const [key, value] of Object.entries(known)) expect(value, `${label(c)} frame ${m.frame} ${key}`).toEqual(w![key as keyof typeof w]);
            if (unknownHeaderFields === undefined) expect(m).toEqual(w);
          }
        }
      });
    });
  }
});

describe('what a cut request shows', () => {
  it('rst-after-idle -s 96: the HTTP/1 request after the idle is GET /api/items/4, truncated, in the summary and every format', async () => {
    const c = CUTS.find((x) => x.scenario === 'rst-after-idle' && x.snap === 96)!;
    const r = await analyzeCapture(cutFile(c));
    const [i] = r.incidents;
    expect(i!.request).toMatchObject({ protocol: 'http', method: 'GET', path: '/api/items/4', truncated: { capturedBytes: 30 } });
    expect(incidentSummary(i!)).toMatch(/^GET \/api\/items\/4 … on 10\.200\.1\.2:\d+ → 10\.200\.9\.9:80 after 13\.0 s idle/);
    const table = (await runCli(['analyze', cutFile(c)])).stdout;
    expect(table).toMatch(/request: GET \/api\/items\/4 … \(cut by the snap length: 30 of \d+ payload bytes captured\)/);
    const md = (await runCli(['analyze', '-f', 'markdown', cutFile(c)])).stdout;
    expect(md).toMatch(/\| request \| frame 14 at [^|]+: `GET \/api\/items\/4 …` \(cut by the snap length: 30 of \d+ payload bytes captured\) \|/);
    const html = (await runCli(['analyze', '-f', 'html', cutFile(c)])).stdout;
    expect(html).toContain('cut by the snap length: 30 of');
    const json = JSON.parse((await runCli(['analyze', '-f', 'json', cutFile(c)])).stdout);
    expect(json.incidents[0].request.truncated).toEqual({ capturedBytes: 30, wireBytes: i!.request!.truncated!.wireBytes });
  });

  it('h2-rst-after-idle -s 96: stream 7 named with its method and path; stream 9\'s HEADERS was among the bytes not captured', async () => {
    const c = CUTS.find((x) => x.scenario === 'h2-rst-after-idle' && x.snap === 96 && x.source === 'client-eth.pcap')!;
    const [i] = (await analyzeCapture(cutFile(c))).incidents;
    expect(i!.kind).toBe('stale-reuse-rst');
    expect(i!.request).toMatchObject({ protocol: 'http', streamId: 7, method: 'GET' });
    expect(i!.streams!.map((s) => s.streamId)).toEqual([7]);
    expect('/api/items/4'.startsWith(i!.streams![0]!.path)).toBe(true);
  });

  it('h2-rst-after-idle -s 128: both streams 7 and 9, the second marked truncated', async () => {
    const c = CUTS.find((x) => x.scenario === 'h2-rst-after-idle' && x.snap === 128)!;
    const [i] = (await analyzeCapture(cutFile(c))).incidents;
    expect(i!.streams!.map((s) => [s.streamId, s.method, s.truncated !== undefined])).toEqual([[7, 'GET', false], [9, 'GET', true]]);
    const table = (await runCli(['analyze', cutFile(c)])).stdout;
    expect(table).toMatch(/stream 9: GET [^\n]*\(cut by the snap length: \d+ of \d+ payload bytes captured\)/);
  });

  it('h2-goaway-race -s 96 / -s 128: the stream above the GOAWAY, stream 3, as far as the prefix goes', async () => {
    for (const snap of [96, 128]) {
      const c = CUTS.find((x) => x.scenario === 'h2-goaway-race' && x.snap === snap)!;
      const [i] = (await analyzeCapture(cutFile(c))).incidents;
      expect(i!.kind).toBe('reuse-after-goaway');
      expect(i!.streams!.map((s) => [s.streamId, s.method])).toEqual([[3, 'GET']]);
      expect(i!.streams![0]!.truncated).toBeDefined();
      // -s 128 reaches the :path literal of this client's header block; -s 96 does not.
      if (snap === 128) expect(i!.streams![0]!.path).toBe('/api/items/2');
      else expect(incidentSummary(i!)).toMatch(/stream 3 \(GET \(path not captured\)\)/);
    }
  });

  it('h2-ping-keepalive -s 96: still gRPC kept warm by PINGs (17-byte PING segments fit any snap length)', async () => {
    const c = CUTS.find((x) => x.scenario === 'h2-ping-keepalive' && x.snap === 96)!;
    const r = await analyzeCapture(cutFile(c));
    expect(r.incidents).toEqual([]);
    expect(r.destinations[0]!.keepalive.verdict).toBe('app-level');
  });

  it('joins the cut h2 request to the client log by connection and time', async () => {
    const c = CUTS.find((x) => x.scenario === 'h2-rst-after-idle' && x.source === 'client-any.pcap')!;
    const r = await runCli(['analyze', '-f', 'json', cutFile(c), '--logs', `client=${join(CAPTURES, c.scenario, 'client.log')}`]);
    expect(r.code).toBe(1);
    const [i] = JSON.parse(r.stdout).incidents;
    expect(i.logs.length).toBeGreaterThan(0);
    expect(i.logs.every((l: { hop: string }) => l.hop === 'client')).toBe(true);
  });
});

/**
 * Real headers-only captures: lab scenarios rst-after-idle-snaplen and h2-rst-after-idle-snaplen
 * captured every vantage in full and, at the same time, with `tcpdump -s 96` and `-s 128`
 * (lab/scenarios.mjs, issue 19 headers-only block). tcpdump writes them as pcap with the snap
 * length in the file header (editcap writes pcapng). truth.json `snaplen` was computed by
 * lab/snaplen-verify.mjs from the files: the cut files hold the full ones' packets, and per
 * request frame how many payload bytes were captured of how many on the wire (tshark).
 */
interface RealCut {
  file: string; from: string; vantage: string; snaplen: number;
  fileHeader: { format: string; snaplen: number; linkType: number };
  packets: number; cutRecords: number;
  tsharkTcpAnalysis: { lostSegment: number; retransmission: number; outOfOrder: number; ackLostSegment: number };
  incidents: {
    kind: string; client?: string; server?: string; idleSeconds: number;
    frames: { lastBeforeIdle: number; request: number | null; rst: number | null };
    rst: { ttl: number; serverTtl: number; origin: string } | null;
    streams?: { streamId: number; method: string; path: string; requestId: string }[];
  }[];
  requests: { frame: number; requestId: string; streamId?: number; capturedPayloadBytes: number; wirePayloadBytes: number; capturedPayloadHex: string }[];
}
interface RealTruth {
  snaplen: RealCut[];
  verdict: { faultyHop: string; rstOrigin: string } | { faultyHop: string; rstOrigin: string }[];
  idleTimeoutBracket?: { server: string; minSeconds: number; maxSeconds: number } | null;
}
const REAL_SCENARIOS = ['rst-after-idle-snaplen', 'h2-rst-after-idle-snaplen'];
const realTruth = (s: string) => JSON.parse(readFileSync(join(CAPTURES, s, 'truth.json'), 'utf8')) as RealTruth;

describe('real tcpdump -s 96 / -s 128 captures (lab): what flowdoc finds equals the lab truth', () => {
  it('every vantage of both scenarios at both snap lengths, written by tcpdump as pcap with the snap length in its header', () => {
    for (const s of REAL_SCENARIOS) {
      const cuts = realTruth(s).snaplen;
      expect(cuts.map((c) => `${c.file} ${c.fileHeader.format} ${c.fileHeader.snaplen}`).sort(), s).toEqual(
        ['client-any-s128.pcap pcap 128', 'client-any-s96.pcap pcap 96', 'client-eth-s128.pcap pcap 128', 'client-eth-s96.pcap pcap 96', 'lb-any-s128.pcap pcap 128', 'lb-any-s96.pcap pcap 96']);
      for (const c of cuts) expect(c.cutRecords, `${s}/${c.file}`).toBeGreaterThan(0);
    }
  });

  for (const s of REAL_SCENARIOS) {
    for (const cut of realTruth(s).snaplen) {
      const file = join(CAPTURES, s, cut.file);
      it(`${s}/${cut.file}: the incidents, frames, idle, RST origin, verdict and idle-timeout bracket of the truth`, async () => {
        const truth = realTruth(s);
        const r = await analyzeCapture(file);
        expect(r.capture).toMatchObject({ format: 'pcap', linkTypes: [cut.fileHeader.linkType], packets: cut.packets, error: null });
        expect(r.incidents.map((i) => ({ kind: i.kind, frames: i.frames, rst: i.rst && { ttl: i.rst.ttl, serverTtl: i.rst.serverTtl, origin: i.rst.origin } })))
          .toEqual(cut.incidents.map((i) => ({ kind: i.kind, frames: i.frames, rst: i.rst && { ttl: i.rst.ttl, serverTtl: i.rst.serverTtl, origin: i.rst.origin } })));
        for (const [n, want] of cut.incidents.entries()) {
          const got = r.incidents[n]!;
          expect(got.idleSeconds!).toBeCloseTo(want.idleSeconds, 2);
          if (want.client) expect(Object.values(formatEnds(got.endpoints))).toEqual([want.client, want.server]);
          const verdict = Array.isArray(truth.verdict) ? truth.verdict[n]! : truth.verdict;
          expect(verdict.rstOrigin).toBe('middlebox');
          expect(got.verdict.culprit).toBe('middlebox');
        }
        // The bracket: the longest idle that survived and the shortest that failed (the lab's, from
        // its full client capture, for HTTP/1; for h2 the failed idle is the incident's).
        const d = r.destinations.find((x) => sameHostPort(x.endpoint, r.incidents[0]!.endpoints.server))!;
        if (truth.idleTimeoutBracket) {
          expect(d.idleTimeout!.survivedSeconds!).toBeCloseTo(truth.idleTimeoutBracket.minSeconds, 2);
          expect(d.idleTimeout!.failedSeconds!).toBeCloseTo(truth.idleTimeoutBracket.maxSeconds, 2);
        } else {
          expect(d.idleTimeout!.failedSeconds!).toBeCloseTo(cut.incidents[0]!.idleSeconds, 2);
        }
        expect(d.keepalive.verdict).toBe('off');
      });

      it(`${s}/${cut.file}: the request after the idle is what its captured prefix holds, truncated with the captured and wire payload bytes tshark counts`, async () => {
        const r = await analyzeCapture(file);
        const [i] = r.incidents;
        const wantRequests = cut.requests.filter((q) => q.frame === cut.incidents[0]!.frames.request);
        expect(wantRequests.length).toBeGreaterThan(0);
        const { capturedPayloadBytes, wirePayloadBytes } = wantRequests[0]!;
        expect(capturedPayloadBytes).toBeLessThan(wirePayloadBytes);
        const prefix = Buffer.from(wantRequests[0]!.capturedPayloadHex, 'hex').toString('latin1');
        if (cut.incidents[0]!.streams) {
          // h2: each stream named is one the truth has, in order, with its method and a prefix of its path.
          const truthStreams = cut.incidents[0]!.streams;
          expect(i!.streams!.length).toBeGreaterThan(0);
          expect(i!.streams![0]!.streamId).toBe(truthStreams[0]!.streamId);
          for (const st of i!.streams!) {
            const want = truthStreams.find((x) => x.streamId === st.streamId)!;
            expect(want, `stream ${st.streamId}`).toBeDefined();
            expect(st.method).toBe(want.method);
            if (st.path !== '?') expect(want.path.startsWith(st.path), `${st.path} of ${want.path}`).toBe(true);
            // A stream whose HEADERS was captured whole is the truth's; the one the cut fell in is marked.
            if (st.truncated) expect(st.truncated).toEqual({ capturedBytes: capturedPayloadBytes, wireBytes: wirePayloadBytes, ...(st.truncated.cutIn && { cutIn: st.truncated.cutIn }) });
            else expect(st.path).toBe(want.path);
          }
        } else {
          const [method, path] = prefix.split(' ');
          expect(i!.request).toMatchObject({ method, truncated: { capturedBytes: capturedPayloadBytes, wireBytes: wirePayloadBytes } });
          // The path as far as it was captured (the whole path when the space after it was).
          expect(i!.request!.path).toBe(path);
          if (!/x-request-id: [^\r]+\r\n/i.test(prefix)) expect(i!.request!.requestId).toBeUndefined();
        }
      });

      it(`${s}/${cut.file}: sequence accounting on wire lengths — no segment "not captured", no retransmission tshark does not see, the full capture's TCP story`, async () => {
        const got = await connectionsOf(readFileSync(file));
        const full = await connectionsOf(readFileSync(join(CAPTURES, s, cut.from)));
        const notCaptured = got.connections.reduce((n, c) => n + c.clientStats.segmentsNotCaptured + c.serverStats.segmentsNotCaptured, 0);
        const retrans = got.connections.reduce((n, c) => n + c.clientStats.retransmissions + c.serverStats.retransmissions, 0);
        expect([notCaptured, retrans]).toEqual([cut.tsharkTcpAnalysis.lostSegment, cut.tsharkTcpAnalysis.retransmission]);
        // The full capture of the same interface, taken by another tcpdump at the same time: the same
        // story, times aside — each capture socket stamps a packet itself, µs (under load ms) apart.
        const untimed = (conns: readonly Connection[]) => tcpStory(conns).map(({ maxIdle: _, gaps, ...rest }) => ({ ...rest, gaps: gaps.map(([a, b]) => [a, b]) }));
        expect(untimed(got.connections)).toEqual(untimed(full.connections));
        const times = (conns: readonly Connection[]) => tcpStory(conns).flatMap((c) => [c.maxIdle, ...c.gaps.map((g) => g[2]!)]);
        times(got.connections).forEach((t, k) => expect(t).toBeCloseTo(times(full.connections)[k]!, 1));
        expect(got.connections.map((x) => x.anomalyCounts)).toEqual(full.connections.map((x) => x.anomalyCounts));
      });
    }
  }
});

/**
 * A real ClientHello cut before its extensions: nDPI's tls_long_cert.pcap (Chrome to
 * www.repubblica.it, ../shared/corpus/real) cut now by the snap length. Frame 4 is the hello: 517
 * payload bytes; session id 32, 17 cipher suites, GREASE then server_name first among its
 * extensions, ALPN (h2, http/1.1) eighth; the ServerHello (frame 6) selects h2 in an ALPN extension
 * that ends 83 bytes into its payload (tshark -V). Cut as editcap -s / tcpdump -s would
 * (test/support/snaplen.ts: captured length clipped, original kept). Skips without ../shared.
 */
const TLS_LONG_CERT = join(REAL, 'nDPI/tests/cfgs/default/pcap/tls_long_cert.pcap');
describe.skipIf(!HAVE_SHARED || !existsSync(TLS_LONG_CERT))('a real TLS ClientHello cut by the snap length (nDPI tls_long_cert.pcap)', () => {
  const cut = (snap: number) => clipPcap(readFileSync(TLS_LONG_CERT), snap);
  const helloOf = async (bytes: Uint8Array) => {
    const { connections } = await connectionsOf(bytes);
    expect(connections).toHaveLength(1);
    return { conn: connections[0]!, hellos: connections[0]!.app.filter((m) => m.kind === 'tls-client-hello') };
  };
  const HEADERS = 66; // Ethernet 14, IPv4 20, TCP 32 (timestamps)

  it('the whole capture: the hello with its SNI, legacy version and 17 cipher suites', async () => {
    const { conn, hellos } = await helloOf(readFileSync(TLS_LONG_CERT));
    expect(hellos.map(({ micros: _, ...m }) => m)).toEqual([{ frame: 4, kind: 'tls-client-hello', sni: 'www.repubblica.it', tlsLegacyVersion: 'TLS 1.2', cipherSuiteCount: 17 }]);
    expect(conn.alpn).toEqual({ offered: ['h2', 'http/1.1'], selected: 'h2' });
    expect(conn.appProtocol).toBe('h2');
  });

  // snap length → the field the cut falls in, and what comes before it
  const CASES: [snap: number, cutIn: string, fields: { sni?: string; tlsLegacyVersion?: string; cipherSuiteCount?: number }][] = [
    [96, 'random', { tlsLegacyVersion: 'TLS 1.2' }], // 30 bytes of the hello
    [128, 'session-id', { tlsLegacyVersion: 'TLS 1.2' }], // 62
    [160, 'cipher-suites', { tlsLegacyVersion: 'TLS 1.2', cipherSuiteCount: 17 }], // 94
    [181, 'extensions', { tlsLegacyVersion: 'TLS 1.2', cipherSuiteCount: 17 }], // 115: inside the extensions' length
    [200, 'sni', { tlsLegacyVersion: 'TLS 1.2', cipherSuiteCount: 17 }], // 134: inside server_name — no SNI, not part of one
    [220, 'extensions', { sni: 'www.repubblica.it', tlsLegacyVersion: 'TLS 1.2', cipherSuiteCount: 17 }], // 154: SNI whole
  ];
  for (const [snap, cutIn, fields] of CASES) {
    it(`-s ${snap}: a ClientHello, truncated in ${cutIn}, with what lies before the cut${fields.sni ? '' : ' and no SNI'}`, async () => {
      const { conn, hellos } = await helloOf(cut(snap));
      expect(hellos.map(({ micros: _, ...m }) => m)).toEqual([{ frame: 4, kind: 'tls-client-hello', ...fields, truncated: { capturedBytes: snap - HEADERS, wireBytes: 517, cutIn } }]);
      expect(conn.sni).toBe(fields.sni ?? null);
      // The ServerHello (frame 6) is cut too: its ALPN extension (h2) ends 83 bytes into its payload.
      expect(conn.appProtocol).toBe(snap - HEADERS >= 83 ? 'h2' : 'tls');
    });
  }

  it('-s 128: the TCP story and every incident of the whole capture; no lost segments read into the cut', async () => {
    const full = await connectionsOf(readFileSync(TLS_LONG_CERT));
    const got = await connectionsOf(cut(128));
    // All but the protocol: h2 by the ServerHello's ALPN, which -s 128 did not capture (tls).
    const story = (conns: readonly Connection[]) => tcpStory(conns).map(({ appProtocol: _, ...rest }) => rest);
    expect(story(got.connections)).toEqual(story(full.connections));
    expect(got.connections.map((x) => x.appProtocol)).toEqual(['tls']);
    expect(got.connections.map((x) => x.anomalyCounts)).toEqual(full.connections.map((x) => x.anomalyCounts));
    expect(incidentShape(got.result)).toEqual(incidentShape(full.result));
  });
});

/**
 * `tcpdump -s 68` (libpcap's old default) on Ethernet with TCP timestamps: 14 + 20 + 32 bytes of
 * headers leave 2 payload bytes of a data segment, and a SYN's 40-byte TCP header (20 bytes of
 * options) is cut inside its options. Such a segment must still be decoded — ports, sequence
 * numbers, flags — or every handshake of the capture is lost.
 */
describe('a snap length that cuts the TCP options of the handshake (tcpdump -s 68)', () => {
  for (const scenario of ['rst-after-idle', 'keepalive-too-slow', 'blackhole']) {
    it(`${scenario}/client-eth.pcap at -s 68: the same connections, handshakes and incidents as the full capture`, async () => {
      const full = readFileSync(join(CAPTURES, scenario, 'client-eth.pcap'));
      const a = await connectionsOf(full);
      const b = await connectionsOf(clipPcap(full, 68));
      expect(b.result.capture.packets).toBe(a.result.capture.packets);
      expect(b.result.warnings.filter((w) => /damaged or truncated headers/.test(w))).toEqual([]);
      const shape = (c: Connection) => [c.id, c.client, c.server, c.partial, c.synFrame, c.synAckFrame, c.state, c.history, c.firstFrame, c.lastFrame, c.maxIdleSeconds, c.clientStats, c.serverStats];
      expect(b.connections.map(shape)).toEqual(a.connections.map(shape));
      const key = (i: AnalysisResult['incidents'][number]) => [i.kind, formatPath(i.endpoints), i.frames, i.idleSeconds, i.rst?.origin ?? null];
      expect(b.result.incidents.map(key)).toEqual(a.result.incidents.map(key));
      expect(b.result.incidents.length).toBeGreaterThan(0);
    });
  }
});

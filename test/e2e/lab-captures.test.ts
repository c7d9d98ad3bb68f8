import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import { REPO_ROOT } from '../corpus/shared.js';
import { formatEnds } from '../../src/report/address.js';

/**
 * End to end on the bundled captures: real packets from a real Linux TCP stack behind a conntrack
 * "load balancer", captured by tcpdump (see captures/README.md). Each scenario's truth.json was
 * computed from the capture files by the lab; flowdoc, with its default settings, must report
 * exactly those incidents — kinds, 4-tuples, frames, RST origin — and, with the logs, the
 * matched lines and the verdict.
 */

interface TruthIncident {
  kind: string;
  client: string;
  server: string;
  idleSeconds: number;
  frames: { lastBeforeIdle: number; request: number | null; rst: number | null; serverFin?: number; probe?: number };
  requestId: string | null;
  rst: { from: string; ttl: number; serverTtl: number; origin: string } | null;
}
interface Truth {
  scenario: string;
  captures: { file: string; vantage: string; format: string; linkType: number; precision: number; packets: number; tcpConnections: number; incidents: TruthIncident[] }[];
  logs: { client: string; server: string };
  expectedLogs: { requestId: string; client: { line: number; responseCode: number; flags: string[] } | null; server: { line: number } | null }[];
  verdict: { requestId: string; faultyHop: string; rstOrigin: string }[];
  idleTimeoutBracket: { server: string; minSeconds: number; maxSeconds: number } | null;
  /** Connections still open when the capture ended (at-risk scenario). */
  openAtEnd?: { client: string; server: string; lastFrame: number; idleSeconds: number }[];
}

const CAPTURES = join(REPO_ROOT, 'captures');
/** The HTTP/2 scenarios' truth.json is tshark's HTTP/2 reading (lab/h2-verify.mjs); they have their own tests (h2-lab.test.ts). */
const isH2 = (dir: string) => (JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { protocol?: string }).protocol === 'h2c';
const scenarios = existsSync(CAPTURES)
  ? readdirSync(CAPTURES).filter((d) => existsSync(join(CAPTURES, d, 'truth.json')) && !isH2(join(CAPTURES, d))).sort()
  : [];

describe('flowdoc on the real-kernel lab captures', () => {
  it('has the bundled scenarios', () => {
    expect(scenarios).toEqual(['at-risk', 'blackhole', 'busy', 'busy-connection-id', 'keepalive-on', 'keepalive-too-slow', 'rst-after-idle', 'rst-after-idle-snaplen', 'rst-after-idle-v6', 'server-fin', 'watch-rst-after-idle']);
  });

  for (const name of scenarios) {
    const dir = join(CAPTURES, name);
    const truth = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as Truth;
    for (const cap of truth.captures) {
      it(`${name}/${cap.file}: reports exactly the ${cap.incidents.length} incident(s) of the ground truth`, async () => {
        const r = await analyzeCapture(join(dir, cap.file));
        expect(r.capture).toMatchObject({ format: cap.format, linkTypes: [cap.linkType], packets: cap.packets, error: null });
        expect(r.summary.connections).toBe(cap.tcpConnections);
        const got = r.incidents.map((i) => ({
          kind: i.kind, ...formatEnds(i.endpoints), frames: i.frames,
          requestId: i.request?.requestId ?? null,
          rst: i.rst && { from: i.rst.from, ttl: i.rst.ttl, serverTtl: i.rst.serverTtl, origin: i.rst.origin },
        }));
        const want = cap.incidents.map((i) => ({
          kind: i.kind, client: i.client, server: i.server,
          frames: i.kind === 'stale-reuse-timeout' ? expect.objectContaining({ lastBeforeIdle: i.frames.lastBeforeIdle, request: i.frames.request, rst: null }) : i.frames,
          requestId: i.requestId, rst: i.rst,
        }));
        expect(got).toEqual(want);
        for (const [n, i] of cap.incidents.entries()) expect(r.incidents[n]!.idleSeconds!).toBeCloseTo(i.idleSeconds, 2);
      });
    }

    const client = truth.captures.find((c) => c.file === 'client-any.pcap')!;
    it(`${name}: with both hops' logs, ties each incident to the client's line, finds the server's (or not), and gives the verdict`, async () => {
      const r = await analyzeCapture(join(dir, client.file), {
        logs: [{ hop: 'client', file: join(dir, truth.logs.client) }, { hop: 'server', file: join(dir, truth.logs.server) }],
      });
      expect(r.logs!.hops.map((h) => [h.hop, h.error, h.rejected])).toEqual([['client', null, 0], ['server', null, 0]]);
      // Every incident about a request has its log lines (a keepalive probe that met an RST lost no request).
      expect(r.incidents.filter((i) => i.request !== null)).toHaveLength(truth.expectedLogs.length);
      for (const want of truth.expectedLogs) {
        const i = r.incidents.find((x) => x.request?.requestId === want.requestId)!;
        expect(i, want.requestId).toBeDefined();
        const clientLines = i.logs.filter((m) => m.hop === 'client');
        const serverLines = i.logs.filter((m) => m.hop === 'server');
        expect(clientLines.map((m) => [m.line, m.entry.responseCode, m.entry.flags])).toEqual(want.client ? [[want.client.line, want.client.responseCode, want.client.flags]] : []);
        expect(clientLines[0]?.keys).toEqual(expect.arrayContaining(['upstream-4-tuple', 'request-id']));
        expect(serverLines.map((m) => m.line)).toEqual(want.server ? [want.server.line] : []);
        const v = truth.verdict.find((x) => x.requestId === want.requestId)!;
        expect(i.verdict.culprit).toBe(v.rstOrigin === 'middlebox' || v.faultyHop.startsWith('between') ? 'middlebox' : 'server');
        if (v.faultyHop === 'between client and server') {
          expect(i.verdict.segment).toEqual({ after: 'client', before: 'server' });
          expect(i.verdict.reason).toMatch(/between client and server .*; server never received the request$/);
          expect(i.verdict.confidence).toBe('high');
        }
      }
      if (truth.idleTimeoutBracket) {
        const d = r.destinations.find((x) => x.server === truth.idleTimeoutBracket!.server)!;
        expect(d.idleTimeout!.survivedSeconds!).toBeCloseTo(truth.idleTimeoutBracket.minSeconds, 2);
        expect(d.idleTimeout!.failedSeconds!).toBeCloseTo(truth.idleTimeoutBracket.maxSeconds, 2);
      }
    });
  }
});

describe('keepalive and risk on the real-kernel lab captures', () => {
  const load = (name: string) => JSON.parse(readFileSync(join(CAPTURES, name, 'truth.json'), 'utf8')) as Truth;

  it('keepalive-too-slow: the probe after TCP_KEEPIDLE 12 s meets the LB\'s forged RST; the destination\'s keepalive is too slow', async () => {
    const truth = load('keepalive-too-slow');
    const r = await analyzeCapture(join(CAPTURES, 'keepalive-too-slow', 'client-any.pcap'));
    const ka = r.incidents.find((i) => i.kind === 'keepalive-too-slow')!;
    const want = truth.captures[0]!.incidents.find((i) => i.kind === 'keepalive-too-slow')!;
    expect(ka.frames).toEqual(want.frames);
    expect(ka.probe).toMatchObject({ side: 'client', probes: 1, answered: 0, frame: want.frames.probe });
    expect(ka.probe!.idleBeforeFirstProbeSeconds).toBeCloseTo(12, 0);
    expect(ka.rst).toMatchObject({ origin: 'middlebox', ttl: 64, serverTtl: 63 });
    const d = r.destinations[0]!;
    expect(d.keepalive.verdict).toBe('too-slow');
    expect(d.keepalive.text).toMatch(/^too slow: keepalive is on but its first probe comes after 12\.0 s idle/);
    // The request that failed after 11 s idle — before its own first probe was due — sets the bracket.
    expect(d.idleTimeout!.failedSeconds!).toBeCloseTo(11, 0);
    expect(r.incidents.find((i) => i.kind === 'stale-reuse-rst')!.retry).toMatchObject({ method: 'POST', requestAcked: false, safe: true });
  });

  it('keepalive-on: probes every 2 s, answered: verdict on, no incident, nothing at risk', async () => {
    const r = await analyzeCapture(join(CAPTURES, 'keepalive-on', 'client-any.pcap'));
    expect(r.incidents).toEqual([]);
    expect(r.destinations[0]!.keepalive).toMatchObject({ verdict: 'on', probesFrom: ['client'] });
    expect(r.atRisk).toEqual([]);
  });

  it('at-risk: the connection left idle past the 11 s that already failed will fail on next use', async () => {
    const truth = load('at-risk');
    const r = await analyzeCapture(join(CAPTURES, 'at-risk', 'client-any.pcap'));
    const failed = r.incidents[0]!.idleSeconds!;
    const want = truth.openAtEnd!.filter((o) => o.idleSeconds >= failed);
    expect(want.length).toBeGreaterThan(0);
    expect(r.atRisk.map((a) => ({ ...formatEnds(a.endpoints), lastFrame: a.lastFrame, level: a.level }))).toEqual(
      want.map((o) => ({ client: o.client, server: o.server, lastFrame: o.lastFrame, level: 'will-fail' })),
    );
    expect(r.atRisk[0]!.idleSeconds).toBeCloseTo(want[0]!.idleSeconds, 2);
    expect(r.summary).toMatchObject({ atRisk: 1, willFail: 1 });
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import { computeRemedies } from '../../src/report/index.js';
import type { Connection } from '../../src/flows/index.js';
import { REPO_ROOT } from '../corpus/shared.js';
import { connectionsOf } from '../support/analyze.js';
import { runCli } from '../support/io.js';
import { formatEnds, incidentSummary } from '../../src/report/index.js';

/**
 * End to end on the HTTP/2 lab captures (lab/scenarios.mjs, HTTP/2 block): node:http2 on both
 * ends through the conntrack "load balancer". truth.json holds what the client did
 * (client-run.json: stream ids, request ids, outcomes) and tshark's HTTP/2 dissector's reading of
 * every capture (lab/h2-verify.mjs); flowdoc must agree with both.
 */

const CAPTURES = join(REPO_ROOT, 'captures');
const FILES = ['client-any.pcap', 'client-eth.pcap', 'lb-any.pcap', 'server.pcap', 'server.pcapng'] as const;

interface LabRequest { id: string; method: string; path: string; streamId: number; outcome: string; local: string }
interface TsharkRequest { frame: number; streamId: number; method: string; path: string; authority: string; requestId: string | null }
interface H2Truth {
  scenario: string;
  requests: LabRequest[];
  h2: Record<string, { requests: TsharkRequest[]; pingPackets: number; goaways: { frame: number; lastStreamId: number; error: number }[]; tcpRsts: { frame: number }[] }>;
}

const truthOf = (name: string) => JSON.parse(readFileSync(join(CAPTURES, name, 'truth.json'), 'utf8')) as H2Truth;
const file = (name: string, f: string) => join(CAPTURES, name, f);

async function connections(name: string, f: string): Promise<Connection[]> {
  return (await connectionsOf(readFileSync(file(name, f)))).connections;
}

/** flowdoc's h2 requests of a capture, as tshark lists them: frame order, one per HEADERS. */
function decodedRequests(conns: readonly Connection[]): TsharkRequest[] {
  return conns.flatMap((c) => c.app.filter((m) => m.kind === 'http-request' && m.protocol === 'h2').map((m) => ({
    frame: m.frame, streamId: m.streamId!, method: m.method!, path: m.path!, authority: m.host!, requestId: m.requestId ?? null,
  }))).sort((a, b) => a.frame - b.frame || a.streamId - b.streamId);
}

const H2_SCENARIOS = ['h2-goaway-race', 'h2-ping-keepalive', 'h2-rst-after-idle', 'h2-rst-after-idle-snaplen'];

describe('flowdoc decodes the HTTP/2 lab captures as tshark does', () => {
  it('has the HTTP/2 scenarios', () => {
    for (const s of H2_SCENARIOS) expect(existsSync(join(CAPTURES, s, 'truth.json'))).toBe(true);
  });

  for (const name of H2_SCENARIOS) {
    for (const f of FILES) {
      it(`${name}/${f}: every request HEADERS with the stream, method, path, :authority and x-request-id tshark read`, async () => {
        const want = truthOf(name).h2[f]!.requests.map((r) => ({ ...r, tcpStream: undefined })).map(({ tcpStream: _, ...r }) => r);
        expect(want.length).toBeGreaterThan(0);
        expect(decodedRequests(await connections(name, f))).toEqual(want);
      });
    }
  }
});

// tshark itself, where it is installed (never a requirement): the same comparison, live.
const HAVE_TSHARK = (() => { try { execFileSync('tshark', ['-v'], { stdio: 'ignore' }); return true; } catch { return false; } })();
describe.skipIf(!HAVE_TSHARK)('tshark -d tcp.port==80,http2 as an oracle, run now', () => {
  for (const name of H2_SCENARIOS) {
    it(`${name}/client-any.pcap: method and path per stream equal tshark's`, async () => {
      const out = execFileSync('tshark', ['-r', file(name, 'client-any.pcap'), '-n', '-d', 'tcp.port==80,http2', '-Y', 'http2.header',
        '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=|', '-e', 'frame.number', '-e', 'http2.streamid', '-e', 'http2.type', '-e', 'http2.headers.method', '-e', 'http2.headers.path'], { encoding: 'utf8' });
      const fromTshark: { frame: number; streamId: number; method: string; path: string }[] = [];
      for (const line of out.trim().split('\n')) {
        const [frame, ids, types, methods, paths] = line.split('\t');
        const headerStreams = ids!.split('|').map(Number).filter((_, k) => types!.split('|')[k] === '1');
        (methods ? methods.split('|') : []).forEach((m, k) => fromTshark.push({ frame: Number(frame), streamId: headerStreams[k]!, method: m, path: paths!.split('|')[k]! }));
      }
      const ours = decodedRequests(await connections(name, 'client-any.pcap')).map(({ frame, streamId, method, path }) => ({ frame, streamId, method, path }));
      expect(ours).toEqual(fromTshark);
    });
  }
});

describe('h2-rst-after-idle: the LB forgot a pooled h2c connection; its RST killed two streams', () => {
  const name = 'h2-rst-after-idle';
  const run = truthOf(name);
  const failed = run.requests.filter((r) => r.outcome !== 'ok');

  for (const f of ['client-any.pcap', 'client-eth.pcap', 'lb-any.pcap'] as const) {
    it(`${f}: one stale-reuse-rst naming every stream opened after the idle gap (method, path, request id)`, async () => {
      const r = await analyzeCapture(file(name, f));
      expect(r.incidents).toHaveLength(1);
      const i = r.incidents[0]!;
      expect(formatEnds(i.endpoints).client).toBe(failed[0]!.local);
      expect(i).toMatchObject({ kind: 'stale-reuse-rst', rst: { origin: 'middlebox' }, request: { protocol: 'http', streamId: failed[0]!.streamId, method: 'GET' } });
      expect(i.idleSeconds).toBeGreaterThan(10);
      expect(i.streams!.map((s) => ({ streamId: s.streamId, method: s.method, path: s.path, requestId: s.requestId })))
        .toEqual(failed.map((x) => ({ streamId: x.streamId, method: x.method, path: x.path, requestId: x.id })));
      expect(incidentSummary(i)).toMatch(/HTTP\/2 streams 7 \(GET \/api\/items\/4\) and 9 \(GET \/api\/items\/5\)/);
    });
  }

  it('server.pcap: no incident (the requests after the idle never reached the server)', async () => {
    expect((await analyzeCapture(file(name, 'server.pcap'))).incidents).toEqual([]);
  });

  it('joins each stream to its own 503 UC line in the client log, and the server has none', async () => {
    const r = await runCli(['analyze', '-f', 'json', file(name, 'client-any.pcap'), '--logs', `client=${file(name, 'client.log')}`, '--logs', `server=${file(name, 'server.log')}`]);
    expect(r.code).toBe(1);
    const [i] = JSON.parse(r.stdout).incidents;
    const lines = readFileSync(file(name, 'client.log'), 'utf8').split('\n');
    expect(i.streams).toHaveLength(2);
    for (const s of i.streams) {
      expect(s.logs).toHaveLength(1);
      expect(s.logs[0].hop).toBe('client');
      const line = lines[s.logs[0].line - 1]!;
      expect(line).toContain(s.requestId);
      expect(line).toMatch(/" 503 UC upstream_reset_before_response_started\{connection_termination\}/);
    }
    expect(i.hops.find((h: { hop: string }) => h.hop === 'server').sawRequest).toBe(false);
    expect(i.verdict).toMatchObject({ culprit: 'middlebox', confidence: 'high' });
  });

  it('lists the streams in the table, Markdown and HTML reports', async () => {
    const args = [file(name, 'client-any.pcap'), '--logs', `client=${file(name, 'client.log')}`];
    const table = (await runCli(['analyze', ...args])).stdout;
    expect(table).toMatch(/stream 7: GET \/api\/items\/4\s+x-request-id fd1ab019-0000-4000-8000-000000000004\s+log client:4/);
    expect(table).toMatch(/stream 9: GET \/api\/items\/5\s+x-request-id fd1ab019-0000-4000-8000-000000000005\s+log client:5/);
    const md = (await runCli(['analyze', '-f', 'markdown', ...args])).stdout;
    expect(md).toMatch(/HTTP\/2 streams.*7 `GET \/api\/items\/4` \(x-request-id `fd1ab019-0000-4000-8000-000000000004`, client line 4\).*9 `GET \/api\/items\/5`/);
    const html = (await runCli(['analyze', '-f', 'html', ...args])).stdout;
    expect(html).toMatch(/HTTP\/2 streams/);
    expect(html).toMatch(/<code class="nw">GET \/api\/items\/5<\/code> \(x-request-id/);
  });
});

describe('h2-ping-keepalive: gRPC with HTTP/2 PINGs every 3 s across a 13 s idle behind a 10 s LB', () => {
  const name = 'h2-ping-keepalive';

  it('is gRPC, kept warm by PINGs: no incident, the destination verdict is app-level (HTTP/2 PING every 3 s)', async () => {
    const r = await analyzeCapture(file(name, 'client-any.pcap'));
    expect(r.incidents).toEqual([]);
    const [d] = r.destinations;
    expect(d!.keepalive.verdict).toBe('app-level');
    expect(d!.keepalive.text).toMatch(/^app-level \(HTTP\/2 PING every 3(\.\d+)? s on 1 connection/);
    expect(d!.keepalive.appLevel).toMatchObject({ kind: 'HTTP/2 PING', connections: 1 });
    expect(Math.round(d!.keepalive.appLevel!.intervalSeconds)).toBe(3);
  });

  it('names the protocol grpc, the gRPC method of every call and the grpc-status of every answer; counts the PINGs', async () => {
    const [c, ...rest] = await connections(name, 'client-any.pcap');
    expect(rest).toEqual([]);
    expect(c!.appProtocol).toBe('grpc');
    expect(c!.maxIdleSeconds).toBeLessThan(10); // the PINGs broke the 13 s of silence
    const calls = c!.app.filter((m) => m.kind === 'http-request');
    expect(calls.map((m) => m.grpc)).toEqual(['lab.Inventory/GetItem', 'lab.Inventory/GetItem', 'lab.Inventory/GetItem', 'lab.Inventory/GetItem']);
    const statuses = c!.app.filter((m) => m.kind === 'http-response' && m.grpcStatus !== undefined).map((m) => [m.streamId, m.grpcStatus]);
    expect(statuses).toEqual(calls.map((m) => [m.streamId, 0]));
    expect(c!.h2!.pings.client).toBeGreaterThanOrEqual(4);
    expect(c!.h2!.pings.acks).toBe(c!.h2!.pings.client + c!.h2!.pings.server);
    expect(c!.appKeepalive).toMatchObject({ kind: 'HTTP/2 PING' });
  });
});

describe('h2-goaway-race: a stream opened above the server\'s GOAWAY last stream id', () => {
  const name = 'h2-goaway-race';
  const run = truthOf(name);
  const lost = run.requests.filter((r) => r.outcome !== 'ok');

  for (const f of ['client-any.pcap', 'client-eth.pcap', 'server.pcap'] as const) {
    it(`${f}: one reuse-after-goaway (not reuse-after-fin) with the GOAWAY, the lost stream and the server's RST`, async () => {
      const r = await analyzeCapture(file(name, f));
      expect(r.incidents.map((i) => i.kind)).toEqual(['reuse-after-goaway']);
      const i = r.incidents[0]!;
      const g = run.h2[f]!.goaways[0]!;
      expect(i.goaway).toMatchObject({ frame: g.frame, lastStreamId: 1, errorCode: 'NO_ERROR' });
      expect(i.streams!.map((s) => [s.streamId, s.method, s.path, s.requestId])).toEqual(lost.map((x) => [x.streamId, x.method, x.path, x.id]));
      expect(i.rst).toMatchObject({ origin: 'server', frame: run.h2[f]!.tcpRsts[0]!.frame });
      expect(i.retry.safe).toBe(true);
      expect(incidentSummary(i)).toMatch(/said GOAWAY .*last stream 1, NO_ERROR\) but the client opened HTTP\/2 stream 3 \(GET \/api\/items\/2\) above it anyway/);
    });
  }
});

describe('HTTP/2 remedies', () => {
  it('h2-rst-after-idle (plain h2, not gRPC): besides TCP keepalive, HTTP/2 PING keepalive in the sidecar (connection_keepalive at the chosen time) — and no gRPC client keepalive', async () => {
    const r = await analyzeCapture(file('h2-rst-after-idle', 'client-any.pcap'), { logs: [{ hop: 'client', file: file('h2-rst-after-idle', 'client.log') }] });
    expect(r.incidents.flatMap((i) => i.streams ?? []).every((s) => s.grpc === undefined)).toBe(true);
    const [rem] = computeRemedies(r);
    expect(rem!.problems).toContain('idle-drop');
    const k = rem!.keepalive!;
    const envoy = rem!.snippets.find((x) => x.title === 'Istio EnvoyFilter (client sidecar HTTP/2 PING keepalive)')!;
    expect(envoy.code).toContain('connection_keepalive:');
    expect(envoy.code).toContain(`interval: "${k.idleSeconds}s" #`);
    expect(rem!.snippets.map((x) => x.title)).not.toContain('gRPC client keepalive (GRPC_ARG_KEEPALIVE_TIME_MS)');
    expect(rem!.snippets.some((x) => /GRPC_ARG_KEEPALIVE/.test(x.code))).toBe(false);
    expect(rem!.notes.some((n) => /h2UpgradePolicy/.test(n))).toBe(true);
  });

  it('the same incident on gRPC streams (the lab h2-ping-keepalive capture\'s gRPC method on them): gRPC client keepalive with the too_many_pings warning', async () => {
    // No lab capture has a gRPC stream killed after idle (h2-ping-keepalive's PINGs prevent it): the
    // h2-rst-after-idle analysis, its killed streams given the gRPC method that h2-ping-keepalive's calls carry.
    const grpcMethod = (await connections('h2-ping-keepalive', 'client-any.pcap'))[0]!.app.find((m) => m.grpc !== undefined)!.grpc!;
    const r = await analyzeCapture(file('h2-rst-after-idle', 'client-any.pcap'));
    const asGrpc = { ...r, incidents: r.incidents.map((i) => ({ ...i, streams: i.streams?.map((s) => ({ ...s, grpc: grpcMethod })) })) };
    const [rem] = computeRemedies(asGrpc);
    const k = rem!.keepalive!;
    const grpc = rem!.snippets.find((x) => x.title === 'gRPC client keepalive (GRPC_ARG_KEEPALIVE_TIME_MS)')!;
    expect(grpc.code).toContain(`GRPC_ARG_KEEPALIVE_TIME_MS = ${k.idleSeconds * 1000}`);
    expect(grpc.note).toMatch(/GOAWAY ENHANCE_YOUR_CALM .*"too_many_pings"/);
    expect(rem!.snippets.some((x) => x.title === 'Istio EnvoyFilter (client sidecar HTTP/2 PING keepalive)')).toBe(true);
  });

  it('h2-goaway-race: the goaway-race problem, the rationale citing the GOAWAY frame, and the GOAWAY note', async () => {
    const r = await analyzeCapture(file('h2-goaway-race', 'client-any.pcap'));
    const [rem] = computeRemedies(r);
    expect(rem!.problems).toEqual(['goaway-race']);
    expect(rem!.rationale.join(' ')).toMatch(new RegExp(`GOAWAY \\(frame ${r.incidents[0]!.frames.goaway}, last stream 1\\)`));
    expect(rem!.headline).toMatch(/stop using an HTTP\/2 connection on GOAWAY/);
    expect(rem!.notes.some((n) => /GOAWAY race/.test(n) && /refused-stream/.test(n))).toBe(true);
  });
});

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCaptures, type MultiAnalysisResult } from '../../src/analysis/analyze-many.js';
import { renderHtml, renderMarkdown } from '../../src/report/index.js';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';

/**
 * Several vantage points of the SAME lab run: the client's namespace, the LB's (both legs of its
 * DNAT, 10.200.9.9:80 → 10.200.2.2:8080, no SNAT) and the server's. All three captures were taken
 * on one machine, so their timestamps come from one kernel clock: the true offset is 0, and the
 * estimate must bracket 0. The incident frames at each vantage point are the ones truth.json
 * computed from each file with tshark.
 */

interface TruthCapture { file: string; vantage: string; tcpConnections: number; incidents: { kind: string; frames: { request: number; rst: number | null } }[] }
const CAPTURES = join(REPO_ROOT, 'captures');
const have = (s: string) => existsSync(join(CAPTURES, s, 'truth.json'));
const truthOf = (s: string) => JSON.parse(readFileSync(join(CAPTURES, s, 'truth.json'), 'utf8')) as { captures: TruthCapture[] };
const at = (s: string, file: string) => truthOf(s).captures.find((c) => c.file === file)!;

async function threeVantages(scenario: string, order: ('client' | 'lb' | 'server')[] = ['client', 'lb', 'server']): Promise<MultiAnalysisResult> {
  const files = { client: 'client-any.pcap', lb: 'lb-any.pcap', server: 'server.pcap' };
  return analyzeCaptures(order.map((v) => ({ vantage: v, file: join(CAPTURES, scenario, files[v]) })));
}

describe.skipIf(!have('rst-after-idle'))('several captures of one lab run', () => {
  it('rst-after-idle: finds every connection at every vantage point — through the DNAT by ISN — and the clocks agree (one kernel clock)', async () => {
    const r = await threeVantages('rst-after-idle');
    const [lb, server] = r.alignment.vantages;
    // The LB sees each connection twice (client→VIP and, after DNAT, client→server).
    expect(lb).toMatchObject({ vantage: 'lb', connections: at('rst-after-idle', 'lb-any.pcap').tcpConnections, matched: 4, unmatched: 0, anchorUnmatched: 0, matchedBy: { '4-tuple': 2, isn: 2 } });
    expect(server).toMatchObject({ vantage: 'server', connections: 2, matched: 2, unmatched: 0, matchedBy: { isn: 2 } });
    for (const v of [lb!, server!]) {
      expect(v.clock.method).toBe('two-way');
      expect(v.clock.upstream).toBe('anchor');
      // The true offset (0) lies inside the bracket, and the bracket is tight (a veth hop: µs).
      expect(Math.abs(v.clock.offsetSeconds!)).toBeLessThanOrEqual(v.clock.uncertaintySeconds!);
      expect(v.clock.uncertaintySeconds!).toBeLessThan(0.001);
      expect(v.clock.samples.toServer).toBeGreaterThan(5);
      expect(v.clock.samples.toClient).toBeGreaterThan(5);
    }
  });

  it('rst-after-idle: the request and the RST at each vantage point are the frames tshark finds there; the LB forged the RST', async () => {
    const r = await threeVantages('rst-after-idle');
    expect(r.incidents).toHaveLength(1);
    const i = r.incidents[0]!;
    const client = at('rst-after-idle', 'client-any.pcap').incidents[0]!;
    const lbTruth = at('rst-after-idle', 'lb-any.pcap').incidents[0]!;
    expect(i).toMatchObject({ vantage: 'client', frames: { request: client.frames.request, rst: client.frames.rst } });
    const [c, lb, s] = i.vantages;
    expect(c).toMatchObject({ vantage: 'client', covered: true, requestSeen: true, rstSeen: true, incident: 'stale-reuse-rst' });
    expect(lb).toMatchObject({ vantage: 'lb', covered: true, requestSeen: true, rstSeen: true, incident: 'stale-reuse-rst' });
    const legIn = lb!.legs.find((l) => l.server === '10.200.9.9:80')!;
    const legOut = lb!.legs.find((l) => l.server === '10.200.2.2:8080')!;
    expect(legIn).toMatchObject({ request: { frame: lbTruth.frames.request }, rst: { frame: lbTruth.frames.rst, ttl: 64, from: '10.200.9.9:80' } });
    expect(legOut).toMatchObject({ request: null, rst: null });
    expect(s).toMatchObject({ vantage: 'server', covered: true, requestSeen: false, rstSeen: false, incident: null });
    expect(s!.legs).toHaveLength(1);
    expect(i.vantageVerdict).toMatchObject({ locus: 'at-vantage', after: 'lb', before: 'lb', confidence: 'high', vantagePoints: 3 });
    expect(i.vantageVerdict.reason).toMatch(/lb forged it \(confidence high, three vantage points\)$/);
    // The LB's RST is earlier on the common clock than its arrival at the client.
    expect(legIn.rst!.commonTime! <= c!.legs[0]!.rst!.commonTime!).toBe(true);
  });

  it('rst-after-idle with two vantage points (client, server): forged between them — the issue\'s own sentence', async () => {
    const r = await threeVantages('rst-after-idle', ['client', 'server']);
    const v = r.incidents[0]!.vantageVerdict;
    expect(v).toMatchObject({ locus: 'between', after: 'client', before: 'server', confidence: 'high', vantagePoints: 2 });
    expect(v.reason).toBe(
      `The request left client (frame 14) and never reached server's capture; the RST seen at client (frame 15, from 10.200.9.9:80 TTL 64) was never sent by server's side: ` +
      'it was forged between client and server — the load balancer (confidence high, two vantage points)',
    );
  });

  it('captures and logs of the same name reinforce each other; a contradiction is reported and lowers the confidence', async () => {
    const d = join(CAPTURES, 'rst-after-idle');
    const withLogs = await analyzeCaptures(
      [{ vantage: 'client', file: join(d, 'client-any.pcap') }, { vantage: 'lb', file: join(d, 'lb-any.pcap') }, { vantage: 'server', file: join(d, 'server.pcap') }],
      { logs: [{ hop: 'client', file: join(d, 'client.log') }, { hop: 'server', file: join(d, 'server.log') }] },
    );
    const v = withLogs.incidents[0]!.vantageVerdict;
    expect(v.reason).toMatch(/; the logs of client and server agree \(confidence high, three vantage points\)$/);
    expect(withLogs.incidents[0]!.verdict.culprit).toBe('middlebox');
    // The client's log given as the server's: the server's capture has no request, "its" log has it.
    const crossed = await analyzeCaptures(
      [{ vantage: 'client', file: join(d, 'client-any.pcap') }, { vantage: 'server', file: join(d, 'server.pcap') }],
      { logs: [{ hop: 'server', file: join(d, 'client.log') }] },
    );
    const x = crossed.incidents[0]!.vantageVerdict;
    expect(x.confidence).toBe('low');
    expect(x.caveats).toContain("contradiction: server's log has the request but its capture does not show it");
  });

  it.skipIf(!have('blackhole'))('blackhole: the retransmitted request entered the LB and never left it (a silent drop)', async () => {
    const r = await threeVantages('blackhole');
    expect(r.incidents.map((i) => i.kind)).toEqual(['stale-reuse-timeout']);
    const [c, lb, s] = r.incidents[0]!.vantages;
    expect(c!.legs[0]!.request!.transmissions).toBeGreaterThan(1);
    expect(lb!.legs.map((l) => Boolean(l.request)).sort()).toEqual([false, true]);
    expect(s).toMatchObject({ requestSeen: false, rstSeen: false, covered: true });
    expect(r.incidents[0]!.vantageVerdict).toMatchObject({ locus: 'at-vantage', after: 'lb', confidence: 'high' });
    expect(r.incidents[0]!.vantageVerdict.reason).toMatch(/lb dropped it silently/);
    const two = await threeVantages('blackhole', ['client', 'server']);
    expect(two.incidents[0]!.vantageVerdict).toMatchObject({ locus: 'between', after: 'client', before: 'server', confidence: 'high' });
  });

  it.skipIf(!have('server-fin'))('server-fin: the server got the request and sent the RST itself; the LB\'s two incidents are the same connection', async () => {
    const r = await threeVantages('server-fin');
    // client 1 + server 1 + LB 2 (one per leg) incidents, all one connection.
    expect(r.captures.map((c) => c.incidents)).toEqual([1, 2, 1]);
    expect(r.incidents).toHaveLength(1);
    const i = r.incidents[0]!;
    const serverTruth = at('server-fin', 'server.pcap').incidents[0]!;
    expect(i.vantages[2]).toMatchObject({ requestSeen: true, rstSeen: true, incident: 'reuse-after-fin' });
    expect(i.vantages[2]!.legs[0]).toMatchObject({ request: { frame: serverTruth.frames.request }, rst: { frame: serverTruth.frames.rst, from: '10.200.2.2:8080', ttl: 64 } });
    expect(i.vantageVerdict).toMatchObject({ locus: 'server', after: 'server', confidence: 'high' });
    expect(i.vantageVerdict.reason).toMatch(/got the request \(frame \d+\) and sent the RST itself/);
  });

  it.skipIf(!have('busy'))('busy: 17 connections to two VIPs all matched; each of the 8 incidents placed at the LB', async () => {
    const r = await threeVantages('busy');
    expect(r.alignment.vantages.map((v) => [v.matched, v.connections, v.unmatched])).toEqual([[34, 34, 0], [17, 17, 0]]);
    expect(r.incidents).toHaveLength(8);
    for (const i of r.incidents) expect(i.vantageVerdict).toMatchObject({ locus: 'at-vantage', after: 'lb', confidence: 'high' });
  });

  it.skipIf(!have('keepalive-on'))('keepalive-on: no incident anywhere, every connection (keepalive probes included) matched', async () => {
    const r = await threeVantages('keepalive-on');
    expect(r.incidents).toEqual([]);
    for (const v of r.alignment.vantages) expect(v.unmatched).toBe(0);
  });

  it.skipIf(!have('rst-after-idle-v6'))('rst-after-idle-v6: the same through ip6tables DNAT', async () => {
    const r = await threeVantages('rst-after-idle-v6');
    expect(r.alignment.vantages[1]).toMatchObject({ matched: 2, matchedBy: { isn: 2 } });
    expect(r.incidents[0]!.vantageVerdict).toMatchObject({ locus: 'at-vantage', after: 'lb', confidence: 'high' });
  });
});

describe.skipIf(!have('rst-after-idle'))('the postmortem of several captures', () => {
  it('Markdown: a row per capture with its clock offset, a row per vantage point per incident, and the verdict from the captures', async () => {
    const md = renderMarkdown(await threeVantages('rst-after-idle'));
    expect(md).toMatch(/### Vantage points/);
    expect(md).toMatch(/\| \*\*lb\*\* \| `[^`]*lb-any\.pcap` \| pcap, LINUX\\_SLL2 \| 48 packets, 4 connections \| 4 of 4 connections found in client's \| -?\d+ µs ± \d+ µs \|/);
    expect(md).toMatch(/#### What each vantage point captured/);
    expect(md).toMatch(/\| lb `lb-any\.pcap` \| frame 27 \| `10\.200\.9\.9:80 TTL 64` frame 28 \| `2026-11-21T01:45:43\.\d{6}Z` \| 4-tuple, isn \|/);
    expect(md).toMatch(/\| server `server\.pcap` \| not seen \| - \| - \| isn \|/);
    expect(md).toMatch(/\*\*Verdict from the captures:\*\* The request left client \(frame 14\).*lb forged it \(confidence high, three vantage points\)\./);
  });

  it('HTML: the SVG timeline has a lane per capture, with the request and the RST where each saw them', async () => {
    const html = renderHtml(await threeVantages('rst-after-idle'));
    for (const v of ['client', 'lb', 'server']) expect(html).toContain(`class="lane">capture ${v}</text>`);
    expect(html).toMatch(/>27 request<\/text>/);
    expect(html).toMatch(/>28 RST TTL 64<\/text>/);
    expect(html).toMatch(/>request not seen, no RST<\/text>/);
    expect(html).toContain('What each vantage point captured');
  });

  it('one capture: no vantage sections, exactly as before', async () => {
    const { analyzeCapture } = await import('../../src/analysis/analyze.js');
    const r = await analyzeCapture(join(CAPTURES, 'rst-after-idle', 'client-any.pcap'));
    expect(renderMarkdown(r)).not.toMatch(/vantage point/i);
    expect(renderHtml(r)).not.toContain('capture client');
  });
});

describe.skipIf(!have('rst-after-idle'))('flowdoc analyze with several captures', () => {
  const dir = join(CAPTURES, 'rst-after-idle');
  it('no longer ignores the second capture: server first (no incident there), the client\'s incident is still found', async () => {
    // Before: `analyze a.pcap b.pcap` read a.pcap only and exited 0 here.
    const r = await runCli(['analyze', '-f', 'json', join(dir, 'server.pcap'), join(dir, 'client-any.pcap')]);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.captures.map((c: { vantage: string }) => c.vantage)).toEqual(['server', 'client-any']);
    expect(j.incidents).toHaveLength(1);
    expect(j.incidents[0].vantage).toBe('client-any');
  });

  it('names vantage points, prints a row per vantage point, and keeps one capture exactly as before', async () => {
    const r = await runCli(['analyze', `client=${join(dir, 'client-any.pcap')}`, `lb=${join(dir, 'lb-any.pcap')}`, `server=${join(dir, 'server.pcap')}`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/3 captures of one path/);
    expect(r.stdout).toMatch(/│ lb +│ frame 27/);
    expect(r.stdout).toMatch(/captures: The request left client \(frame 14\)/);
    const one = await runCli(['analyze', '-f', 'json', `client=${join(dir, 'client-any.pcap')}`]);
    const plain = await runCli(['analyze', '-f', 'json', join(dir, 'client-any.pcap')]);
    expect(one.stdout).toBe(plain.stdout);
    expect(JSON.parse(plain.stdout).captures).toBeUndefined();
  });

  it('one unreadable capture among several: a clear line, exit 2, the others still analysed', async () => {
    const r = await runCli(['analyze', '-f', 'json', join(dir, 'client-any.pcap'), join(dir, 'client.log')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/client\.log: .*not a/i);
    const j = JSON.parse(r.stdout);
    expect(j.incidents).toHaveLength(1);
    expect(j.captures[1].format).toBeNull();
  });

  it('two captures with the same vantage name are a usage error', async () => {
    const r = await runCli(['analyze', `a=${join(dir, 'client-any.pcap')}`, `a=${join(dir, 'server.pcap')}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/two captures are named 'a'/);
  });
});

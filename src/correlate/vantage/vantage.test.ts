import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCaptures } from '../../analysis/analyze-many.js';
import { analyzeCapture } from '../../analysis/analyze.js';
import { CaptureScript, PcapngWriter, renderCapture, type ScriptFrame } from '../../writer/index.js';

/**
 * The alignment on captures written by the capture writer: one story (a pooled connection, an idle
 * gap, a request the load balancer answers with a forged RST) scripted once per vantage point with
 * the same calls — what a vantage point does not see is `captured: false`, so both captures'
 * clocks advance alike — and the second capture's timestamps shifted by a known clock offset θ
 * plus a one-way delay δ (client→server segments reach it δ later, server→client ones leave it δ
 * earlier). The estimate must then be exactly θ ± δ.
 */

const dir = mkdtempSync(join(tmpdir(), 'flowdoc-vantage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const CLIENT = '10.1.0.5:41000';
const VIP = '10.9.0.9:80';
const BACKEND = '10.2.0.7:8080';
const GET = (n: number) => `GET /items/${n} HTTP/1.1\r\nHost: api\r\nx-request-id: req-${n}\r\n\r\n`;
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

interface View {
  /** The server address as this vantage point sees it (after DNAT: the backend). */
  server: string;
  /** Whether this vantage point is behind the load balancer (never sees the late request nor the forged RST). */
  behindLb: boolean;
  /** ISNs as seen here (a NAT that rewrites them gives different ones). */
  clientIsn?: number;
  serverIsn?: number;
  /** Segments this vantage point misses: 'handshake' (started late), 'first-response' (a drop). */
  missing?: readonly ('handshake' | 'first-response')[];
  exchanges?: number;
  /** Another, unrelated connection instead of the story. */
  unrelated?: boolean;
}

function story(v: View, start = '2024-03-01T10:00:00Z'): CaptureScript {
  const cap = new CaptureScript({ start, seed: 7 });
  if (v.unrelated) {
    const u = cap.tcp({ client: '10.5.5.5:50000', server: '10.6.6.6:443' });
    u.handshake();
    u.clientSends('hello there');
    u.serverSends('general kenobi');
    cap.idle(40);
    u.fin('client');
    u.fin('server');
    return cap;
  }
  const c = cap.tcp({ client: CLIENT, server: v.server, clientIsn: v.clientIsn ?? 1_000_000, serverIsn: v.serverIsn ?? 3_000_000_000, serverTtl: v.behindLb ? 64 : 63 });
  const miss = new Set(v.missing ?? []);
  c.handshake({ captured: !miss.has('handshake') });
  for (let n = 1; n <= (v.exchanges ?? 2); n++) {
    c.clientSends(GET(n));
    if (n === 1 && miss.has('first-response')) {
      // The response in two segments, the first one lost by this capture.
      c.serverSends(OK.slice(0, 20), { ack: false, captured: false });
      c.serverSends(OK.slice(20));
    } else {
      c.serverSends(OK);
    }
  }
  cap.idle(30);
  c.clientSends(GET(99), { ack: false, captured: !v.behindLb });
  c.rst('server', { ttl: 64, captured: !v.behindLb });
  // The client retries on a new connection, which works: every vantage point sees it, so each
  // capture was demonstrably running after the failed request.
  cap.idle(0.2);
  const retry = cap.tcp({ client: '10.1.0.5:41002', server: v.server, clientIsn: (v.clientIsn ?? 1_000_000) + 5_000, serverIsn: (v.serverIsn ?? 3_000_000_000) + 7_000, serverTtl: v.behindLb ? 64 : 63 });
  retry.handshake();
  retry.clientSends(GET(99));
  retry.serverSends(OK);
  return cap;
}

/** Writes a script as a pcap, shifting timestamps: θ for everything, +δ for client→server, −δ for server→client. */
function write(cap: CaptureScript, thetaMicros = 0, deltaMicros = 0): string {
  const clientIp = [10, 1, 0, 5];
  const shifted = cap.frames.map((f): ScriptFrame => {
    const fromClient = clientIp.every((b, i) => f.payload[12 + i] === b);
    return { ...f, tsMicros: f.tsMicros + thetaMicros + (fromClient ? deltaMicros : -deltaMicros) };
  });
  const file = join(dir, `v${++files}.pcap`);
  writeFileSync(file, renderCapture(shifted, { format: 'pcap', linkType: 1 }));
  return file;
}

const podA = (exchanges = 2) => write(story({ server: VIP, behindLb: false, exchanges }));

describe('aligning two captures of one path (capture writer)', () => {
  for (const thetaSeconds of [2.5, -3.25]) {
    it(`a gateway capture behind a DNAT, its clock off by ${thetaSeconds} s: matched by ISN, offset ${thetaSeconds} s ± the one-way delay, forged between the two`, async () => {
      const gw = write(story({ server: BACKEND, behindLb: true }), thetaSeconds * 1e6, 40);
      const r = await analyzeCaptures([{ vantage: 'podA', file: podA() }, { vantage: 'gateway', file: gw }]);
      const a = r.alignment.vantages[0]!;
      expect(a).toMatchObject({ matched: 2, unmatched: 0, matchedBy: { isn: 2 }, overlap: true });
      expect(a.clock.method).toBe('two-way');
      expect(a.clock.upstream).toBe('anchor');
      expect(a.clock.offsetSeconds).toBeCloseTo(thetaSeconds, 6);
      expect(a.clock.uncertaintySeconds).toBeCloseTo(40e-6, 9);
      const i = r.incidents[0]!;
      expect(i.kind).toBe('stale-reuse-rst');
      const [pa, g] = i.vantages;
      expect(pa).toMatchObject({ requestSeen: true, rstSeen: true });
      expect(g).toMatchObject({ covered: true, requestSeen: false, rstSeen: false });
      // The gateway's last segment, on podA's clock, is δ away from podA's view of it.
      const gwLast = g!.legs[0]!;
      expect(gwLast.client).toBe(CLIENT);
      expect(gwLast.server).toBe(BACKEND);
      expect(i.vantageVerdict).toMatchObject({ locus: 'between', after: 'podA', before: 'gateway', confidence: 'high', vantagePoints: 2, caveats: [] });
      expect(i.vantageVerdict.reason).toMatch(/^The request left podA \(frame \d+\) and never reached gateway's capture; the RST seen at podA .* forged between podA and gateway — the load balancer \(confidence high, two vantage points\)$/);
    });
  }

  it('the other capture is given first: the bracket says so (upstream = vantage) and the offset keeps its sign', async () => {
    const gw = write(story({ server: BACKEND, behindLb: true }), 1e6, 25);
    const r = await analyzeCaptures([{ vantage: 'gateway', file: gw }, { vantage: 'podA', file: podA() }]);
    const c = r.alignment.vantages[0]!.clock;
    expect(c.upstream).toBe('vantage');
    expect(c.offsetSeconds).toBeCloseTo(-1, 6);
    expect(c.uncertaintySeconds).toBeCloseTo(25e-6, 9);
  });

  it('a capture that started after the connection was opened (no handshake): matched by sequence numbers', async () => {
    const gw = write(story({ server: BACKEND, behindLb: true, missing: ['handshake'], exchanges: 3 }), 500_000, 30);
    const r = await analyzeCaptures([{ vantage: 'podA', file: podA(3) }, { vantage: 'gateway', file: gw }]);
    expect(r.alignment.vantages[0]).toMatchObject({ matched: 2, matchedBy: { sequence: 1, isn: 1 } });
    expect(r.alignment.vantages[0]!.clock.offsetSeconds).toBeCloseTo(0.5, 6);
    expect(r.incidents[0]!.vantageVerdict).toMatchObject({ locus: 'between', confidence: 'high' });
  });

  it('a capture that missed a segment of the connection: the absence it testifies to is only medium evidence', async () => {
    const gw = write(story({ server: BACKEND, behindLb: true, missing: ['first-response'] }));
    const r = await analyzeCaptures([{ vantage: 'podA', file: podA() }, { vantage: 'gateway', file: gw }]);
    const v = r.incidents[0]!.vantageVerdict;
    expect(r.incidents[0]!.vantages[1]!.legs[0]!.segmentsNotCaptured).toBeGreaterThan(0);
    expect(v).toMatchObject({ locus: 'between', confidence: 'medium' });
    expect(v.caveats.join(' ')).toMatch(/gateway's capture missed 1 segment/);
  });

  it('a pcapng capture whose interface statistics record kernel drops: reported, and its silence is only medium evidence', async () => {
    const gwScript = story({ server: BACKEND, behindLb: true });
    const stats = new PcapngWriter();
    stats.section();
    const ifid = stats.interface({ linkType: 1 });
    stats.interfaceStatistics(ifid, { tsMicros: gwScript.frames[gwScript.frames.length - 1]!.tsMicros, received: 40n, dropped: 1n });
    stats.interfaceStatistics(ifid, { tsMicros: gwScript.frames[gwScript.frames.length - 1]!.tsMicros + 1, received: 41n, dropped: 3n });
    const pcapng = renderCapture(gwScript.frames, { format: 'pcapng', linkType: 1 });
    const tail = stats.toBytes();
    const file = join(dir, `v${++files}.pcapng`);
    writeFileSync(file, Buffer.concat([pcapng, tail]));
    const alone = await analyzeCapture(file);
    // Cumulative counters: the last ISB of the interface counts.
    expect(alone.capture.kernelDrops).toBe(3);
    expect(alone.warnings.join('\n')).toMatch(/the capturing system dropped 3 packets/);
    const r = await analyzeCaptures([{ vantage: 'podA', file: podA() }, { vantage: 'gateway', file }]);
    expect(r.captures[1]!.kernelDrops).toBe(3);
    expect(r.captures[0]!.kernelDrops).toBeUndefined();
    const v = r.incidents[0]!.vantageVerdict;
    expect(r.incidents[0]!.vantages[1]!.kernelDrops).toBe(3);
    expect(v).toMatchObject({ locus: 'between', confidence: 'medium' });
    expect(v.caveats.join(' ')).toMatch(/gateway's capture dropped 3 packets \(pcapng interface statistics\)/);
  });

  it('the server answered but the answer never came back: placed on the return path', async () => {
    const lostAnswer = (atServer: boolean): string => {
      const cap = new CaptureScript({ start: '2024-03-01T10:00:00Z', seed: 9 });
      const c = cap.tcp({ client: CLIENT, server: atServer ? BACKEND : VIP, clientIsn: 5_000, serverIsn: 9_000_000, serverTtl: atServer ? 64 : 63 });
      c.handshake();
      c.clientSends(GET(1));
      c.serverSends(OK);
      cap.idle(30);
      const seq = c.nextSeq('client');
      c.clientSends(GET(2), { ack: false });
      // The server's answer leaves its host and is lost before it reaches the client's.
      c.serverSends(OK, { ack: false, captured: atServer });
      for (let k = 0; k < 4; k++) {
        cap.idle(0.2 * 2 ** k);
        c.segment('client', { flags: 'AP', seq, ack: 9_000_001 + OK.length, payload: GET(2) });
      }
      return write(cap);
    };
    const r = await analyzeCaptures([{ vantage: 'podA', file: lostAnswer(false) }, { vantage: 'server', file: lostAnswer(true) }]);
    expect(r.alignment.vantages[0]).toMatchObject({ matched: 1, matchedBy: { isn: 1 } });
    const i = r.incidents[0]!;
    expect(i.kind).toBe('stale-reuse-timeout');
    expect(i.vantages[0]).toMatchObject({ requestSeen: true, rstSeen: false });
    expect(i.vantages[0]!.legs[0]!.answer).toBeNull();
    expect(i.vantages[1]).toMatchObject({ requestSeen: true, covered: true });
    expect(i.vantages[1]!.legs[0]!.answer).toMatchObject({ kind: 'data', from: BACKEND });
    expect(i.vantageVerdict).toMatchObject({ locus: 'return-path', after: 'server', before: 'podA', confidence: 'high' });
    expect(i.vantageVerdict.reason).toMatch(/the server side answered \(frame \d+\), but the answer never reached podA: it was lost between server and podA/);
  });

  it('a capture that ran only before the request: its silence proves nothing (low, with the reason)', async () => {
    const early = story({ server: BACKEND, behindLb: true });
    // Stopped during the idle gap (before the request and the retry).
    const frames = early.frames.filter((f) => f.tsMicros < early.frames[0]!.tsMicros + 10e6);
    const file = join(dir, `v${++files}.pcap`);
    writeFileSync(file, renderCapture(frames, { format: 'pcapng', linkType: 1 }));
    const r = await analyzeCaptures([{ vantage: 'podA', file: podA() }, { vantage: 'gateway', file }]);
    expect(r.alignment.vantages[0]!.matched).toBe(1);
    const i = r.incidents[0]!;
    expect(i.vantages[1]!.covered).toBe(false);
    expect(i.vantageVerdict.confidence).toBe('low');
    expect(i.vantageVerdict.caveats.join(' ')).toMatch(/gateway's capture was not running when the request was sent/);
  });

  it('an unrelated second capture: nothing is matched, and the report says so instead of inventing a match', async () => {
    const other = write(story({ server: BACKEND, behindLb: true, unrelated: true }));
    const r = await analyzeCaptures([{ vantage: 'podA', file: podA() }, { vantage: 'elsewhere', file: other }]);
    const a = r.alignment.vantages[0]!;
    expect(a).toMatchObject({ matched: 0, unmatched: 1, anchorUnmatched: 2 });
    expect(a.unmatchedSamples.map((u) => u.reason).sort()).toEqual(['no-counterpart', 'not-in-capture', 'not-in-capture']);
    expect(a.clock.method).toBe('none');
    expect(r.warnings.join('\n')).toMatch(/share no traffic/);
    expect(r.incidents[0]!.vantageVerdict.confidence).toBe('low');
    expect(r.incidents[0]!.vantageVerdict.caveats.join(' ')).toMatch(/does not hold this connection/);
  });

  it('captures with no overlap in time: said plainly', async () => {
    const later = write(story({ server: BACKEND, behindLb: true, unrelated: true }, '2024-03-02T10:00:00Z'));
    const r = await analyzeCaptures([{ vantage: 'podA', file: podA() }, { vantage: 'tomorrow', file: later }]);
    expect(r.alignment.vantages[0]).toMatchObject({ matched: 0, overlap: false });
    expect(r.alignment.vantages[0]!.text).toMatch(/do not overlap in time/);
    expect(r.alignment.vantages[0]!.unmatchedSamples[0]!.reason).toBe('outside-time');
  });

  it('a NAT that rewrote both ISNs: matched by relative sequence progress at the same time, confidence low, and the offset still found', async () => {
    const gw = write(story({ server: BACKEND, behindLb: true, clientIsn: 77_000, serverIsn: 123_456_789, exchanges: 3 }), 2e6, 40);
    const r = await analyzeCaptures([{ vantage: 'podA', file: podA(3) }, { vantage: 'gateway', file: gw }]);
    const a = r.alignment.vantages[0]!;
    expect(a).toMatchObject({ matched: 2, matchedBy: { 'relative-seq': 2 } });
    expect(a.clock.offsetSeconds).toBeCloseTo(2, 6);
    const v = r.incidents[0]!.vantageVerdict;
    expect(r.incidents[0]!.vantages[1]!.legs[0]!.method).toBe('relative-seq');
    expect(v.locus).toBe('between');
    expect(v.confidence).toBe('low');
    expect(v.caveats.join(' ')).toMatch(/matched by relative-seq only/);
  });

  it('one unreadable capture among several: its error is reported, the others are analysed', async () => {
    const bad = join(dir, 'bad.pcap');
    writeFileSync(bad, 'this is not a capture\n');
    const r = await analyzeCaptures([{ vantage: 'podA', file: podA() }, { vantage: 'broken', file: bad }]);
    expect(r.captures[1]!.format).toBeNull();
    expect(r.captures[1]!.error).not.toBeNull();
    expect(r.incidents).toHaveLength(1);
  });
});

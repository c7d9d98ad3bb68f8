import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../analysis/analyze.js';
import { rstOrigin } from '../detect/index.js';
import { probeImplies, renderAnalysisTable, renderJson, retryText, rstReason } from './index.js';
import { LAB, REPO_ROOT } from './testing/real.js';

/** What the RST's TTLs make of it, as the detector hands it on (no sentence). */
const rst = (ttl: number, serverTtl: number | null) => ({ ttl, serverTtl, ...rstOrigin(ttl, serverTtl) });

describe('the RST reason, worded by report from the TTLs', () => {
  it('says why for each origin rstOrigin tells apart', () => {
    expect(rstReason(rst(61, 61))).toBe("RST TTL 61 equals the server's TTL 61: same distance, sent by the server (or a proxy terminating TCP at its address)");
    expect(rstReason(rst(64, 62))).toBe('RST TTL 64 vs server TTL 62: it came from 2 hops closer than the server — a middlebox forged it');
    expect(rstReason(rst(250, 60))).toBe('RST TTL 250 (initial 255, 5 hops) vs server TTL 60 (initial 64, 4 hops): a different network stack forged it');
    expect(rstReason(rst(60, 63))).toBe("RST TTL 60 is lower than the server's 63: it travelled farther than the server's packets (a path change, or a device beyond the server)");
    expect(rstReason(rst(64, null))).toBe('RST TTL 64; the server sent no other packet in this capture to compare with');
  });
});

describe('the probe implication', () => {
  it('names the keepalive time, the interval when there is one, and the Linux default at 7200 s', () => {
    expect(probeImplies({ idleBeforeFirstProbeSeconds: 600.2, intervalSeconds: 75.4 })).toBe('its TCP keepalive time (TCP_KEEPIDLE / tcp_keepalive_time) is about 600 s, interval about 75 s');
    expect(probeImplies({ idleBeforeFirstProbeSeconds: 7201, intervalSeconds: null })).toMatch(/about 7201 s — the Linux default tcp_keepalive_time \(7200 s\)/);
  });
});

// The words of a real lab capture, pinned as flowdoc printed them when detect still made them:
// the table and the JSON must say exactly this.
describe.skipIf(!readdirSync(LAB).includes('keepalive-too-slow'))('the keepalive-too-slow lab capture, worded as before', () => {
  const capture = resolve(LAB, 'keepalive-too-slow/client-any.pcap');
  const MIDDLEBOX = 'RST TTL 64 vs server TTL 63: it came from 1 hop closer than the server — a middlebox forged it';
  const IMPLIES = 'its TCP keepalive time (TCP_KEEPIDLE / tcp_keepalive_time) is about 12 s';
  const PROBE_RETRY = 'no request was lost with the connection itself (a keepalive probe found it dead); requests sent on it later fail before reaching the server and are safe to retry on a new connection';
  const POST_RETRY = "nothing acknowledged the POST's bytes before the RST: it never reached the server — safe to retry on a new connection";

  it('gives the JSON the same reason, implies and retry text', async () => {
    const r = await analyzeCapture(capture);
    const json = JSON.parse(renderJson(r)) as { incidents: { kind: string; rst: { reason: string }; probe?: Record<string, unknown>; retry: { text: string } }[] };
    const slow = json.incidents.find((i) => i.kind === 'keepalive-too-slow')!;
    expect([slow.rst.reason, slow.probe!.implies, slow.retry.text]).toEqual([MIDDLEBOX, IMPLIES, PROBE_RETRY]);
    expect(Object.keys(slow.probe!)).not.toContain('intervalSeconds'); // schema v2 carries the interval as words only
    const stale = json.incidents.find((i) => i.kind === 'stale-reuse-rst')!;
    expect([stale.rst.reason, stale.retry.text]).toEqual([MIDDLEBOX, POST_RETRY]);
    expect(retryText(r.incidents.find((i) => i.kind === 'stale-reuse-rst')!)).toBe(POST_RETRY);
  });

  it('prints the same words in the table', async () => {
    const table = renderAnalysisTable(await analyzeCapture(capture), false).replace(/\n {3,}/g, ' ');
    expect(table).toContain(`RST: ${MIDDLEBOX}`);
    expect(table).toContain(`keepalive: ${IMPLIES}; with only SO_KEEPALIVE set`);
    expect(table).toContain(`retry: ${PROBE_RETRY}`);
    expect(table).toContain(`retry: ${POST_RETRY}`);
  });
});

describe('detect words no sentences', () => {
  it('imports neither report nor the shared wording', () => {
    const dir = resolve(REPO_ROOT, 'src/detect');
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) => /from '\.\.\/(report\/|shared\/keepalive-words)/.test(readFileSync(resolve(dir, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});

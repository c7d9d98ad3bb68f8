import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { analyzeCapture, type AnalysisResult } from '../analysis/analyze.js';
import { displayFilter, jsonIncident, renderMarkdown } from './index.js';
import { mdCode, mdText } from './markdown.js';
import { HAVE_RTSP, RTSP, skipNote } from './testing/real.js';
import { allKinds, analyse, ScenarioDir, staleRst, removeScenarioDirs } from './testing/scenarios.js';
import { formatPath } from './address.js';

/** The Markdown with fenced blocks and code spans removed: what a renderer reads as prose and could turn into HTML. */
function prose(md: string): string {
  let out = md.replace(/^(`{3,})[^\n]*\n[\s\S]*?^\1$/gm, '');
  out = out.replace(/(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g, '');
  return out;
}

/** Every fenced block of a language. */
function fences(md: string, lang: string): string[] {
  return [...md.matchAll(/^(`{3,})([a-z]*)\n([\s\S]*?)^\1$/gm)].filter((m) => m[2] === lang).map((m) => m[3]);
}

let withLogs: AnalysisResult;
let kinds: AnalysisResult;
let hostile: AnalysisResult;
afterAll(removeScenarioDirs);
beforeAll(async () => {
  const d = new ScenarioDir();
  withLogs = await analyse(staleRst(d, { withLogs: true }));
  kinds = await analyse(allKinds(d));
  hostile = await analyse(staleRst(d, { hostile: true }));
});

describe('the Markdown postmortem', () => {
  it('opens with what broke, how often, which hop and the fix, then the timeline, incidents, destinations, logs and remedies', () => {
    const md = renderMarkdown(withLogs, { captureLabel: 'incident-42/client.pcap' });
    expect(md.startsWith('# flowdoc postmortem: incident-42/client.pcap\n')).toBe(true);
    const order = ['## Summary', '**What broke:**', '**How often:**', '**Which hop:**', '**The fix:**', '## Incidents at a glance', '## Timeline (UTC)', '## Incidents\n', '### 1. reset after idle', '## Destinations', '## Logs', '## Remedies'];
    const at = order.map((s) => md.indexOf(s));
    expect(at.every((n) => n >= 0), order.filter((_, k) => at[k] < 0).join(', ')).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(md).toMatch(/\*\*Which hop:\*\* The load balancer \/ NAT between orders-client-sidecar and orders-sidecar/);
    expect(md).toMatch(/\*\*The fix:\*\* orders\.shop\.svc\.cluster\.local \(10\.20\.0\.9:8080\): TCP keepalive time 390 s/);
  });

  it('indexes the incidents before anything else: number, time, kind, connection, idle and who broke it', () => {
    const md = renderMarkdown(kinds);
    const index = md.slice(md.indexOf('## Incidents at a glance'), md.indexOf('## Timeline (UTC)'));
    const rows = index.split('\n').filter((l) => /^\| \d+ \|/.test(l));
    expect(rows).toHaveLength(kinds.incidents.length);
    kinds.incidents.forEach((i, n) => {
      expect(rows[n]).toContain(`| ${n + 1} | \`${jsonIncident(i).times.request ?? jsonIncident(i).times.rst}\` | \`${i.kind}\` | \`${formatPath(i.endpoints)}\` |`);
    });
    expect(index).toMatch(/\| a middlebox \(forged RST\) \|/);
    expect(index).toMatch(/\| silent drop on the path \|/);
  });

  it('lists the timeline in UTC, in time order, with frames and each hop\'s log line', () => {
    const md = renderMarkdown(withLogs);
    const table = md.slice(md.indexOf('## Timeline (UTC)'), md.indexOf('## Incidents\n'));
    const times = [...table.matchAll(/^\| `(\d{4}-[^`]+Z)` \|/gm)].map((m) => m[1]);
    expect(times.length).toBe(4);
    expect([...times].sort()).toEqual(times);
    expect(table).toMatch(/\| 1 \| \d+ \| last packet before 900 s of silence \|/);
    expect(table).toMatch(/request GET \/orders\/7 after 900 s idle \(no keepalive probes\)/);
    expect(table).toMatch(/RST from 10\.20\.0\.9:8080 \(TTL 64, middlebox\)/);
    expect(table).toMatch(/orders-client-sidecar logged 503 UC/);
  });

  it('gives each incident its evidence: frames and times, the idle gap, probes, the RST TTL against the server\'s, each hop\'s line and the verdict', () => {
    const md = renderMarkdown(withLogs);
    const i = withLogs.incidents[0];
    const times = jsonIncident(i).times;
    const section = md.slice(md.indexOf('### 1.'), md.indexOf('## Destinations'));
    expect(section).toContain(`| idle gap | 900 s: frame ${i.frames.lastBeforeIdle} at ${times.lastBeforeIdle} → frame ${i.frames.request} at ${times.request} |`);
    expect(section).toContain('| keepalive probes | none from either side: keepalive was off |');
    expect(section).toContain(`| RST | frame ${i.frames.rst} at ${times.rst} from \`10.20.0.9:8080\`, TTL 64 vs the server's 61: middlebox |`);
    expect(section).toContain('| RST origin | RST TTL 64 vs server TTL 61: it came from 3 hops closer than the server — a middlebox forged it |');
    expect(section).toMatch(/\| orders-client-sidecar \| sent it upstream \| `client\.log:3` \| `2024-05-01T10:21:40\.001Z` \+2 ms \| `503 UC upstream_reset_before_response_started\{connection_termination\}`: the upstream connection was terminated/);
    expect(section).toContain('| orders-sidecar | - | - | - | no line: this hop never saw the request |');
    expect(section).toMatch(/> \*\*Verdict:\*\* The load balancer \/ NAT .* Culprit: middlebox; confidence high\./);
  });

  it('gives the commands to check each incident: tshark with the display filter on the named file, and the Wireshark filter', () => {
    const md = renderMarkdown(kinds, { captureLabel: "captures/it's here.pcap" });
    for (const i of kinds.incidents) {
      expect(md).toContain(`tshark -r 'captures/it'\\''s here.pcap' -Y '${displayFilter(i)}'`);
      expect(md).toContain(`Wireshark display filter: \`${displayFilter(i)}\``);
    }
    expect(fences(md, 'sh').length).toBe(kinds.incidents.length);
  });

  it('ends with remedies whose YAML blocks parse', () => {
    const md = renderMarkdown(kinds);
    const blocks = fences(md, 'yaml');
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const b of blocks) expect(() => parse(b)).not.toThrow();
    expect(md).toMatch(/#### How the numbers were chosen/);
    // Go for the two stale-reuse destinations (keepalive) and for the keep-alive race (IdleConnTimeout,
    // computed from the server's idle before its FIN).
    expect(fences(md, 'go').length).toBe(3);
  });

  it('escapes hostile text from the capture, the logs and the file name so no HTML reaches a Markdown renderer', () => {
    const md = renderMarkdown(hostile);
    expect(md).toContain('<script>'); // literally, but only in code
    expect(prose(md)).not.toMatch(/<[a-z/!]/i);
    expect(prose(md)).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(md).toContain('`GET /orders/<script>alert(1)</script>`');
    expect(md).toMatch(/User-Agent `evil<script>alert\(2\)<\/script>`/);
  });
});

describe('Markdown escaping', () => {
  it('escapes punctuation and HTML in text, and fences code spans longer than any backtick run inside', () => {
    expect(mdText('a*b_c [x](y) <b> & |')).toBe('a\\*b\\_c \\[x\\](y) &lt;b&gt; &amp; \\|');
    expect(mdCode('a`b')).toBe('``a`b``');
    expect(mdCode('`x`')).toBe('`` `x` ``');
    expect(mdCode('a|b', true)).toBe('`a\\|b`');
    expect(mdText('line\nbreak')).toBe('line break');
  });
});

describe.skipIf(!HAVE_RTSP)('the Markdown postmortem of the real rtsp.pcap', () => {
  if (!HAVE_RTSP) skipNote('rtsp.pcap Markdown', `${RTSP} is not on this machine`);
  it('has one section per incident and a remedy for 10.2.2.2:8554', async () => {
    const r = await analyzeCapture(RTSP);
    const md = renderMarkdown(r);
    expect((md.match(/^### \d+\. /gm) ?? []).length).toBe(r.incidents.length);
    expect(md).toMatch(/^### 10\.2\.2\.2:8554$/m);
    expect(md).toMatch(/58\.0 s idle/);
  });
});

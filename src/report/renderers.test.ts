/**
 * One conformance suite for the four renderers: whatever the format, the report carries the
 * same evidence — every incident's key frame numbers and display filter, each destination, the
 * computed fix — for real analyses of writer-made captures, the rtsp corpus file and the lab.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCapture, type AnalysisResult } from '../analysis/analyze.js';
import { computeRemedies, displayFilter, REPORT_FORMATS, renderAnalysis, type ReportFormat } from './index.js';
import { HAVE_RTSP, labScenarios, RTSP, skipNote } from './testing/real.js';
import { allKinds, analyse, healthy, probesIgnored, rawIpv6, ScenarioDir, staleRst, removeScenarioDirs } from './testing/scenarios.js';
import { formatEnds } from './address.js';

const cases: { name: string; result: AnalysisResult }[] = [];
let clean: AnalysisResult;
afterAll(removeScenarioDirs);
beforeAll(async () => {
  const d = new ScenarioDir();
  clean = await analyse(healthy(d));
  cases.push({ name: 'every kind in one capture', result: await analyse(allKinds(d)) });
  cases.push({ name: 'stale-reuse-rst with logs', result: await analyse(staleRst(d, { withLogs: true })) });
  cases.push({ name: 'probes ignored', result: await analyse(probesIgnored(d)) });
  cases.push({ name: 'non-HTTP over IPv6', result: await analyse(rawIpv6(d)) });
  if (HAVE_RTSP) cases.push({ name: 'rtsp.pcap', result: await analyzeCapture(RTSP) });
  else skipNote('rtsp.pcap in the renderer conformance suite', `${RTSP} is not on this machine`);
  const lab = labScenarios();
  if (!lab.length) skipNote('lab captures in the renderer conformance suite', 'no captures/<scenario>/ with logs');
  for (const s of lab) cases.push({ name: `lab ${s.name}`, result: await analyzeCapture(s.pcap, { logs: s.logs }) });
});

/** What a reader must find in the report text (markup aside). */
function plainText(format: ReportFormat, s: string): string {
  if (format === 'html') return s.replace(/<[^>]+>/g, ' ').replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  if (format === 'markdown') return s.replace(/\\([\\`*_[\]|~#>+=-])/g, '$1').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return s;
}

describe.each(REPORT_FORMATS.map((f) => [f]))('the %s renderer', (format) => {
  it('names every incident\'s request and RST frames and its destination', () => {
    for (const { name, result } of cases) {
      const text = plainText(format, renderAnalysis(result, format));
      for (const i of result.incidents) {
        if (i.frames.rst !== null) expect.soft(text, `${name}: RST frame ${i.frames.rst}`).toMatch(new RegExp(`\\b${i.frames.rst}\\b`));
        if (i.frames.request !== null) expect.soft(text, `${name}: request frame ${i.frames.request}`).toMatch(new RegExp(`\\b${i.frames.request}\\b`));
        expect.soft(text, `${name}: server`).toContain(formatEnds(i.endpoints).server);
      }
    }
  });

  it('gives every incident\'s Wireshark display filter', () => {
    for (const { name, result } of cases) {
      const text = plainText(format, renderAnalysis(result, format)).replace(/\s+/g, ' ');
      for (const i of result.incidents) expect.soft(text, name).toContain(displayFilter(i));
    }
  });

  it('states the computed fix for every destination with incidents', () => {
    for (const { name, result } of cases) {
      const text = plainText(format, renderAnalysis(result, format)).replace(/\s+/g, ' ');
      for (const rem of computeRemedies(result)) {
        if (rem.keepalive) expect.soft(text, `${name}: keepalive time`).toMatch(new RegExp(`keepalive time ${rem.keepalive.idleSeconds} s`));
        if (rem.idleTimeoutSeconds !== null) expect.soft(text, `${name}: idle timeout`).toMatch(new RegExp(`idle (?:timeout )?(?:over )?${rem.idleTimeoutSeconds} s`));
      }
    }
  });

  it('says so when there is nothing wrong, and offers no remedy', () => {
    expect(clean.incidents).toEqual([]);
    const text = plainText(format, renderAnalysis(clean, format));
    if (format === 'json') {
      expect(JSON.parse(text)).toMatchObject({ incidents: [], remedies: [] });
    } else {
      expect(text).toMatch(/no request met a connection the network had forgotten/);
      expect(text).not.toMatch(/Remedies|^Fix$/m);
    }
  });

  it('renders the same result to the same text (no clock, no randomness)', () => {
    const r = cases[0].result;
    expect(renderAnalysis(r, format)).toBe(renderAnalysis(r, format));
  });
});

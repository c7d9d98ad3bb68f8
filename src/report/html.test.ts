import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { analyzeCapture, type AnalysisResult } from '../analysis/analyze.js';
import { renderHtml } from './index.js';
import { esc } from './svg-timeline.js';
import { HAVE_RTSP, labScenarios, REPO_ROOT, RTSP, skipNote } from './testing/real.js';
import { allKinds, analyse, ScenarioDir, staleRst, removeScenarioDirs } from './testing/scenarios.js';

const CHROMIUM = '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** Where the browser tests leave a screenshot of each report, for a reviewer to look at (docs/testing.md). */
const SCREENSHOTS = process.env.FLOWDOC_SCREENSHOTS ?? join(REPO_ROOT, 'test-output', 'screenshots');
if (!HAVE_CHROMIUM) skipNote('the headless-browser HTML tests', `${CHROMIUM} is missing (apt-get install -y chromium)`);

let d: ScenarioDir;
let withLogs: AnalysisResult;
let kinds: AnalysisResult;
let hostile: AnalysisResult;
afterAll(removeScenarioDirs);
beforeAll(async () => {
  d = new ScenarioDir();
  withLogs = await analyse(staleRst(d, { withLogs: true }));
  kinds = await analyse(allKinds(d));
  hostile = await analyse(staleRst(d, { hostile: true }));
});

describe('the HTML postmortem', () => {
  it('is one self-contained page: inline CSS, no script, no external asset, a policy that forbids loading any', () => {
    const html = renderHtml(kinds);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
    expect(html).not.toMatch(/\b(?:src|href)="(?!#)/);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  });

  it('draws one SVG timeline per incident, with the idle gap, the probes, the request and the RST by frame number', () => {
    const html = renderHtml(withLogs);
    const i = withLogs.incidents[0];
    expect((html.match(/<svg /g) ?? []).length).toBe(withLogs.incidents.length);
    expect(html).toContain('>900 s idle</text>');
    expect(html).toContain('>no keepalive probes</text>');
    expect(html).toContain(`>#${i.frames.request} GET /orders/7</text>`);
    expect(html).toContain(`>#${i.frames.rst} RST TTL 64 (server 61): middlebox</text>`);
    expect(html).toContain(`>#${i.frames.lastBeforeIdle} last packet</text>`);
    // The hops' lines on the same axis: the client sidecar's 503 UC bar, the server sidecar's empty lane.
    expect(html).toMatch(/class="logbad"\/>\n<text [^>]*>503 UC · line 3 · 2 ms<\/text>/);
    expect(html).toContain('>orders-sidecar</text>');
    expect(html).toContain('>no log line for this request</text>');
  });

  it('marks keepalive probes, retransmissions and the server\'s FIN when the incident has them', () => {
    const html = renderHtml(kinds);
    expect(html).toMatch(/4 retransmissions, no answer \(last #\d+\)/);
    // The FIN has its own time now (times.serverFin), so it is placed on the axis, not marked "(before)".
    expect(html).toMatch(/>#\d+ FIN<\/text>/);
  });

  it('escapes hostile text from the capture, the logs and the file name everywhere, the SVG included', () => {
    const html = renderHtml(hostile);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('GET /orders/&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('evil&#60;script&#62;alert(2)&#60;/script&#62;');
    expect(html).toContain('<title>flowdoc postmortem: ');
    expect(html).toMatch(/it&#39;s &#60;script&#62;alert\(3\)&#38;amp;\.pcap/);
    expect(esc(`"'<>&`)).toBe('&#34;&#39;&#60;&#62;&#38;');
  });
});

interface Layout { vw: number; pageWidth: number; outside: string[]; svgs: number[]; index: number }

/**
 * Runs in the page (as text: the project's TypeScript has no DOM types). Anything whose right edge
 * passes the viewport is listed, unless a scrolling box (a wide table's or a code block's) holds
 * it: that part is reached by scrolling the box, not cut off.
 */
const MEASURE_LAYOUT = `(() => {
  const vw = document.documentElement.clientWidth;
  const scrolls = (e) => {
    for (; e; e = e.parentElement) {
      const o = getComputedStyle(e).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const outside = [...document.querySelectorAll('main *')]
    .filter((e) => { const b = e.getBoundingClientRect(); return b.width > 0 && b.right > vw + 0.5 && !scrolls(e); })
    .map((e) => e.tagName.toLowerCase() + '.' + e.getAttribute('class') + ': ' + (e.textContent || '').slice(0, 40));
  // Text runs are no elements: a block whose own text runs past its box (a long unbroken path) is cut off too.
  for (const e of document.querySelectorAll('main, main *')) {
    if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && !scrolls(e)) outside.push(e.tagName.toLowerCase() + ' text runs past its box: ' + (e.textContent || '').slice(0, 40));
  }
  const svgs = [...document.querySelectorAll('svg.timeline')].map((e) => e.getBoundingClientRect().width);
  return { vw, pageWidth: document.documentElement.scrollWidth, outside, svgs, index: document.querySelectorAll('#index ~ .tw a[href^="#incident-"]').length };
})()`;

describe.skipIf(!HAVE_CHROMIUM)('the HTML postmortem in a real headless browser (Debian chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => { await browser?.close(); });

  async function open(html: string, name: string, width = 1100) {
    const file = join(d.dir, name);
    writeFileSync(file, html);
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${file}`);
    return { page, problems, requests };
  }

  it('loads with no console errors or requests, shows the SVG timeline and its RST frame label', async () => {
    const { page, problems, requests } = await open(renderHtml(withLogs), 'with-logs.html');
    const rst = withLogs.incidents[0].frames.rst!;
    const svg = page.locator('svg.timeline').first();
    const box = await svg.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.width).toBeGreaterThan(100);
    expect(box!.height).toBeGreaterThan(50);
    expect(await svg.isVisible()).toBe(true);
    const label = svg.locator('text', { hasText: `#${rst} RST` });
    expect(await label.count()).toBe(1);
    expect(await label.isVisible()).toBe(true);
    expect(problems).toEqual([]);
    expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
    await page.close();
  });

  it('runs nothing from hostile input: no dialog, the script text shown as text', async () => {
    const { page, problems } = await open(renderHtml(hostile), 'hostile.html');
    let dialogs = 0;
    page.on('dialog', async (dl) => { dialogs++; await dl.dismiss(); });
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.getByText('GET /orders/<script>alert(1)</script>', { exact: false }).count()).toBeGreaterThan(0);
    expect(dialogs).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('renders every timeline of every kind visible, and real captures too', async () => {
    const results: { name: string; r: AnalysisResult }[] = [{ name: 'kinds', r: kinds }];
    if (HAVE_RTSP) results.push({ name: 'rtsp', r: await analyzeCapture(RTSP) });
    const lab = labScenarios()[0];
    if (lab) results.push({ name: lab.name, r: await analyzeCapture(lab.pcap, { logs: lab.logs }) });
    for (const { name, r } of results) {
      const { page, problems } = await open(renderHtml(r), `${name}.html`);
      const svgs = page.locator('svg.timeline');
      expect(await svgs.count(), name).toBe(r.incidents.length);
      for (let k = 0; k < r.incidents.length; k++) {
        const box = await svgs.nth(k).boundingBox();
        expect(box && box.width > 100 && box.height > 50, `${name} #${k + 1}`).toBe(true);
        const rst = r.incidents[k].frames.rst;
        if (rst !== null) expect(await svgs.nth(k).locator('text', { hasText: `#${rst} RST` }).count(), `${name} #${k + 1}`).toBe(1);
      }
      expect(problems, name).toEqual([]);
      await page.close();
    }
  });
  /** The reports a reader sees: synthetic ones of every kind and of hostile text, each of the lab's, and a public capture. */
  const READERS: { name: string; get: () => Promise<AnalysisResult> }[] = [
    { name: 'kinds', get: async () => kinds },
    { name: 'with-logs', get: async () => withLogs },
    { name: 'hostile', get: async () => hostile },
    ...labScenarios().map((lab) => ({ name: `lab-${lab.name}`, get: () => analyzeCapture(lab.pcap, { logs: lab.logs }) })),
    ...(HAVE_RTSP ? [{ name: 'rtsp', get: () => analyzeCapture(RTSP) }] : []),
  ];

  it.each(READERS)('fits a phone (390 px wide): $name — the page never scrolls sideways, nothing is cut off, timelines and wide tables scroll in their own box', async ({ name, get }) => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const r = await get();
    const { page, problems } = await open(renderHtml(r), `${name}-390.html`, 390);
    const m = await page.evaluate(MEASURE_LAYOUT) as Layout;
    expect(m.vw, name).toBe(390);
    expect(m.outside, name).toEqual([]);
    expect(m.pageWidth, name).toBe(m.vw);
    expect(m.svgs, name).toHaveLength(r.incidents.length);
    // Each timeline keeps a readable width: at 390 px it scrolls in its figure (the check above
    // found nothing cut off outside a scrolling box).
    for (const w of m.svgs) expect(w, name).toBeGreaterThanOrEqual(600);
    expect(m.index, name).toBe(Math.min(r.incidents.length, 50));
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-390.png`), fullPage: true });
    expect(problems, name).toEqual([]);
    await page.close();
    const wide = await open(renderHtml(r), `${name}.html`);
    await wide.page.screenshot({ path: join(SCREENSHOTS, `${name}-1100.png`), fullPage: true });
    await wide.page.close();
  });

  it('opens with an index of the incidents whose links reach each incident\'s section', async () => {
    const { page } = await open(renderHtml(kinds), 'index.html', 390);
    const links = page.locator('a[href^="#incident-"]');
    expect(await links.count()).toBe(kinds.incidents.length);
    for (let k = 0; k < kinds.incidents.length; k++) {
      await links.nth(k).click();
      // Following the link scrolls the incident's heading to the top of the viewport.
      const top = await page.evaluate(`document.getElementById('incident-${k + 1}').getBoundingClientRect().top`) as number;
      expect(Math.abs(top), `incident ${k + 1}`).toBeLessThan(2);
    }
    await page.close();
  });
});

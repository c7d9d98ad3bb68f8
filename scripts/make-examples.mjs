#!/usr/bin/env node
/**
 * Renders the example postmortems in docs/examples/ from the built library (run `npm run build`
 * first): the lab's `captures/rst-after-idle/` capture with both sidecars' Istio logs when it
 * exists, otherwise the real rtsp.pcap from the shared corpus. Writes `<name>.md`, `<name>.html`
 * and, when Debian's chromium is installed, `<name>.png` (a screenshot of the HTML's first screen).
 *
 *   npm run build && node scripts/make-examples.mjs
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = resolve(root, 'dist');
if (!existsSync(resolve(dist, 'report/index.js'))) {
  console.error('dist/ is missing or stale: run `npm run build` first');
  process.exit(1);
}
const { analyzeCapture } = await import(resolve(dist, 'analysis/analyze.js'));
const { renderMarkdown, renderHtml } = await import(resolve(dist, 'report/index.js'));

const lab = resolve(root, 'captures/rst-after-idle');
const rtsp = resolve(root, '../shared/corpus/real/nDPI/tests/cfgs/default/pcap/rtsp.pcap');
let example;
if (existsSync(resolve(lab, 'client-any.pcap'))) {
  example = {
    name: 'rst-after-idle',
    pcap: resolve(lab, 'client-any.pcap'),
    // Default settings, as a user would run it; both sidecars' logs.
    options: {
      logs: [
        { hop: 'client-sidecar', file: relative(root, resolve(lab, 'client.log')) },
        { hop: 'server-sidecar', file: relative(root, resolve(lab, 'server.log')) },
      ],
    },
  };
} else if (existsSync(rtsp)) {
  example = { name: 'rtsp', pcap: rtsp, options: {} };
} else {
  console.error('neither captures/rst-after-idle/ nor the shared rtsp.pcap exists: nothing to render');
  process.exit(1);
}

// Paths relative to the repository root, so the report's tshark commands work from there.
process.chdir(root);
const label = relative(root, example.pcap).startsWith('..') ? example.pcap : relative(root, example.pcap);
const result = await analyzeCapture(label, example.options);
const out = resolve(root, 'docs/examples');
mkdirSync(out, { recursive: true });
const md = resolve(out, `${example.name}.md`);
const html = resolve(out, `${example.name}.html`);
writeFileSync(md, renderMarkdown(result, { captureLabel: label }));
writeFileSync(html, renderHtml(result, { captureLabel: label }));
console.log(`wrote ${relative(root, md)} and ${relative(root, html)} (${result.incidents.length} incident(s) in ${label})`);

const chromiumPath = '/usr/bin/chromium';
if (!existsSync(chromiumPath)) {
  console.log(`no ${chromiumPath}: skipping the screenshot (apt-get install -y chromium)`);
} else {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1750 } });
    await page.goto(`file://${html}`);
    const png = resolve(out, `${example.name}.png`);
    await page.screenshot({ path: png });
    console.log(`wrote ${relative(root, png)}`);
  } finally {
    await browser.close();
  }
}

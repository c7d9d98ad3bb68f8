/**
 * The postmortem as one self-contained HTML page: inline CSS, an inline SVG timeline per
 * incident, no scripts, no external assets (a Content-Security-Policy forbids loading any), so it
 * reads the same offline, attached to a ticket. Every string is escaped.
 */
import type { Block, Inline, Rich } from './document.js';
import type { Postmortem } from './postmortem.js';
import { esc, TIMELINE_CSS, timelineSvg } from './svg-timeline.js';

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 15px; line-height: 1.5; color: #1f2328; background: #f6f8fa; }
main { overflow-wrap: break-word; max-width: 980px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; min-height: 100vh; }
h1 { font-size: 24px; margin: 0 0 8px; word-break: break-all; }
h2 { font-size: 20px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 17px; margin: 28px 0 8px; }
h4 { font-size: 15px; margin: 20px 0 6px; color: #424a53; }
nav { font-size: 13px; margin-bottom: 16px; }
nav a { margin-right: 12px; color: #0969da; text-decoration: none; }
p { margin: 8px 0; }
p.bad, p.good { padding: 8px 12px; border-radius: 6px; border-left: 4px solid; }
p.bad { background: #ffebe9; border-color: #cf222e; }
p.good { background: #dafbe1; border-color: #1a7f37; }
p.note { color: #57606a; }
ul { margin: 8px 0; padding-left: 22px; }
li { margin: 3px 0; }
table { border-collapse: collapse; margin: 10px 0; font-size: 13px; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td { overflow-wrap: break-word; }
td code { overflow-wrap: anywhere; }
td:first-child code { white-space: nowrap; overflow-wrap: normal; }
code.nw { white-space: nowrap; overflow-wrap: normal; }
code.language-sh { white-space: pre-wrap; overflow-wrap: anywhere; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; background: #eff1f3; padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 12px; overflow-x: auto; margin: 0; }
pre code { background: none; padding: 0; font-size: 12.5px; overflow-wrap: normal; }
figure { margin: 12px 0; }
figcaption { font-size: 12px; color: #57606a; margin-bottom: 4px; font-weight: 600; }
footer { margin-top: 40px; font-size: 12px; color: #6e7781; overflow-wrap: anywhere; }
a { color: #0969da; }
.tw { overflow-x: auto; margin: 10px 0; }
.tw table { margin: 0; }
@media (max-width: 640px) {
  body { font-size: 14px; }
  main { padding: 14px 12px 32px; }
  h1 { font-size: 19px; }
  h2 { font-size: 17px; margin-top: 28px; }
  h3 { font-size: 15px; }
  th, td { padding: 4px 5px; }
  table { font-size: 12px; }
  /* Short code may break on a phone rather than run out of its cell. */
  td code.nw { white-space: normal; overflow-wrap: anywhere; }
  /* A timeline keeps a readable size and scrolls sideways in its figure instead of shrinking to a smudge. */
  figure.tl { overflow-x: auto; }
  figure.tl svg.timeline { min-width: 640px; }
}
@media print { body { background: #fff; } main { padding: 0; } .tw { overflow: visible; } }
${TIMELINE_CSS}`;

function inline(i: Inline): string {
  switch (i.kind) {
    case 'text': return esc(i.text);
    // Short code (an endpoint, a time, file:line) never wraps; long code may break anywhere.
    case 'code': return `<code${i.text.length <= 40 ? ' class="nw"' : ''}>${esc(i.text)}</code>`;
    case 'strong': return `<strong>${esc(i.text)}</strong>`;
    case 'em': return `<em>${esc(i.text)}</em>`;
    case 'link': return `<a href="#${esc(i.target)}">${esc(i.text)}</a>`;
  }
}

const richHtml = (r: Rich) => r.map(inline).join('');

function block(b: Block): string {
  switch (b.kind) {
    case 'heading': return `<h${b.level}${b.id ? ` id="${esc(b.id)}"` : ''}>${esc(b.text)}</h${b.level}>`;
    case 'para': return `<p${b.tone ? ` class="${b.tone}"` : ''}>${richHtml(b.content)}</p>`;
    case 'list': return `<ul>\n${b.items.map((i) => `<li>${richHtml(i)}</li>`).join('\n')}\n</ul>`;
    case 'table':
      // In a box of its own that scrolls sideways, so a wide table never widens the page on a phone;
      // a table of many columns keeps ~110 px for each rather than squeezing its text into a
      // column a word wide.
      return `<div class="tw"><table${b.head.length > 2 ? ` style="min-width: ${b.head.length * 110}px"` : ''}>\n<thead><tr>${b.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${b.rows.map((r) => `<tr>${r.map((c) => `<td>${richHtml(c)}</td>`).join('')}</tr>`).join('\n')}\n</tbody>\n</table></div>`;
    case 'code':
      return `<figure class="snippet">${b.title ? `<figcaption>${esc(b.title)}</figcaption>` : ''}<pre><code class="language-${esc(b.language.replace(/[^a-z0-9-]/gi, ''))}">${esc(b.code)}</code></pre></figure>`;
    case 'timeline':
      return `<figure class="tl" id="timeline-${b.timeline.number}">${timelineSvg(b.timeline)}</figure>`;
  }
}

export function postmortemToHtml(p: Postmortem, footer: string): string {
  const sections = p.blocks.filter((b): b is Extract<Block, { kind: 'heading' }> => b.kind === 'heading' && b.level === 2 && b.id !== undefined);
  const nav = `<nav>${sections.map((s) => `<a href="#${esc(s.id!)}">${esc(s.text)}</a>`).join('')}</nav>`;
  const [first, ...rest] = p.blocks;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Nothing may load: no scripts, no fetches, no remote fonts or images.
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">',
    `<title>${esc(p.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    first ? block(first) : '',
    nav,
    ...rest.map(block),
    `<footer>${esc(footer)}</footer>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

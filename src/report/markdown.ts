/**
 * The postmortem as GitHub-flavoured Markdown. Text that came from the capture or the logs is
 * hostile: plain text has Markdown punctuation backslash-escaped and `<`, `>`, `&` turned into
 * entities (so no raw HTML ever reaches a renderer), code spans and fences are made longer than
 * any backtick run inside them, and control characters are removed.
 */
import type { Block, IncidentTimeline, Inline, Rich } from './document.js';
import { maxOf } from './input.js';
import { fmtDuration, microsToIso } from './time.js';
import type { Postmortem } from './postmortem.js';

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/g;

/** Plain text for Markdown: single line, punctuation escaped, no HTML. */
export function mdText(s: string): string {
  return s
    .replace(CONTROL, ' ')
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[\\`*_[\]|~]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** An inline code span that holds `s` literally, whatever backticks it contains. */
export function mdCode(s: string, inTable = false): string {
  let body = s.replace(CONTROL, ' ').replace(/[\r\n\t]+/g, ' ');
  if (inTable) body = body.replace(/\|/g, '\\|');
  const longest = maxOf((body.match(/`+/g) ?? []).map((r) => r.length), 0);
  const fence = '`'.repeat(longest + 1);
  const pad = body.startsWith('`') || body.endsWith('`') || body === '' ? ' ' : '';
  return `${fence}${pad}${body}${pad}${fence}`;
}

function inline(i: Inline, inTable: boolean): string {
  switch (i.kind) {
    case 'text': return mdText(i.text);
    case 'code': return mdCode(i.text, inTable);
    case 'strong': return i.text.trim() ? `**${mdText(i.text.trim())}**${i.text.endsWith(' ') ? ' ' : ''}` : '';
    case 'em': return i.text.trim() ? `*${mdText(i.text.trim())}*${i.text.endsWith(' ') ? ' ' : ''}` : '';
    // Markdown has no anchors of its own (a heading's slug differs between renderers, and raw
    // HTML is never written), so a link is its text: the number still names the section.
    case 'link': return mdText(i.text);
  }
}

function richMd(r: Rich, inTable = false): string {
  return r.map((i) => inline(i, inTable)).join('');
}

function fenced(language: string, body: string): string {
  const clean = body.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, ' ');
  const longest = maxOf((clean.match(/`{3,}|~{3,}/g) ?? []).map((r) => r.length), 0);
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${language.replace(/[^a-z0-9-]/gi, '')}\n${clean.endsWith('\n') ? clean : clean + '\n'}${fence}`;
}

/** The packets of a timeline as one line (the HTML draws them). */
function timelineLine(t: IncidentTimeline): string {
  const parts: string[] = [];
  const req = t.points.find((p) => p.mark === 'request')?.micros ?? null;
  const rel = (m: number | null) => (m === null || req === null ? '' : m === req ? ' at t0' : ` at t0 ${m > req ? '+' : '−'}${fmtDuration(Math.abs(m - req) / 1e6)}`);
  for (const p of t.points) {
    if (p.mark === 'request' && t.gap) {
      const probes = t.gap.probes.client + t.gap.probes.server;
      parts.push(`${fmtDuration(t.gap.seconds)} idle, ${probes ? `${probes} keepalive probes` : 'no keepalive probes'}`);
    }
    const who = p.lane === 'client' ? 'client' : p.lane === 'server' ? 'server' : '';
    parts.push(`${p.frame !== null ? `#${p.frame} ` : ''}${who ? `${who} ` : ''}${mdText(p.label)}${p.mark === 'request' && p.micros !== null ? ` (t0 = ${microsToIso(p.micros)})` : rel(p.micros)}`);
  }
  if (t.retransmissions) parts.push(`${t.retransmissions.count} retransmissions${t.retransmissions.lastFrame !== null ? ` up to #${t.retransmissions.lastFrame}` : ''}, no answer`);
  return `Packets: ${parts.join(' → ')}.`;
}

function block(b: Block): string {
  switch (b.kind) {
    case 'heading': return `${'#'.repeat(b.level)} ${mdText(b.text)}`;
    case 'para': {
      // A paragraph must not open with something Markdown reads as a block marker.
      const body = richMd(b.content).replace(/^([#>+=-])/, '\\$1').replace(/^(\d+)([.)])/, '$1\\$2');
      return b.tone === 'bad' || b.tone === 'good' ? `> ${body}` : body;
    }
    case 'list': return b.items.map((i) => `- ${richMd(i)}`).join('\n');
    case 'table': {
      const head = `| ${b.head.map((h) => mdText(h) || ' ').join(' | ')} |`;
      const sep = `|${b.head.map(() => '---').join('|')}|`;
      const rows = b.rows.map((r) => `| ${r.map((c) => richMd(c, true) || ' ').join(' | ')} |`);
      return [head, sep, ...rows].join('\n');
    }
    case 'code': return `${b.title ? `**${mdText(b.title)}**\n\n` : ''}${fenced(b.language, b.code)}`;
    case 'timeline': return timelineLine(b.timeline);
  }
}

export function postmortemToMarkdown(p: Postmortem): string {
  return p.blocks.map(block).join('\n\n') + '\n';
}

/**
 * An incident's timeline as inline SVG: the connection's two directions as lanes, the idle gap
 * shaded with its length (the axis is broken there: minutes of silence next to microseconds of
 * request and reset), keepalive probes or their absence, the request, the RST or FIN with their
 * frame numbers, and each hop's matched log line (START_TIME .. +DURATION) on the same time axis.
 * Every string is escaped; nothing needs JavaScript.
 */
import type { IncidentTimeline, TimelinePoint } from './document.js';
import { maxOf, minOf } from './input.js';
import { fmtDuration, microsToIso, timeOfDay } from './time.js';

/** Escapes text for HTML/SVG content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, ' ').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const W = 900;
const PLOT_X0 = 170;
const PLOT_X1 = W - 20;
const PRE_W = 80;
const GAP_W = 200;
const LANE_CLIENT = 52;
const LANE_SERVER = 116;
const HOP_Y0 = 178;
const HOP_STEP = 38;

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

/** A step of 1, 2 or 5 × 10^k µs giving about five ticks over `span` µs. */
function tickStep(span: number): number {
  const raw = span / 5;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function fmtRel(micros: number): string {
  if (micros === 0) return 't0';
  const sign = micros > 0 ? '+' : '−';
  return `${sign}${fmtDuration(Math.abs(micros) / 1e6).replace(/^−/, '')}`;
}

export function timelineSvg(t: IncidentTimeline): string {
  const out: string[] = [];
  const vantages = t.vantages ?? [];
  // Hop lanes, then (several captures) a lane per vantage point.
  const hopCount = t.hops.length + vantages.length;
  const axisY = (hopCount ? HOP_Y0 + HOP_STEP * (hopCount - 1) + 26 : LANE_SERVER + 34);
  const H = axisY + 34;
  const request = t.points.find((p) => p.mark === 'request') ?? null;
  // t0: the request, else the first timed packet after the gap (the RST of a reset in flight).
  const t0Point = request?.micros != null ? request : t.points.find((p) => p.micros !== null && p.mark !== 'last') ?? null;
  const t0 = t0Point?.micros ?? t.points.find((p) => p.micros !== null)?.micros ?? 0;

  // ---- horizontal layout: [pre | gap | post], or one linear region without a gap ----------
  const postX0 = t.gap ? PLOT_X0 + PRE_W + GAP_W : PLOT_X0 + 20;
  const postX1 = PLOT_X1 - 10;
  const inPost = (m: number) => !t.gap || m >= t.gap.fromMicros + (t.gap.toMicros - t.gap.fromMicros) / 2;
  const times: number[] = [];
  for (const p of t.points) if (p.micros !== null && inPost(p.micros)) times.push(p.micros);
  if (t.retransmissions?.lastMicros != null) times.push(t.retransmissions.lastMicros);
  for (const h of t.hops) for (const l of h.logs) {
    if (l.startMicros === null) continue;
    if (inPost(l.startMicros)) times.push(l.startMicros);
    const end = l.startMicros + (l.durationMs ?? 0) * 1000;
    if (inPost(end)) times.push(end);
  }
  for (const v of vantages) for (const m of v.marks) if (inPost(m.micros)) times.push(m.micros);
  if (!times.length) times.push(t0);
  let lo = minOf(times), hi = maxOf(times);
  if (hi - lo < 1000) { const mid = (lo + hi) / 2; lo = mid - 500; hi = mid + 500; }
  const pad = (hi - lo) * 0.08;
  lo -= pad; hi += pad;
  // Room on the right for the retransmission band when its end is not in the evidence.
  if (t.retransmissions && t.retransmissions.lastMicros === null) hi += (hi - lo) * 0.35;
  const x = (m: number) => postX0 + ((Math.min(Math.max(m, lo), hi) - lo) / (hi - lo)) * (postX1 - postX0);
  const preX = (p: TimelinePoint): number => {
    // Points before the gap: the last packet in the middle of the pre region, a FIN just before it.
    if (p.mark === 'fin') return PLOT_X0 + PRE_W * 0.3;
    return PLOT_X0 + PRE_W * 0.6;
  };
  const xOf = (p: TimelinePoint): number => {
    if (t.gap && (p.mark === 'last' || (p.micros === null && p.mark === 'fin') || (p.micros !== null && !inPost(p.micros)))) return preX(p);
    if (p.micros === null) return postX0;
    return x(p.micros);
  };

  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-labelledby="tl-title-${t.number}">`);
  out.push(`<title id="tl-title-${t.number}">${esc(`${t.title}: packets by direction over time${t.gap ? `, ${fmtDuration(t.gap.seconds)} idle gap` : ''}`)}</title>`);
  out.push('<defs><pattern id="hatch-' + t.number + '" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="#f2b8b5"/></pattern></defs>');
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);

  // Lanes.
  const lane = (y: number, name: string, sub: string) => {
    out.push(`<text x="10" y="${y - 2}" class="lane">${esc(name)}</text><text x="10" y="${y + 12}" class="sub">${esc(sub)}</text>`);
    out.push(`<line x1="${PLOT_X0}" y1="${y}" x2="${PLOT_X1}" y2="${y}" class="laneline"/>`);
  };
  lane(LANE_CLIENT, 'client → server', 'packets from the client');
  lane(LANE_SERVER, 'server → client', "from the server's address");

  // The idle gap: shaded, its length written in it, probes or their absence.
  if (t.gap) {
    const gx = PLOT_X0 + PRE_W;
    out.push(`<rect x="${gx}" y="${LANE_CLIENT - 26}" width="${GAP_W}" height="${LANE_SERVER - LANE_CLIENT + 46}" class="gap"/>`);
    out.push(`<text x="${gx + GAP_W / 2}" y="${(LANE_CLIENT + LANE_SERVER) / 2 - 2}" class="gaplabel" text-anchor="middle">${esc(`${fmtDuration(t.gap.seconds)} idle`)}</text>`);
    const probes = t.gap.probes.client + t.gap.probes.server;
    out.push(`<text x="${gx + GAP_W / 2}" y="${(LANE_CLIENT + LANE_SERVER) / 2 + 13}" class="${probes ? 'probes' : 'noprobes'}" text-anchor="middle">${esc(probes ? 'keepalive probes sent' : 'no keepalive probes')}</text>`);
    if (t.gap.probes.client) out.push(probeTicks(gx, LANE_CLIENT, t.gap.probes.client));
    if (t.gap.probes.server) out.push(probeTicks(gx, LANE_SERVER, t.gap.probes.server));
    // Axis break.
    out.push(`<text x="${gx + 4}" y="${axisY + 4}" class="axis">//</text><text x="${gx + GAP_W - 14}" y="${axisY + 4}" class="axis">//</text>`);
    out.push(`<text x="${gx + GAP_W / 2}" y="${axisY + 16}" class="axis" text-anchor="middle">${esc(`axis broken: ${fmtDuration(t.gap.seconds)}`)}</text>`);
  }

  // Axis and ticks over the linear region, relative to the request (t0).
  out.push(`<line x1="${postX0}" y1="${axisY - 8}" x2="${postX1}" y2="${axisY - 8}" class="axisline"/>`);
  const step = tickStep(hi - lo);
  // At most a dozen ticks, and none when µs times are beyond a double's exact integers (damaged input).
  for (let m = Math.ceil((lo - t0) / step) * step + t0, n = 0; m <= hi && n < 12 && m + step > m; m += step, n++) {
    const tx = x(m);
    // Keep clear of the axis-break marks at the region's left edge.
    if (t.gap && tx < postX0 + 22) continue;
    out.push(`<line x1="${tx}" y1="${LANE_CLIENT - 20}" x2="${tx}" y2="${axisY - 8}" class="tick"/>`);
    out.push(`<text x="${tx}" y="${axisY + 6}" class="axis" text-anchor="middle">${esc(fmtRel(Math.round(m - t0)))}</text>`);
  }
  if (t0Point && t0Point.micros !== null) {
    out.push(`<text x="${postX0}" y="${axisY + 22}" class="axis">${esc(`t0 = ${microsToIso(t0Point.micros)} (the ${t0Point.mark === 'request' ? 'request' : t0Point.mark === 'rst' ? 'RST' : 'FIN'})`)}</text>`);
  }
  if (request?.micros != null) {
    const rx = x(request.micros);
    out.push(`<line x1="${rx}" y1="${LANE_CLIENT - 24}" x2="${rx}" y2="${axisY - 8}" class="guide"/>`);
  }

  // Retransmissions: a hatched band after the request, ending at the last one when its time is known.
  if (t.retransmissions && request?.micros != null) {
    const x0 = x(request.micros) + 5;
    const x1 = t.retransmissions.lastMicros !== null ? x(t.retransmissions.lastMicros) : postX1;
    out.push(`<rect x="${x0}" y="${LANE_CLIENT - 6}" width="${Math.max(4, x1 - x0)}" height="12" fill="url(#hatch-${t.number})" class="retx"/>`);
    const label = `${t.retransmissions.count} retransmissions, no answer${t.retransmissions.lastFrame !== null ? ` (last #${t.retransmissions.lastFrame})` : ''}`;
    out.push(`<text x="${Math.min(x0 + 4, postX1 - 4)}" y="${LANE_CLIENT + 22}" class="label bad"${x0 > W - 260 ? ' text-anchor="end"' : ''}>${esc(label)}</text>`);
  }

  // Packets.
  for (const p of t.points) {
    const px = xOf(p);
    const anchor = px > W - 190 ? 'end' : px < PLOT_X0 + 40 && p.mark !== 'last' ? 'start' : 'middle';
    const frame = p.frame !== null ? `#${p.frame} ` : '';
    switch (p.mark) {
      case 'last': {
        out.push(`<line x1="${px}" y1="${LANE_CLIENT - 8}" x2="${px}" y2="${LANE_SERVER + 8}" class="last"/>`);
        out.push(`<circle cx="${px}" cy="${(LANE_CLIENT + LANE_SERVER) / 2}" r="4" class="last"/>`);
        out.push(`<text x="${px}" y="${LANE_CLIENT - 14}" class="label" text-anchor="middle">${esc(`${frame}last packet`)}</text>`);
        if (p.micros !== null) out.push(`<text x="${px}" y="${axisY + 6}" class="axis" text-anchor="middle">${esc(timeOfDay(microsToIso(p.micros)).slice(0, 12))}</text>`);
        break;
      }
      case 'request':
        out.push(`<path d="M${px - 6},${LANE_CLIENT - 6} L${px + 6},${LANE_CLIENT} L${px - 6},${LANE_CLIENT + 6} Z" class="req${p.micros === null ? ' untimed' : ''}"/>`);
        out.push(`<text x="${px}" y="${LANE_CLIENT - 12}" class="label" text-anchor="${anchor}">${esc(`${frame}${clip(p.label, 34)}${p.micros === null ? ' (time not in the evidence)' : ''}`)}</text>`);
        break;
      case 'rst':
        out.push(`<path d="M${px},${LANE_SERVER - 7} L${px + 7},${LANE_SERVER} L${px},${LANE_SERVER + 7} L${px - 7},${LANE_SERVER} Z" class="rst"/>`);
        out.push(`<text x="${px}" y="${LANE_SERVER + 22}" class="label bad" text-anchor="${anchor}">${esc(`${frame}${p.label}`)}</text>`);
        break;
      case 'fin':
        out.push(`<rect x="${px - 5}" y="${LANE_SERVER - 5}" width="10" height="10" class="fin"/>`);
        out.push(`<text x="${px}" y="${LANE_SERVER + 22}" class="label" text-anchor="${anchor}">${esc(`${frame}${p.label}${p.micros === null ? ' (before)' : ''}`)}</text>`);
        break;
      case 'retransmission':
        out.push(`<circle cx="${px}" cy="${LANE_CLIENT}" r="3" class="retxdot"/>`);
        break;
    }
  }

  // Hops: one lane each, the matched line as a bar from START_TIME over its DURATION.
  t.hops.forEach((h, k) => {
    const y = HOP_Y0 + HOP_STEP * k;
    out.push(`<text x="10" y="${y + 4}" class="lane">${esc(clip(h.hop, 22))}</text>`);
    out.push(`<line x1="${PLOT_X0}" y1="${y}" x2="${PLOT_X1}" y2="${y}" class="hopline"/>`);
    if (!h.logs.length) {
      out.push(`<text x="${postX0}" y="${y + 4}" class="none">${esc('no log line for this request')}</text>`);
      return;
    }
    for (const l of h.logs) {
      if (l.startMicros === null) {
        out.push(`<text x="${postX0}" y="${y + 4}" class="none">${esc(`line ${l.line}: ${l.label} (no START_TIME)`)}</text>`);
        continue;
      }
      const early = !inPost(l.startMicros) || l.startMicros < lo;
      const bx = early ? postX0 : x(l.startMicros);
      const ex = x(l.startMicros + (l.durationMs ?? 0) * 1000);
      const w = Math.max(3, ex - bx);
      out.push(`<rect x="${bx}" y="${y - 7}" width="${w}" height="14" rx="2" class="${l.failed ? 'logbad' : 'logok'}"/>`);
      const label = `${early ? '◀ ' : ''}${l.label} · line ${l.line}${l.durationMs !== null ? ` · ${l.durationMs} ms` : ''}`;
      const lx = bx + w + 6;
      out.push(`<text x="${lx > W - 200 ? bx - 6 : lx}" y="${y + 4}" class="label${l.failed ? ' bad' : ''}"${lx > W - 200 ? ' text-anchor="end"' : ''}>${esc(label)}</text>`);
    }
  });

  // Vantage points: one lane each, the request (triangle) and the RST (square) where that capture saw them.
  vantages.forEach((v, k) => {
    const y = HOP_Y0 + HOP_STEP * (t.hops.length + k);
    out.push(`<text x="10" y="${y + 4}" class="lane">${esc(clip(`capture ${v.name}`, 22))}</text>`);
    out.push(`<line x1="${PLOT_X0}" y1="${y}" x2="${PLOT_X1}" y2="${y}" class="hopline"/>`);
    if (!v.marks.length) {
      out.push(`<text x="${postX0}" y="${y + 4}" class="none">${esc(v.note ?? 'nothing seen')}</text>`);
      return;
    }
    v.marks.forEach((m, j) => {
      const px = x(m.micros);
      if (m.mark === 'request') out.push(`<path d="M${px - 5},${y - 5} L${px + 5},${y} L${px - 5},${y + 5} Z" class="req"/>`);
      else out.push(`<rect x="${px - 4}" y="${y - 4}" width="8" height="8" class="rst"/>`);
      const right = px < W - 200;
      out.push(`<text x="${right ? px + 8 : px - 8}" y="${y + (j % 2 === 0 ? -7 : 15)}" class="label"${right ? '' : ' text-anchor="end"'}>${esc(`${m.frame} ${m.label}`)}</text>`);
    });
    if (v.note) out.push(`<text x="${PLOT_X1}" y="${y + 15}" class="none" text-anchor="end">${esc(v.note)}</text>`);
  });

  out.push('</svg>');
  return out.join('\n');
}

/** Probe count drawn as small ticks inside the gap (their exact times are not in the evidence). */
function probeTicks(gx: number, y: number, n: number): string {
  const shown = Math.min(n, 12);
  const ticks: string[] = [];
  for (let k = 0; k < shown; k++) {
    const px = gx + ((k + 1) * GAP_W) / (shown + 1);
    ticks.push(`<line x1="${px}" y1="${y - 5}" x2="${px}" y2="${y + 5}" class="probe"/>`);
  }
  ticks.push(`<text x="${gx + GAP_W / 2}" y="${y === LANE_CLIENT ? y - 10 : y + 20}" class="probes" text-anchor="middle">${esc(`${n} probe${n === 1 ? '' : 's'} (spacing not to scale)`)}</text>`);
  return ticks.join('');
}

/** The CSS the timeline's classes use (the HTML page inlines it). */
export const TIMELINE_CSS = `
svg.timeline { max-width: 100%; height: auto; font-family: ui-sans-serif, system-ui, sans-serif; font-size: 11px; border: 1px solid #d0d7de; border-radius: 6px; background: #fff; }
svg.timeline .lane { font-weight: 600; fill: #24292f; font-size: 12px; }
svg.timeline .sub { fill: #6e7781; font-size: 10px; }
svg.timeline .laneline { stroke: #8c959f; stroke-width: 1.5; }
svg.timeline .hopline { stroke: #d0d7de; stroke-dasharray: 2 3; }
svg.timeline .gap { fill: #eaeef2; stroke: #afb8c1; stroke-dasharray: 4 3; }
svg.timeline .gaplabel { font-weight: 700; fill: #24292f; font-size: 13px; }
svg.timeline .noprobes { fill: #cf222e; font-weight: 600; }
svg.timeline .probes { fill: #0969da; }
svg.timeline .probe { stroke: #0969da; stroke-width: 2; }
svg.timeline .axis { fill: #57606a; font-size: 10px; }
svg.timeline .axisline { stroke: #8c959f; }
svg.timeline .tick { stroke: #eaeef2; }
svg.timeline .guide { stroke: #0969da; stroke-dasharray: 3 3; opacity: 0.5; }
svg.timeline .last { stroke: #6e7781; fill: #6e7781; stroke-dasharray: 2 2; }
svg.timeline .req { fill: #0969da; }
svg.timeline .req.untimed { opacity: 0.45; }
svg.timeline .rst { fill: #cf222e; }
svg.timeline .fin { fill: #bc4c00; }
svg.timeline .retx { stroke: #cf222e; stroke-width: 0.5; }
svg.timeline .retxdot { fill: #cf222e; }
svg.timeline .label { fill: #24292f; }
svg.timeline .label.bad { fill: #a40e26; font-weight: 600; }
svg.timeline .logbad { fill: #ff8182; stroke: #cf222e; }
svg.timeline .logok { fill: #aceebb; stroke: #1a7f37; }
svg.timeline .none { fill: #6e7781; font-style: italic; }
`;

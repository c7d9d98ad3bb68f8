import type { WatchEvent } from '../analysis/watch.js';
import { TABLE_WIDTH, renderAnalysisTable, safe, wrap } from './analysis-table.js';
import { incidentSummary } from './incident-summary.js';
import { toJsonReport, jsonIncident } from './json.js';
import { makeStyle } from './style.js';
import { displayFilter } from './wireshark-filter.js';
import { formatPath } from './address.js';
import { atRiskText, jsonAtRisk } from './at-risk-text.js';

export const WATCH_FORMATS = ['ndjson', 'table'] as const;
export type WatchFormat = (typeof WATCH_FORMATS)[number];

/**
 * One event of `flowdoc watch` as text: an ndjson line (a summary carries the JSON report of
 * `analyze --format json`, schema version and remedies included), or a human-readable block.
 */
export function renderWatchEvent(e: WatchEvent, format: WatchFormat, options: { colour?: boolean; captureLabel?: string } = {}): string {
  if (format === 'ndjson') {
    if (e.event === 'summary') return JSON.stringify({ ...e, report: toJsonReport(e.report) }) + '\n';
    // The same incident object as in the final report's `incidents`, its sentence included.
    if (e.event === 'incident') return JSON.stringify({ ...e, incident: jsonIncident(e.incident) }) + '\n';
    // The same at-risk object as in the final report's `atRisk`.
    if (e.event === 'at-risk') return JSON.stringify({ ...e, atRisk: jsonAtRisk(e.atRisk) }) + '\n';
    return JSON.stringify(e) + '\n';
  }
  const st = makeStyle(options.colour ?? false);
  const at = e.time ?? '-';
  const lines: string[] = [];
  const say = (text: string, first = '') => { for (const l of wrap(text, TABLE_WIDTH, first)) lines.push(l); };
  switch (e.event) {
    case 'incident': {
      const i = e.incident;
      lines.push(st.bold(`${at}  INCIDENT ${i.kind}  ${safe(formatPath(i.endpoints))}  (connection ${i.connection})`));
      say(safe(incidentSummary(i)), '  ');
      say(`Wireshark: ${displayFilter(i)}`, '  ');
      break;
    }
    case 'destination': {
      const d = e.destination;
      lines.push(st.bold(`${at}  DESTINATION ${safe(d.server)}  (${e.changed.join(', ')} changed)`));
      say(`keepalive: ${safe(d.keepalive.text)}`, '  ');
      if (d.idleTimeout) say(`idle timeout: ${safe(d.idleTimeout.text)}`, '  ');
      break;
    }
    case 'stats': {
      const s = e.stats;
      lines.push(`${at}  stats: ${s.packets} packets, ${s.tcpSegments} TCP segments, ${s.connections} connections (${s.connectionsLive} live, ${s.expired} expired idle, ${s.evicted} evicted), ${s.incidents} incidents${s.kernelDrops !== null ? `, ${s.kernelDrops} dropped by the kernel` : ''}`);
      break;
    }
    case 'listening':
      lines.push(`${at}  listening: ${safe(e.command)}`);
      break;
    case 'at-risk':
      lines.push(st.yellow(`${at}  AT RISK ${e.atRisk.level}  ${safe(formatPath(e.atRisk.endpoints))}  (connection ${e.atRisk.connection})`));
      say(safe(atRiskText(e.atRisk)), '  ');
      break;
    case 'error':
      lines.push(st.red(`${at}  ERROR reading the stream: ${safe(e.error.message)} (byte offset ${e.error.offset}, frame ${e.error.frame}); everything before it is in the summary below`));
      break;
    case 'summary':
      lines.push(st.bold(`${at}  ${e.final ? 'FINAL SUMMARY' : 'SUMMARY SO FAR (still watching)'}`));
      return `${lines.join('\n')}\n${renderAnalysisTable(e.report, options.colour ?? false, undefined, options.captureLabel)}\n`;
  }
  return `${lines.join('\n')}\n\n`;
}

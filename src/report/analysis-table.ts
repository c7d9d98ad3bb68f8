import Table from 'cli-table3';
import { fmtSeconds } from '../detect/index.js';
import type { AnalysisResult } from '../analysis/analyze.js';
import { makeStyle } from './style.js';

const TABLE_STYLE = (colour: boolean) => ({ head: colour ? ['cyan'] : [], border: colour ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 });

/**
 * The terminal report: a headline, incidents (with frames and a display filter), then
 * destinations. Fits a 100-column terminal.
 */
export function renderAnalysisTable(r: AnalysisResult, colour: boolean): string {
  const st = makeStyle(colour);
  const out: string[] = [];
  const c = r.capture;
  out.push(`${st.bold(c.file)}: ${c.packets} packets, ${r.summary.connections} TCP connections${c.first ? `, ${c.first} → ${c.last}` : ''}`);
  if (r.incidents.length === 0) {
    out.push(st.green(`No incidents: no request met a connection the network had forgotten (idle threshold ${r.options.idleThresholdSeconds} s).`));
  } else {
    const kinds = Object.entries(r.summary.incidentsByKind).map(([k, n]) => `${n} ${k}`).join(', ');
    out.push(st.red(st.bold(`${r.incidents.length} incident${r.incidents.length === 1 ? '' : 's'}: ${kinds}`)));
    const t = new Table({
      head: ['#', 'kind', 'connection', 'idle', 'request', 'RST (TTL vs server)', 'frames'],
      style: TABLE_STYLE(colour),
      colWidths: [4, 11, 24, 9, 18, 16, 12],
      wordWrap: true,
      wrapOnWordBoundary: false,
    });
    r.incidents.forEach((i, n) => {
      const req = i.request?.protocol === 'http' ? `${i.request.method} ${i.request.path}${i.request.requestId ? ` id ${i.request.requestId}` : ''}` : i.request?.protocol === 'tls' ? `TLS${i.request.sni ? ` ${i.request.sni}` : ''}` : i.request ? 'data' : '-';
      const rst = i.rst ? `${i.rst.origin} (${i.rst.ttl} vs ${i.rst.serverTtl ?? '?'})` : i.kind === 'stale-reuse-timeout' ? `none: ${i.retransmissions} retx` : '-';
      const frames = [
        i.frames.lastBeforeIdle !== null ? `last ${i.frames.lastBeforeIdle}` : '',
        i.frames.serverFin !== undefined ? `FIN ${i.frames.serverFin}` : '',
        i.frames.request !== null ? `req ${i.frames.request}` : '',
        i.frames.rst !== null ? `RST ${i.frames.rst}` : '',
        i.frames.lastRetransmission !== undefined ? `retx ${i.frames.lastRetransmission}` : '',
      ].filter(Boolean).join(' ');
      t.push([String(n + 1), i.kind, `${i.client} → ${i.server}`, i.idleSeconds !== null ? fmtSeconds(i.idleSeconds) : '-', req, rst, frames]);
    });
    out.push(t.toString());
    r.incidents.forEach((i, n) => {
      out.push(`${n + 1}. ${i.summary}.`);
      if (i.rst) out.push(`   ${st.dim(i.rst.reason)}`);
      out.push(`   ${st.dim(`Wireshark: ${i.displayFilter}`)}`);
    });
  }
  if (r.destinations.length) {
    const t = new Table({
      head: ['destination', 'conns', 'incidents', 'keepalive', 'idle timeout'],
      style: TABLE_STYLE(colour),
      colWidths: [22, 7, 10, 27, 30],
      wordWrap: true,
    });
    for (const d of r.destinations.slice(0, 20)) {
      t.push([d.server, String(d.connections), String(d.incidents), d.keepalive.text || '-', d.idleTimeout?.text ?? '-']);
    }
    out.push(t.toString());
    if (r.destinations.length > 20) out.push(st.dim(`… and ${r.destinations.length - 20} more destinations without incidents (see --format json)`));
  }
  for (const w of r.warnings) out.push(st.yellow(`warning: ${w}`));
  return out.join('\n') + '\n';
}

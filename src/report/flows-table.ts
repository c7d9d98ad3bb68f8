import Table from 'cli-table3';
import { fmtSeconds } from '../detect/index.js';
import type { Connection } from '../flows/index.js';
import { makeStyle } from './style.js';

/** One row per connection, like Zeek's conn.log, fitting a 100-column terminal. */
export function renderFlowsTable(connections: readonly Connection[], colour: boolean): string {
  const st = makeStyle(colour);
  const t = new Table({
    head: ['#', 'client → server', 'app', 'state', 'history', 'pkts c/s', 'bytes c/s', 'max idle', 'KA c/s'],
    style: { head: colour ? ['cyan'] : [], border: colour ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 },
    colWidths: [6, 34, 10, 7, 12, 11, 13, 10, 7],
    wordWrap: true,
    wrapOnWordBoundary: false,
  });
  for (const c of connections) {
    const state = c.state.startsWith('RST') || c.state === 'REJ' ? st.yellow(c.state) : c.state;
    t.push([
      String(c.id),
      `${c.client} → ${c.server}${c.partial ? ' (partial)' : ''}`,
      appLabel(c),
      state,
      c.history,
      `${c.clientStats.packets}/${c.serverStats.packets}`,
      `${c.clientStats.payloadBytes}/${c.serverStats.payloadBytes}`,
      fmtSeconds(c.maxIdleSeconds),
      `${c.clientStats.keepaliveProbes}/${c.serverStats.keepaliveProbes}`,
    ]);
  }
  return t.toString() + '\n';
}

/**
 * The application protocol as one short word: http/1.1, h2c (cleartext HTTP/2: preface, Upgrade or
 * frames mid-connection), h2 (HTTP/2 over TLS, chosen by ALPN in the ServerHello), grpc, tls — and
 * for TLS whose ServerHello did not show the choice (TLS 1.3 sends it encrypted) what the client
 * offered first, marked with '?'.
 */
export function appLabel(c: Connection): string {
  if (c.appProtocol === 'tls' && c.alpn && c.alpn.selected === null && c.alpn.offered.length > 0) return `tls ${c.alpn.offered[0]}?`;
  if (c.appProtocol === 'tls' && c.alpn?.selected) return `tls ${c.alpn.selected}`;
  return c.appProtocol ?? '';
}

import { fmtSeconds } from '../detect/index.js';
import type { Connection } from '../flows/index.js';
import { makeStyle } from './style.js';

const HEAD = ['#', 'client → server', 'app', 'state', 'history', 'pkts c/s', 'bytes c/s', 'max idle', 'KA c/s'] as const;
/** Numbers right-aligned, as tshark and Zeek's zeek-cut -C print them. */
const RIGHT = [true, false, false, false, false, true, true, true, true] as const;

/**
 * One line per connection, like Zeek's conn.log or `tshark -z conv,tcp`: aligned columns, one
 * space-separated row each, never wrapped. A wrapped box table splits addresses and numbers
 * mid-token at whatever width it assumes, cuts colour codes in two, and costs most of the
 * command's time on a capture of many connections; a row per line can be read, grepped, cut
 * and paged (`less -S`) at any terminal width.
 */
export function renderFlowsTable(connections: readonly Connection[], colour: boolean): string {
  const st = makeStyle(colour);
  const rows: string[][] = connections.map((c) => [
    String(c.id),
    `${c.client} → ${c.server}${c.partial ? ' (partial)' : ''}`,
    appLabel(c),
    c.state,
    c.history,
    `${c.clientStats.packets}/${c.serverStats.packets}`,
    `${c.clientStats.payloadBytes}/${c.serverStats.payloadBytes}`,
    fmtSeconds(c.maxIdleSeconds),
    `${c.clientStats.keepaliveProbes}/${c.serverStats.keepaliveProbes}`,
  ]);
  const widths = HEAD.map((h, k) => rows.reduce((w, r) => Math.max(w, r[k]!.length), h.length));
  // Colour is added after padding, so it never counts towards a width nor is cut.
  const line = (cells: readonly string[], paint: (k: number, s: string) => string) =>
    cells.map((s, k) => {
      // Every character of an address, a number or a history letter takes one column.
      const pad = ' '.repeat(widths[k]! - s.length);
      return RIGHT[k] ? pad + paint(k, s) : k === cells.length - 1 ? paint(k, s) : paint(k, s) + pad;
    }).join('  ').trimEnd();
  const out = [line(HEAD, (_, s) => st.cyan(s))];
  for (const r of rows) out.push(line(r, (k, s) => (k === 3 && (s.startsWith('RST') || s === 'REJ') ? st.yellow(s) : s)));
  return out.join('\n') + '\n';
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

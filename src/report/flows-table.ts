import Table from 'cli-table3';
import { fmtSeconds } from '../detect/index.js';
import type { Connection } from '../flows/index.js';
import { makeStyle } from './style.js';

/** One row per connection, like Zeek's conn.log, fitting a 100-column terminal. */
export function renderFlowsTable(connections: readonly Connection[], colour: boolean): string {
  const st = makeStyle(colour);
  const t = new Table({
    head: ['#', 'client → server', 'state', 'history', 'pkts c/s', 'bytes c/s', 'max idle', 'KA c/s'],
    style: { head: colour ? ['cyan'] : [], border: colour ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 },
    colWidths: [6, 34, 7, 12, 11, 13, 10, 7],
    wordWrap: true,
    wrapOnWordBoundary: false,
  });
  for (const c of connections) {
    const state = c.state.startsWith('RST') || c.state === 'REJ' ? st.yellow(c.state) : c.state;
    t.push([
      String(c.id),
      `${c.client} → ${c.server}${c.partial ? ' (partial)' : ''}`,
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

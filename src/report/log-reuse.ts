/**
 * The stale-reuse-from-logs section of `flowdoc logs` (table form): the incidents with the line
 * that names them, the idle bracket per upstream host, and — when the logs cannot tie requests to
 * connections — the one line that says what to add to the log format.
 */
import Table from 'cli-table3';
import type { LogStaleReuse } from '../logs/index.js';
import { safe } from './analysis-table.js';
import { fmtDuration, msToIso } from './time.js';

/** Incidents listed in the terminal; all are in the JSON. */
const MAX_ROWS = 30;

export interface LogReuseTableOptions {
  readonly colour?: boolean;
  /** Failures with the idle-drop signature among the entries (from the triage), to say when the logs cannot place them. */
  readonly idleDropFailures: number;
}

export function renderLogStaleReuse(s: LogStaleReuse, o: LogReuseTableOptions): string[] {
  const out: string[] = [];
  const keyed = s.keyedByConnectionId + s.keyedByLocalAddress;
  if (keyed === 0) {
    if (o.idleDropFailures > 0) {
      out.push(`stale reuse: these logs do not say which upstream connection a request used — add %UPSTREAM_CONNECTION_ID% (or %UPSTREAM_LOCAL_ADDRESS% with %UPSTREAM_HOST%) to the access-log format to tell stale reuse apart (docs/logs.md)`);
    }
    return out;
  }
  const by = [s.keyedByConnectionId ? `${s.keyedByConnectionId} by %UPSTREAM_CONNECTION_ID%` : '', s.keyedByLocalAddress ? `${s.keyedByLocalAddress} by %UPSTREAM_LOCAL_ADDRESS%` : ''].filter(Boolean).join(', ');
  out.push(`stale reuse from the logs: ${s.incidents.length} request${s.incidents.length === 1 ? '' : 's'} failed on an upstream connection idle ${fmtDuration(s.idleThresholdSeconds)} or more (${s.connections} connections; requests tied ${by}${s.withoutConnection ? `, ${s.withoutConnection} without a connection` : ''}${s.withoutStartTime ? `, ${s.withoutStartTime} without a start time` : ''})`);
  if (s.incidents.length) {
    // One hop (the usual case) goes in the heading so the row fits TABLE_WIDTH unwrapped.
    const hops = new Set(s.incidents.map((i) => i.hop));
    const oneHop = hops.size === 1;
    const head = oneHop ? ['start (UTC)', 'connection', 'idle', 'request', 'line'] : ['start (UTC)', 'hop', 'connection', 'idle', 'request', 'line'];
    const widths = oneHop ? [26, 34, 9, 9, 15] : [26, 12, 26, 9, 9, 11];
    if (oneHop) out.push(`  on hop ${safe([...hops][0]!)}:`);
    const t = new Table({ head, style: { head: o.colour ? ['cyan'] : [], border: o.colour ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 }, wordWrap: true, colWidths: widths });
    for (const i of s.incidents.slice(0, MAX_ROWS)) {
      const row = [msToIso(i.startMs), safe(i.connection), fmtDuration(i.idleSeconds), `${i.responseCode ?? '-'} ${i.flags.join(',') || '-'}`, `${i.line} (after ${i.previous.line})`];
      if (!oneHop) row.splice(1, 0, safe(i.hop));
      t.push(row);
    }
    out.push(t.toString());
    if (s.incidents.length > MAX_ROWS) out.push(`… and ${s.incidents.length - MAX_ROWS} more (all in --format json)`);
  }
  for (const h of s.byUpstreamHost) {
    if (h.bracket) out.push(`  ${safe(h.upstreamHost)}${h.upstreamCluster ? ` (${safe(h.upstreamCluster)})` : ''}: ${h.bracket.text}`);
    else if (h.survivedSeconds !== null) out.push(`  ${safe(h.upstreamHost)}: no stale reuse; the longest idle that still worked was ${fmtDuration(h.survivedSeconds)} (line ${h.survived!.line})`);
  }
  const busy = s.notStale.filter((n) => n.reason === 'busy').length;
  const first = s.notStale.length - busy;
  if (s.notStale.length) {
    out.push(`  not stale reuse: ${busy ? `${busy} UC on a busy connection (a request in flight or less than ${fmtDuration(s.idleThresholdSeconds)} before: the upstream closed a working connection)` : ''}${busy && first ? '; ' : ''}${first ? `${first} UC on the first request seen on its connection` : ''}`);
  }
  return out;
}

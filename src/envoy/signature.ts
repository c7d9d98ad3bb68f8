/**
 * Envoy's counters across snapshots of one proxy: per cluster the value in the first and last
 * snapshot, the delta and the rate, and the stale-reuse signature — connections the upstream side
 * closed while a request was on them (`upstream_cx_destroy_remote_with_active_rq`) rising while
 * Envoy never closed one for idleness (`upstream_cx_idle_timeout` flat). A pooled connection
 * that idled past a middlebox's timer is reused, the request goes out, and the answer is a RST:
 * Envoy counts exactly that as a remote destroy with an active request. Had Envoy's idle timeout
 * been shorter than the middlebox's, it would have closed the connection first and counted an
 * idle timeout instead.
 *
 * `/stats` snapshots are ordered by `server.uptime` when every one has it, else by the order
 * the files were given; `/clusters` has no clock, so its snapshots are in file order.
 */
import { GAUGES, type CounterSnapshot } from './counters.js';

export interface StatValue {
  /** In the first snapshot (null with one snapshot). */
  readonly first: number | null;
  /** In the last snapshot (the only one, with one). */
  readonly last: number;
  /** last − first for counters; null for gauges, with one snapshot, or after a counter reset. */
  readonly delta: number | null;
  /** delta per second of `server.uptime` between the snapshots; null without both uptimes. */
  readonly perSecond: number | null;
}

export interface ClusterCounters {
  readonly name: string;
  /** `/stats` names (`upstream_cx_destroy_remote_with_active_rq`, …) and `/clusters` per-host sums (`hosts.cx_connect_fail`, …). */
  readonly stats: Readonly<Record<string, StatValue>>;
  /** Hosts from `/clusters`. */
  readonly hosts: readonly string[];
  /**
   * `rising`: remote destroys with active requests rose between two snapshots while idle timeouts did not (flagged).
   * `since-start`: one snapshot, remote destroys with active requests > 0 and no idle timeout since the proxy started (not flagged: a second snapshot tells whether it is still happening).
   */
  readonly signature: 'rising' | 'since-start' | null;
  readonly flagged: boolean;
  /** One sentence on what the counters say. */
  readonly text: string;
}

export interface CounterSeries {
  /** The snapshots in the order they were compared. */
  readonly snapshots: readonly { readonly file: string; readonly source: 'stats' | 'clusters'; readonly format: 'text' | 'json'; readonly uptimeSeconds: number | null; readonly clusters: number }[];
  readonly order: { readonly stats: 'server.uptime' | 'file-order' | null; readonly clusters: 'file-order' | null };
  /** Seconds of `server.uptime` between the first and last `/stats` snapshot; null without two uptimes. */
  readonly intervalSeconds: number | null;
  /** A counter went down between snapshots: the proxy restarted, or the snapshots are from different proxies. No deltas then. */
  readonly reset: { readonly stats: boolean; readonly clusters: boolean };
  readonly clusters: readonly ClusterCounters[];
  readonly notes: readonly string[];
}

const REMOTE = 'upstream_cx_destroy_remote_with_active_rq';
const IDLE = 'upstream_cx_idle_timeout';

/** First and last snapshot of one source, and whether a counter went down between them. */
function ends(group: readonly CounterSnapshot[]): { first: CounterSnapshot | null; last: CounterSnapshot | null; reset: boolean } {
  if (!group.length) return { first: null, last: null, reset: false };
  const first = group.length > 1 ? group[0]! : null;
  const last = group[group.length - 1]!;
  let reset = false;
  for (let i = 1; i < group.length && !reset; i++) {
    for (const [cluster, stats] of group[i - 1]!.clusters) {
      const next = group[i]!.clusters.get(cluster);
      if (!next) continue;
      for (const [stat, v] of stats) if (!GAUGES.has(stat) && (next.get(stat) ?? 0) < v) { reset = true; break; }
      if (reset) break;
    }
  }
  return { first, last, reset };
}

const rate = (n: number) => (n * 60 >= 10 ? `${Math.round(n * 60)}/min` : `${(n * 60).toFixed(2)}/min`);

function signatureOf(name: string, stats: Record<string, StatValue>, twoStats: boolean, reset: boolean): Pick<ClusterCounters, 'signature' | 'flagged' | 'text'> {
  const remote = stats[REMOTE];
  const idle = stats[IDLE];
  if (!remote) return { signature: null, flagged: false, text: '/clusters only: connection counts per host, no destroy/idle-timeout counters (give /stats for the stale-reuse signature)' };
  if (twoStats && !reset) {
    const dr = remote.delta ?? 0;
    const di = idle?.delta ?? 0;
    const per = remote.perSecond !== null ? ` (${rate(remote.perSecond)})` : '';
    if (dr > 0 && di === 0) return { signature: 'rising', flagged: true, text: `${REMOTE} rose by ${dr}${per} between the snapshots while ${IDLE} did not: the upstream side reset pooled connections with requests on them and Envoy never closed one for idleness — the stale-reuse signature (a middlebox forgot idle connections before Envoy's idle timeout)` };
    if (dr > 0) return { signature: null, flagged: false, text: `${REMOTE} rose by ${dr}${per}, and ${IDLE} by ${di}: Envoy does close idle connections itself, so these resets are not the plain stale-reuse pattern (upstream restarts or overload are likelier)` };
    return { signature: null, flagged: false, text: `no connection of ${name} was reset under a request between the snapshots` };
  }
  const r = remote.last;
  const i = idle?.last ?? 0;
  if (r > 0 && i === 0) return { signature: 'since-start', flagged: false, text: `${REMOTE} is ${r} and ${IDLE} 0 since the proxy started: the stale-reuse pattern, but one snapshot cannot say whether it is still happening — take a second /stats snapshot a few minutes later` };
  return { signature: null, flagged: false, text: r > 0 ? `${REMOTE} is ${r}, ${IDLE} ${i} since the proxy started` : `no connection was reset under a request since the proxy started` };
}

export function compareSnapshots(snapshots: readonly CounterSnapshot[]): CounterSeries | null {
  if (!snapshots.length) return null;
  const notes: string[] = [];
  const statsIn = snapshots.filter((s) => s.source === 'stats');
  const byUptime = statsIn.length > 1 && statsIn.every((s) => s.uptimeSeconds !== null);
  // Array.prototype.sort is stable: equal uptimes keep file order.
  const stats = byUptime ? [...statsIn].sort((a, b) => a.uptimeSeconds! - b.uptimeSeconds!) : statsIn;
  if (statsIn.length > 1 && !byUptime) notes.push('Not every /stats snapshot has server.uptime: they are compared in the order the files were given.');
  const clusters = snapshots.filter((s) => s.source === 'clusters');
  const s = ends(stats);
  const c = ends(clusters);
  const intervalSeconds = s.first && s.first.uptimeSeconds !== null && s.last!.uptimeSeconds !== null ? s.last!.uptimeSeconds - s.first.uptimeSeconds : null;
  if (s.reset) notes.push('A /stats counter went down between snapshots: the proxy restarted between them, or they are from different proxies. No deltas or rates are given; give two snapshots of one proxy run.');
  if (c.reset) notes.push('A /clusters counter went down between snapshots (proxy restart, hosts replaced, or another proxy): no deltas for /clusters.');
  if (stats.length > 2) notes.push(`${stats.length} /stats snapshots: deltas are between the first and the last.`);
  if (stats.length === 1) notes.push('One /stats snapshot: counters since the proxy started, no rates. A second snapshot of the same proxy a few minutes later shows whether connections are still reset under requests.');
  if (intervalSeconds === 0) notes.push('The /stats snapshots have the same server.uptime: no rates.');

  const names = new Set<string>();
  for (const x of [s.last, c.last]) if (x) for (const n of x.clusters.keys()) names.add(n);
  const out: ClusterCounters[] = [];
  for (const name of names) {
    const values: Record<string, StatValue> = {};
    for (const [g, interval] of [[s, intervalSeconds], [c, null]] as const) {
      const last = g.last?.clusters.get(name);
      if (!last) continue;
      const first = g.first ? g.first.clusters.get(name) ?? new Map<string, number>() : null;
      const keys = new Set([...last.keys(), ...(first?.keys() ?? [])]);
      // /stats?usedonly leaves out counters never written: absent is 0 for a cluster the snapshot has.
      if (g === s) keys.add(IDLE).add(REMOTE);
      for (const k of [...keys].sort()) {
        const l = last.get(k) ?? 0;
        const f = first ? first.get(k) ?? 0 : null;
        const delta = f !== null && !g.reset && !GAUGES.has(k) ? l - f : null;
        values[k] = { first: f, last: l, delta, perSecond: delta !== null && interval ? delta / interval : null };
      }
    }
    const hosts = [...(c.last?.hosts.get(name) ?? [])];
    out.push({ name, stats: values, hosts, ...signatureOf(name, values, stats.length > 1, s.reset) });
  }
  out.sort((a, b) => Number(b.flagged) - Number(a.flagged) || Number(b.signature !== null) - Number(a.signature !== null) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    snapshots: [...stats, ...clusters].map((x) => ({ file: x.file, source: x.source, format: x.format, uptimeSeconds: x.uptimeSeconds, clusters: x.clusters.size })),
    order: { stats: stats.length ? (byUptime ? 'server.uptime' : 'file-order') : null, clusters: clusters.length ? 'file-order' : null },
    intervalSeconds, reset: { stats: s.reset, clusters: c.reset }, clusters: out, notes,
  };
}

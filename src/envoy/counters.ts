/**
 * Envoy's per-cluster counters from its admin interface: `GET /stats` (text `name: value` lines
 * or `?format=json`) and `GET /clusters` (text `cluster::host::stat::value` lines or
 * `?format=json`). Only the counters that tell a stale pooled connection from other failures are
 * kept (STAT_NAMES), so memory is bounded by clusters, not by the file. One pass over the text;
 * a line of another shape is an error naming its line and byte offset.
 *
 * Stat names: Envoy's cluster manager statistics (docs: configuration/upstream/cluster_manager/
 * cluster_stats), `cluster.<cluster name>.<stat>`; the per-host statistics of `/clusters`
 * (operations/admin, "Per host statistics"); `admin.v3.Clusters` for the JSON form.
 */
import { EnvoyInputError, placeOf } from './errors.js';

/**
 * The cluster stats flowdoc reads from `/stats`. `upstream_rq_retry*` is the whole family
 * (`upstream_rq_retry`, `_success`, `_overflow`, `_limit_exceeded`, `_backoff_*`).
 */
export const STAT_NAMES = [
  'upstream_cx_total',
  'upstream_cx_active',
  'upstream_cx_destroy_remote_with_active_rq',
  'upstream_cx_destroy_local_with_active_rq',
  'upstream_cx_idle_timeout',
  'upstream_cx_max_duration_reached',
  'upstream_cx_connect_fail',
  'upstream_rq_pending_failure_eject',
] as const;

/** Gauges: a level, not a count — no delta or rate. */
export const GAUGES: ReadonlySet<string> = new Set(['upstream_cx_active', 'hosts.cx_active', 'hosts.rq_active']);

/** `/clusters` per-host stats, summed over a cluster's hosts and kept as `hosts.<stat>`. */
const HOST_STATS: ReadonlySet<string> = new Set(['cx_total', 'cx_active', 'cx_connect_fail', 'rq_total', 'rq_timeout', 'rq_error', 'rq_active']);

const WANTED: ReadonlySet<string> = new Set(STAT_NAMES);
const isWanted = (stat: string) => WANTED.has(stat) || stat.startsWith('upstream_rq_retry');

export interface CounterSnapshot {
  readonly file: string;
  readonly source: 'stats' | 'clusters';
  readonly format: 'text' | 'json';
  /** `server.uptime` (seconds since the proxy started) in a `/stats` snapshot; null in `/clusters` or when absent. */
  readonly uptimeSeconds: number | null;
  /** Per cluster name, the kept stats. */
  readonly clusters: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Per cluster name, its hosts (`ip:port`) from `/clusters`. */
  readonly hosts: ReadonlyMap<string, readonly string[]>;
}

class Builder {
  readonly clusters = new Map<string, Map<string, number>>();
  readonly hosts = new Map<string, string[]>();
  private readonly seenHosts = new Set<string>();
  uptime: number | null = null;

  set(cluster: string, stat: string, value: number): boolean {
    let m = this.clusters.get(cluster);
    if (!m) this.clusters.set(cluster, (m = new Map()));
    if (m.has(stat)) return false;
    m.set(stat, value);
    return true;
  }

  add(cluster: string, stat: string, value: number): void {
    let m = this.clusters.get(cluster);
    if (!m) this.clusters.set(cluster, (m = new Map()));
    m.set(stat, (m.get(stat) ?? 0) + value);
  }

  /** Each host once per cluster, in order of first appearance; a set keeps this linear in lines. */
  host(cluster: string, host: string): void {
    const key = `${cluster}\u0000${host}`;
    if (this.seenHosts.has(key)) return;
    this.seenHosts.add(key);
    let h = this.hosts.get(cluster);
    if (!h) this.hosts.set(cluster, (h = []));
    h.push(host);
  }

  done(file: string, source: CounterSnapshot['source'], format: CounterSnapshot['format']): CounterSnapshot {
    return { file, source, format, uptimeSeconds: this.uptime, clusters: this.clusters, hosts: this.hosts };
  }
}

/** A `cluster.<name>.<stat>` stat name split into cluster and stat, when the stat is one flowdoc keeps. */
function clusterStat(name: string): { cluster: string; stat: string } | null {
  if (!name.startsWith('cluster.')) return null;
  // Cluster names may contain dots (Istio's `outbound|80||backend.lab.svc.cluster.local`); the stat is the last component.
  const dot = name.lastIndexOf('.');
  if (dot <= 8) return null;
  const stat = name.slice(dot + 1);
  return isWanted(stat) ? { cluster: name.slice(8, dot), stat } : null;
}

const err = (text: string, file: string, index: number, reason: string) => {
  const p = placeOf(text, index);
  return new EnvoyInputError(file, p.line, p.byte, reason);
};

/** Each non-empty line of a text with its start index, in one pass. */
function* lines(text: string): Generator<{ line: string; at: number }> {
  let at = 0;
  while (at < text.length) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const line = text.slice(at, end).replace(/\r$/, '');
    if (line.trim() !== '') yield { line, at };
    at = end + 1;
  }
}

const STATS_LINE = /^(\S+): (.*)$/;
const INTEGER = /^\d+$/;

/** `GET /stats`: `name: value` per line (counters and gauges integers; histograms and text readouts are other values, skipped). */
export function statsFromText(text: string, file: string): CounterSnapshot {
  const b = new Builder();
  for (const { line, at } of lines(text)) {
    const m = STATS_LINE.exec(line);
    if (!m) throw err(text, file, at, `not a /stats line ("name: value"): ${JSON.stringify(line.slice(0, 60))} — a file holds one /stats snapshot, nothing else`);
    const [, name, value] = m as unknown as [string, string, string];
    if (name === 'server.uptime' && INTEGER.test(value)) {
      if (b.uptime !== null) throw err(text, file, at, 'server.uptime appears twice: several /stats snapshots in one file? give each snapshot its own file');
      b.uptime = Number(value);
      continue;
    }
    const cs = clusterStat(name);
    if (!cs) continue;
    if (!INTEGER.test(value)) throw err(text, file, at, `${name} is not an integer: ${JSON.stringify(value.slice(0, 40))}`);
    if (!b.set(cs.cluster, cs.stat, Number(value))) throw err(text, file, at, `${name} appears twice: several /stats snapshots in one file? give each snapshot its own file`);
  }
  return b.done(file, 'stats', 'text');
}

/** Whether a host address part of a `/clusters` line is an endpoint (`ip:port`, `[v6]:port`, a pipe path). */
const HOST_PART = /^(?:\[[0-9a-fA-F:.]+\]:\d+|[^:\s]+:\d+|\/\S*|@\S*|unix:\S*|envoy:\/\/\S*)$/;

/** `GET /clusters`: `cluster::key::value` cluster-wide lines and `cluster::host::stat::value` per-host lines. */
export function clustersFromText(text: string, file: string): CounterSnapshot {
  const b = new Builder();
  for (const { line, at } of lines(text)) {
    const parts = line.split('::');
    if (parts.length < 2) throw err(text, file, at, `not a /clusters line ("cluster::host::stat::value"): ${JSON.stringify(line.slice(0, 60))}`);
    if (parts.length !== 4 || !HOST_PART.test(parts[1]!)) continue; // cluster-wide settings, version_info, outlier detection
    const [cluster, host, stat, value] = parts as [string, string, string, string];
    b.host(cluster, host);
    if (!HOST_STATS.has(stat)) continue;
    if (!INTEGER.test(value)) throw err(text, file, at, `${cluster}::${host}::${stat} is not an integer: ${JSON.stringify(value.slice(0, 40))}`);
    b.add(cluster, `hosts.${stat}`, Number(value));
  }
  return b.done(file, 'clusters', 'text');
}

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = { [k: string]: Json };
const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A uint64 in protobuf JSON (a string) or a plain number; proto3 omits zero values, so absent is 0. */
function count(v: Json | undefined): number | null {
  if (v === undefined) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && INTEGER.test(v)) return Number(v);
  return null;
}

/** `GET /stats?format=json`: `{"stats": [{"name", "value"}, …, {"histograms": …}]}`. */
export function statsFromJson(doc: Obj, text: string, file: string): CounterSnapshot {
  const b = new Builder();
  const stats = doc['stats'];
  const at = (name: string, reason: string) => err(text, file, Math.max(0, text.indexOf(JSON.stringify(name))), reason);
  for (const s of stats as Json[]) {
    if (!isObj(s) || typeof s['name'] !== 'string') continue; // the histograms entry
    const name = s['name'];
    if (name === 'server.uptime') { b.uptime = count(s['value']); continue; }
    const cs = clusterStat(name);
    if (!cs) continue;
    const v = count(s['value']);
    if (v === null) throw at(name, `/stats JSON: ${name} is not an integer`);
    if (!b.set(cs.cluster, cs.stat, v)) throw at(name, `/stats JSON: ${name} appears twice`);
  }
  return b.done(file, 'stats', 'json');
}

/** `GET /clusters?format=json`: `admin.v3.Clusters` — `cluster_statuses[].host_statuses[]` with `address` and `stats[]`. */
export function clustersFromJson(doc: Obj, text: string, file: string): CounterSnapshot {
  const b = new Builder();
  const statuses = doc['cluster_statuses'] as Json[];
  for (const c of statuses) {
    if (!isObj(c) || typeof c['name'] !== 'string') continue;
    const cluster = c['name'];
    for (const h of Array.isArray(c['host_statuses']) ? c['host_statuses'] : []) {
      if (!isObj(h)) continue;
      const addr = isObj(h['address']) ? h['address'] : null;
      const sa = addr && isObj(addr['socket_address']) ? addr['socket_address'] : null;
      const pipe = addr && isObj(addr['pipe']) ? addr['pipe'] : null;
      const host = sa && typeof sa['address'] === 'string'
        ? `${sa['address'].includes(':') ? `[${sa['address']}]` : sa['address']}:${count(sa['port_value']) ?? 0}`
        : pipe && typeof pipe['path'] === 'string' ? pipe['path'] : null;
      if (host) b.host(cluster, host);
      for (const s of Array.isArray(h['stats']) ? h['stats'] : []) {
        if (!isObj(s) || typeof s['name'] !== 'string' || !HOST_STATS.has(s['name'])) continue;
        const v = count(s['value']);
        if (v === null) throw err(text, file, Math.max(0, text.indexOf(JSON.stringify(cluster))), `/clusters JSON: ${cluster} host ${host ?? '?'} ${s['name']} is not an integer`);
        b.add(cluster, `hosts.${s['name']}`, v);
      }
    }
  }
  return b.done(file, 'clusters', 'json');
}

/** Whether a parsed JSON document is `/stats?format=json` or `/clusters?format=json`. */
export function countersJsonKind(doc: Json): 'stats' | 'clusters' | null {
  if (!isObj(doc)) return null;
  if (Array.isArray(doc['stats'])) return 'stats';
  if (Array.isArray(doc['cluster_statuses'])) return 'clusters';
  return null;
}

/** Which counter text a file's first line announces, or null when it is neither (then it is not counters). */
export function countersKind(firstLine: string): 'stats' | 'clusters' | 'prometheus' | null {
  if (firstLine.startsWith('# HELP') || firstLine.startsWith('# TYPE')) return 'prometheus';
  // /clusters lines have no ": " (they are joined by "::"); a /stats text readout's value may contain "::".
  if (STATS_LINE.test(firstLine)) return 'stats';
  if (firstLine.includes('::')) return 'clusters';
  return null;
}

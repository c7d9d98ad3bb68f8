/**
 * Envoy's own view of its connections, from its admin config: `/config_dump`, `istioctl
 * proxy-config all -o json` (the same dump) and `istioctl proxy-config cluster POD -o json` (a
 * JSON array of clusters). Per upstream cluster the settings that decide whether a pooled
 * connection can outlive a middlebox's idle timer; per listener the downstream socket options.
 *
 * Field names and defaults are Envoy's v3 API (envoy/config/cluster/v3/cluster.proto,
 * config/core/v3/address.proto `TcpKeepalive`, config/core/v3/protocol.proto
 * `HttpProtocolOptions` / `Http2ProtocolOptions`, config/core/v3/socket_option.proto). Pure: text
 * in, records out; a bad document is a typed error with its line and byte offset.
 */
import { EnvoyInputError, jsonError } from './errors.js';

/** `upstream_connection_options.tcp_keepalive`, as configured (null fields: not set, the kernel's value applies). */
export interface TcpKeepaliveConfig {
  readonly timeSeconds: number | null;
  readonly intervalSeconds: number | null;
  readonly probes: number | null;
}

export interface ClusterConfig {
  readonly name: string;
  /** Where in the dump it came from: `static_clusters`, `dynamic_active_clusters`, `cluster list`. */
  readonly section: string;
  /** `outbound` / `inbound` for Istio's `outbound|80||host` names, else null. */
  readonly direction: 'outbound' | 'inbound' | null;
  /** The service host of an Istio cluster name, or the first endpoint's DNS name. */
  readonly host: string | null;
  readonly port: number | null;
  /** Static endpoint addresses (`ip:port`) from `load_assignment`, for --lb-timeout IP:PORT=S. */
  readonly endpoints: readonly string[];
  /** null: `upstream_connection_options.tcp_keepalive` absent — SO_KEEPALIVE is not set on upstream sockets. */
  readonly tcpKeepalive: TcpKeepaliveConfig | null;
  /** `common_http_protocol_options.idle_timeout` (cluster field or `typed_extension_protocol_options`); null when not set (Envoy's default 1 h applies to HTTP pools). 0 disables it. */
  readonly idleTimeoutSeconds: number | null;
  readonly maxConnectionDurationSeconds: number | null;
  /** HTTP/2 `connection_keepalive` (PING frames): interval and timeout; null when not configured. */
  readonly http2Keepalive: { readonly intervalSeconds: number | null; readonly timeoutSeconds: number | null } | null;
  /** Whether the cluster speaks HTTP/2 upstream (`http2_protocol_options` anywhere). */
  readonly http2: boolean;
  /** Whether the config says the cluster carries HTTP (HttpProtocolOptions or any HTTP protocol options); false for plain TCP or when it does not say. */
  readonly http: boolean;
}

/** One `config.core.v3.SocketOption` of a listener, named when it is a keepalive option. */
export interface SocketOptionConfig {
  readonly level: number;
  readonly name: number;
  readonly intValue: number | null;
  readonly state: string | null;
  /** `SO_KEEPALIVE`, `TCP_KEEPIDLE`, `TCP_KEEPINTVL`, `TCP_KEEPCNT`, `TCP_USER_TIMEOUT`, or null. */
  readonly known: string | null;
}

export interface ListenerConfig {
  readonly name: string;
  readonly address: string | null;
  readonly socketOptions: readonly SocketOptionConfig[];
  /** Derived from the socket options: SO_KEEPALIVE set (int_value 1), and TCP_KEEPIDLE when given. */
  readonly keepalive: { readonly on: boolean; readonly timeSeconds: number | null; readonly intervalSeconds: number | null; readonly probes: number | null };
}

export interface EnvoyConfig {
  readonly file: string;
  readonly kind: 'config_dump' | 'cluster-list';
  readonly clusters: readonly ClusterConfig[];
  readonly listeners: readonly ListenerConfig[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : []);
const obj = (v: Json | undefined): Obj | null => (isObj(v) ? v : null);

/** A protobuf JSON Duration (`"3600s"`, `"0.5s"`) or `{seconds, nanos}`; null when absent or unreadable. */
export function durationSeconds(v: Json | undefined): number | null {
  if (typeof v === 'string') {
    const m = /^(-?\d+(?:\.\d+)?)s$/.exec(v.trim());
    return m ? Number(m[1]) : null;
  }
  if (isObj(v)) {
    const s = Number(v['seconds'] ?? 0);
    const n = Number(v['nanos'] ?? 0);
    return Number.isFinite(s) && Number.isFinite(n) ? s + n / 1e9 : null;
  }
  return null;
}

/** A uint32 wrapper in protobuf JSON: a number, or (rarely) a numeric string. */
function uint(v: Json | undefined): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  if (isObj(v) && 'value' in v) return uint(v['value']);
  return null;
}

/** Linux socket option numbers (level, name) Envoy users set for keepalive (SOL_SOCKET=1, IPPROTO_TCP=6). */
const KNOWN_OPTIONS: ReadonlyMap<string, string> = new Map([
  ['1:9', 'SO_KEEPALIVE'],
  ['6:4', 'TCP_KEEPIDLE'],
  ['6:5', 'TCP_KEEPINTVL'],
  ['6:6', 'TCP_KEEPCNT'],
  ['6:18', 'TCP_USER_TIMEOUT'],
]);

/** The HttpProtocolOptions of a cluster: `typed_extension_protocol_options` (current) or the deprecated cluster fields. */
function httpOptions(c: Obj): { common: Obj | null; http2: Obj | null; http: boolean } {
  const typed = obj(c['typed_extension_protocol_options']);
  const ext = typed ? obj(typed['envoy.extensions.upstreams.http.v3.HttpProtocolOptions']) : null;
  let http2: Obj | null = obj(c['http2_protocol_options']);
  if (ext) {
    const explicit = obj(ext['explicit_http_config']);
    const auto = obj(ext['auto_config']);
    const use = obj(ext['use_downstream_protocol_config']);
    http2 = obj(explicit?.['http2_protocol_options']) ?? obj(auto?.['http2_protocol_options']) ?? obj(use?.['http2_protocol_options']) ?? http2;
  }
  const http = ext !== null || http2 !== null || 'http_protocol_options' in c || 'common_http_protocol_options' in c;
  return { common: obj(ext?.['common_http_protocol_options']) ?? obj(c['common_http_protocol_options']), http2, http };
}

function endpointsOf(c: Obj): string[] {
  const out: string[] = [];
  for (const e of arr(obj(c['load_assignment'])?.['endpoints'])) {
    for (const lb of arr(obj(e)?.['lb_endpoints'])) {
      const sa = obj(obj(obj(obj(lb)?.['endpoint'])?.['address'])?.['socket_address']);
      if (sa && typeof sa['address'] === 'string' && uint(sa['port_value']) !== null) {
        const a = sa['address'];
        out.push(`${a.includes(':') ? `[${a}]` : a}:${uint(sa['port_value'])}`);
      }
    }
  }
  return out;
}

const IPV4_LITERAL = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const IPV6_LITERAL = /^[0-9a-fA-F:.]+$/;

/** An Envoy address as data: an IP (`ipVersion` 4 or 6, IPv6 without brackets) or a DNS name (`ipVersion` null), and a port. */
export interface EnvoyAddress {
  readonly host: string;
  readonly port: number;
  readonly ipVersion: 4 | 6 | null;
}

/**
 * `10.0.0.1:80`, `[fd00::1]:80`, `backend.ns.svc:80` — the addresses Envoy's admin output writes
 * (`/clusters` hosts) and the cluster endpoints read from `load_assignment` — as data; null
 * without a numeric port.
 */
export function envoyAddress(text: string): EnvoyAddress | null {
  const i = text.lastIndexOf(':');
  if (i < 0 || !/^\d+$/.test(text.slice(i + 1))) return null;
  const port = Number(text.slice(i + 1));
  const h = text.slice(0, i);
  if (h.startsWith('[') && h.endsWith(']') && IPV6_LITERAL.test(h.slice(1, -1))) return { host: h.slice(1, -1), port, ipVersion: 6 };
  return { host: h, port, ipVersion: IPV4_LITERAL.test(h) ? 4 : null };
}

/** Istio's cluster names `direction|port|subset|host` (pilot/pkg/model/service.go BuildSubsetKey), split; null for other names. */
export function istioClusterName(name: string): { direction: 'outbound' | 'inbound'; port: number; host: string | null } | null {
  const parts = name.split('|');
  if (parts.length !== 4 || (parts[0] !== 'outbound' && parts[0] !== 'inbound') || !/^\d+$/.test(parts[1]!)) return null;
  return { direction: parts[0], port: Number(parts[1]), host: parts[3] || null };
}

export function clusterOf(c: Obj, section: string): ClusterConfig | null {
  const name = typeof c['name'] === 'string' ? c['name'] : null;
  if (!name) return null;
  const ka = obj(obj(c['upstream_connection_options'])?.['tcp_keepalive']);
  const { common, http2, http } = httpOptions(c);
  const ping = http2 ? obj(http2['connection_keepalive']) : null;
  const endpoints = endpointsOf(c);
  const istio = istioClusterName(name);
  const direction: ClusterConfig['direction'] = istio?.direction ?? null;
  let host: string | null = istio?.host ?? null;
  let port: number | null = istio?.port ?? null;
  if (!istio && endpoints.length) {
    const a = envoyAddress(endpoints[0]!)!;
    port = a.port;
    host = a.ipVersion === null ? a.host : null;
  }
  return {
    name, section, direction, host, port, endpoints,
    tcpKeepalive: ka ? { timeSeconds: uint(ka['keepalive_time']), intervalSeconds: uint(ka['keepalive_interval']), probes: uint(ka['keepalive_probes']) } : null,
    idleTimeoutSeconds: durationSeconds(common?.['idle_timeout']),
    maxConnectionDurationSeconds: durationSeconds(common?.['max_connection_duration']),
    http2Keepalive: ping ? { intervalSeconds: durationSeconds(ping['interval']), timeoutSeconds: durationSeconds(ping['timeout']) } : null,
    http2: http2 !== null,
    http,
  };
}

export function listenerOf(l: Obj): ListenerConfig | null {
  const name = typeof l['name'] === 'string' ? l['name'] : null;
  if (!name) return null;
  const sa = obj(obj(l['address'])?.['socket_address']);
  const address = sa && typeof sa['address'] === 'string' ? `${sa['address']}:${uint(sa['port_value']) ?? '?'}` : null;
  const socketOptions: SocketOptionConfig[] = [];
  for (const o of arr(l['socket_options'])) {
    const so = obj(o);
    if (!so) continue;
    const level = uint(so['level']) ?? 0;
    const optName = uint(so['name']) ?? 0;
    socketOptions.push({ level, name: optName, intValue: uint(so['int_value']), state: typeof so['state'] === 'string' ? so['state'] : null, known: KNOWN_OPTIONS.get(`${level}:${optName}`) ?? null });
  }
  const val = (k: string) => socketOptions.find((s) => s.known === k)?.intValue ?? null;
  return { name, address, socketOptions, keepalive: { on: val('SO_KEEPALIVE') === 1, timeSeconds: val('TCP_KEEPIDLE'), intervalSeconds: val('TCP_KEEPINTVL'), probes: val('TCP_KEEPCNT') } };
}

/**
 * Envoy's admin API writes protobuf JSON with the proto's snake_case names; istioctl proxy-config
 * … -o json writes the lowerCamelCase JSON names (`upstreamConnectionOptions`, `portValue`). Both
 * are read as snake_case: plain camelCase keys are converted; keys with dots or `@` (extension
 * names in `typed_extension_protocol_options`, `@type`) are map keys and stay as they are.
 */
export function snakeKeys(v: Json): Json {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    const key = /^[a-z][a-zA-Z0-9]*$/.test(k) ? k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : k;
    out[key] = snakeKeys(x);
  }
  return out;
}

const typeOf = (c: Obj) => (typeof c['@type'] === 'string' ? c['@type'] : '');

/** The clusters and listeners of a parsed config dump or cluster list; null when the JSON is neither. */
export function configFromJson(raw: Json, file: string): EnvoyConfig | null {
  const doc = snakeKeys(raw);
  const clusters: ClusterConfig[] = [];
  const listeners: ListenerConfig[] = [];
  if (Array.isArray(doc)) {
    // istioctl proxy-config cluster POD -o json: the clusters themselves.
    if (!doc.every((c) => isObj(c) && typeof c['name'] === 'string')) return null;
    for (const c of doc) { const x = clusterOf(c as Obj, 'cluster list'); if (x) clusters.push(x); }
    return { file, kind: 'cluster-list', clusters, listeners };
  }
  if (!isObj(doc) || !Array.isArray(doc['configs'])) return null;
  for (const section of doc['configs']) {
    const s = obj(section);
    if (!s) continue;
    const t = typeOf(s);
    if (t.endsWith('.ClustersConfigDump')) {
      for (const key of ['static_clusters', 'dynamic_active_clusters', 'dynamic_warming_clusters']) {
        for (const e of arr(s[key])) { const c = obj(obj(e)?.['cluster']); const x = c && clusterOf(c, key); if (x) clusters.push(x); }
      }
    } else if (t.endsWith('.ListenersConfigDump')) {
      for (const e of arr(s['static_listeners'])) { const l = obj(obj(e)?.['listener']); const x = l && listenerOf(l); if (x) listeners.push(x); }
      for (const e of arr(s['dynamic_listeners'])) { const l = obj(obj(obj(e)?.['active_state'])?.['listener']); const x = l && listenerOf(l); if (x) listeners.push(x); }
    } else if (t.endsWith('.BootstrapConfigDump')) {
      const sr = obj(obj(s['bootstrap'])?.['static_resources']);
      for (const c of arr(sr?.['clusters'])) { const x = isObj(c) && clusterOf(c, 'bootstrap'); if (x) clusters.push(x); }
    }
  }
  // Bootstrap clusters appear again under static_clusters: keep the first of each name.
  const seen = new Set<string>();
  const unique = clusters.filter((c) => (seen.has(c.name) ? false : (seen.add(c.name), true)));
  return { file, kind: 'config_dump', clusters: unique, listeners };
}

/** Parses JSON with the error placed at its line and byte offset. */
export function parseJson(text: string, file: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    throw jsonError(text, file, err as Error);
  }
}

export { EnvoyInputError };

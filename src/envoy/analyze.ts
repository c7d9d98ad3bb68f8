/**
 * Judges each upstream cluster's connection settings against the middlebox idle timeout — the one
 * the user states (--lb-timeout, per endpoint IP:PORT or for all) or, without it, the shortest of
 * the known middlebox defaults, as `flowdoc sockets` does. A pooled connection survives an idle
 * middlebox only if something acts before the middlebox's timer runs out: TCP keepalive probes
 * sent earlier (they refresh NAT / L4 load-balancer state), HTTP/2 PINGs sent earlier, or Envoy
 * closing the idle connection first (idle_timeout, or max_connection_duration). A cluster where
 * none does is flagged.
 */
import { KNOWN_IDLE_TIMEOUTS } from '../detect/index.js';
import { KERNEL_KEEPALIVE_SECONDS } from '../sockets/index.js';
import type { ClusterConfig, EnvoyConfig, ListenerConfig } from './config.js';

/** Envoy's default `common_http_protocol_options.idle_timeout` for upstream HTTP pools (protocol.proto). */
export const ENVOY_DEFAULT_IDLE_TIMEOUT_SECONDS = 3600;

const SHORTEST_KNOWN = Math.min(...KNOWN_IDLE_TIMEOUTS.map((k) => k.seconds));

/**
 * Clusters that are not pools of connections to a service: Istio's black hole (no upstream) and
 * the proxy's own admin/agent plumbing. Listed, not judged.
 */
const NOT_A_SERVICE = new Set(['BlackHoleCluster', 'prometheus_stats', 'agent', 'sds-grpc']);

/** Why a cluster is listed but not judged, or null. */
function skipReason(c: ClusterConfig): string | null {
  if (NOT_A_SERVICE.has(c.name)) return 'not a pool of service connections';
  // Istio's inbound clusters connect the sidecar to the application in the same pod (from 127.0.0.6): no middlebox in between.
  if (c.direction === 'inbound' || c.name.startsWith('InboundPassthroughCluster')) return 'inbound: the sidecar\'s connections to its own application inside the pod, with no middlebox in between';
  return null;
}

export interface EnvoyOptions {
  readonly lbTimeouts?: { readonly any: number | null; readonly byServer: ReadonlyMap<string, number> };
}

export interface ClusterVerdict extends ClusterConfig {
  /** `off` (no tcp_keepalive), or the first probe's idle time (keepalive_time, else the kernel's 7200 s). */
  readonly keepalive: { readonly on: boolean; readonly effectiveTimeSeconds: number | null; readonly kernelDefault: boolean };
  /** The idle timeout in force (configured, else Envoy's 1 h default); null when disabled (0). */
  readonly effectiveIdleTimeoutSeconds: number | null;
  readonly idleTimeoutDefaulted: boolean;
  /** The timeout it was judged against, and where it came from. */
  readonly timeoutSeconds: number;
  readonly basis: 'lb-timeout' | 'known-default';
  /** What keeps an idle connection from outliving the middlebox, or null (then `flagged`). */
  readonly protectedBy: 'tcp-keepalive' | 'http2-ping' | 'idle-timeout' | 'max-connection-duration' | null;
  readonly flagged: boolean;
  /** Not judged: not a pool of service connections (`BlackHoleCluster`, admin/agent clusters), or Istio's inbound clusters (pod-local). */
  readonly skipped: boolean;
  readonly skipReason: string | null;
  /** One sentence. */
  readonly text: string;
}

export interface EnvoyReport {
  readonly files: readonly { readonly file: string; readonly kind: EnvoyConfig['kind']; readonly clusters: number; readonly listeners: number }[];
  readonly summary: { readonly clusters: number; readonly judged: number; readonly flagged: number; readonly keepaliveOff: number; readonly listeners: number; readonly listenersWithKeepalive: number };
  readonly clusters: readonly ClusterVerdict[];
  readonly listeners: readonly ListenerConfig[];
  readonly notes: readonly string[];
}

const s = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(3)} s`;

function judge(c: ClusterConfig, o: EnvoyOptions): ClusterVerdict {
  const lb = o.lbTimeouts ?? { any: null, byServer: new Map<string, number>() };
  const stated = c.endpoints.map((e) => lb.byServer.get(e)).find((x) => x !== undefined) ?? lb.any;
  const timeoutSeconds = stated ?? SHORTEST_KNOWN;
  const basis = stated !== null ? 'lb-timeout' : 'known-default';
  const ka = c.tcpKeepalive;
  const effectiveTimeSeconds = ka ? ka.timeSeconds ?? KERNEL_KEEPALIVE_SECONDS : null;
  const idle = c.idleTimeoutSeconds ?? ENVOY_DEFAULT_IDLE_TIMEOUT_SECONDS;
  const effectiveIdleTimeoutSeconds = idle === 0 ? null : idle;
  const mcd = c.maxConnectionDurationSeconds && c.maxConnectionDurationSeconds > 0 ? c.maxConnectionDurationSeconds : null;
  const ping = c.http2Keepalive?.intervalSeconds ?? null;
  const skip = skipReason(c);
  const skipped = skip !== null;
  let protectedBy: ClusterVerdict['protectedBy'] = null;
  if (effectiveTimeSeconds !== null && effectiveTimeSeconds < timeoutSeconds) protectedBy = 'tcp-keepalive';
  else if (ping !== null && ping > 0 && ping < timeoutSeconds) protectedBy = 'http2-ping';
  else if (effectiveIdleTimeoutSeconds !== null && effectiveIdleTimeoutSeconds < timeoutSeconds) protectedBy = 'idle-timeout';
  else if (mcd !== null && mcd < timeoutSeconds) protectedBy = 'max-connection-duration';
  const against = `${s(timeoutSeconds)} ${basis === 'lb-timeout' ? 'load-balancer timeout (--lb-timeout)' : 'shortest known middlebox default'}`;
  const kaText = ka === null ? 'no tcp_keepalive (SO_KEEPALIVE off on upstream sockets)' : `tcp_keepalive first probe after ${s(effectiveTimeSeconds!)}${ka.timeSeconds === null ? ' (keepalive_time not set: the kernel\'s 7200 s)' : ''}`;
  const idleText = effectiveIdleTimeoutSeconds === null ? 'idle_timeout disabled (0)' : `idle_timeout ${s(effectiveIdleTimeoutSeconds)}${c.idleTimeoutSeconds === null ? ' (Envoy\'s default)' : ''}`;
  const text = skipped
    ? `not judged: ${skip}`
    : protectedBy === null
      ? `${kaText} and ${idleText}${mcd !== null ? `, max_connection_duration ${s(mcd)}` : ''}${ping !== null ? `, HTTP/2 PING every ${s(ping)}` : ''}: an idle pooled connection outlives the ${against} and is reused after the path forgot it`
      : `protected against the ${against} by ${protectedBy === 'tcp-keepalive' ? kaText : protectedBy === 'http2-ping' ? `HTTP/2 PING every ${s(ping!)}` : protectedBy === 'idle-timeout' ? idleText : `max_connection_duration ${s(mcd!)}`}`;
  return {
    ...c,
    keepalive: { on: ka !== null, effectiveTimeSeconds, kernelDefault: ka !== null && ka.timeSeconds === null },
    effectiveIdleTimeoutSeconds, idleTimeoutDefaulted: c.idleTimeoutSeconds === null,
    timeoutSeconds, basis, protectedBy, flagged: !skipped && protectedBy === null, skipped, skipReason: skip, text,
  };
}

export function analyzeEnvoy(configs: readonly EnvoyConfig[], options: EnvoyOptions = {}): EnvoyReport {
  const byName = new Map<string, ClusterConfig>();
  for (const cfg of configs) for (const c of cfg.clusters) if (!byName.has(c.name)) byName.set(c.name, c);
  const clusters = [...byName.values()].map((c) => judge(c, options));
  // Flagged first, then by name: the ones to fix on top.
  clusters.sort((a, b) => Number(b.flagged) - Number(a.flagged) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const listeners = configs.flatMap((c) => c.listeners);
  const judged = clusters.filter((c) => !c.skipped);
  const notes: string[] = [];
  if (!options.lbTimeouts || (options.lbTimeouts.any === null && options.lbTimeouts.byServer.size === 0)) {
    notes.push(`No --lb-timeout was given: clusters are judged against the shortest known middlebox default (${s(SHORTEST_KNOWN)}). Give the timeout of the box on the path (--lb-timeout S, or IP:PORT=S for a cluster's endpoint) for verdicts that fit it.`);
  }
  if (judged.some((c) => c.protectedBy === 'idle-timeout')) notes.push('An idle_timeout below the middlebox\'s protects against reuse of a forgotten connection, but not if the middlebox counts only payload and the pool keeps connections busy with keepalive probes: keepalive probes do not reset an L7 load balancer\'s idle timer.');
  return {
    files: configs.map((c) => ({ file: c.file, kind: c.kind, clusters: c.clusters.length, listeners: c.listeners.length })),
    summary: {
      clusters: clusters.length, judged: judged.length, flagged: judged.filter((c) => c.flagged).length,
      keepaliveOff: judged.filter((c) => !c.keepalive.on).length,
      listeners: listeners.length, listenersWithKeepalive: listeners.filter((l) => l.keepalive.on).length,
    },
    clusters, listeners, notes,
  };
}

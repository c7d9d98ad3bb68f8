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
import { envoyAddress, istioClusterName, type ClusterConfig, type EnvoyConfig, type ListenerConfig } from './config.js';
import type { CounterSnapshot } from './counters.js';
import { compareSnapshots, type ClusterCounters, type CounterSeries } from './signature.js';

/** Envoy's default `common_http_protocol_options.idle_timeout` for upstream HTTP pools (protocol.proto). */
export const ENVOY_DEFAULT_IDLE_TIMEOUT_SECONDS = 3600;

const SHORTEST_KNOWN = Math.min(...KNOWN_IDLE_TIMEOUTS.map((k) => k.seconds));

/**
 * Clusters that are not pools of connections to a service: Istio's black hole (no upstream) and
 * the proxy's own admin/agent plumbing. Listed, not judged.
 */
const NOT_A_SERVICE = new Set(['BlackHoleCluster', 'prometheus_stats', 'agent', 'sds-grpc']);

/** Why a cluster is listed but not judged, or null. */
function skipReason(c: Pick<ClusterConfig, 'name' | 'direction'>): string | null {
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
  /** What the counters of the same cluster say (`/stats` given in the same run), else null. */
  readonly staleReuseSignature: ClusterCounters['signature'];
  /** One sentence. */
  readonly text: string;
}

/** A cluster's counters, tied to its config verdict when a config of the same cluster was given. */
export interface ClusterCounterVerdict extends ClusterCounters {
  /** The config verdict of the same cluster name, or null without one. */
  readonly config: { readonly flagged: boolean; readonly protectedBy: ClusterVerdict['protectedBy']; readonly skipped: boolean } | null;
  /** Not judged, as for a config (Istio's inbound clusters, the proxy's own plumbing): never flagged. */
  readonly skipped: boolean;
  /** What config and counters say together, or null without a config for this cluster. */
  readonly tie: string | null;
  /** Service host and port for remedies: the config's, else from an Istio cluster name, else the first /clusters host. */
  readonly host: string | null;
  readonly port: number | null;
  readonly timeoutSeconds: number;
  readonly basis: 'lb-timeout' | 'known-default';
}

export interface EnvoyReport {
  readonly files: readonly { readonly file: string; readonly kind: EnvoyConfig['kind'] | 'stats' | 'clusters'; readonly clusters: number; readonly listeners: number }[];
  readonly summary: {
    readonly clusters: number; readonly judged: number; readonly flagged: number; readonly keepaliveOff: number; readonly listeners: number; readonly listenersWithKeepalive: number;
    /** Clusters whose counters show the stale-reuse signature rising between two /stats snapshots (flagged). */
    readonly signatureRising: number;
    /** Clusters with the signature since the proxy started in a single snapshot (not flagged). */
    readonly signatureSinceStart: number;
  };
  readonly clusters: readonly ClusterVerdict[];
  readonly listeners: readonly ListenerConfig[];
  /** `/stats` and `/clusters` snapshots compared, or null when none was given. */
  readonly counters: (Omit<CounterSeries, 'clusters'> & { readonly clusters: readonly ClusterCounterVerdict[] }) | null;
  readonly notes: readonly string[];
}

const s = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(3)} s`;

/** The middlebox timeout a cluster is judged against: --lb-timeout for one of its endpoints, for all, else the shortest known default. */
function timeoutFor(endpoints: readonly string[], o: EnvoyOptions): { timeoutSeconds: number; basis: 'lb-timeout' | 'known-default' } {
  const lb = o.lbTimeouts ?? { any: null, byServer: new Map<string, number>() };
  const stated = endpoints.map((e) => lb.byServer.get(e)).find((x) => x !== undefined) ?? lb.any;
  return { timeoutSeconds: stated ?? SHORTEST_KNOWN, basis: stated !== null ? 'lb-timeout' : 'known-default' };
}

function judge(c: ClusterConfig, o: EnvoyOptions, signature: ClusterCounters['signature']): ClusterVerdict {
  const { timeoutSeconds, basis } = timeoutFor(c.endpoints, o);
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
    timeoutSeconds, basis, protectedBy, flagged: !skipped && protectedBy === null, skipped, skipReason: skip, staleReuseSignature: signature, text,
  };
}

/** What a cluster's config verdict and its counters say together. */
function tieOf(v: ClusterVerdict, k: ClusterCounters): string {
  if (v.skipped) return `the config lists it as not judged (${v.skipReason})`;
  if (v.flagged && k.signature === 'rising') return `the config and the counters agree: the config lets idle pooled connections outlive the ${v.timeoutSeconds} s timeout, and the counters show them being reset under requests`;
  if (v.flagged && k.signature === 'since-start') return 'the config lets idle pooled connections outlive the middlebox, and the counters since start fit it; a second snapshot confirms it is ongoing';
  if (v.flagged) return 'the config lets idle pooled connections outlive the middlebox, but the counters show no stale reuse (yet): traffic may never idle that long';
  if (k.signature === 'rising') return `the config looks protected against ${v.timeoutSeconds} s (${v.protectedBy}), yet the counters show the signature: the middlebox on the path probably forgets connections sooner — measure it (flowdoc analyze on a capture) and give --lb-timeout`;
  return `the config is protected (${v.protectedBy}) and the counters agree`;
}

export function analyzeEnvoy(configs: readonly EnvoyConfig[], options: EnvoyOptions = {}, snapshots: readonly CounterSnapshot[] = []): EnvoyReport {
  const byName = new Map<string, ClusterConfig>();
  for (const cfg of configs) for (const c of cfg.clusters) if (!byName.has(c.name)) byName.set(c.name, c);
  const series = compareSnapshots(snapshots);
  const countersByName = new Map((series?.clusters ?? []).map((k) => [k.name, k]));
  const clusters = [...byName.values()].map((c) => judge(c, options, countersByName.get(c.name)?.signature ?? null));
  const verdictByName = new Map(clusters.map((v) => [v.name, v]));
  const counterVerdicts: ClusterCounterVerdict[] = (series?.clusters ?? []).map((k) => {
    const v = verdictByName.get(k.name);
    const named = istioClusterName(k.name);
    const skipped = v ? v.skipped : skipReason({ name: k.name, direction: named?.direction ?? null }) !== null;
    const { timeoutSeconds, basis } = v ? { timeoutSeconds: v.timeoutSeconds, basis: v.basis } : timeoutFor(k.hosts, options);
    const firstHost = k.hosts[0] ?? null;
    const address = firstHost ? envoyAddress(firstHost) : null;
    return {
      ...k,
      flagged: k.flagged && !skipped, skipped,
      config: v ? { flagged: v.flagged, protectedBy: v.protectedBy, skipped: v.skipped } : null,
      tie: v ? tieOf(v, k) : null,
      host: v?.host ?? named?.host ?? null,
      port: v?.port ?? named?.port ?? (address ? address.port : null),
      timeoutSeconds, basis,
    };
  });
  // Flagged first, then by name: the ones to fix on top.
  clusters.sort((a, b) => Number(b.flagged) - Number(a.flagged) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const listeners = configs.flatMap((c) => c.listeners);
  const judged = clusters.filter((c) => !c.skipped);
  const notes: string[] = [];
  if (!options.lbTimeouts || (options.lbTimeouts.any === null && options.lbTimeouts.byServer.size === 0)) {
    notes.push(`No --lb-timeout was given: clusters are judged against the shortest known middlebox default (${s(SHORTEST_KNOWN)}). Give the timeout of the box on the path (--lb-timeout S, or IP:PORT=S for a cluster's endpoint) for verdicts that fit it.`);
  }
  if (series) notes.push(...series.notes);
  if (series && !configs.length && counterVerdicts.some((k) => k.signature)) notes.push('No config_dump was given: add one to the same run (flowdoc envoy config_dump.json stats-1.txt stats-2.txt) to see which setting lets the connections go stale.');
  if (judged.some((c) => c.protectedBy === 'idle-timeout')) notes.push('An idle_timeout below the middlebox\'s protects against reuse of a forgotten connection, but not if the middlebox counts only payload and the pool keeps connections busy with keepalive probes: keepalive probes do not reset an L7 load balancer\'s idle timer.');
  return {
    files: [
      ...configs.map((c) => ({ file: c.file, kind: c.kind, clusters: c.clusters.length, listeners: c.listeners.length })),
      ...snapshots.map((x) => ({ file: x.file, kind: x.source, clusters: x.clusters.size, listeners: 0 })),
    ],
    summary: {
      clusters: clusters.length, judged: judged.length, flagged: judged.filter((c) => c.flagged).length,
      keepaliveOff: judged.filter((c) => !c.keepalive.on).length,
      listeners: listeners.length, listenersWithKeepalive: listeners.filter((l) => l.keepalive.on).length,
      signatureRising: counterVerdicts.filter((k) => !k.skipped && k.signature === 'rising').length,
      signatureSinceStart: counterVerdicts.filter((k) => !k.skipped && k.signature === 'since-start').length,
    },
    clusters, listeners, notes,
    counters: series ? { ...series, clusters: counterVerdicts } : null,
  };
}

/**
 * Stale reuse from access logs alone: when the logs identify the pooled upstream connection each
 * request went out on (%UPSTREAM_CONNECTION_ID%, or %UPSTREAM_LOCAL_ADDRESS% with %UPSTREAM_HOST%,
 * whose source port names the socket), requests are grouped per connection and a `UC` /
 * `upstream_reset_before_response_started{connection_termination}` failure that came after the
 * connection sat idle is the stale-reuse incident a capture would show — without a capture.
 *
 * The idle of a request is the time from the end of the connection's previous requests
 * (%START_TIME% + %DURATION%, the latest end of all of them, so HTTP/2 streams that overlap count as
 * busy) to its own start. The idle bracket per upstream host is the longest idle after which a
 * request still got its answer ("survived") and the shortest one that failed, through the same
 * makeBracket as `analyze` and `scan`.
 *
 * Pure: takes parsed entries, returns a JSON-serializable record. Memory: one small record per
 * connection key plus the entries the caller already holds.
 */
import { makeBracket, type Bracket } from '../detect/index.js';
import type { LogEntry } from './entry.js';
import { hasIdleDropSignature, isFailure } from './triage.js';

/**
 * Below this many seconds since the connection's previous request, a request counts as sent on a
 * busy connection (logs time requests to the millisecond, so this is real quiet, not packet noise;
 * no known middlebox forgets a connection within a second).
 */
export const DEFAULT_LOG_IDLE_THRESHOLD_SECONDS = 1;

export interface ReuseOptions {
  /** Idle (seconds) from which an idle-drop failure is stale reuse; below it the connection was busy. */
  readonly idleThresholdSeconds?: number;
}

/** Where an entry is: file and 1-based line. */
export interface LogPlace {
  readonly file: string;
  readonly line: number;
}

/** How requests were tied to their upstream connection. */
export type ConnectionKeyKind = 'connection-id' | 'local-address';

/** A request that failed with the idle-drop signature after its connection sat idle. */
export interface LogStaleReuseIncident {
  readonly kind: 'stale-reuse-log';
  readonly hop: string;
  readonly file: string;
  readonly line: number;
  /** The connection as shown: `#1234 → 10.0.0.9:80` (connection id) or `10.0.0.5:43210 → 10.0.0.9:80`. */
  readonly connection: string;
  readonly keyedBy: ConnectionKeyKind;
  readonly upstreamConnectionId: string | null;
  readonly upstreamLocalAddress: string | null;
  readonly upstreamHost: string | null;
  readonly upstreamCluster: string | null;
  readonly requestId: string | null;
  readonly startMs: number;
  /** Seconds from the end of the connection's previous request to this one's start (ms precision). */
  readonly idleSeconds: number;
  /** The request before the idle (its line), and how many requests the connection had carried. */
  readonly previous: LogPlace;
  readonly previousRequests: number;
  readonly responseCode: number | null;
  readonly flags: readonly string[];
  readonly responseCodeDetails: string | null;
}

/** An idle-drop failure that is not stale reuse, and why. */
export interface LogIdleDropNotStale {
  readonly hop: string;
  readonly file: string;
  readonly line: number;
  readonly connection: string;
  readonly upstreamHost: string | null;
  /**
   * `busy`: the connection had carried a request less than the idle threshold before (or one was
   * still in flight) — the upstream closed or reset a working connection, not an idle one.
   * `first-request`: the first request seen on the connection (a fresh connection, or the log
   * started after its earlier requests).
   */
  readonly reason: 'busy' | 'first-request';
  /** Seconds since the previous request ended; negative when one was still in flight; null for `first-request`. */
  readonly idleSeconds: number | null;
}

/** Per upstream host: what the logs say about its idle timeout. */
export interface LogHostReuse {
  readonly upstreamHost: string;
  /** The first cluster seen for the host (null when not logged). */
  readonly upstreamCluster: string | null;
  readonly connections: number;
  readonly requests: number;
  readonly incidents: number;
  /** Longest idle after which a request on the same connection still got its answer, and where. */
  readonly survivedSeconds: number | null;
  readonly survived: LogPlace | null;
  /** Shortest idle that ended in a stale-reuse incident, and where. */
  readonly failedSeconds: number | null;
  readonly failed: LogPlace | null;
  /** The bracket (makeBracket, measure `request-gap`); null without a failed idle. */
  readonly bracket: Bracket | null;
}

export interface LogStaleReuse {
  readonly idleThresholdSeconds: number;
  /** Entries tied to a connection by %UPSTREAM_CONNECTION_ID% / by local address + upstream host. */
  readonly keyedByConnectionId: number;
  readonly keyedByLocalAddress: number;
  /** Entries that could not be tied to a connection (neither key logged) or had no start time. */
  readonly withoutConnection: number;
  readonly withoutStartTime: number;
  /** Upstream connections seen (a connection ends at an idle-drop failure: Envoy closes it). */
  readonly connections: number;
  readonly incidents: readonly LogStaleReuseIncident[];
  readonly notStale: readonly LogIdleDropNotStale[];
  /** Hosts with at least one connection that carried two requests, by incidents then name. */
  readonly byUpstreamHost: readonly LogHostReuse[];
}

interface Keyed {
  readonly entry: LogEntry;
  readonly key: string;
  readonly keyedBy: ConnectionKeyKind;
  readonly startMs: number;
}

/** The connection an entry went out on, or null when the log does not say. */
function connectionKey(e: LogEntry): { key: string; keyedBy: ConnectionKeyKind } | null {
  // The hop scopes both keys: connection ids are per Envoy process, local addresses per host.
  if (e.upstreamConnectionId !== null) return { key: `${e.hop}\0id\0${e.upstreamConnectionId}`, keyedBy: 'connection-id' };
  if (e.upstreamLocalAddress !== null && e.upstreamHost !== null) {
    return { key: `${e.hop}\0la\0${e.upstreamLocalAddress}\0${e.upstreamHost}`, keyedBy: 'local-address' };
  }
  return null;
}

function showConnection(e: LogEntry, keyedBy: ConnectionKeyKind): string {
  const host = e.upstreamHost ?? '-';
  return keyedBy === 'connection-id' ? `#${e.upstreamConnectionId} → ${host}` : `${e.upstreamLocalAddress} → ${host}`;
}

/** A request whose answer came back: a non-failure, or a 5xx the upstream itself sent. */
function gotAnswer(e: LogEntry): boolean {
  if (e.responseCode === null) return false;
  return !isFailure(e) || e.responseCodeDetails === 'via_upstream';
}

/** Rounds to milliseconds, the logs' precision. */
function ms3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

class HostAccumulator {
  upstreamCluster: string | null = null;
  connections = 0;
  requests = 0;
  incidents = 0;
  survivedSeconds: number | null = null;
  survived: LogPlace | null = null;
  failedSeconds: number | null = null;
  failed: LogPlace | null = null;
  reused = false;
}

/** Groups requests per upstream connection and finds the idle-drop failures that followed an idle. */
export function findStaleReuseInLogs(entries: readonly LogEntry[], opts: ReuseOptions = {}): LogStaleReuse {
  const threshold = opts.idleThresholdSeconds ?? DEFAULT_LOG_IDLE_THRESHOLD_SECONDS;
  let keyedByConnectionId = 0;
  let keyedByLocalAddress = 0;
  let withoutConnection = 0;
  let withoutStartTime = 0;
  const groups = new Map<string, Keyed[]>();
  for (const entry of entries) {
    const k = connectionKey(entry);
    if (k === null) { withoutConnection++; continue; }
    if (entry.startMs === null) { withoutStartTime++; continue; }
    if (k.keyedBy === 'connection-id') keyedByConnectionId++;
    else keyedByLocalAddress++;
    let g = groups.get(k.key);
    if (g === undefined) { g = []; groups.set(k.key, g); }
    g.push({ entry, key: k.key, keyedBy: k.keyedBy, startMs: entry.startMs });
  }

  const incidents: LogStaleReuseIncident[] = [];
  const notStale: LogIdleDropNotStale[] = [];
  const hosts = new Map<string, HostAccumulator>();
  let connections = 0;
  for (const group of groups.values()) {
    // Lines are written when a request ends, so file order is not start order.
    group.sort((a, b) => a.startMs - b.startMs || a.entry.line - b.entry.line);
    let busyUntilMs = -Infinity;
    let previous: LogEntry | null = null;
    let carried = 0;
    for (const { entry: e, keyedBy, startMs } of group) {
      const hostKey = e.upstreamHost ?? '-';
      let host = hosts.get(hostKey);
      if (host === undefined) { host = new HostAccumulator(); hosts.set(hostKey, host); }
      host.upstreamCluster ??= e.upstreamCluster;
      host.requests++;
      if (previous === null) { connections++; host.connections++; }
      const idle = previous === null ? null : (startMs - busyUntilMs) / 1000;
      const dropped = isFailure(e) && hasIdleDropSignature(e);
      if (dropped) {
        if (idle !== null && idle >= threshold) {
          incidents.push({
            kind: 'stale-reuse-log', hop: e.hop, file: e.file, line: e.line, connection: showConnection(e, keyedBy), keyedBy,
            upstreamConnectionId: e.upstreamConnectionId, upstreamLocalAddress: e.upstreamLocalAddress,
            upstreamHost: e.upstreamHost, upstreamCluster: e.upstreamCluster, requestId: e.requestId, startMs,
            idleSeconds: ms3(idle), previous: { file: previous!.file, line: previous!.line }, previousRequests: carried,
            responseCode: e.responseCode, flags: e.flags, responseCodeDetails: e.responseCodeDetails,
          });
          host.incidents++;
          if (host.failedSeconds === null || idle < host.failedSeconds) {
            host.failedSeconds = ms3(idle);
            host.failed = { file: e.file, line: e.line };
          }
        } else {
          notStale.push({
            hop: e.hop, file: e.file, line: e.line, connection: showConnection(e, keyedBy), upstreamHost: e.upstreamHost,
            reason: idle === null ? 'first-request' : 'busy', idleSeconds: idle === null ? null : ms3(idle),
          });
        }
        // Envoy closes a connection that was reset under a request: what follows on the same
        // local address (a reused port) or id is another connection.
        previous = null;
        busyUntilMs = -Infinity;
        carried = 0;
        continue;
      }
      if (idle !== null) {
        host.reused = true;
        if (gotAnswer(e) && idle > 0 && (host.survivedSeconds === null || idle > host.survivedSeconds)) {
          host.survivedSeconds = ms3(idle);
          host.survived = { file: e.file, line: e.line };
        }
      }
      previous = e;
      carried++;
      busyUntilMs = Math.max(busyUntilMs, startMs + (e.durationMs ?? 0));
    }
  }

  const byUpstreamHost: LogHostReuse[] = [];
  for (const [upstreamHost, h] of hosts) {
    if (!h.reused && h.incidents === 0) continue;
    const bracket = h.failedSeconds === null ? null : makeBracket({
      failedSeconds: h.failedSeconds, failedFrame: null, survivedSeconds: h.survivedSeconds, survivedFrame: null,
      measure: 'request-gap', scope: ` (from access logs, ${upstreamHost})`, evidence: 'access logs',
    });
    byUpstreamHost.push({
      upstreamHost, upstreamCluster: h.upstreamCluster, connections: h.connections, requests: h.requests, incidents: h.incidents,
      survivedSeconds: h.survivedSeconds, survived: h.survived, failedSeconds: h.failedSeconds, failed: h.failed, bracket,
    });
  }
  byUpstreamHost.sort((a, b) => b.incidents - a.incidents || (a.upstreamHost < b.upstreamHost ? -1 : a.upstreamHost > b.upstreamHost ? 1 : 0));
  incidents.sort((a, b) => a.startMs - b.startMs || (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
  return {
    idleThresholdSeconds: threshold, keyedByConnectionId, keyedByLocalAddress, withoutConnection, withoutStartTime,
    connections, incidents, notStale, byUpstreamHost,
  };
}

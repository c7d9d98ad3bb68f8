/**
 * A first look at the failures in access logs, for someone deciding where to capture next:
 * which codes, flags and details, which upstream hosts and clusters, which hours — and how many
 * failures carry the idle-drop signature this tool is about versus the other usual suspects.
 *
 * Pure and JSON-serializable. Only failed requests are summarised: response code 5xx, or 0
 * (Envoy logs 0 when no response went downstream — a TCP proxy line or a client that gave up).
 */
import type { LogEntry } from './entry.js';

/** One row of a breakdown. */
export interface TriageCount {
  readonly key: string;
  readonly count: number;
}

/**
 * How many failures point at each cause. An entry can count under several (`UF,URX` is both a
 * connect failure and a retry limit); `other` counts failures under none of them.
 */
export interface TriageSignatures {
  /**
   * The idle-drop signature: flag `UC` and/or details
   * `upstream_reset_before_response_started{connection_termination…}` — the upstream connection
   * was closed or reset under a request (a middlebox that forgot an idle connection, or an
   * upstream closing idle keep-alive connections early).
   */
  readonly idleDrop: number;
  /** Of `idleDrop`, those with BYTES_SENT 95: the length of Envoy's local-reply body for UC, so this proxy answered itself. */
  readonly idleDropLocalReply: number;
  /** `UF` (or details `{…connection_failure…}` / `{connection_timeout}`): the connect itself failed. */
  readonly connectFailure: number;
  /** `UT` or code 504: the upstream never answered in time (a silent black hole drops packets rather than resetting). */
  readonly timeout: number;
  /** Details `via_upstream`: the upstream sent this code — the failing hop is further down. */
  readonly viaUpstream: number;
  /** `URX`: retries (or TCP connect attempts) ran out — earlier attempts failed too. */
  readonly retryLimit: number;
  /** Failures with none of the above. */
  readonly other: number;
}

export interface LogTriage {
  /** Entries (parsed log lines) given. */
  readonly totalLines: number;
  /** Of them, failures: response code 5xx or 0. Everything below counts only these. */
  readonly failures: number;
  /** By response code (`'503'`, `'0'`). */
  readonly byResponseCode: readonly TriageCount[];
  /** By single response flag (an entry with `UF,URX` counts once under each); `'-'` for none. */
  readonly byFlag: readonly TriageCount[];
  /** By %RESPONSE_CODE_DETAILS%; `'-'` when not logged. */
  readonly byResponseCodeDetails: readonly TriageCount[];
  /** By upstream host (`ip:port`); `'-'` when none was chosen. */
  readonly byUpstreamHost: readonly TriageCount[];
  /** By upstream cluster; `'-'` when not logged. */
  readonly byUpstreamCluster: readonly TriageCount[];
  /** By UTC hour of %START_TIME%, keyed `2020-11-25T21:00Z`; `'unknown'` without a start time. */
  readonly byHour: readonly TriageCount[];
  readonly signatures: TriageSignatures;
}

/** The key used for an unset value in the breakdowns. */
export const UNSET_KEY = '-';
/** The `byHour` key of entries without a start time. */
export const UNKNOWN_HOUR = 'unknown';

/** Response code 5xx, or 0. */
export function isFailure(e: LogEntry): boolean {
  return e.responseCode !== null && (e.responseCode === 0 || (e.responseCode >= 500 && e.responseCode <= 599));
}

/** Flag UC and/or details `upstream_reset_before_response_started{connection_termination…}`. */
export function hasIdleDropSignature(e: LogEntry): boolean {
  if (e.flags.includes('UC')) return true;
  const d = e.responseCodeDetails;
  return d !== null && d.startsWith('upstream_reset_before_response_started{connection_termination');
}

function isConnectFailure(e: LogEntry): boolean {
  if (e.flags.includes('UF')) return true;
  const d = e.responseCodeDetails;
  if (d === null) return false;
  const brace = d.indexOf('{');
  if (brace === -1) return false;
  const reason = d.slice(brace + 1);
  return reason.startsWith('connection_failure') || reason.startsWith('local_connection_failure')
    || reason.startsWith('remote_connection_failure') || reason.startsWith('connection_timeout');
}

/** The envoy local-reply body length for UC (`… reset reason: connection termination`), anchors §1.5. */
const UC_LOCAL_REPLY_BYTES = 95;

function hourKey(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return UNKNOWN_HOUR;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return UNKNOWN_HOUR;
  return `${d.toISOString().slice(0, 13)}:00Z`;
}

class Counter {
  private readonly counts = new Map<string, number>();
  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  /** Count descending, then key ascending (by UTF-16 code units, not locale). */
  sorted(): TriageCount[] {
    return [...this.counts].map(([key, count]) => ({ key, count }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}

/** Summarises the failed requests among `entries`. */
export function triageLogs(entries: readonly LogEntry[]): LogTriage {
  const codes = new Counter();
  const flags = new Counter();
  const details = new Counter();
  const hosts = new Counter();
  const clusters = new Counter();
  const hours = new Counter();
  let failures = 0;
  let idleDrop = 0;
  let idleDropLocalReply = 0;
  let connectFailure = 0;
  let timeout = 0;
  let viaUpstream = 0;
  let retryLimit = 0;
  let other = 0;
  for (const e of entries) {
    if (!isFailure(e)) continue;
    failures++;
    codes.add(String(e.responseCode));
    if (e.flags.length === 0) flags.add(UNSET_KEY);
    for (const f of new Set(e.flags)) flags.add(f);
    details.add(e.responseCodeDetails ?? UNSET_KEY);
    hosts.add(e.upstreamHost ?? UNSET_KEY);
    clusters.add(e.upstreamCluster ?? UNSET_KEY);
    hours.add(hourKey(e.startMs));
    let matched = false;
    if (hasIdleDropSignature(e)) {
      idleDrop++;
      matched = true;
      if (e.bytesSent === UC_LOCAL_REPLY_BYTES) idleDropLocalReply++;
    }
    if (isConnectFailure(e)) { connectFailure++; matched = true; }
    if (e.flags.includes('UT') || e.responseCode === 504) { timeout++; matched = true; }
    if (e.responseCodeDetails === 'via_upstream') { viaUpstream++; matched = true; }
    if (e.flags.includes('URX')) { retryLimit++; matched = true; }
    if (!matched) other++;
  }
  return {
    totalLines: entries.length,
    failures,
    byResponseCode: codes.sorted(),
    byFlag: flags.sorted(),
    byResponseCodeDetails: details.sorted(),
    byUpstreamHost: hosts.sorted(),
    byUpstreamCluster: clusters.sorted(),
    byHour: hours.sorted(),
    signatures: { idleDrop, idleDropLocalReply, connectFailure, timeout, viaUpstream, retryLimit, other },
  };
}

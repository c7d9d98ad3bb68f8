/**
 * The fields of a `LogEntry` as the parsers fill them, and the rules that turn Envoy's text
 * into typed values. Shared by the text-format matcher and the JSON reader so both read a
 * value the same way.
 */
import type { LogEntry } from './entry.js';

/** A `LogEntry` being filled in. */
export type EntryDraft = { -readonly [K in keyof LogEntry]: K extends 'flags' ? string[] : LogEntry[K] };

/** The entry fields a format operator or JSON key can fill. */
export type FieldId = Exclude<keyof LogEntry, 'file' | 'line' | 'hop' | 'format'>;

/** How a raw value becomes the field's value. */
export type ValueKind =
  | 'string'      // '-' / '' → null
  | 'number'      // digits; '-' / '' → null; anything else does not match
  | 'number-text' // digits kept as text (a uint64 id); '-' / '' → null; anything else does not match
  | 'flags'       // %RESPONSE_FLAGS%: 'UF,URX' → ['UF', 'URX']; '-' → []
  | 'flags-long'  // %RESPONSE_FLAGS_LONG%: 'UpstreamConnectionTermination' → ['UC']
  | 'host'        // %UPSTREAM_HOST%: 'tcp://' removed
  | 'cluster'     // %UPSTREAM_CLUSTER%: one trailing ';' removed (alt_stat_name leak, anchors §1.2)
  | 'time';       // %START_TIME%: parsed elsewhere

export function newDraft(file: string, line: number, hop: string, format: string): EntryDraft {
  return {
    file, line, hop, format,
    startMs: null, method: null, path: null, protocol: null, responseCode: null, flags: [],
    responseCodeDetails: null, connectionTerminationDetails: null, upstreamTransportFailureReason: null,
    bytesReceived: null, bytesSent: null, durationMs: null, upstreamServiceTimeMs: null,
    xForwardedFor: null, userAgent: null, requestId: null, authority: null, upstreamHost: null,
    upstreamCluster: null, upstreamLocalAddress: null, upstreamConnectionId: null, downstreamLocalAddress: null,
    downstreamRemoteAddress: null, requestedServerName: null, routeName: null, mixerStatus: null,
  };
}

/** Envoy writes an unset value as `-`; JSON logs may also carry `""`. */
export function nullish(raw: string): string | null {
  return raw === '-' || raw === '' ? null : raw;
}

/** `%RESPONSE_FLAGS_LONG%` names → short codes (envoyproxy/envoy source/common/stream_info/utility.h, anchors §1.4). */
const LONG_FLAGS: ReadonlyMap<string, string> = new Map([
  ['NoHealthyUpstream', 'UH'], ['UpstreamConnectionFailure', 'UF'], ['UpstreamOverflow', 'UO'],
  ['NoRouteFound', 'NR'], ['UpstreamRetryLimitExceeded', 'URX'], ['NoClusterFound', 'NC'],
  ['DurationTimeout', 'DT'], ['DownstreamConnectionTermination', 'DC'], ['FailedLocalHealthCheck', 'LH'],
  ['UpstreamRequestTimeout', 'UT'], ['LocalReset', 'LR'], ['UpstreamRemoteReset', 'UR'],
  ['UpstreamConnectionTermination', 'UC'], ['DelayInjected', 'DI'], ['FaultInjected', 'FI'],
  ['RateLimited', 'RL'], ['UnauthorizedExternalService', 'UAEX'], ['RateLimitServiceError', 'RLSE'],
  ['InvalidEnvoyRequestHeaders', 'IH'], ['StreamIdleTimeout', 'SI'], ['DownstreamProtocolError', 'DPE'],
  ['UpstreamProtocolError', 'UPE'], ['UpstreamMaxStreamDurationReached', 'UMSDR'],
  ['ResponseFromCacheFilter', 'RFCF'], ['NoFilterConfigFound', 'NFCF'], ['OverloadManagerTerminated', 'OM'],
  ['DnsResolutionFailed', 'DF'], ['DropOverload', 'DO'], ['DownstreamRemoteReset', 'DR'],
]);

function isFlagCode(s: string): boolean {
  if (s.length === 0 || s.length > 8) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 65 || c > 90) return false;
  }
  return true;
}

/**
 * Stores `raw` into `d[field]` as `kind` says. Returns null on success, or why the value
 * cannot be that field (text formats use this to tell formats apart; a flags field holding
 * `via_upstream` means the line has another layout).
 *
 * A field already set is not overwritten by an unset value, so a format that logs a header
 * twice (`%REQ(:PATH)%` and `%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%`) keeps the one that was there.
 */
export function storeField(d: EntryDraft, field: FieldId, kind: ValueKind, raw: string): string | null {
  switch (kind) {
    case 'number': {
      if (raw === '-' || raw === '') return null;
      if (raw.length > 15) return `expected a number, got ${quoteShort(raw)}`;
      for (let i = 0; i < raw.length; i++) {
        const c = raw.charCodeAt(i);
        if (c < 48 || c > 57) return `expected a number, got ${quoteShort(raw)}`;
      }
      setNumber(d, field, Number(raw));
      return null;
    }
    case 'number-text': {
      if (raw === '-' || raw === '') return null;
      if (raw.length > 20 || !/^[0-9]+$/.test(raw)) return `expected a number, got ${quoteShort(raw)}`;
      setString(d, field, raw);
      return null;
    }
    case 'flags':
    case 'flags-long': {
      if (raw === '-' || raw === '') return null;
      const parts = raw.split(',');
      const flags: string[] = [];
      for (const p of parts) {
        if (p === '') continue;
        if (kind === 'flags') {
          if (!isFlagCode(p)) return `expected response flags, got ${quoteShort(raw)}`;
          flags.push(p);
        } else {
          const short = LONG_FLAGS.get(p);
          if (short === undefined && !/^[A-Za-z]+$/.test(p)) return `expected response flags, got ${quoteShort(raw)}`;
          flags.push(short ?? p);
        }
      }
      if (d.flags.length === 0) d.flags = flags;
      return null;
    }
    case 'host': {
      const v = nullish(raw.startsWith('tcp://') ? raw.slice(6) : raw);
      if (v !== null) setString(d, field, v);
      return null;
    }
    case 'cluster': {
      const v = nullish(raw.endsWith(';') ? raw.slice(0, -1) : raw);
      if (v !== null) setString(d, field, v);
      return null;
    }
    case 'string':
    case 'time': {
      const v = nullish(raw);
      if (v !== null && kind === 'string') setString(d, field, v);
      return null;
    }
  }
}

type NumberField = 'startMs' | 'responseCode' | 'bytesReceived' | 'bytesSent' | 'durationMs' | 'upstreamServiceTimeMs';

function isNumberField(f: FieldId): f is NumberField {
  return f === 'startMs' || f === 'responseCode' || f === 'bytesReceived' || f === 'bytesSent'
    || f === 'durationMs' || f === 'upstreamServiceTimeMs';
}

export function setNumber(d: EntryDraft, field: FieldId, v: number): void {
  if (isNumberField(field) && d[field] === null) d[field] = v;
}

export function setString(d: EntryDraft, field: FieldId, v: string): void {
  if (field === 'flags' || isNumberField(field)) return;
  if (d[field] === null) d[field] = v;
}

/** `raw` quoted for an error message, cut to 40 characters. */
export function quoteShort(raw: string): string {
  return JSON.stringify(raw.length > 40 ? raw.slice(0, 40) + '…' : raw);
}

/** The finished, readonly entry. */
export function finishDraft(d: EntryDraft): LogEntry {
  return d;
}

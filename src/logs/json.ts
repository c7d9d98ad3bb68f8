/**
 * Istio JSON access logs (`meshConfig.accessLogEncoding: JSON`, anchors §1.3): one JSON object
 * per line, keys in any order, values as strings (older Istio: `"response_code":"503"`, unset =
 * `"-"`) or typed (newer: `503`, `null`). Unknown keys are ignored; a value of the wrong type
 * (an object where a string belongs, `"abc"` where a number belongs) reads as unset rather than
 * rejecting the line, since a JSON line says what each value is.
 */
import { newDraft, nullish, setNumber, storeField, type EntryDraft, type FieldId, type ValueKind } from './fields.js';
import type { EntryOrigin } from './format.js';
import { parseIsoTimestamp } from './time.js';

/** Istio JSON key → entry field (anchors §1.3; `istio_policy_status` from mixer-era logs). */
const JSON_KEYS: ReadonlyMap<string, { readonly field: FieldId; readonly kind: ValueKind }> = new Map<
  string,
  { readonly field: FieldId; readonly kind: ValueKind }
>([
  ['start_time', { field: 'startMs', kind: 'time' }],
  ['method', { field: 'method', kind: 'string' }],
  ['path', { field: 'path', kind: 'string' }],
  ['protocol', { field: 'protocol', kind: 'string' }],
  ['response_code', { field: 'responseCode', kind: 'number' }],
  ['response_flags', { field: 'flags', kind: 'flags' }],
  ['response_code_details', { field: 'responseCodeDetails', kind: 'string' }],
  ['connection_termination_details', { field: 'connectionTerminationDetails', kind: 'string' }],
  ['upstream_transport_failure_reason', { field: 'upstreamTransportFailureReason', kind: 'string' }],
  ['bytes_received', { field: 'bytesReceived', kind: 'number' }],
  ['bytes_sent', { field: 'bytesSent', kind: 'number' }],
  ['duration', { field: 'durationMs', kind: 'number' }],
  ['upstream_service_time', { field: 'upstreamServiceTimeMs', kind: 'number' }],
  ['x_forwarded_for', { field: 'xForwardedFor', kind: 'string' }],
  ['user_agent', { field: 'userAgent', kind: 'string' }],
  ['request_id', { field: 'requestId', kind: 'string' }],
  ['authority', { field: 'authority', kind: 'string' }],
  ['upstream_host', { field: 'upstreamHost', kind: 'host' }],
  ['upstream_cluster', { field: 'upstreamCluster', kind: 'cluster' }],
  ['upstream_local_address', { field: 'upstreamLocalAddress', kind: 'string' }],
  ['upstream_connection_id', { field: 'upstreamConnectionId', kind: 'number-text' }],
  ['downstream_local_address', { field: 'downstreamLocalAddress', kind: 'string' }],
  ['downstream_remote_address', { field: 'downstreamRemoteAddress', kind: 'string' }],
  ['requested_server_name', { field: 'requestedServerName', kind: 'string' }],
  ['route_name', { field: 'routeName', kind: 'string' }],
  ['istio_policy_status', { field: 'mixerStatus', kind: 'string' }],
]);

/** The result of `JSON.parse` on a line, or why it failed. Never throws (deep nesting included). */
export type JsonParse = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reason: string };

export function parseJsonLine(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    // SyntaxError for bad JSON; RangeError if an engine ever runs out of stack on deep nesting.
    // The engine's message quotes the line: escape its control characters (a CR or an escape
    // sequence from the log must not reach a terminal through the rejected-line reason).
    const raw = e instanceof Error ? e.message : String(e);
    // eslint-disable-next-line no-control-regex
    const msg = raw.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    return { ok: false, reason: `invalid JSON (${msg.length > 80 ? msg.slice(0, 80) + '…' : msg})` };
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type JsonEntryResult = { readonly ok: true; readonly draft: EntryDraft } | { readonly ok: false; readonly reason: string };

/** Maps a parsed JSON object to an entry; fails when it has none of the access-log keys. */
export function entryFromJsonObject(obj: Record<string, unknown>, origin: EntryOrigin): JsonEntryResult {
  const d = newDraft(origin.file, origin.line, origin.hop, 'json');
  let known = 0;
  for (const key of Object.keys(obj)) {
    const spec = JSON_KEYS.get(key);
    if (spec === undefined) continue;
    known++;
    const v = obj[key];
    if (spec.kind === 'time') {
      if (typeof v === 'string') {
        const ms = parseIsoTimestamp(v);
        if (ms !== null) setNumber(d, 'startMs', ms);
      }
      continue;
    }
    if (typeof v === 'number') {
      if (spec.kind === 'number' && Number.isInteger(v) && v >= 0) setNumber(d, spec.field, v);
      else if (spec.kind !== 'number' && spec.kind !== 'flags') storeField(d, spec.field, spec.kind, String(v));
      continue;
    }
    if (typeof v !== 'string' || nullish(v) === null) continue;
    // A value that is not what its key promises reads as unset (storeField reports, we ignore).
    storeField(d, spec.field, spec.kind, v);
  }
  if (known === 0) return { ok: false, reason: 'JSON object has none of the Istio access-log keys' };
  return { ok: true, draft: d };
}

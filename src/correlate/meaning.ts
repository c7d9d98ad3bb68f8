import type { LogEntry } from '../logs/index.js';

/** Envoy's local-reply body for UC ("upstream connect error or disconnect/reset before headers. reset reason: connection termination") is 95 bytes. */
export const UC_LOCAL_REPLY_BYTES = 95;

/**
 * What an access-log line says, read as Envoy means it (anchors.md §1.4–1.5): flags, response
 * code details and the local-reply size.
 */
export function describeEntry(e: LogEntry): string {
  const parts: string[] = [];
  const code = e.responseCode === null ? '-' : String(e.responseCode);
  const d = e.responseCodeDetails ?? '';
  parts.push(`${code}${e.flags.length ? ' ' + e.flags.join(',') : ''}${d ? ' ' + d : ''}`);
  const f = new Set(e.flags);
  if (f.has('UC') || d.startsWith('upstream_reset_before_response_started{connection_termination')) {
    parts.push('the upstream connection was terminated before a response (UC): the idle-drop signature');
    if (e.bytesSent === UC_LOCAL_REPLY_BYTES) parts.push(`${UC_LOCAL_REPLY_BYTES} bytes sent is Envoy's own local reply for UC`);
  }
  if (f.has('UT') || e.responseCode === 504 || d === 'upstream_response_timeout' || d === 'upstream_per_try_timeout') parts.push('upstream request timeout (UT/504): the blackhole signature');
  if (f.has('UF')) parts.push('upstream connect failure (UF): the connection could not be opened');
  if (f.has('UR')) parts.push('upstream remote reset (UR)');
  if (f.has('LR')) parts.push('local reset (LR): Envoy reset the stream itself');
  if (f.has('DC') || d === 'downstream_remote_disconnect') parts.push('the downstream side went away (DC)');
  if (f.has('URX')) parts.push('retries ran out (URX): earlier attempts failed too');
  if (d === 'via_upstream' && e.responseCode !== null && e.responseCode >= 500) parts.push('the code came from further upstream (via_upstream): the failing hop is further down');
  if (d === 'via_upstream' && e.responseCode !== null && e.responseCode < 400) parts.push('answered by the upstream');
  if (e.responseCode === 0) parts.push('no response was sent downstream (code 0)');
  return parts.join('; ');
}

/** A line that looks like the idle drop (UC / connection_termination) or a blackhole (UT / 504). */
export function isSignature(e: LogEntry): boolean {
  const d = e.responseCodeDetails ?? '';
  return e.flags.includes('UC') || d.startsWith('upstream_reset_before_response_started{connection_termination') ||
    e.flags.includes('UT') || e.responseCode === 504;
}

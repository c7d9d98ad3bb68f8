/**
 * The sentences about one piece of an incident's evidence — why the RST's sender is who flowdoc
 * says, what the keepalive probe implies, whether a retry is safe — worded here and only here
 * from the data detect hands on. Every renderer, the JSON (`rst.reason`, `probe.implies`,
 * `retry.text`), `flowdoc watch` and the remedies print these.
 */
import { initialTtl, type Incident, type ProbeEvidence, type RstEvidence } from '../detect/index.js';
import { keepaliveImplied } from '../shared/keepalive-words.js';

/** Why the RST's sender is who `origin` says: its TTL against the server's. */
export function rstReason(r: Pick<RstEvidence, 'ttl' | 'serverTtl' | 'rstHops' | 'serverHops'>): string {
  const rstTtl = r.ttl, serverTtl = r.serverTtl;
  if (serverTtl === null) return `RST TTL ${rstTtl}; the server sent no other packet in this capture to compare with`;
  if (rstTtl === serverTtl) return `RST TTL ${rstTtl} equals the server's TTL ${serverTtl}: same distance, sent by the server (or a proxy terminating TCP at its address)`;
  if (initialTtl(rstTtl) !== initialTtl(serverTtl)) {
    return `RST TTL ${rstTtl} (initial ${initialTtl(rstTtl)}, ${r.rstHops} hops) vs server TTL ${serverTtl} (initial ${initialTtl(serverTtl)}, ${r.serverHops} hops): a different network stack forged it`;
  }
  if (rstTtl > serverTtl) {
    const closer = rstTtl - serverTtl;
    return `RST TTL ${rstTtl} vs server TTL ${serverTtl}: it came from ${closer} hop${closer === 1 ? '' : 's'} closer than the server — a middlebox forged it`;
  }
  return `RST TTL ${rstTtl} is lower than the server's ${serverTtl}: it travelled farther than the server's packets (a path change, or a device beyond the server)`;
}

/** What the probe's timing says about its sender's keepalive settings. */
export function probeImplies(p: Pick<ProbeEvidence, 'idleBeforeFirstProbeSeconds' | 'intervalSeconds'>): string {
  return keepaliveImplied(p.idleBeforeFirstProbeSeconds, p.intervalSeconds);
}

/** The fields `retryText` reads. */
export type RetryInput = Pick<Incident, 'kind' | 'retry' | 'frames' | 'goaway'>;

/** Whether a blind retry of the failed request is safe, and why. */
export function retryText(i: RetryInput): string {
  const r = i.retry;
  const what = r.method ? `the ${r.method}` : 'the request';
  const ended = i.frames.rst !== null ? 'RST' : null;
  if (i.kind === 'keepalive-too-slow' && i.frames.request === null) {
    return 'no request was lost with the connection itself (a keepalive probe found it dead); requests sent on it later fail before reaching the server and are safe to retry on a new connection';
  }
  if (i.kind === 'reuse-after-goaway') {
    return `the server's GOAWAY promised it would not process streams above ${i.goaway?.lastStreamId ?? 'its last stream id'} (RFC 9113 §6.8): ${what} was never processed and is safe to retry on a new connection`;
  }
  if (i.kind === 'reuse-after-fin') return `the server had already closed the connection (FIN): ${what} was never read by its application and is safe to retry on a new connection`;
  if (r.requestAcked === null) {
    return r.idempotent === true ? `${what} is idempotent: safe to retry` : `the capture does not show whether the server received ${what}; retry only idempotent requests`;
  }
  if (!r.requestAcked) return `nothing acknowledged ${what}'s bytes before the ${ended ?? 'client gave up'}: it never reached the server — safe to retry on a new connection`;
  const advice = r.safe === true ? 'it is idempotent, so a retry is safe' : r.safe === false ? `a blind retry of a ${r.method} could apply it twice` : 'retry only if the request is idempotent';
  return `the server side acknowledged ${what}'s bytes (frame ${r.ackFrame}) before the ${ended ?? 'failure'}: it may have been processed — ${advice}`;
}

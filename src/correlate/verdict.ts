import { endpointText } from '../decode/index.js';
import { fmtSeconds, hopsCloser, type Incident } from '../detect/index.js';
import { keepaliveImplied } from '../shared/keepalive-words.js';
import type { HopEvidence, LogMatch, Verdict } from './types.js';

/**
 * Where the fault lies. The packets say who broke the connection (the RST's origin, or silence);
 * the hops' logs say how far the request got: the fault lies after the last hop that logged it
 * and before the first that did not. Hops are taken in the order the user gave them (path order).
 */
export function decideVerdict(i: Incident, hops: readonly HopEvidence[], matches: readonly LogMatch[], haveLogs: boolean): Verdict {
  // The two ends in the one spelling of an endpoint (decode's), made from the data.
  const client = endpointText(i.endpoints.client.host, i.endpoints.client.port, i.endpoints.ipVersion);
  const server = endpointText(i.endpoints.server.host, i.endpoints.server.port, i.endpoints.ipVersion);
  const idle = i.idleSeconds !== null ? fmtSeconds(i.idleSeconds) : null;
  const saw = hops.filter((h) => h.sawRequest);
  const lastSaw = lastIndex(hops, (h) => h.sawRequest);
  const firstMissing = lastSaw >= 0 ? hops.findIndex((h, n) => n > lastSaw && !h.sawRequest) : -1;
  const before = firstMissing >= 0 ? hops[firstMissing]!.hop : null;
  const after = lastSaw >= 0 ? hops[lastSaw]!.hop : null;
  // A hop after the gap that did log the request contradicts "it never got there".
  const contradiction = firstMissing >= 0 && hops.some((h, n) => n > firstMissing && h.sawRequest);
  const clientHop = hops.find((h) => h.role === 'client-side')?.hop ?? after;
  const signature = matches.some((m) => m.entry.flags.includes('UC') || (m.entry.responseCodeDetails ?? '').includes('connection_termination'));
  const between = (a: string | null, b: string | null) => a && b ? `between ${a} and ${b}` : a ? `after ${a}` : b ? `before ${b}` : `between the client ${client} and the server ${server}`;
  const never = before ? `; ${before} never received the request` : '';

  switch (i.kind) {
    case 'stale-reuse-rst': {
      const origin = i.rst?.origin ?? 'unknown';
      if (origin === 'middlebox') {
        const n = i.rst ? hopsCloser(i.rst) : null;
        const closer = n !== null ? ` (${n} hop${n === 1 ? '' : 's'} closer than the server, by TTL)` : i.rst ? ' (a different network stack, by TTL)' : '';
        return {
          faultyHop: null,
          segment: { after, before },
          culprit: 'middlebox',
          reason: `the load balancer / NAT ${between(after, before)}${closer} reset a connection idle for ${idle}${never}`,
          confidence: contradiction ? 'low' : haveLogs && saw.length > 0 && signature ? 'high' : 'medium',
        };
      }
      if (origin === 'server') {
        return {
          faultyHop: before,
          segment: { after, before },
          culprit: 'server',
          reason: `the server side ${server} had forgotten a connection idle for ${idle} and reset the request (its RST TTL matches the server's): its idle timeout, or that of a proxy terminating TCP at its address, is shorter than ${clientHop ?? 'the client'}'s pool idle time${never}`,
          confidence: contradiction ? 'low' : haveLogs && saw.length > 0 ? 'high' : 'medium',
        };
      }
      return {
        faultyHop: null,
        segment: { after, before },
        culprit: 'unknown',
        reason: `a connection idle for ${idle} was reset ${between(after, before)}; the RST's TTL does not say who sent it${never}`,
        confidence: 'low',
      };
    }
    case 'stale-reuse-timeout':
      return {
        faultyHop: null,
        segment: { after, before },
        culprit: 'middlebox',
        reason: `a stateful box ${between(after, before)} silently dropped a connection idle for ${idle}: the request was retransmitted ${i.retransmissions} time(s) with no answer${never}`,
        confidence: contradiction ? 'low' : haveLogs && saw.length > 0 ? 'high' : 'medium',
      };
    case 'keepalive-too-slow': {
      const p = i.probe!;
      const origin = i.rst?.origin ?? 'unknown';
      const by = i.gaveUp === 'keepalive-timeout' ? 'never answered its probes' : origin === 'middlebox' ? 'answered its probe with an RST' : origin === 'server' ? 'was reset by the server itself' : 'answered with an RST of unknown origin';
      return {
        faultyHop: null,
        segment: { after, before },
        culprit: origin === 'server' ? 'server' : i.gaveUp === 'keepalive-timeout' || origin === 'middlebox' ? 'middlebox' : 'unknown',
        reason: `keepalive is on but too slow: the first probe came after ${fmtSeconds(p.idleBeforeFirstProbeSeconds)} idle, and the path ${between(after, before)} had already forgotten the connection — it ${by}; ${keepaliveImplied(p.idleBeforeFirstProbeSeconds, p.intervalSeconds)}`,
        confidence: contradiction ? 'low' : origin === 'unknown' && i.gaveUp !== 'keepalive-timeout' ? 'low' : 'high',
      };
    }
    case 'reuse-after-fin':
      return {
        faultyHop: clientHop,
        segment: { after, before },
        culprit: 'server',
        reason: `the server ${server} closed the idle connection (FIN, frame ${i.frames.serverFin}) and ${clientHop ?? `the client ${client}`} still sent a request on it${idle ? ` ${idle} after its last packet` : ''}: the client's idle timeout must be shorter than the server's keep-alive timeout`,
        confidence: contradiction ? 'low' : 'high',
      };
    case 'reuse-after-goaway':
      return {
        faultyHop: clientHop,
        segment: { after, before },
        culprit: 'server',
        reason: `the server ${server} said GOAWAY (frame ${i.frames.goaway}, last stream ${i.goaway?.lastStreamId ?? '?'}) and ${clientHop ?? `the client ${client}`} still opened ${i.streams && i.streams.length > 1 ? `${i.streams.length} streams` : 'a stream'} above it: the client's HTTP/2 pool must stop using a connection on GOAWAY, and its idle timeout must be shorter than the server's`,
        confidence: contradiction ? 'low' : 'high',
      };
    case 'reset-in-flight':
      return {
        faultyHop: before ?? hops.find((h) => h.role === 'server-side')?.hop ?? null,
        segment: { after, before },
        culprit: i.rst?.origin === 'middlebox' ? 'middlebox' : i.rst?.origin === 'server' ? 'server' : 'unknown',
        reason: `${i.rst?.origin === 'middlebox' ? 'a middlebox' : server} reset the connection while a request was in flight (not after idle): look at ${i.rst?.origin === 'middlebox' ? 'the device between client and server' : `the server's own logs`}`,
        confidence: 'medium',
      };
  }
}

function lastIndex<T>(xs: readonly T[], p: (x: T) => boolean): number {
  for (let n = xs.length - 1; n >= 0; n--) if (p(xs[n]!)) return n;
  return -1;
}

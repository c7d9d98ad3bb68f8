/**
 * The one sentence that says what an incident was, worded here and only here from the evidence
 * detect hands on (kind, frames, idle seconds, probes, request, RST origin, streams, GOAWAY):
 * every renderer, the JSON `summary` field, `flowdoc watch` and `flowdoc scan` print this.
 */
import { fmtSeconds, hopsCloser, type Incident, type StreamEvidence } from '../detect/index.js';
import { formatPath } from './address.js';
import { httpRequestText } from './request-text.js';

/**
 * How a sentence cites a frame. The default is Wireshark's number in the capture analysed
 * (`frame 12`); `flowdoc scan` of a stitched group cites the file the frame is in and its number
 * there (`b.pcap frame 2`).
 */
export type FrameCitation = (frame: number) => string;

export const citeFrame: FrameCitation = (frame) => `frame ${frame}`;

/** The fields the sentence reads: an `Incident`, with or without its log correlation. */
export type SummaryInput = Pick<Incident,
  'kind' | 'endpoints' | 'idleSeconds' | 'keepaliveProbes' | 'frames' | 'retransmissions' | 'gaveUp' | 'probe' | 'streams' | 'streamsNotListed' | 'goaway' | 'request' | 'rst'>;

/** One sentence a person can read (no final full stop: the renderers add it where a sentence ends). */
export function incidentSummary(i: SummaryInput, cite: FrameCitation = citeFrame): string {
  const frame = (n: number | null | undefined) => (n === null || n === undefined ? 'frame ?' : cite(n));
  const req = i.request?.protocol === 'http' ? httpRequestText(i.request.method, i.request.path, i.request.truncated) : i.request?.protocol === 'tls' ? `a TLS request${i.request.sni ? ` to ${i.request.sni}` : ''}` : 'a request';
  const idle = i.idleSeconds !== null ? fmtSeconds(i.idleSeconds) : '';
  const probes = i.keepaliveProbes.client + i.keepaliveProbes.server;
  const ka = probes === 0 ? 'no keepalive probes' : `${probes} keepalive probes`;
  const closer = i.rst ? hopsCloser(i.rst) : null;
  const who = i.rst ? (i.rst.origin === 'middlebox' ? `a middlebox${closer !== null ? ` ${closer} hop${closer === 1 ? '' : 's'} closer than the server` : ''}` : i.rst.origin === 'server' ? 'the server' : 'an unknown sender') : '';
  const path = formatPath(i.endpoints);
  switch (i.kind) {
    case 'stale-reuse-rst':
      if (i.streams && i.streams.length > 1) return `${streamsText(i)} on ${path} after ${idle} idle (${ka}) were reset by ${who} (${frame(i.frames.rst)}); no FIN had been seen`;
      return `${req} on ${path} after ${idle} idle (${ka}) was reset by ${who} (${frame(i.frames.rst)}); no FIN had been seen`;
    case 'stale-reuse-timeout':
      return `${req} on ${path} after ${idle} idle (${ka}) got no answer: ${i.retransmissions} retransmission(s), then ${i.gaveUp === 'client-rst' ? 'the client reset it' : i.gaveUp === 'client-fin' ? 'the client closed it' : 'the capture ended'}`;
    case 'keepalive-too-slow': {
      const p = i.probe!;
      const ended = i.gaveUp === 'keepalive-timeout'
        ? `the peer never answered its ${p.probes} probe${p.probes === 1 ? '' : 's'}, and ${p.side === 'client' ? 'the client' : 'the server'} gave up (RST, ${frame(i.frames.rst)})`
        : `it was answered by an RST from ${who} (${frame(i.frames.rst)}); no FIN had been seen`;
      return `keepalive on ${path} came too late: the first probe from the ${p.side} after ${fmtSeconds(p.idleBeforeFirstProbeSeconds)} idle (probe ${frame(p.frame)}, ${fmtSeconds(p.packetGapSeconds)} after the packet before it) found the connection forgotten — ${ended}`;
    }
    case 'reuse-after-fin':
      return `the server closed ${path} (FIN, ${frame(i.frames.serverFin)}) but the client sent ${req} on it anyway; reset by ${who} (${frame(i.frames.rst)})`;
    case 'reuse-after-goaway':
      return `the server said GOAWAY on ${path} (${frame(i.frames.goaway)}, last stream ${i.goaway?.lastStreamId}, ${i.goaway?.errorCode}) but the client opened ${streamsText(i)} above it anyway${i.rst ? `; reset by ${who} (${frame(i.frames.rst)})` : ''}`;
    case 'reset-in-flight':
      return `${who.charAt(0).toUpperCase() + who.slice(1)} reset ${path} (${frame(i.frames.rst)}) while ${req} (${frame(i.frames.request)}) was unanswered`;
  }
}

/** "HTTP/2 streams 7 (GET /a) and 9 (GET /b)", or the request when there are no streams. */
function streamsText(i: SummaryInput): string {
  const st = i.streams ?? [];
  if (st.length === 0) return i.request?.protocol === 'http' ? httpRequestText(i.request.method, i.request.path, i.request.truncated) : 'a stream';
  const one = (s: StreamEvidence) => `${s.streamId} (${httpRequestText(s.method, s.path, s.truncated)})`;
  const more = i.streamsNotListed ? ` and ${i.streamsNotListed} more` : '';
  const list = st.length === 1 ? one(st[0]!) : `${st.slice(0, -1).map(one).join(', ')} and ${one(st[st.length - 1]!)}`;
  return `HTTP/2 stream${st.length === 1 && !more ? '' : 's'} ${list}${more}`;
}

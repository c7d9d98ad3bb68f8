/**
 * The Wireshark display filters the report prints (`tshark -r FILE -Y '…'`), made from the
 * incident's data — its two endpoints and its key frames — and nowhere else. The JSON renderer
 * writes the same text as `displayFilter` / `connectionFilter`.
 */
import type { Incident } from '../detect/index.js';

/** What a connection filter needs: the two ends as data and their IP version. */
export type FilterEndpoints = Incident['endpoints'];

/** Every packet of the connection, both directions: `ip.addr == … && ip.addr == … && tcp.port == … && tcp.port == …`. */
export function connectionFilter(e: FilterEndpoints): string {
  const ip = e.ipVersion === 6 ? 'ipv6.addr' : 'ip.addr';
  return `${ip} == ${e.client.host} && ${ip} == ${e.server.host} && tcp.port == ${e.client.port} && tcp.port == ${e.server.port}`;
}

/** The clause for frames lo..hi (Wireshark numbers, 1-based). */
export function frameRange(lo: number, hi: number): string {
  return `frame.number >= ${lo} && frame.number <= ${hi}`;
}

/** The connection's packets within `frames`' span (the connection alone when no frame is known). */
export function filterAround(e: FilterEndpoints, frames: readonly (number | null | undefined)[]): string {
  let lo = Infinity, hi = -Infinity;
  for (const f of frames) {
    if (f === null || f === undefined) continue;
    if (f < lo) lo = f;
    if (f > hi) hi = f;
  }
  return lo <= hi ? `${connectionFilter(e)} && ${frameRange(lo, hi)}` : connectionFilter(e);
}

/**
 * The incident's filter: the connection's packets from the first key frame to the last (every
 * frame in `frames`: before the idle, the request, the RST, the FIN, the probe, …). Every kind of
 * incident has at least one.
 */
export function displayFilter(i: Pick<Incident, 'endpoints' | 'frames'>): string {
  const f = i.frames;
  return filterAround(i.endpoints, [f.lastBeforeIdle, f.request, f.rst, f.goaway, f.serverFin, f.lastRetransmission, f.probe, f.laterRequest]);
}

import type { RstOrigin } from './incident.js';

/** Initial TTLs real stacks use: Linux/macOS 64, Windows 128, network gear 255 (and old 32). */
const INITIAL_TTLS = [32, 64, 128, 255] as const;

/** Hops a packet travelled, assuming it started at the nearest common initial TTL at or above it. */
export function hopsFromTtl(ttl: number): number {
  for (const initial of INITIAL_TTLS) if (ttl <= initial) return initial - ttl;
  return 0;
}

/** The common initial TTL a packet with this TTL most likely started at. */
export function initialTtl(ttl: number): number {
  for (const initial of INITIAL_TTLS) if (ttl <= initial) return initial;
  return 255;
}

export interface OriginVerdict {
  origin: RstOrigin;
  rstHops: number | null;
  serverHops: number | null;
}

/**
 * Who sent an RST that carries the server's address? Compare its TTL with the server's usual one.
 * The same TTL ⇒ the same distance: the server (or whatever terminates TCP at that address).
 * A larger TTL ⇒ it travelled fewer hops: something between the capture point and the server
 * forged it. A different initial TTL (64 vs 255, say) ⇒ a different network stack sent it.
 */
export function rstOrigin(rstTtl: number, serverTtl: number | null): OriginVerdict {
  const rstHops = hopsFromTtl(rstTtl);
  if (serverTtl === null) return { origin: 'unknown', rstHops, serverHops: null };
  const serverHops = hopsFromTtl(serverTtl);
  const origin: RstOrigin = rstTtl === serverTtl ? 'server'
    : initialTtl(rstTtl) !== initialTtl(serverTtl) || rstTtl > serverTtl ? 'middlebox'
    : 'unknown'; // lower than the server's: it travelled farther (a path change, or a device beyond the server)
  return { origin, rstHops, serverHops };
}

import type { RstOrigin } from './incident.js';

/** Initial TTLs real stacks use: Linux/macOS 64, Windows 128, network gear 255 (and old 32). */
const INITIAL_TTLS = [32, 64, 128, 255] as const;

/** Hops a packet travelled, assuming it started at the nearest common initial TTL at or above it. */
export function hopsFromTtl(ttl: number): number {
  for (const initial of INITIAL_TTLS) if (ttl <= initial) return initial - ttl;
  return 0;
}

function initialTtl(ttl: number): number {
  for (const initial of INITIAL_TTLS) if (ttl <= initial) return initial;
  return 255;
}

export interface OriginVerdict {
  origin: RstOrigin;
  rstHops: number | null;
  serverHops: number | null;
  reason: string;
}

/**
 * Who sent an RST that carries the server's address? Compare its TTL with the server's usual one.
 * The same TTL ⇒ the same distance: the server (or whatever terminates TCP at that address).
 * A larger TTL ⇒ it travelled fewer hops: something between the capture point and the server
 * forged it. A different initial TTL (64 vs 255, say) ⇒ a different network stack sent it.
 */
export function rstOrigin(rstTtl: number, serverTtl: number | null): OriginVerdict {
  const rstHops = hopsFromTtl(rstTtl);
  if (serverTtl === null) {
    return { origin: 'unknown', rstHops, serverHops: null, reason: `RST TTL ${rstTtl}; the server sent no other packet in this capture to compare with` };
  }
  const serverHops = hopsFromTtl(serverTtl);
  if (rstTtl === serverTtl) {
    return { origin: 'server', rstHops, serverHops, reason: `RST TTL ${rstTtl} equals the server's TTL ${serverTtl}: same distance, sent by the server (or a proxy terminating TCP at its address)` };
  }
  if (initialTtl(rstTtl) !== initialTtl(serverTtl)) {
    return {
      origin: 'middlebox', rstHops, serverHops,
      reason: `RST TTL ${rstTtl} (initial ${initialTtl(rstTtl)}, ${rstHops} hops) vs server TTL ${serverTtl} (initial ${initialTtl(serverTtl)}, ${serverHops} hops): a different network stack forged it`,
    };
  }
  if (rstTtl > serverTtl) {
    const closer = rstTtl - serverTtl;
    return {
      origin: 'middlebox', rstHops, serverHops,
      reason: `RST TTL ${rstTtl} vs server TTL ${serverTtl}: it came from ${closer} hop${closer === 1 ? '' : 's'} closer than the server — a middlebox forged it`,
    };
  }
  return {
    origin: 'unknown', rstHops, serverHops,
    reason: `RST TTL ${rstTtl} is lower than the server's ${serverTtl}: it travelled farther than the server's packets (a path change, or a device beyond the server)`,
  };
}

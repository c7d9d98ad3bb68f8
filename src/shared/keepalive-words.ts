/**
 * What a keepalive probe's timing says about its sender's settings, in words. It lives here, below
 * every stage, because two stages word it from the same `ProbeEvidence` figures: correlate's
 * verdict reason quotes it, and report prints it (the JSON `probe.implies`, the table's
 * "keepalive:" line). Detect hands on only the figures.
 */

/** A first probe `idleSeconds` after the last packet (and probes `intervalSeconds` apart): the sender's keepalive time and interval. */
export function keepaliveImplied(idleSeconds: number, intervalSeconds: number | null): string {
  const linuxDefault = Math.abs(idleSeconds - 7200) < 5
    ? ' — the Linux default tcp_keepalive_time (7200 s), which is also what an Envoy/Istio tcpKeepalive without `time` uses'
    : '';
  return `its TCP keepalive time (TCP_KEEPIDLE / tcp_keepalive_time) is about ${Math.round(idleSeconds)} s${intervalSeconds !== null ? `, interval about ${Math.round(intervalSeconds)} s` : ''}${linuxDefault}`;
}

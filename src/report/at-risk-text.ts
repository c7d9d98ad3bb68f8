/**
 * The words about a connection still open at the end and idle past what the path allows,
 * written here and only here from the data detect hands on (`AtRiskConnection`): its sentence,
 * its keepalive, its last packet's time, and its JSON form (schema v2: `client`, `server`,
 * `lastTime`, `keepalive`, `text`, each where they have always been).
 */
import { fmtSeconds, type AtRiskConnection } from '../detect/index.js';
import { formatEnds, formatPath } from './address.js';
import { evidenceTime } from './time.js';

/** This connection's own keepalive, as the at-risk check judged it. */
export function atRiskKeepalive(a: Pick<AtRiskConnection, 'probes'>): string {
  const p = a.probes;
  if (p === null) return 'no keepalive probes seen';
  return `keepalive probes after ${fmtSeconds(p.idleSeconds)} idle${p.intervalSeconds !== null ? `, every ${fmtSeconds(p.intervalSeconds)}` : ''}`;
}

/** When its last packet was seen (ISO-8601 UTC, µs). */
export function atRiskLastTime(a: Pick<AtRiskConnection, 'lastMicros'>): string {
  return evidenceTime(a.lastMicros);
}

/** Why it will fail (or may) on next use: its idle against the timeout it was judged by. */
export function atRiskText(a: AtRiskConnection): string {
  const idle = fmtSeconds(Math.max(0, (a.checkedMicros - a.lastMicros) / 1e6));
  const head = `${formatPath(a.endpoints)} has been idle ${idle} (since frame ${a.lastFrame})`;
  const keepalive = atRiskKeepalive(a);
  if (a.level === 'will-fail') {
    const limit = a.basis === 'lb-timeout' ? `the stated load-balancer timeout of ${fmtSeconds(a.timeoutSeconds)}` : `the ${fmtSeconds(a.timeoutSeconds)} after which a connection to it was forgotten`;
    return `${head}, at or past ${limit}; ${keepalive}: it will fail on next use`;
  }
  const failed = a.failSeconds !== null ? `; connections failed after ${fmtSeconds(a.failSeconds)}` : '';
  return `${head}, longer than any idle known to survive to it (${fmtSeconds(a.timeoutSeconds)})${failed}; ${keepalive}: at risk on next use`;
}

/** An at-risk connection as JSON carries it (schema v2): its figures, with its ends, time, keepalive and sentence as text. */
export interface JsonAtRisk {
  readonly connection: number;
  readonly client: string;
  readonly server: string;
  readonly lastFrame: number;
  readonly lastTime: string;
  readonly idleSeconds: number;
  readonly keepalive: string;
  readonly level: AtRiskConnection['level'];
  readonly timeoutSeconds: number;
  readonly basis: AtRiskConnection['basis'];
  readonly text: string;
}

export function jsonAtRisk(a: AtRiskConnection): JsonAtRisk {
  return {
    connection: a.connection, ...formatEnds(a.endpoints), lastFrame: a.lastFrame, lastTime: atRiskLastTime(a), idleSeconds: a.idleSeconds,
    keepalive: atRiskKeepalive(a), level: a.level, timeoutSeconds: a.timeoutSeconds, basis: a.basis, text: atRiskText(a),
  };
}

/**
 * The numbers of a fix, computed from the measured idle timeout. Pure arithmetic, each result
 * carrying the sentence that says how it was chosen.
 *
 * The evidence brackets the timer T of whatever forgot the connections: T ≤ the shortest idle
 * that failed (U), and T > the longest idle that survived (L) — but L only says something when
 * it was a real idle period (the caller drops it under a tenth of U); a few milliseconds between
 * back-to-back requests surviving tells nothing about a timer of minutes.
 */
import { fmtDuration } from '../time.js';
import type { KeepaliveSettings } from './types.js';

/** Share of the shortest failed idle a first keepalive probe (or an idle timeout) may wait: T may be anywhere below U. */
export const IDLE_MARGIN = 0.5;
/** Share of the shortest failed idle that idle + interval × probes must stay within. */
export const GIVE_UP_MARGIN = 0.9;
/** Share of a measured server keep-alive timeout the client's idle timeout may reach (that timer is exact, not bracketed). */
export const SERVER_KEEPALIVE_MARGIN = 0.75;
/** Probes we suggest (Linux's default 9 would take too long to give up). */
export const PROBES = 3;
/** Kernel keepalive and idle timeouts take whole seconds: nothing below 1 s. */
export const FLOOR_SECONDS = 1;

/**
 * Rounds down to a number people write in configs: whole seconds below 10 s, then steps of 5 s,
 * 10 s, 30 s, 1 min and 5 min as the value grows.
 */
export function cleanDown(seconds: number): number {
  const step = seconds < 10 ? 1 : seconds < 30 ? 5 : seconds < 120 ? 10 : seconds < 600 ? 30 : seconds < 3600 ? 60 : 300;
  return Math.floor(seconds / step + 1e-9) * step;
}

export interface Measurement {
  /** Shortest idle that ended in an incident, seconds, and the request frame that proves it. */
  readonly failedSeconds: number;
  readonly failedFrame: number | null;
  /** Longest idle that still worked, and its request frame — null when none or when it says nothing (see `survivedIgnored`). */
  readonly survivedSeconds: number | null;
  readonly survivedFrame: number | null;
  /** Why a survived idle was set aside, when it was. */
  readonly survivedIgnored: string | null;
  /** What was measured: the silence between any two packets, or between payload only. */
  readonly measure: 'packet-gap' | 'data-idle';
}

const frameRef = (f: number | null) => (f !== null ? `, frame ${f}` : '');

/**
 * The longest idle a connection may safely sit (a first probe's wait, or an idle timeout):
 * half the shortest failed idle, or the longest idle that survived when that is shorter.
 */
export function safeIdle(m: Measurement): { seconds: number; from: string } {
  const half = m.failedSeconds * IDLE_MARGIN;
  if (m.survivedSeconds !== null && m.survivedSeconds < half) {
    return { seconds: m.survivedSeconds, from: `the longest idle that still worked (${fmtDuration(m.survivedSeconds)}${frameRef(m.survivedFrame)}), which is shorter than half the shortest idle that failed (${fmtDuration(m.failedSeconds)}${frameRef(m.failedFrame)})` };
  }
  if (m.survivedSeconds !== null) {
    return { seconds: half, from: `half the shortest idle that failed (${fmtDuration(m.failedSeconds)}${frameRef(m.failedFrame)}), which is below the longest idle that still worked (${fmtDuration(m.survivedSeconds)}${frameRef(m.survivedFrame)}): known to be safe` };
  }
  return { seconds: half, from: `half the shortest idle that failed (${fmtDuration(m.failedSeconds)}${frameRef(m.failedFrame)}), as the timer may be anywhere below that idle` };
}

/** `N s, rounded down from …`, or the floor when rounding down leaves less. */
function chosen(name: string, value: number, raw: number, from: string): string {
  return cleanDown(raw) < FLOOR_SECONDS
    ? `${name} ${value} s, the ${FLOOR_SECONDS} s floor (${from} gives less)`
    : `${name} ${value} s, rounded down from ${from}`;
}

export interface KeepaliveChoice {
  readonly settings: KeepaliveSettings | null;
  /** How the numbers were chosen (or why keepalive cannot work). */
  readonly text: string;
}

/** TCP keepalive timing below the measured timeout: first probe at a safe idle, and give up before the timeout too. */
export function chooseKeepalive(m: Measurement): KeepaliveChoice {
  const u = m.failedSeconds;
  const budget = u * GIVE_UP_MARGIN;
  const safe = safeIdle(m);
  const idle = Math.max(FLOOR_SECONDS, cleanDown(safe.seconds));
  let probes = PROBES;
  const interval = Math.max(FLOOR_SECONDS, cleanDown((budget - idle) / probes));
  while (probes > 1 && idle + interval * probes > budget) probes--;
  const giveUp = idle + interval * probes;
  if (idle >= u || giveUp >= u) {
    return {
      settings: null,
      text: `the connections were forgotten after at most ${fmtDuration(u)} idle${frameRef(m.failedFrame)}: too short for TCP keepalive, which counts in whole seconds — raise the box's idle timeout, or do not reuse connections (close them after each request)`,
    };
  }
  return {
    settings: { idleSeconds: idle, intervalSeconds: interval, probes, giveUpSeconds: giveUp },
    text: `${chosen('keepalive time', idle, safe.seconds, safe.from)}; interval ${interval} s × ${probes} probe${probes === 1 ? '' : 's'}, so a connection whose probes go unanswered is given up after ${giveUp} s, within ${Math.round(GIVE_UP_MARGIN * 100)} % of ${fmtDuration(u)} (${fmtDuration(budget)})`,
  };
}

/** A client idle timeout below the measured timeout (pooled connections idle longer are closed, not reused). */
export function chooseIdleTimeout(m: Measurement): { seconds: number | null; text: string } {
  const safe = safeIdle(m);
  const seconds = Math.max(FLOOR_SECONDS, cleanDown(safe.seconds));
  if (seconds >= m.failedSeconds) {
    return { seconds: null, text: `no idle timeout fits below ${fmtDuration(m.failedSeconds)}: do not reuse idle connections to it` };
  }
  return { seconds, text: chosen('idle timeout', seconds, safe.seconds, safe.from) };
}

/** The client's idle timeout below a server keep-alive timeout measured from its FIN. */
export function belowServerKeepAlive(serverSeconds: number, finFrame: number | null): { seconds: number | null; text: string } {
  const seconds = Math.max(FLOOR_SECONDS, cleanDown(serverSeconds * SERVER_KEEPALIVE_MARGIN));
  if (seconds >= serverSeconds) {
    return { seconds: null, text: `the server closes idle connections after ${fmtDuration(serverSeconds)}${frameRef(finFrame)}: too short for a client idle timeout — raise the server's keep-alive timeout` };
  }
  return {
    seconds,
    text: `${chosen('client idle timeout', seconds, serverSeconds * SERVER_KEEPALIVE_MARGIN, `${Math.round(SERVER_KEEPALIVE_MARGIN * 100)} % of the server's keep-alive timeout`)}: the server closed the connection after ${fmtDuration(serverSeconds)} idle (its FIN${frameRef(finFrame)})`,
  };
}

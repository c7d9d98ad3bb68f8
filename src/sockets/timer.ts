/**
 * ss's timer field. iproute2's `print_ms_timer` (misc/ss.c) drops precision as the value grows:
 * past 1 min no milliseconds, past 10 min no seconds, past 10 s no milliseconds; 0 ms prints as
 * nothing. `9.808ms` is 9 s 808 ms (the unit belongs to the milliseconds part); newer releases
 * print `9.808sec`. Each text therefore stands for a range, which is what we keep.
 */
import type { SocketTimer } from './types.js';

const KINDS: Readonly<Record<string, SocketTimer['kind']>> = { on: 'on', keepalive: 'keepalive', timewait: 'timewait', persist: 'persist', off: 'off' };

const TIME = /^(?:(\d+)min)?(?:(\d+)(sec|\.))?(?:(\d{1,3})(ms|sec))?$/;

/** The range [min, max) in seconds a printed timer stands for, or null when the text is not one. */
export function parseTimerText(text: string): { min: number; max: number } | null {
  if (text === '') return { min: 0, max: 0 };
  const m = TIME.exec(text);
  if (!m) return null;
  const [, min, sec, secUnit, ms] = m;
  if (secUnit === '.' && ms === undefined) return null; // `9.` alone
  if (secUnit === 'sec' && ms !== undefined) return null;
  const minutes = min !== undefined ? Number(min) : 0;
  const seconds = sec !== undefined ? Number(sec) : 0;
  const millis = ms !== undefined ? Number(ms) : 0;
  const low = minutes * 60 + seconds + millis / 1000;
  // What ss left out: seconds past 10 min, milliseconds past 1 min or 10 s.
  const step = minutes > 9 ? 60 : minutes > 0 || seconds > 9 ? 1 : 0.001;
  const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
  return { min: r6(low), max: r6(low + step) };
}

/** `timer:(keepalive,119min,0)`'s inside, or null when it is not a timer. */
export function parseSsTimer(inner: string): SocketTimer | null {
  const parts = inner.split(',');
  if (parts.length < 2 || parts.length > 3) return null;
  const kind = KINDS[parts[0]!] ?? 'unknown';
  const range = parseTimerText(parts[1]!);
  if (!range) return null;
  const count = parts[2] !== undefined && /^\d+$/.test(parts[2]) ? Number(parts[2]) : 0;
  return { kind, remainingSeconds: range, text: parts[1]!, count };
}

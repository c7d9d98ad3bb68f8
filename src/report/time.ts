/**
 * Time helpers for the renderers. The evidence carries instants as integer µs since the epoch;
 * the report alone writes them as ISO-8601 UTC (`evidenceTime`), and reads back only ISO text
 * that came from outside (a log line, a report written earlier).
 */
import { isoWithPrecision } from '../shared/time.js';

const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

/** `2024-05-01T10:00:00.123456Z` → µs since the epoch (digits past µs are dropped); null when unparseable. */
export function isoToMicros(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const m = ISO.exec(iso);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}Z`); // NaN for impossible dates and years past Date's range
  if (Number.isNaN(ms)) return null;
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return ms * 1000 + Number(frac);
}

/**
 * An instant of an incident's evidence as every report writes it (the JSON's `times` and each
 * `time`): ISO-8601 UTC with µs, `2024-05-01T10:00:00.123456Z`. A damaged capture's time past
 * year 9999 gets the expanded year (`+012345-…Z`), as the v2 JSON always had it.
 */
export function evidenceTime(micros: number): string {
  return isoWithPrecision(micros, 0, EVIDENCE_DIGITS);
}

/** Decimal digits of the evidence's times: µs, what the analysis keeps (a ns capture's extra digits are not in the evidence). */
const EVIDENCE_DIGITS = 6;

/** Date's range: ±8.64e15 ms around the epoch. Times outside it (damaged input) are printed as numbers, never thrown on. */
const MAX_MS = 8.64e15;

/** µs since the epoch → `2024-05-01T10:00:00.123456Z` (µs digits kept). */
export function microsToIso(micros: number): string {
  const seconds = Math.floor(micros / 1e6);
  if (!Number.isFinite(micros) || Math.abs(seconds * 1000) > MAX_MS) return `${micros} µs since the epoch`;
  const sub = Math.min(999_999, Math.round(micros - seconds * 1e6));
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(sub).padStart(6, '0')}Z`;
}

/** ms since the epoch (a log line's START_TIME) → ISO with ms. */
export function msToIso(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_MS) return `${ms} ms since the epoch`;
  return new Date(ms).toISOString();
}

/** A duration for people: `900 s`, `58.0 s`, `1.460 s`, `12.3 ms`, `45 µs`. */
export function fmtDuration(seconds: number): string {
  const a = Math.abs(seconds);
  const sign = seconds < 0 ? '−' : '';
  if (a >= 100) return `${sign}${a.toFixed(0)} s`;
  if (a >= 10) return `${sign}${a.toFixed(1)} s`;
  if (a >= 1) return `${sign}${a.toFixed(3)} s`;
  if (a >= 0.001) return `${sign}${(a * 1000).toFixed(a >= 0.01 ? 1 : 2)} ms`;
  return `${sign}${Math.round(a * 1e6)} µs`;
}

/** `2024-05-01T10:00:00.123456Z` → `10:00:00.123456` (the time of day, UTC). */
export function timeOfDay(iso: string): string {
  const m = ISO.exec(iso);
  return m ? `${m[1].slice(11)}${m[2] ? `.${m[2]}` : ''}` : iso;
}

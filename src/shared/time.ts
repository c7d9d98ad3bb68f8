/**
 * ISO-8601 UTC with the capture's own precision: 6 digits for µs captures, 9 for ns
 * (e.g. `2024-05-01T10:00:00.123456789Z`). Timestamps are integer µs plus extra ns.
 */
export function isoWithPrecision(micros: number, extraNanos: number, precision: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  if (seconds < MIN_ISO_SECONDS || seconds > MAX_ISO_SECONDS) return expandedIso(seconds);
  const subMicros = micros - seconds * 1_000_000;
  const base = new Date(seconds * 1000).toISOString().slice(0, 19);
  const digits = Math.max(0, Math.min(9, precision));
  if (digits === 0) return `${base}Z`;
  const nanos = (subMicros * 1000 + extraNanos).toString().padStart(9, '0');
  return `${base}.${nanos.slice(0, digits)}Z`;
}

/** Seconds between two µs timestamps, as a number with µs resolution. */
export function secondsBetween(fromMicros: number, toMicros: number): number {
  return (toMicros - fromMicros) / 1_000_000;
}

/** Years 0000–9999: what Date#toISOString writes with four year digits. */
const MIN_ISO_SECONDS = -62_167_219_200;
const MAX_ISO_SECONDS = 253_402_300_799;

/**
 * `+YYYYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, ISO 8601 expanded year) for times outside years
 * 0000–9999, which only damaged captures have (a 64-bit pcapng timestamp counts up to 584,000
 * years, past what a Date can hold): they must print, not throw. Whole seconds: the sub-second
 * digits of such a time mean nothing.
 */
function expandedIso(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'invalid time';
  const days = Math.floor(seconds / 86_400);
  const s = seconds - days * 86_400;
  // Howard Hinnant's days_from_civil, inverted (civil_from_days).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const two = (n: number) => String(n).padStart(2, '0');
  const y = `${year < 0 ? '-' : '+'}${String(Math.abs(year)).padStart(6, '0')}`;
  return `${y}-${two(month)}-${two(day)}T${two(Math.floor(s / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}Z`;
}

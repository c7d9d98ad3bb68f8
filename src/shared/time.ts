/**
 * ISO-8601 UTC with the capture's own precision: 6 digits for µs captures, 9 for ns
 * (e.g. `2024-05-01T10:00:00.123456789Z`). Timestamps are integer µs plus extra ns.
 */
export function isoWithPrecision(micros: number, extraNanos: number, precision: number): string {
  const seconds = Math.floor(micros / 1_000_000);
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

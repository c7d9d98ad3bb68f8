/**
 * The `date` lines between snapshots (`while sleep 5; do date; ss -tnoi; done`): `date` in the C
 * locale (`Sun Dec  6 19:46:01 UTC 2026`), `date -u`, ISO 8601 / RFC 3339 (`date -Is`,
 * `date --rfc-3339=ns`) and epoch seconds (`date +%s`, `+%s.%N`). A zone we cannot turn into an
 * offset (an abbreviation like CET) keeps the line as a date without a time.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const C_LOCALE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+([A-Za-z]{1,6}|[+-]\d{4})\s+(\d{4})$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/;
const EPOCH = /^(\d{9,11})(?:\.(\d{1,9}))?$/;

function offsetMinutes(zone: string): number | null {
  if (/^(UTC|GMT|Z|UT)$/i.test(zone)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/** undefined: not a date line. null: a date line whose instant is unknown (its zone). Else µs since the epoch. */
export function parseDateLine(line: string): number | null | undefined {
  const t = line.trim();
  let m = C_LOCALE.exec(t);
  if (m) {
    const off = offsetMinutes(m[6]!);
    if (off === null) return null;
    const ms = Date.UTC(Number(m[7]), MONTHS.indexOf(m[1]!), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
    return (ms - off * 60000) * 1000;
  }
  m = ISO.exec(t);
  if (m) {
    const off = offsetMinutes(m[8]!)!;
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
    const frac = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1e6) : 0;
    return (ms - off * 60000) * 1000 + frac;
  }
  m = EPOCH.exec(t);
  if (m) return Number(m[1]) * 1e6 + (m[2] ? Math.floor(Number(`0.${m[2]}`) * 1e6) : 0);
  return undefined;
}

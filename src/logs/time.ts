/**
 * `%START_TIME%` as Envoy writes it, read back.
 *
 * Envoy renders the default `%START_TIME%` as ISO-8601 UTC with milliseconds
 * (`2020-11-25T21:26:18.409Z`), and `%START_TIME(fmt)%` with an strftime-like `fmt` (absl
 * FormatTime plus Envoy's own `%s` epoch seconds and `%1f`…`%9f` / `%f` fractional digits).
 * Here a format is compiled once into a list of tokens; parsing walks the tokens over the line
 * from a given position and stops where the timestamp ends, so a timestamp is self-delimiting
 * even when its format contains spaces (`%Y/%m/%d %H:%M:%S`). Every token consumes a bounded
 * or strictly advancing run of characters: parsing is linear in what it reads.
 *
 * Pure: no clock, no local time zone. A time without an offset (`%START_TIME_LOCAL%` rendered
 * without `%z`, or a custom format without one) is read as UTC — best effort, off by the Envoy
 * host's UTC offset.
 */

type NumField = 'Y' | 'y' | 'm' | 'd' | 'H' | 'I' | 'M' | 'S' | 'j';

type TimeToken =
  | { readonly k: 'lit'; readonly s: string }
  /** Exactly `w` digits; with `space`, a leading space may stand for a zero (`%e`, `%k`, `%l`). */
  | { readonly k: 'num'; readonly f: NumField; readonly w: number; readonly space: boolean }
  /** Exactly `n` fractional digits (`%3f`, `%f` = 9). */
  | { readonly k: 'frac'; readonly n: number }
  /** Optional `.` followed by 1–9 digits (ISO default, `%E*S`). */
  | { readonly k: 'optfrac' }
  /** Seconds since the epoch; leaves `reserve` digits to the fixed-width digit tokens right after it. */
  | { readonly k: 'epoch'; readonly reserve: number }
  /** `Z`, `±hh:mm` or `±hhmm`; `optional` when it may be absent. */
  | { readonly k: 'tz'; readonly optional: boolean }
  /** A zone abbreviation (`UTC`, `GMT`, `CET`); only UTC/GMT/Z change the offset. */
  | { readonly k: 'tzname' }
  | { readonly k: 'month' }
  | { readonly k: 'wday' }
  | { readonly k: 'ampm' };

/** A compiled START_TIME rendering. */
export interface TimeFormat {
  /** The strftime text it was compiled from ('' for the default ISO rendering). */
  readonly source: string;
  readonly tokens: readonly TimeToken[];
}

/** Where a timestamp ended and what instant it names (null when the format has no date part). */
export interface TimeMatch {
  readonly end: number;
  readonly ms: number | null;
}

const ISO_TOKENS: readonly TimeToken[] = [
  { k: 'num', f: 'Y', w: 4, space: false }, { k: 'lit', s: '-' },
  { k: 'num', f: 'm', w: 2, space: false }, { k: 'lit', s: '-' },
  { k: 'num', f: 'd', w: 2, space: false }, { k: 'lit', s: 'T' },
  { k: 'num', f: 'H', w: 2, space: false }, { k: 'lit', s: ':' },
  { k: 'num', f: 'M', w: 2, space: false }, { k: 'lit', s: ':' },
  { k: 'num', f: 'S', w: 2, space: false }, { k: 'optfrac' },
  { k: 'tz', optional: true },
];

/** Envoy's default `%START_TIME%` rendering, read leniently: any fraction, `Z`, an offset or none. */
export const ISO_TIME: TimeFormat = { source: '', tokens: ISO_TOKENS };

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

function num(f: NumField, w: number, space = false): TimeToken {
  return { k: 'num', f, w, space };
}

/**
 * Compiles a `%START_TIME(...)%` argument. Returns null when it uses a specifier this reader
 * does not know (the caller then treats the field as an opaque token and leaves startMs null).
 */
export function compileTimeFormat(fmt: string): TimeFormat | null {
  const out: TimeToken[] = [];
  const lit = (s: string): void => {
    const last = out[out.length - 1];
    if (last !== undefined && last.k === 'lit') out[out.length - 1] = { k: 'lit', s: last.s + s };
    else out.push({ k: 'lit', s });
  };
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i] as string;
    if (c !== '%') { lit(c); i++; continue; }
    const d = fmt[i + 1];
    if (d === undefined) return null;
    i += 2;
    switch (d) {
      case '%': lit('%'); break;
      case 'Y': out.push(num('Y', 4)); break;
      case 'y': out.push(num('y', 2)); break;
      case 'm': out.push(num('m', 2)); break;
      case 'd': out.push(num('d', 2)); break;
      case 'e': out.push(num('d', 2, true)); break;
      case 'H': out.push(num('H', 2)); break;
      case 'k': out.push(num('H', 2, true)); break;
      case 'I': out.push(num('I', 2)); break;
      case 'l': out.push(num('I', 2, true)); break;
      case 'M': out.push(num('M', 2)); break;
      case 'S': out.push(num('S', 2)); break;
      case 'j': out.push(num('j', 3)); break;
      case 'F': out.push(num('Y', 4)); lit('-'); out.push(num('m', 2)); lit('-'); out.push(num('d', 2)); break;
      case 'T': out.push(num('H', 2)); lit(':'); out.push(num('M', 2)); lit(':'); out.push(num('S', 2)); break;
      case 'R': out.push(num('H', 2)); lit(':'); out.push(num('M', 2)); break;
      case 'D': out.push(num('m', 2)); lit('/'); out.push(num('d', 2)); lit('/'); out.push(num('y', 2)); break;
      case 'f': out.push({ k: 'frac', n: 9 }); break;
      case 's': out.push({ k: 'epoch', reserve: 0 }); break;
      case 'z': out.push({ k: 'tz', optional: false }); break;
      case 'Z': out.push({ k: 'tzname' }); break;
      case 'b': case 'h': case 'B': out.push({ k: 'month' }); break;
      case 'a': case 'A': out.push({ k: 'wday' }); break;
      case 'p': out.push({ k: 'ampm' }); break;
      case 'n': lit('\n'); break;
      case 't': lit('\t'); break;
      case 'E': {
        // absl extensions: %Ez, %E*S, %E<n>S, %E4Y.
        const e = fmt[i];
        if (e === 'z') { out.push({ k: 'tz', optional: false }); i++; break; }
        if (e === '*' && fmt[i + 1] === 'S') { out.push(num('S', 2)); out.push({ k: 'optfrac' }); i += 2; break; }
        if (e === '4' && fmt[i + 1] === 'Y') { out.push(num('Y', 4)); i += 2; break; }
        if (e !== undefined && e >= '0' && e <= '9' && fmt[i + 1] === 'S') {
          out.push(num('S', 2));
          const n = Number(e);
          if (n > 0) { lit('.'); out.push({ k: 'frac', n }); }
          i += 2;
          break;
        }
        return null;
      }
      default:
        if (d >= '1' && d <= '9' && fmt[i] === 'f') { out.push({ k: 'frac', n: Number(d) }); i++; break; }
        return null;
    }
  }
  if (out.length === 0) return null;
  // %s is a run of digits of unknown length: leave to the fixed-width digit tokens right after
  // it (e.g. `%s%3f`) the digits they need.
  for (let t = 0; t < out.length; t++) {
    if ((out[t] as TimeToken).k !== 'epoch') continue;
    let reserve = 0;
    for (let u = t + 1; u < out.length; u++) {
      const next = out[u] as TimeToken;
      if (next.k === 'num' && !next.space) reserve += next.w;
      else if (next.k === 'frac') reserve += next.n;
      else break;
    }
    out[t] = { k: 'epoch', reserve };
  }
  return { source: fmt, tokens: out };
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Reads exactly `w` digits at `pos`; -1 when they are not all there. */
function readDigits(s: string, pos: number, w: number): number {
  if (pos + w > s.length) return -1;
  let v = 0;
  for (let i = 0; i < w; i++) {
    const c = s.charCodeAt(pos + i);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

function lettersEnd(s: string, pos: number): number {
  let q = pos;
  while (q < s.length) {
    const c = s.charCodeAt(q) | 0x20;
    if (c < 97 || c > 122) break;
    q++;
  }
  return q;
}

/** Milliseconds from the first three digits of a fraction of `n` digits starting at `pos`. */
function fracMs(s: string, pos: number, n: number): number {
  let ms = 0;
  for (let i = 0; i < 3; i++) ms = ms * 10 + (i < n ? s.charCodeAt(pos + i) - 48 : 0);
  return ms;
}

/**
 * Parses a timestamp of format `tf` starting at `pos` in `s`. Returns where it ended and the
 * instant, or null when the text there is not such a timestamp (or names an impossible date).
 */
export function matchTime(tf: TimeFormat, s: string, pos: number): TimeMatch | null {
  let year: number | null = null;
  let year2: number | null = null;
  let month: number | null = null;
  let day: number | null = null;
  let yday: number | null = null;
  let hour = 0;
  let hour12: number | null = null;
  let pm: boolean | null = null;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let epoch: number | null = null;
  let offsetMin = 0;
  let p = pos;
  for (const t of tf.tokens) {
    switch (t.k) {
      case 'lit':
        if (!s.startsWith(t.s, p)) return null;
        p += t.s.length;
        break;
      case 'num': {
        let v: number;
        if (t.space && s.charCodeAt(p) === 32) {
          v = readDigits(s, p + 1, t.w - 1);
        } else {
          v = readDigits(s, p, t.w);
        }
        if (v < 0) return null;
        p += t.w;
        switch (t.f) {
          case 'Y': year = v; break;
          case 'y': year2 = v; break;
          case 'm': month = v; break;
          case 'd': day = v; break;
          case 'j': yday = v; break;
          case 'H': hour = v; break;
          case 'I': hour12 = v; break;
          case 'M': minute = v; break;
          case 'S': second = v; break;
        }
        break;
      }
      case 'frac':
        if (readDigits(s, p, t.n) < 0) return null;
        ms = fracMs(s, p, t.n);
        p += t.n;
        break;
      case 'optfrac':
        if (s.charCodeAt(p) === 46 && isDigit(s.charCodeAt(p + 1))) {
          let q = p + 1;
          while (q < s.length && q - p <= 9 && isDigit(s.charCodeAt(q))) q++;
          ms = fracMs(s, p + 1, q - p - 1);
          p = q;
        }
        break;
      case 'epoch': {
        let q = p;
        while (q < s.length && q - p <= 16 + t.reserve && isDigit(s.charCodeAt(q))) q++;
        const len = q - p - t.reserve;
        if (len < 1 || len > 12) return null;
        epoch = Number(s.slice(p, p + len));
        p += len;
        break;
      }
      case 'tz': {
        const c = s[p];
        if (c === 'Z') { offsetMin = 0; p++; break; }
        if (c === '+' || c === '-') {
          const hh = readDigits(s, p + 1, 2);
          let q = p + 3;
          if (s[q] === ':') q++;
          const mm = readDigits(s, q, 2);
          if (hh < 0 || mm < 0 || hh > 23 || mm > 59) return null;
          offsetMin = (c === '-' ? -1 : 1) * (hh * 60 + mm);
          p = q + 2;
          break;
        }
        if (!t.optional) return null;
        break;
      }
      case 'tzname': {
        const q = lettersEnd(s, p);
        if (q === p) return null;
        p = q;
        break;
      }
      case 'month': {
        const q = lettersEnd(s, p);
        const idx = q - p >= 3 ? MONTHS.indexOf(s.slice(p, p + 3).toLowerCase()) : -1;
        if (idx < 0) return null;
        month = idx + 1;
        p = q;
        break;
      }
      case 'wday': {
        const q = lettersEnd(s, p);
        if (q - p < 3) return null;
        p = q;
        break;
      }
      case 'ampm': {
        const two = s.slice(p, p + 2).toUpperCase();
        if (two !== 'AM' && two !== 'PM') return null;
        pm = two === 'PM';
        p += 2;
        break;
      }
    }
  }
  if (epoch !== null) return { end: p, ms: epoch * 1000 + ms };
  if (hour12 !== null) {
    if (hour12 < 1 || hour12 > 12) return null;
    hour = (hour12 % 12) + (pm === true ? 12 : 0);
  }
  if (year === null && year2 !== null) year = year2 >= 69 ? 1900 + year2 : 2000 + year2;
  if (hour > 23 || minute > 59 || second > 60) return null;
  if (year === null) return { end: p, ms: null };
  let base: number;
  if (month !== null && day !== null) {
    if (month < 1 || month > 12 || day < 1 || day > 31) return null;
    base = Date.UTC(year, month - 1, day);
    if (new Date(base).getUTCDate() !== day) return null; // 31 April
  } else if (yday !== null) {
    if (yday < 1 || yday > 366) return null;
    base = Date.UTC(year, 0, yday);
  } else {
    return { end: p, ms: null };
  }
  const instant = base + ((hour * 60 + minute) * 60 + Math.min(second, 59)) * 1000 + ms - offsetMin * 60_000;
  return { end: p, ms: instant };
}

/** An ISO-8601 timestamp that must fill the whole string (JSON `start_time`); null otherwise. */
export function parseIsoTimestamp(s: string): number | null {
  const m = matchTime(ISO_TIME, s, 0);
  return m !== null && m.end === s.length ? m.ms : null;
}

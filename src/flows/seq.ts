/**
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4). Every comparison of sequence
 * numbers in flowdoc goes through these helpers, never a bare `<`.
 */

/** a < b in sequence space. */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a <= b in sequence space. */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/** a > b in sequence space. */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** a + n, wrapped to 32 bits. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Signed distance b − a in sequence space. */
export function seqDiff(a: number, b: number): number {
  return (b - a) | 0;
}

/**
 * Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit
 * big-endian words. `sum16` accumulates without folding so several pieces (pseudo-header,
 * header, payload) can be summed separately; an odd-length piece is padded with a zero byte,
 * so only the last piece may have odd length.
 */
export function sum16(data: Uint8Array, start = 0, end = data.length, acc = 0): number {
  let sum = acc;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (i < end) sum += data[i] << 8;
  // Fold early enough that the running sum never leaves the exact integer range.
  return sum > 0x7fffffff ? fold(sum) : sum;
}

function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** Finishes a sum from `sum16` into the 16-bit checksum field value. */
export function finishChecksum(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/** Checksum of one contiguous range. */
export function internetChecksum(data: Uint8Array, start = 0, end = data.length): number {
  return finishChecksum(sum16(data, start, end));
}

/**
 * Sum of the TCP/UDP pseudo-header: for IPv4 (RFC 793) src, dst, zero, protocol, length(16);
 * for IPv6 (RFC 8200 §8.1) src, dst, length(32), zeros, next header.
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let sum = sum16(src) + sum16(dst) + protocol;
  sum += src.length === 4 ? length : Math.floor(length / 0x10000) + (length & 0xffff);
  return sum;
}

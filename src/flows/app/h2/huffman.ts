/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B). The code is canonical: the RFC's table is
 * fully determined by each symbol's code length (codes of one length are consecutive, in symbol
 * order, and each length starts where the previous one left off, shifted left). So only the 257
 * lengths are written down here; the codes are derived from them, and the unit test checks the
 * derived codes against the ones printed in Appendix B.
 */

/** Code length in bits of symbols 0–255 and of EOS (256), as in RFC 7541 Appendix B. */
export const HUFFMAN_CODE_LENGTHS: readonly number[] = [
  // 0–31: control characters
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  // 32–63: ' ' ! " # $ % & ' ( ) * + , - . / 0–9 : ; < = > ?
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  // 64–95: @ A–Z [ \ ] ^ _
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  // 96–127: ` a–z { | } ~ DEL
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 128–159
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  // 160–191
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  // 192–223
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  // 224–255
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  // 256: EOS
  30,
];

const EOS = 256;
const MAX_LENGTH = 30;

/**
 * Canonical decoding tables (as in zlib's puff): how many codes each length has, and the symbols
 * sorted by (length, symbol). A code of length L is the k-th of its length when it equals
 * firstCode[L] + k.
 */
const COUNT = new Int32Array(MAX_LENGTH + 1);
const SORTED = new Uint16Array(257);
for (const len of HUFFMAN_CODE_LENGTHS) COUNT[len]!++;
{
  const offsets = new Int32Array(MAX_LENGTH + 2);
  for (let len = 1; len <= MAX_LENGTH; len++) offsets[len + 1] = offsets[len]! + COUNT[len]!;
  for (let sym = 0; sym < 257; sym++) SORTED[offsets[HUFFMAN_CODE_LENGTHS[sym]!]!++] = sym;
}

/** The code of every symbol, derived from the lengths (exported for the test against Appendix B). */
export function huffmanCodes(): number[] {
  const codes = new Array<number>(257).fill(0);
  let code = 0;
  let i = 0;
  for (let len = 1; len <= MAX_LENGTH; len++) {
    for (let k = 0; k < COUNT[len]!; k++) codes[SORTED[i++]!] = code++;
    code <<= 1;
  }
  return codes;
}

/** Why a Huffman string could not be decoded (RFC 7541 §5.2: each is a decoding error). */
export const HUFFMAN_EOS = -1;
export const HUFFMAN_PADDING = -2;

/**
 * Decodes b[start, end) as a latin1 string of the octets. Returns the string, or an error code:
 * HUFFMAN_EOS (EOS inside the string), HUFFMAN_PADDING (padding longer than 7 bits or not all ones).
 * `prefix`: b[start, end) is only the first octets of the string (cut by the snap length): the
 * symbols they hold are decoded and the unfinished bits at the end are not padding.
 */
export function huffmanDecode(b: Uint8Array, start: number, end: number, prefix = false): string | number {
  let out = '';
  let code = 0; // bits of the symbol being read, as an integer
  let len = 0; // how many bits it has so far
  let first = 0; // first code of length `len`
  let index = 0; // index in SORTED of that first code
  let chunk = '';
  for (let i = start; i < end; i++) {
    const byte = b[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      code |= (byte >> bit) & 1;
      len++;
      const count = COUNT[len]!;
      if (code - first < count) {
        const sym = SORTED[index + code - first]!;
        if (sym === EOS) return HUFFMAN_EOS;
        chunk += String.fromCharCode(sym);
        code = 0;
        len = 0;
        first = 0;
        index = 0;
        continue;
      }
      if (len === MAX_LENGTH) return HUFFMAN_EOS; // unreachable with a complete code; a guard
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    // Join in pieces so a long string does not build one character at a time from the start.
    if (chunk.length >= 256) {
      out += chunk;
      chunk = '';
    }
  }
  // A prefix (the string was cut by the snap length): the bits left over begin a symbol that was not captured.
  if (prefix) return out + chunk;
  // Padding (§5.2): fewer than 8 bits, all ones (the most significant bits of EOS).
  // After a bit that ends no symbol the code was shifted left once more than it has bits.
  if (len > 7) return HUFFMAN_PADDING;
  if (len > 0 && code >>> 1 !== (1 << len) - 1) return HUFFMAN_PADDING;
  return out + chunk;
}

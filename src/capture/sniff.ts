import type { CaptureFormat } from './parser.js';
import { PCAP_MAGICS } from './pcap.js';

/** What the first bytes of a stream say it is. Formats are told by magic bytes, never by name. */
export type Sniffed = CaptureFormat | 'gzip' | 'unknown';

/** Bytes needed to tell the formats apart. */
export const SNIFF_BYTES = 4;

const PCAPNG_SHB = '0a0d0d0a';

export function sniffFormat(head: Uint8Array): Sniffed {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length < SNIFF_BYTES) return 'unknown';
  const magic = Buffer.from(head.buffer, head.byteOffset, SNIFF_BYTES).toString('hex');
  if (magic === PCAPNG_SHB) return 'pcapng';
  if (magic in PCAP_MAGICS) return 'pcap';
  return 'unknown';
}

/** A short, printable description of bytes that are not a capture, for the error message. */
export function describeForeignBytes(head: Uint8Array): string {
  const n = Math.min(head.length, 8);
  const hex = Buffer.from(head.buffer, head.byteOffset, n).toString('hex').replace(/(..)/g, '$1 ').trim();
  let text = '';
  for (let i = 0; i < n; i++) {
    const c = head[i]!;
    text += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
  }
  const hint = guessForeign(head);
  return `starts with ${hex} "${text}"${hint ? ` — looks like ${hint}` : ''}`;
}

function guessForeign(head: Uint8Array): string | null {
  const s = Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, 16)).toString('latin1');
  if (s.startsWith('PK\x03\x04')) return 'a zip archive';
  if (s.startsWith('BZh')) return 'a bzip2 file';
  if (s.startsWith('\xfd7zXZ')) return 'an xz file';
  if (s.startsWith('(\xb5/\xfd')) return 'a zstd file';
  if (/^\s*[[{]/.test(s)) return 'JSON or a log file';
  if (/^\s*</.test(s)) return 'HTML or XML';
  if (/^\d{2}:\d{2}:\d{2}\.\d+ /.test(s)) return "tcpdump's text output (capture with `tcpdump -w FILE`)";
  if (/^[\x09\x0a\x0d\x20-\x7e]+$/.test(s)) return 'a text file';
  return null;
}

import type { CaptureError } from './errors.js';

/** The capture formats flowdoc reads (gzip is a wrapper around either, reported separately). */
export type CaptureFormat = 'pcap' | 'pcapng';

/**
 * A push parser for one capture format. The reading loop feeds it chunks of the (decompressed)
 * stream in order and calls `end()` once. It calls the sink synchronously for every packet.
 *
 * After an error the parser ignores further input: `error` is set, and every packet before the
 * bad item has already reached the sink.
 */
export interface CaptureParser {
  readonly format: CaptureFormat;
  /** Feed the next chunk. The parser may keep a reference to it until the next push. */
  push(chunk: Uint8Array): void;
  /** No more input: a partial record left over becomes a `truncated-record` error. */
  end(): void;
  /** Set once, at the first error; parsing stops there. */
  readonly error: CaptureError | null;
  /** Number of packets handed to the sink so far. */
  readonly packets: number;
  /** Link types seen, in order of first appearance (pcapng: one per interface). */
  readonly linkTypes: readonly number[];
  /** Decimal digits of the finest timestamp resolution seen (6 µs, 9 ns). */
  readonly precision: number;
  /** Bytes of non-packet blocks or records skipped and why (e.g. pcapng custom/stat blocks). */
  readonly skipped: ReadonlyMap<string, number>;
  /** pcapng only: packets the capturing system dropped (Interface Statistics Blocks), null when not recorded. */
  readonly kernelDrops?: number | null;
}

/** Upper bound on one record's captured length, as Wireshark's (WTAP_MAX_PACKET_SIZE_STANDARD). */
export const MAX_RECORD_BYTES = 262_144;

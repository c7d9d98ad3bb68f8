import { createReadStream } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CaptureError } from './errors.js';
import type { CaptureFormat, CaptureParser } from './parser.js';
import { PcapReader } from './pcap-reader.js';
import { PcapngParser } from './pcapng.js';
import type { RecordSink } from './record.js';
import { SNIFF_BYTES, describeForeignBytes, sniffFormat } from './sniff.js';

export interface ReadOptions {
  /** Stream to read when the file is `-` (default: process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** Called after every raw chunk with the raw (compressed, if gzip) bytes read so far. */
  onProgress?: (rawBytes: number) => void;
  /** Read size; 1 MiB keeps syscalls few and memory flat. */
  chunkSize?: number;
  /**
   * Stop reading when aborted (`flowdoc watch` on SIGINT): the capture ends there as if the stream
   * had ended, and a record cut short by the stop is dropped silently (it was never whole).
   */
  signal?: AbortSignal;
  /** Told the parser once the format is known (`flowdoc watch` reads its running counts: packets, drops). */
  onParser?: (parser: CaptureParser) => void;
}

/** What reading a capture found, whether or not it ended in an error. */
export interface CaptureSummary {
  /** The file as the user named it (`-` for standard input). */
  file: string;
  /** null when the bytes were not a capture at all. */
  format: CaptureFormat | null;
  /** True when the capture was gzip-compressed (read transparently). */
  gzip: boolean;
  /** Packets handed to the sink (all of them reached it, even when `error` is set). */
  packets: number;
  /** Link types in order of first appearance. */
  linkTypes: number[];
  /** Decimal digits of the finest timestamp resolution (6 µs, 9 ns). */
  precision: number;
  /** Bytes of the (decompressed) capture stream read. */
  bytes: number;
  /** Bytes read from the file itself (compressed size for gzip). */
  rawBytes: number;
  /** Non-packet blocks skipped, by kind (pcapng statistics, custom blocks, …). */
  skipped: Record<string, number>;
  /** Packets the capturing system dropped, from pcapng Interface Statistics Blocks (null: not recorded, e.g. classic pcap). */
  kernelDrops: number | null;
  /** The first error; reading stopped there. */
  error: CaptureError | null;
}

/**
 * Streams a capture from a path (or `-` for stdin) into `sink`, one record at a time, with memory
 * bounded by the chunk size and the largest single record — never by the file size. The format is
 * told by magic bytes; gzip is unwrapped transparently. Never throws for bad input: the summary
 * carries the typed error, and every packet before it has reached the sink.
 */
export async function readCapture(file: string, sink: RecordSink, options: ReadOptions = {}): Promise<CaptureSummary> {
  const summary: CaptureSummary = {
    file, format: null, gzip: false, packets: 0, linkTypes: [], precision: 6,
    bytes: 0, rawBytes: 0, skipped: {}, kernelDrops: null, error: null,
  };
  const source = file === '-'
    ? (options.stdin ?? process.stdin)
    : createReadStream(file, { highWaterMark: options.chunkSize ?? 1 << 20 });

  let parser: CaptureParser | null = null;
  let head: Uint8Array = new Uint8Array(0);

  const feed = (chunk: Uint8Array): boolean => {
    summary.bytes += chunk.length;
    if (parser) {
      parser.push(chunk);
      return parser.error === null;
    }
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]); // only until 4 bytes are seen
    if (head.length < SNIFF_BYTES) return true;
    parser = makeParser(head, sink, file);
    if (parser) options.onParser?.(parser);
    if (!parser) {
      // Describe the same bytes however the input was cut: read what the description shows first.
      if (head.length < FOREIGN_HEAD_BYTES) return true;
      summary.error = new CaptureError('not-a-capture', `not a pcap or pcapng capture: ${describeForeignBytes(head)}`, 0, 1, file);
      return false;
    }
    parser.push(head);
    return parser.error === null;
  };

  try {
    const raw = countRaw(source as AsyncIterable<Uint8Array>, summary, options.onProgress, options.signal);
    const first = await raw.next();
    if (first.done) {
      // Stopped before a byte came (Ctrl-C on a quiet live stream): nothing was read, nothing is wrong.
      if (!options.signal?.aborted) summary.error = new CaptureError('empty', 'file is empty', 0, 1, file);
      return summary;
    }
    let firstChunk = toBytes(first.value);
    // gzip is told by its first two bytes, and a pipe may hand over just one at first.
    while (firstChunk.length < 2) {
      const next = await raw.next();
      if (next.done) break;
      firstChunk = Buffer.concat([firstChunk, toBytes(next.value)]);
    }
    const chunks = sniffFormat(firstChunk) === 'gzip' ? gunzip(firstChunk, raw) : rest(firstChunk, raw);
    summary.gzip = sniffFormat(firstChunk) === 'gzip';
    for await (const chunk of chunks) {
      if (!feed(toBytes(chunk))) break;
      if (options.signal?.aborted) break;
    }
    if (!summary.error && !options.signal?.aborted) {
      if (parser === null) {
        summary.error = summary.bytes === 0
          ? new CaptureError('empty', summary.gzip ? 'gzip file holds no data' : 'file is empty', 0, 1, file)
          : new CaptureError('not-a-capture', `not a pcap or pcapng capture: ${describeForeignBytes(head)}`, 0, 1, file);
      } else {
        (parser as CaptureParser).end();
      }
    }
  } catch (err) {
    summary.error = summary.error ?? toCaptureError(err, file, summary, parser);
  } finally {
    if ('destroy' in source && typeof source.destroy === 'function' && source !== process.stdin) source.destroy();
  }
  const p = parser as CaptureParser | null;
  if (p) {
    summary.format = p.format;
    summary.packets = p.packets;
    summary.linkTypes = [...p.linkTypes];
    summary.precision = p.precision;
    summary.skipped = Object.fromEntries(p.skipped);
    summary.kernelDrops = p.kernelDrops ?? null;
    summary.error = p.error ?? summary.error;
  }
  return summary;
}

/** Bytes `describeForeignBytes` looks at (it shows 8 and guesses from 16). */
const FOREIGN_HEAD_BYTES = 16;

function makeParser(head: Uint8Array, sink: RecordSink, file: string): CaptureParser | null {
  switch (sniffFormat(head)) {
    // flowdoc's own classic pcap reader: same checks and errors as the pcap-parser wrapper
    // (PcapParser, kept for the conformance suite and src/bench/parsers.ts), 6–17× faster; see
    // docs/performance.md.
    case 'pcap': return new PcapReader(sink, file);
    case 'pcapng': return new PcapngParser(sink, file);
    default: return null;
  }
}

async function* countRaw(source: AsyncIterable<Uint8Array>, summary: CaptureSummary, onProgress?: (n: number) => void, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  if (!signal) {
    for await (const chunk of source) {
      summary.rawBytes += chunk.length;
      onProgress?.(summary.rawBytes);
      yield chunk;
    }
    return;
  }
  // A live source may send nothing for hours: the stop must not wait for its next chunk. Each wait
  // gets its own abort listener, removed when the chunk comes: racing every read against one
  // long-lived "stopped" promise would hang a reaction on it per chunk, each holding its chunk —
  // the whole stream kept alive for as long as the watch runs (1 MiB per file chunk).
  const it = source[Symbol.asyncIterator]();
  for (;;) {
    const next = await nextOrAbort(it, signal);
    if (next === null || next.done) return;
    summary.rawBytes += next.value.length;
    onProgress?.(summary.rawBytes);
    yield next.value;
  }
}

/** The iterator's next result, or null as soon as the signal aborts; nothing stays attached to the signal after. */
export function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T> | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    it.next().then(
      (r) => { signal.removeEventListener('abort', onAbort); resolve(r); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

async function* rest(first: Uint8Array, more: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  for (let next = await more.next(); !next.done; next = await more.next()) yield next.value;
}

/** gzip (RFC 1952; concatenated members are read as one stream, like zcat). */
function gunzip(first: Uint8Array, more: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  const unzip = createGunzip({ chunkSize: 1 << 20 });
  pipeline(Readable.from(rest(first, more), { objectMode: false }), unzip, () => {
    // Errors surface through the iteration of `unzip` below; nothing to do here.
  });
  return unzip;
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'latin1');
  return Buffer.from(chunk as ArrayBuffer);
}

function toCaptureError(err: unknown, file: string, summary: CaptureSummary, parser: CaptureParser | null): CaptureError {
  const e = err as NodeJS.ErrnoException;
  const frame = (parser?.packets ?? 0) + 1;
  switch (e?.code) {
    case 'ENOENT': return new CaptureError('io', 'no such file', 0, 1, file);
    case 'EACCES': case 'EPERM': return new CaptureError('io', 'permission denied', 0, 1, file);
    case 'EISDIR': return new CaptureError('io', 'is a directory, not a capture file', 0, 1, file);
    case 'Z_BUF_ERROR': return new CaptureError('gzip', 'gzip stream is cut short (unexpected end of file)', summary.bytes, frame, file);
    case 'Z_DATA_ERROR': return new CaptureError('gzip', `gzip stream is corrupt (${e.message})`, summary.bytes, frame, file);
    default:
      if (summary.gzip && typeof e?.code === 'string' && e.code.startsWith('Z_')) {
        return new CaptureError('gzip', `gzip stream is corrupt (${e.message})`, summary.bytes, frame, file);
      }
      return new CaptureError('io', `read failed: ${e?.message ?? String(err)}`, summary.bytes, frame, file);
  }
}

/**
 * Reads one access-log file as a stream of lines and hands them to the line processor.
 *
 * Lines are split on `\n` at the byte level (a `\n` byte never occurs inside a UTF-8 sequence),
 * so binary junk, CRLF and a missing final newline need no special case. Besides the entries it
 * returns, the reader holds only the current line and, until the format is detected, the sample
 * of at most SAMPLE_LINES lines / SAMPLE_BYTES bytes (parse.ts). A line is held only up to
 * {@link MAX_LINE_BYTES}: past that its bytes are dropped and only counted, so a 10 MB line costs
 * about 1 MiB, not 10 MB. Bytes are decoded as UTF-8 (invalid sequences become U+FFFD).
 *
 * This is the one place in src/logs that touches the file system; everything it returns is a
 * value — an unreadable file gives `error.code === 'io'`, never a throw.
 */
import { createReadStream } from 'node:fs';
import { LogError } from './errors.js';
import {
  baseName,
  LogLineProcessor,
  MAX_LINE_BYTES,
  SAMPLE_TEXT_CHARS,
  type LogReadOptions,
  type LogReadResult,
} from './parse.js';

const NEWLINE = 0x0a;

function ioMessage(e: unknown): string {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n')[0] ?? msg;
  switch (code) {
    case 'ENOENT': return 'cannot read the log file: no such file (ENOENT)';
    case 'EACCES': return 'cannot read the log file: permission denied (EACCES)';
    case 'EISDIR': return 'cannot read the log file: it is a directory (EISDIR)';
    case '': return `stopped reading the log file: ${e instanceof Error ? e.name : 'error'}: ${first}`;
    default: return `cannot read the log file: ${first}`;
  }
}

/** Collects the bytes of the current line, up to the limit. */
export class LineBuffer {
  private parts: Buffer[] = [];
  private length = 0;
  private dropped = false;
  private head = '';

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.dropped) { this.length += chunk.length; return; }
    if (this.length + chunk.length > MAX_LINE_BYTES) {
      // Keep the start for the rejected-line sample, forget the rest.
      const headBytes = Math.min(SAMPLE_TEXT_CHARS * 4, this.length + chunk.length);
      // One character more than the sample shows, so the sample is marked as cut.
      this.head = Buffer.concat([...this.parts, chunk], headBytes).toString('utf8').slice(0, SAMPLE_TEXT_CHARS + 1);
      this.parts = [];
      this.dropped = true;
      this.length += chunk.length;
      return;
    }
    // The chunk is referenced, not copied: it stays alive only until this line ends.
    this.parts.push(chunk);
    this.length += chunk.length;
  }

  get empty(): boolean {
    return this.length === 0;
  }

  /** Bytes of the line held now (at most MAX_LINE_BYTES; a line past it holds only its short head). */
  get heldBytes(): number {
    return this.dropped ? Buffer.byteLength(this.head) : this.length;
  }

  /** Hands the line to `p` and starts a new one. */
  flush(p: LogLineProcessor, line: number): void {
    if (this.dropped) {
      p.pushOversizeLine(line, this.length, this.head);
    } else {
      const only = this.parts[0];
      const buf = this.parts.length === 1 && only !== undefined ? only : Buffer.concat(this.parts, this.length);
      p.pushLine(buf.toString('utf8'), line);
    }
    this.parts = [];
    this.length = 0;
    this.dropped = false;
    this.head = '';
  }
}

/**
 * Reads an Envoy / Istio access-log file. Never throws for user-input problems: a missing or
 * unreadable file gives `error.code === 'io'`, a file where no line parses gives
 * `'not-an-access-log'`, an unusable `format` gives `'bad-format'`. With `input` the lines come
 * from that stream (standard input for `-`; `file` then only names it in messages).
 */
export async function readLogFile(file: string, options: LogReadOptions & { readonly input?: NodeJS.ReadableStream } = {}): Promise<LogReadResult> {
  const { input, ...rest } = options;
  const p = new LogLineProcessor(file, { ...rest, hop: rest.hop ?? baseName(file) });
  const buf = new LineBuffer();
  let line = 0;
  try {
    const stream = input ?? createReadStream(file);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(NEWLINE, start);
        if (nl === -1) break;
        buf.append(chunk.subarray(start, nl));
        line++;
        buf.flush(p, line);
        start = nl + 1;
      }
      buf.append(chunk.subarray(start));
    }
    if (!buf.empty) { line++; buf.flush(p, line); }
    return p.finish();
  } catch (e) {
    // The file could not be read (or, for a bug, processing stopped): report what was read before.
    if (!buf.empty) { line++; buf.flush(p, line); }
    return p.finishWithError(new LogError('io', ioMessage(e), file));
  }
}

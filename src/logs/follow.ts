/**
 * Follows an access-log file as it grows, with `tail -F` semantics, for `flowdoc watch --logs`:
 *
 * - new bytes are read from where the last read stopped; a last line without its `\n` is held
 *   until the newline comes (a writer caught mid-line is never parsed half);
 * - rotation by rename + create (logrotate's default, kubelet's container logs): when the path
 *   names a different file (inode or device changed), the old file is read to its end first,
 *   then the new one from its start;
 * - truncation (logrotate `copytruncate`, `> file`): when the file is shorter than what was read,
 *   it is read again from its start;
 * - a file that does not exist (yet, or between a rename and the create) is waited for.
 *
 * The caller drives it (`poll()`), so no timer lives here. Line numbers count from the start of
 * the file being read: after a rotation they start again at 1, as in the new file on disk.
 * Memory: the current partial line (at most MAX_LINE_BYTES, as read.ts) and the entries parsed
 * since the last `take()`.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { LogEntry } from './entry.js';
import { LogError } from './errors.js';
import { baseName, LogLineProcessor, type LogReadOptions, type LogReadResult } from './parse.js';
import { LineBuffer } from './read.js';

const NEWLINE = 0x0a;
const READ_CHUNK = 64 * 1024;

/** What a followed file went through, for the summary and for tests. */
export interface FollowCounts {
  /** Lines read from every file the path named, across rotations. */
  lines: number;
  /** Times the path was found naming a new file (rename + create). */
  rotations: number;
  /** Times the file was found shorter than what was read (truncated in place). */
  truncations: number;
}

export class LogFollower {
  readonly hop: string;
  readonly counts: FollowCounts = { lines: 0, rotations: 0, truncations: 0 };
  private readonly processor: LogLineProcessor;
  private readonly line = new LineBuffer();
  private handle: FileHandle | null = null;
  private identity = '';
  private position = 0;
  /** Line number within the file being read. */
  private fileLine = 0;
  private readonly chunk = Buffer.allocUnsafe(READ_CHUNK);
  private error: LogError | null = null;
  private polling: Promise<void> | null = null;
  /** Entries handed over by take(). */
  private taken = 0;

  constructor(readonly file: string, options: LogReadOptions = {}) {
    this.hop = options.hop ?? baseName(file);
    this.processor = new LogLineProcessor(file, { ...options, hop: this.hop });
  }

  /** Reads what was added since the last poll (following a rotation or truncation). Never throws; never runs twice at once. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => { this.polling = null; });
    return this.polling;
  }

  /** The entries parsed since the last call (the caller keeps what it needs). */
  take(): LogEntry[] {
    const entries = this.processor.takeEntries();
    this.taken += entries.length;
    return entries;
  }

  /** Ends following: a held partial line is parsed as the last line, and the file's summary is returned (entries not yet taken included). */
  async close(): Promise<LogReadResult> {
    await this.polling;
    this.endLine();
    await this.handle?.close().catch(() => {});
    this.handle = null;
    const r = this.error ? this.processor.finishWithError(this.error) : this.processor.finish();
    // Lines across rotations; "not an access log" only if no line ever parsed (the entries taken before count).
    const notALog = r.error?.code === 'not-an-access-log' && this.taken > 0;
    return { ...r, lines: this.counts.lines, error: notALog ? null : r.error };
  }

  private async pollOnce(): Promise<void> {
    try {
      let s;
      try {
        s = await stat(this.file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          // Renamed away and not created again yet: what was written to it before is still ours.
          if (this.handle) await this.readToEnd();
          return;
        }
        throw e;
      }
      if (s.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
      const identity = `${s.dev}:${s.ino}`;
      if (this.handle && identity !== this.identity) {
        // Rotated: the old file's last lines first, then the new file from its start.
        await this.readToEnd();
        this.endLine();
        await this.handle.close().catch(() => {});
        this.handle = null;
        this.counts.rotations++;
      }
      if (!this.handle) {
        this.handle = await open(this.file, 'r');
        this.identity = identity;
        this.position = 0;
        this.fileLine = 0;
      } else if (s.size < this.position) {
        this.endLine();
        this.position = 0;
        this.fileLine = 0;
        this.counts.truncations++;
      }
      await this.readToEnd();
      this.error = null;
    } catch (e) {
      // Kept for the summary; the next poll tries again (a permission fixed, a volume back).
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      this.error = new LogError('io', `cannot follow the log file: ${(e as Error).message.split('\n')[0]} (${code})`, this.file);
    }
  }

  private async readToEnd(): Promise<void> {
    const h = this.handle!;
    for (;;) {
      const { bytesRead } = await h.read(this.chunk, 0, READ_CHUNK, this.position);
      if (bytesRead === 0) return;
      this.position += bytesRead;
      // The line buffer may keep a reference to the bytes of a partial line: those are copied out of the reused chunk.
      const bytes = Buffer.from(this.chunk.subarray(0, bytesRead));
      let start = 0;
      for (;;) {
        const nl = bytes.indexOf(NEWLINE, start);
        if (nl === -1) break;
        this.line.append(bytes.subarray(start, nl));
        this.flushLine();
        start = nl + 1;
      }
      this.line.append(bytes.subarray(start));
    }
  }

  /** A partial last line that will never be finished (rotated away, truncated, end): parsed as it is. */
  private endLine(): void {
    if (!this.line.empty) this.flushLine();
  }

  private flushLine(): void {
    this.fileLine++;
    this.counts.lines++;
    this.line.flush(this.processor, this.fileLine);
  }
}

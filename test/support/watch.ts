import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

/**
 * A slow writer: hands `bytes` out `chunk` bytes at a time with a real pause between chunks, and
 * only when the reader asks for more (at most one chunk ahead), like a pipe from `tcpdump -U`.
 * `holdAt`: stop after that many bytes and send the rest only when `release()` is called — or
 * never, as a live capture that has not ended. `finished` turns true after the last byte.
 */
export class SlowWriter {
  finished = false;
  sent = 0;
  readonly stream: Readable & { isTTY?: boolean };
  private releaseHold: (() => void) | null = null;
  private sentWaiters: { bytes: number; resolve: () => void }[] = [];
  private readonly held: Promise<void>;

  constructor(private readonly bytes: Uint8Array, private readonly options: { chunk: number; pauseMs: number; holdAt?: number }) {
    this.held = new Promise((resolve) => { this.releaseHold = resolve; });
    this.stream = Readable.from(this.chunks(), { objectMode: false, highWaterMark: 1 });
  }

  /** Resolves once the writer has handed out `bytes` bytes (or more). */
  whenSent(bytes: number): Promise<void> {
    if (this.sent >= bytes) return Promise.resolve();
    return new Promise((resolve) => this.sentWaiters.push({ bytes, resolve }));
  }

  /** Lets a writer held at `holdAt` send the rest and end. */
  release(): void {
    this.releaseHold?.();
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    const { chunk, pauseMs, holdAt } = this.options;
    for (let o = 0; o < this.bytes.length; o += chunk) {
      if (holdAt !== undefined && o >= holdAt) await this.held;
      await sleep(pauseMs);
      const piece = Buffer.from(this.bytes.subarray(o, Math.min(o + chunk, this.bytes.length)));
      this.sent += piece.length;
      yield piece;
      this.sentWaiters = this.sentWaiters.filter((w) => (this.sent >= w.bytes ? (w.resolve(), false) : true));
    }
    this.finished = true;
  }
}

/** `flowdoc watch …` run in this process on a writer's stream; events are parsed as they are printed. */
export class WatchRun {
  readonly events: Record<string, unknown>[] = [];
  stdout = '';
  stderr = '';
  readonly signals = new EventEmitter();
  readonly done: Promise<number>;
  private readonly waiters: { test: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  private partial = '';

  constructor(args: string[], stdin: Readable & { isTTY?: boolean }) {
    const io: Io = {
      stdout: (t) => this.onStdout(t),
      stderr: (t) => { this.stderr += t; },
      stderrIsTty: false,
      stdoutIsTty: false,
      env: {},
      stdin,
      signals: this.signals,
    };
    this.done = main(['node', 'flowdoc', 'watch', ...args], io);
  }

  /** The first event (already seen or still to come) that passes `test`. */
  next(test: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  private onStdout(text: string): void {
    this.stdout += text;
    this.partial += text;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl);
      this.partial = this.partial.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as Record<string, unknown>;
      this.events.push(e);
      for (const w of [...this.waiters]) {
        if (w.test(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  }
}

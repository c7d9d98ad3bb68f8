import { closeSync, existsSync, openSync, writeSync } from 'node:fs';

/**
 * Everything the CLI writes goes through one Io: results to stdout (or --out), progress and
 * messages to stderr. Tests pass their own to capture output in the same process.
 */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stderr is a terminal: only then is progress drawn. */
  stderrIsTty: boolean;
  /** True when stdout is a terminal: colour is allowed only then (and never with NO_COLOR). */
  stdoutIsTty: boolean;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where signals arrive (`flowdoc watch`: SIGINT/SIGTERM stop, SIGHUP/SIGUSR1 print a summary); tests pass an emitter. */
  signals?: SignalSource;
}

export interface SignalSource {
  on(signal: NodeJS.Signals, listener: () => void): unknown;
  off(signal: NodeJS.Signals, listener: () => void): unknown;
}

let quietOnBrokenPipe = false;

/**
 * `flowdoc … | head`: when the reader closes the pipe, stop quietly as a Unix filter does (exit 0,
 * nothing on stderr), instead of Node's unhandled 'error' event and its stack trace.
 */
export function exitQuietlyOnBrokenPipe(stream: NodeJS.WriteStream = process.stdout): void {
  if (quietOnBrokenPipe) return;
  quietOnBrokenPipe = true;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    process.stderr.write(`flowdoc: cannot write the output: ${e.message}\n`);
    process.exit(2);
  });
}

export function processIo(): Io {
  exitQuietlyOnBrokenPipe();
  return {
    stdout: (t) => { process.stdout.write(t); },
    stderr: (t) => { process.stderr.write(t); },
    stderrIsTty: Boolean(process.stderr.isTTY),
    stdoutIsTty: Boolean(process.stdout.isTTY),
    env: process.env,
    stdin: process.stdin,
    signals: process,
  };
}

/** Colour only on a terminal, and never when NO_COLOR is set (no-color.org). */
export function useColour(io: Io): boolean {
  return io.stdoutIsTty && !('NO_COLOR' in io.env && io.env.NO_COLOR !== undefined) && io.env.TERM !== 'dumb';
}

/** A user error: printed as one line, exit code 2. Never shown with a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Writes a result to --out FILE (never overwriting an existing file without --force, and never
 * anywhere but the path given) or to stdout.
 */
export function writeResult(io: Io, text: string, out: string | undefined, force: boolean): void {
  const sink = openResult(io, out, force);
  try {
    sink.write(text);
  } finally {
    sink.close();
  }
}

/** Where a result is written piece by piece: stdout, or the `--out` file (opened now, checked like writeResult). */
export interface ResultSink {
  write(text: string): void;
  close(): void;
}

/**
 * Opens the result's destination before any work, so a result too large to hold (flows of a
 * long capture) can be written as it is made, and a refused `--out` path is known at once.
 */
export function openResult(io: Io, out: string | undefined, force: boolean): ResultSink {
  if (!out || out === '-') return { write: (t) => io.stdout(t), close: () => {} };
  if (existsSync(out) && !force) throw new UsageError(`${out} already exists (use --force to overwrite it)`);
  let fd: number;
  try {
    fd = openSync(out, force ? 'w' : 'wx');
  } catch (err) {
    throw new UsageError(`cannot write ${out}: ${(err as Error).message.replace(/^[A-Z]+: /, '')}`);
  }
  let open = true;
  return {
    write: (t) => { writeSync(fd, t); },
    close: () => { if (open) closeSync(fd); open = false; },
  };
}

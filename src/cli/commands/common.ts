import { accessSync, constants, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type Io, UsageError } from '../io.js';

/** Checks the value of a choice option (--format, --fail-on) against the ones a command offers. */
export function parseFormat<T extends string>(value: string, allowed: readonly T[], option = '--format'): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`unknown ${option} '${value}' (choose ${allowed.join(', ')})`);
}

/**
 * The shortest silence `analyze`, `scan` and `watch` treat as an idle gap. Below a second a
 * "gap" is the ordinary pause between a request and its answer: with a threshold of 0 every
 * packet would open a new gap and cut the one before it short, so nothing could be found.
 */
export const MIN_IDLE_THRESHOLD_SECONDS = 1;

/** `--idle-threshold S` of the commands that find incidents. */
export function parseIdleThreshold(value: string): number {
  const n = parseNumber(value, '--idle-threshold', { min: 0 });
  if (n < MIN_IDLE_THRESHOLD_SECONDS) {
    throw new UsageError(`--idle-threshold must be at least ${MIN_IDLE_THRESHOLD_SECONDS} s, not '${value}': shorter silences are the ordinary pauses between a request and its answer, not idle connections`);
  }
  return n;
}

/** A TCP port given on the command line: 0-65535. */
export function parsePort(value: string, name: string): number {
  const n = parseNumber(value, name, { min: 0, integer: true });
  if (n > 65535) throw new UsageError(`${name} must be a TCP port (0-65535), not '${value}'`);
  return n;
}

/** Size of a regular file, for progress; null for stdin or anything unstatable. */
export async function fileSize(file: string): Promise<number | null> {
  if (file === '-') return null;
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

/** Reading binary capture data from an interactive terminal is never what the user meant. */
export function readStdinGuard(file: string, io: Io): void {
  if (file === '-' && io.stdin.isTTY) {
    throw new UsageError('standard input is a terminal: pipe a capture in (e.g. tcpdump -w - | flowdoc info -) or name a file');
  }
}

/** Parses a number option (seconds, counts) with a clear message. */
export function parseNumber(value: string, name: string, { min = -Infinity, integer = false } = {}): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${name} must be ${integer ? 'a whole number' : 'a number'}${min > -Infinity ? ` ≥ ${min}` : ''}, not '${value}'`);
  }
  return n;
}

/** The one-line message for a capture that could not be read to the end. */
export function captureErrorLine(e: { code: string; message: string; offset: number; frame: number }, file: string, packets: number): string {
  const where = e.code === 'io' || e.code === 'empty' ? '' : ` (byte offset ${e.offset}, frame ${e.frame})`;
  const kept = e.code === 'io' || e.code === 'empty' || e.code === 'not-a-capture' ? '' : `; the ${packets} packets before it are analysed`;
  return `flowdoc: ${file}: ${e.message}${where}${kept}\n`;
}

/** commander accumulator for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `--logs hop=file` or `--logs file` (the hop is then the file's base name). A path that itself
 * contains '=' is taken whole when the part before '=' looks like a path.
 */
export function parseHopFile(arg: string): { hop: string; file: string } {
  const eq = arg.indexOf('=');
  if (eq > 0 && !arg.slice(0, eq).includes('/')) {
    const hop = arg.slice(0, eq).trim();
    const file = arg.slice(eq + 1);
    if (!file) throw new UsageError(`--logs ${arg}: no file after '='`);
    return { hop, file };
  }
  const base = arg.split('/').pop() ?? arg;
  return { hop: base.replace(/\.(log|txt|json|jsonl)$/, ''), file: arg };
}

/**
 * `--lb-timeout S` (every destination) or `--lb-timeout HOST:PORT=S` (one destination; IPv6 as
 * `[addr]:port=S`), repeatable: idle timeouts the user knows the middlebox has.
 */
export function parseLbTimeouts(values: readonly string[]): { any: number | null; byServer: Map<string, number> } {
  let any: number | null = null;
  const byServer = new Map<string, number>();
  for (const v of values) {
    const eq = v.lastIndexOf('=');
    if (eq < 0) {
      any = parseNumber(v, '--lb-timeout', { min: Number.MIN_VALUE });
      continue;
    }
    const server = v.slice(0, eq).trim();
    const seconds = parseNumber(v.slice(eq + 1), `--lb-timeout ${server}`, { min: Number.MIN_VALUE });
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(server);
    if (!m || Number(m[3]) > 65535) throw new UsageError(`--lb-timeout: '${server}' is not IP:PORT (e.g. 10.0.0.5:443 or [2001:db8::5]:443)`);
    byServer.set(m[1] !== undefined ? `[${m[1].toLowerCase()}]:${Number(m[3])}` : `${m[2]}:${Number(m[3])}`, seconds);
  }
  return { any, byServer };
}

/**
 * Every `--logs` file must be readable before a capture is read: a typo in a path is told at once,
 * not after minutes of packets.
 */
export function checkLogFiles(logs: readonly { hop: string; file: string }[]): void {
  for (const { file } of logs) {
    if (file === '-') throw new UsageError(`--logs ${file}: standard input can carry a log only for \`flowdoc logs -\`; here name the file`);
    let why: string | null = null;
    try {
      if (statSync(file).isDirectory()) why = 'is a directory';
      else accessSync(file, constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    }
    if (why) throw new UsageError(`--logs ${file}: cannot read the log file: ${why}`);
  }
}

import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { UsageError } from './io.js';

/** A tcpdump child writing pcap to its stdout, packet by packet. */
export interface TcpdumpChild {
  /** The command as run, for messages (`tcpdump -i eth0 -U -w - tcp`). */
  readonly command: string;
  readonly stdout: Readable;
  /** Packets tcpdump last said the kernel dropped (asked with requestCounts, and at its exit); null until it said. */
  readonly dropped: number | null;
  /** Asks tcpdump for its counts now (SIGUSR1: it prints them on stderr and goes on); `dropped` follows when it answers. */
  requestCounts(): void;
  /** Stops it (SIGTERM, by its pid): it flushes, prints its counts and exits; its stdout then ends. */
  stop(): void;
  /** Its exit: code, its stderr lines (minus the "listening on" banner), and what it counted. */
  readonly exited: Promise<{ code: number | null; stoppedByUs: boolean; message: string; dropped: number | null }>;
}

/** `tcpdump -i IF -U -w - [FILTER]`: -U flushes every packet into the pipe, so incidents are not held back. */
export function tcpdumpArgs(iface: string, filter: string | undefined): string[] {
  return ['-i', iface, '-U', '-w', '-', ...(filter ? [filter] : [])];
}

/**
 * Starts tcpdump and resolves once it runs; a missing binary becomes one clear line naming it and
 * the exact command. Permission or interface errors come from tcpdump itself, in `exited`.
 */
export async function startTcpdump(iface: string, filter: string | undefined, onListening: () => void, bin = 'tcpdump'): Promise<TcpdumpChild> {
  const args = tcpdumpArgs(iface, filter);
  const command = [bin, ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))].join(' ');
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? `${bin} not found (install tcpdump, or put it on PATH)`
        : err.code === 'EACCES' ? `${bin} is not executable by this user`
        : `${bin} could not be started: ${err.message}`;
      reject(new UsageError(`${why}; command: ${command}`));
    });
  });
  let stoppedByUs = false;
  // tcpdump's stderr: its own messages (kept, capped) and its counts, which come as lines
  // ("N packets dropped by kernel" at exit; all three on one line when asked with SIGUSR1).
  let message = '';
  let dropped: number | null = null;
  let partial = '';
  let listening = false;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    partial += d;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl).trim();
      partial = partial.slice(nl + 1);
      onLine(line);
    }
  });
  const onLine = (line: string) => {
    if (!line) return;
    const drops = /(\d+) packets? dropped by kernel/.exec(line);
    if (drops) dropped = Number(drops[1]);
    // tcpdump says "listening on IF, link-type …" once the capture runs: from then on nothing is missed.
    if (/^(tcpdump: )?listening on /.test(line)) {
      if (!listening) { listening = true; onListening(); }
      return;
    }
    if (/packets? (captured|received by filter|dropped by kernel|dropped by interface)\b/.test(line)) return;
    if (message.length + line.length <= 65536) message += (message ? '; ' : '') + line;
  };
  const exited = new Promise<{ code: number | null; stoppedByUs: boolean; message: string; dropped: number | null }>((resolve) => {
    child.once('close', (code) => {
      onLine(partial.trim());
      resolve({ code, stoppedByUs, message, dropped });
    });
  });
  return {
    command,
    stdout: child.stdout,
    get dropped() { return dropped; },
    requestCounts: () => {
      // Only once it said it listens: before its handler is set, SIGUSR1 would end it.
      if (listening && child.exitCode === null && child.pid !== undefined) child.kill('SIGUSR1');
    },
    stop: () => {
      if (child.exitCode !== null || child.pid === undefined) return;
      stoppedByUs = true;
      child.kill('SIGTERM');
    },
    exited,
  };
}

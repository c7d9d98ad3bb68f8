import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { UsageError } from './io.js';

/** A tcpdump child writing pcap to its stdout, packet by packet. */
export interface TcpdumpChild {
  /** The command as run, for messages (`tcpdump -i eth0 -U -w - tcp`). */
  readonly command: string;
  readonly stdout: Readable;
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
  let stderr = '';
  child.stderr.setEncoding('utf8');
  let listening = false;
  child.stderr.on('data', (d: string) => {
    if (stderr.length + d.length <= 65536) stderr += d;
    // tcpdump says "listening on IF, link-type …" once the capture runs: from then on nothing is missed.
    if (!listening && /listening on /.test(stderr)) {
      listening = true;
      onListening();
    }
  });
  const exited = new Promise<{ code: number | null; stoppedByUs: boolean; message: string; dropped: number | null }>((resolve) => {
    child.once('close', (code) => {
      const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^listening on /.test(l) && !/^tcpdump: listening on /.test(l));
      const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
      const message = lines.filter((l) => !/packets? (captured|received by filter|dropped by kernel)$/.test(l)).join('; ');
      resolve({ code, stoppedByUs, message, dropped: dropped ? Number(dropped[1]) : null });
    });
  });
  return {
    command,
    stdout: child.stdout,
    stop: () => {
      if (child.exitCode !== null || child.pid === undefined) return;
      stoppedByUs = true;
      child.kill('SIGTERM');
    },
    exited,
  };
}

import { Readable } from 'node:stream';
import type { ScanCommandDeps } from '../../src/cli/commands/scan.js';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

/** Runs the CLI in this process, as a user would from a shell, and captures what it prints. */
export async function runCli(args: string[], options: { stdin?: Uint8Array; tty?: boolean; env?: NodeJS.ProcessEnv; scan?: ScanCommandDeps } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stdin = Readable.from(options.stdin ? [Buffer.from(options.stdin)] : []) as Readable & { isTTY?: boolean };
  if (options.tty) stdin.isTTY = true;
  const io: Io = {
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
    stderrIsTty: Boolean(options.tty),
    stdoutIsTty: Boolean(options.tty),
    env: options.env ?? {},
    stdin,
  };
  const code = await main(['node', 'flowdoc', ...args], io, options.scan ? { scan: options.scan } : {});
  return { code, stdout, stderr };
}

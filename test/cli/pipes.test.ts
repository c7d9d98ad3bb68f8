/**
 * `flowdoc … | head`: the reader closes the pipe after the first lines. flowdoc must stop quietly
 * (exit 0, nothing on stderr), as tcpdump or grep do, never print Node's EPIPE stack trace. This
 * needs a real process and a real pipe, so the CLI runs from its compiled sources in a child.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { compiledSource } from '../support/scan.js';

const CAPTURE = join(REPO_ROOT, 'captures/busy/client-any.pcap');

/**
 * Runs flowdoc with `args` and closes the reading end of its stdout before it writes anything,
 * so that its first write meets a closed pipe whatever the timing (`… | head` where head is done).
 */
function runIntoClosedPipe(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const main = pathToFileURL(compiledSource('src/cli/main.ts')).href;
  const launcher = `import(${JSON.stringify(main)}).then((m) => m.main(['node', 'flowdoc', ...process.argv.slice(1)])).then((c) => { process.exitCode = c; })`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', launcher, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.destroy();
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('output into a pipe that the reader closes early', () => {
  for (const args of [
    ['analyze', CAPTURE, '--format', 'html'],
    ['analyze', CAPTURE, '--format', 'json'],
    ['flows', CAPTURE, '--format', 'ndjson'],
    ['scan', join(REPO_ROOT, 'captures'), '--format', 'ndjson'],
  ]) {
    it(`flowdoc ${args[0]} ${args.slice(2).join(' ')} stops quietly with exit 0`, async () => {
      const r = await runIntoClosedPipe(args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
  }
});

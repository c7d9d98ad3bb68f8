/**
 * `flowdoc watch -` as a real process, on a real pipe that the writer keeps open (a tcpdump that
 * is still running): SIGINT and SIGTERM must end it with the final summary, and the process must
 * then exit, not wait for the writer to close its end. Needs a real process: in this process the
 * test's stdin stream never holds the event loop.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, onTestFailed } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { compiledSource } from '../support/scan.js';

const RST_AFTER_IDLE = readFileSync(join(REPO_ROOT, 'captures/rst-after-idle/client-eth.pcap'));

/** Frames 1–15 of rst-after-idle (through the RST of the first connection). */
function throughFrame(pcap: Buffer, n: number): Buffer {
  let o = 24;
  for (let i = 0; i < n; i++) o += 16 + pcap.readUInt32LE(o + 8);
  return pcap.subarray(0, o);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  describe(`flowdoc watch - stopped by ${signal} while the writer still holds the pipe open`, () => {
    it('prints the final summary and exits with analyze\'s exit code, leaving the pipe to the writer', async () => {
      const main = pathToFileURL(compiledSource('src/cli/main.ts')).href;
      const launcher = `import(${JSON.stringify(main)}).then((m) => m.main(['node', 'flowdoc', ...process.argv.slice(1)])).then((c) => { process.exitCode = c; })`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', launcher, 'watch', '-', '--stats-interval', '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
      // A watch that never exits fails the test by its timeout; onTestFailed then kills the child (no orphan left).
      onTestFailed(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      const incident = new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('"event":"incident"')) resolve();
        });
      });
      // The first connection up to its RST; the pipe stays open, as a live tcpdump's would.
      child.stdin.write(throughFrame(RST_AFTER_IDLE, 15));
      await incident;
      child.kill(signal);
      const end = await exited;
      expect(child.stdin.writableEnded).toBe(false); // the writer never closed its end
      child.stdin.destroy();
      expect(stderr).toBe('');
      expect(end).toEqual({ code: 1, signal: null });
      const events = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      expect(events.map((e) => e.event)).toEqual(['incident', 'destination', 'summary']);
      expect(events[2]).toMatchObject({ final: true, report: { capture: { packets: 15, error: null }, summary: { incidents: 1 } } });
    });
  });
}

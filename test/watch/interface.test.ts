import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';
import { WatchRun } from '../support/watch.js';

/** Real tcpdump, run as root: what a live capture needs (skipped with the reason otherwise). */
function liveCaptureProblem(): string | null {
  if (process.getuid?.() !== 0) return 'not root: tcpdump cannot capture';
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'tcpdump is not installed';
  }
  return null;
}
const PROBLEM = liveCaptureProblem();
if (PROBLEM) console.warn(`skipping live tcpdump tests: ${PROBLEM}`);

const load = (f: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'schema', f), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addSchema(load('analysis-v2.schema.json'));
const validate = ajv.compile(load('watch-event-v1.schema.json'));

/**
 * A stand-in for tcpdump with counts we know: it says it listens, writes a lab capture to stdout and
 * keeps it open; on SIGUSR1 it prints its counts as tcpdump does (one line), on SIGTERM the three
 * lines tcpdump prints at exit, and ends. Real tcpdump on the loopback never drops: this is how the
 * drop counts are shown to reach `stats` and the summary.
 */
function fakeTcpdump(): string {
  const dir = mkdtempSync(join(tmpdir(), 'flowdoc-fake-tcpdump-'));
  const bin = join(dir, 'tcpdump');
  writeFileSync(bin, `#!/bin/bash
trap 'echo "tcpdump: 40 packets captured, 42 packets received by filter, 2 packets dropped by kernel" >&2' USR1
trap 'printf "40 packets captured\\n45 packets received by filter\\n5 packets dropped by kernel\\n" >&2; exit 0' TERM
echo "tcpdump: listening on $2, link-type EN10MB (Ethernet), snapshot length 262144 bytes" >&2
cat ${JSON.stringify(join(REPO_ROOT, 'captures/rst-after-idle/client-eth.pcap'))}
while :; do sleep 0.05 & wait $!; done
`);
  chmodSync(bin, 0o755);
  return bin;
}

describe('flowdoc watch --interface starts tcpdump itself', () => {
  it('tells the drops tcpdump reports in stats events while it runs (asked with SIGUSR1), and those at its exit in the summary', async () => {
    const bin = fakeTcpdump();
    const run = new WatchRun(['--interface', 'eth9', '--tcpdump', bin, '--stats-interval', '1'], Readable.from([]));
    try {
      await run.next((e) => e.event === 'listening');
      const before = await run.next((e) => e.event === 'stats');
      expect((before.stats as Record<string, unknown>).tcpdumpDrops).toBe(null); // asked at this event; not answered yet
      const answered = await run.next((e) => e.event === 'stats' && (e.stats as Record<string, unknown>).tcpdumpDrops !== null);
      expect(answered.stats).toMatchObject({ tcpdumpDrops: 2, kernelDrops: null });
      run.signals.emit('SIGINT');
      expect(await run.done).toBe(1);
      const summary = run.events.at(-1)!.report as Record<string, any>;
      expect(summary.warnings).toContain('tcpdump reported 5 packets dropped by the kernel: evidence may be missing');
      expect(summary.incidents).toHaveLength(1);
      for (const x of run.events) expect(validate(x), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
      expect(run.stderr).toBe('');
    } finally {
      rmSync(dirname(bin), { recursive: true, force: true });
    }
  });

  it('names the missing binary and the exact command in one line (exit 2)', async () => {
    const r = await runCli(['watch', '--interface', 'lo', '--filter', 'tcp port 80', '--tcpdump', '/nonexistent/tcpdump']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("flowdoc: /nonexistent/tcpdump not found (install tcpdump, or put it on PATH); command: /nonexistent/tcpdump -i lo -U -w - 'tcp port 80'\n");
  });

  it('refuses a capture and --interface together, and --filter without --interface', async () => {
    expect((await runCli(['watch', '-', '--interface', 'lo'])).stderr).toBe('flowdoc: either a capture (-) or --interface lo, not both\n');
    expect((await runCli(['watch', '-', '--filter', 'tcp'], { stdin: new Uint8Array(0) })).code).toBe(2);
  });

  it.skipIf(PROBLEM !== null)('passes on tcpdump\'s own error for an interface that does not exist, with the command it ran', async () => {
    const r = await runCli(['watch', '--interface', 'fdnosuch0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/flowdoc: tcpdump failed \(exit 1\): tcpdump: fdnosuch0: .*; command: tcpdump -i fdnosuch0 -U -w -\n$/);
  });

  it.skipIf(PROBLEM !== null)('captures a real stale reuse on the loopback (real kernel, real tcpdump) and tells the incident live; SIGINT stops tcpdump and ends with the summary', async () => {
    // A server that resets the connection when a request arrives after it went quiet (as a middlebox that forgot it would).
    const sockets: Socket[] = [];
    let requests = 0;
    const server = createServer((s) => {
      sockets.push(s);
      s.on('data', () => {
        requests++;
        if (requests === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
        else s.resetAndDestroy();
      });
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const run = new WatchRun(['--interface', 'lo', '--filter', `tcp port ${port}`, '--idle-threshold', '1', '--stats-interval', '0'], Readable.from([]));
    try {
      const listening = await run.next((e) => e.event === 'listening');
      expect(listening.command).toBe(`tcpdump -i lo -U -w - 'tcp port ${port}'`);
      const client = connect(port, '127.0.0.1');
      client.on('error', () => {});
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      client.write('GET /first HTTP/1.1\r\nHost: lab\r\n\r\n');
      await new Promise<void>((resolve) => client.once('data', () => resolve()));
      await sleep(1500); // the idle gap under test (≥ the 1 s idle threshold: timers never fire early)
      client.write('GET /second HTTP/1.1\r\nHost: lab\r\n\r\n');
      const e = await run.next((x) => x.event === 'incident');
      const incident = e.incident as Record<string, any>;
      expect(incident).toMatchObject({ kind: 'stale-reuse-rst', server: `127.0.0.1:${port}` });
      expect(incident.request).toMatchObject({ method: 'GET', path: '/second' });
      expect(incident.idleSeconds).toBeGreaterThanOrEqual(1);
      run.signals.emit('SIGINT');
      expect(await run.done).toBe(1);
      const summary = run.events.at(-1)!;
      expect(summary).toMatchObject({ event: 'summary', final: true });
      expect((summary.report as Record<string, any>).incidents).toEqual([incident]);
      for (const x of run.events) expect(validate(x), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
      client.destroy();
    } finally {
      run.signals.emit('SIGTERM');
      await run.done;
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});

/**
 * `flowdoc watch --interface` inside a network namespace: real kernel, real veth pair, real
 * tcpdump started by watch in the client's namespace (through `--tcpdump`, a wrapper that runs
 * `ip netns exec NS tcpdump "$@"`), a real client and server each in its own namespace. The
 * incident is awaited live. The namespaces are this test's own (named after its pid), not the
 * lab's fixed fdlab-* ones, so it needs no lab lock. Skipped (with the reason) unless root with
 * ip netns and tcpdump.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { WatchRun } from '../support/watch.js';

const TAG = `fw${process.pid % 100000}`;
const NS_CLIENT = `${TAG}-c`;
const NS_SERVER = `${TAG}-s`;
const IF_CLIENT = `${TAG}c`;
const IF_SERVER = `${TAG}s`;
const CLIENT_IP = '10.251.7.1';
const SERVER_IP = '10.251.7.2';

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: 'ignore' });
}

function problem(): string | null {
  if (process.getuid?.() !== 0) return 'not root: no network namespaces';
  try { sh('tcpdump', ['--version']); } catch { return 'tcpdump is not installed'; }
  try { sh('ip', ['netns', 'list']); } catch { return 'ip netns is not available'; }
  return null;
}
const PROBLEM = problem();
if (PROBLEM) console.warn(`skipping the network-namespace watch test: ${PROBLEM}`);

const load = (f: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'schema', f), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addSchema(load('analysis-v2.schema.json'));
const validate = ajv.compile(load('watch-event-v1.schema.json'));

/** The server: answers the first request, resets the connection on the next (as a middlebox that forgot it would). */
const SERVER = `
const net = require('node:net');
let n = 0;
net.createServer((s) => {
  s.on('error', () => {});
  s.on('data', () => { if (++n === 1) s.write('HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n'); else s.resetAndDestroy(); });
}).listen(8080, '${SERVER_IP}', () => console.log('ready'));
`;
/** The client: one request, 1.5 s of silence on the kept-alive connection, then the request that meets the reset. */
const CLIENT = `
const net = require('node:net');
const c = net.connect(8080, '${SERVER_IP}');
c.on('error', () => process.exit(0));
c.on('close', () => process.exit(0));
c.once('connect', () => c.write('GET /first HTTP/1.1\\r\\nHost: lab\\r\\n\\r\\n'));
c.once('data', () => setTimeout(() => c.write('GET /second HTTP/1.1\\r\\nHost: lab\\r\\n\\r\\n'), 1500));
`;

describe.skipIf(PROBLEM !== null)('flowdoc watch --interface in a network namespace (real kernel, real tcpdump)', () => {
  const children: ChildProcess[] = [];
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowdoc-netns-'));
    sh('ip', ['netns', 'add', NS_CLIENT]);
    sh('ip', ['netns', 'add', NS_SERVER]);
    sh('ip', ['link', 'add', IF_CLIENT, 'netns', NS_CLIENT, 'type', 'veth', 'peer', 'name', IF_SERVER, 'netns', NS_SERVER]);
    for (const [ns, ifc, ip] of [[NS_CLIENT, IF_CLIENT, CLIENT_IP], [NS_SERVER, IF_SERVER, SERVER_IP]] as const) {
      sh('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', ifc]);
      sh('ip', ['-n', ns, 'link', 'set', ifc, 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  });
  afterAll(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of [NS_CLIENT, NS_SERVER]) {
      try { sh('ip', ['netns', 'del', ns]); } catch { /* never made */ }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts tcpdump inside the client\'s namespace and tells the stale reuse live; SIGINT ends it with the summary', async () => {
    const server = spawn('ip', ['netns', 'exec', NS_SERVER, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(server);
    await new Promise<void>((resolve) => server.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); }));
    const tcpdump = join(dir, 'tcpdump-in-netns');
    writeFileSync(tcpdump, `#!/bin/sh\nexec ip netns exec ${NS_CLIENT} tcpdump "$@"\n`);
    chmodSync(tcpdump, 0o755);
    const run = new WatchRun(['--interface', IF_CLIENT, '--filter', 'tcp port 8080', '--tcpdump', tcpdump, '--idle-threshold', '1', '--stats-interval', '0'], Readable.from([]));
    try {
      const listening = await run.next((e) => e.event === 'listening');
      expect(listening.command).toBe(`${tcpdump} -i ${IF_CLIENT} -U -w - 'tcp port 8080'`);
      const client = spawn('ip', ['netns', 'exec', NS_CLIENT, process.execPath, '-e', CLIENT], { stdio: 'ignore' });
      children.push(client);
      const e = await run.next((x) => x.event === 'incident');
      const incident = e.incident as Record<string, any>;
      expect(incident).toMatchObject({ kind: 'stale-reuse-rst', server: `${SERVER_IP}:8080` });
      expect(incident.client).toMatch(new RegExp(`^${CLIENT_IP.replace(/\./g, '\\.')}:\\d+$`));
      expect(incident.request).toMatchObject({ method: 'GET', path: '/second' });
      expect(incident.idleSeconds).toBeGreaterThanOrEqual(1);
      run.signals.emit('SIGINT');
      expect(await run.done).toBe(1);
      const summary = run.events.at(-1)!;
      expect(summary).toMatchObject({ event: 'summary', final: true });
      expect((summary.report as Record<string, any>).incidents).toEqual([incident]);
      for (const x of run.events) expect(validate(x), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
      expect(run.stderr).toBe('');
    } finally {
      run.signals.emit('SIGTERM');
      await run.done;
    }
  }, 30_000);
});

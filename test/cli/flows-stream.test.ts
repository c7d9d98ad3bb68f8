/**
 * `flows -f json|ndjson` writes each connection as it ends (after its linger), not after the
 * whole capture: its memory is bounded by live connections. Shown without timing: the capture
 * arrives on a stdin that is kept open, and the first connections must be written before it ends.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { CaptureScript } from '../../src/writer/index.js';

const CLOSED = 200; // enough pretty-printed records to pass the 64 KiB write batch

/** 200 short connections that close at once, then, a minute later, one more that stays open. */
function capture(): Uint8Array {
  const cap = new CaptureScript({ start: '2024-05-01T10:00:00Z' });
  for (let i = 0; i < CLOSED; i++) {
    const c = cap.tcp({ client: `10.0.0.1:${40000 + i}`, server: '10.9.9.9:80' });
    c.handshake();
    c.clientSends('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    c.fin('client');
    c.fin('server');
  }
  cap.idle(60); // past the 10 s linger: the closed connections are done
  cap.tcp({ client: '10.0.0.2:50000', server: '10.9.9.9:80' }).handshake();
  return cap.toPcap();
}

async function run(format: string): Promise<{ beforeEnd: string; all: string; code: number }> {
  const stdin = new PassThrough();
  let out = '';
  let firstWrite!: () => void;
  const wrote = new Promise<void>((r) => { firstWrite = r; });
  const io: Io = {
    stdout: (t) => { out += t; firstWrite(); },
    stderr: () => {},
    stderrIsTty: false,
    stdoutIsTty: false,
    env: {},
    stdin,
  };
  const done = main(['node', 'flowdoc', 'flows', '-f', format, '-'], io);
  stdin.write(capture()); // every packet, but the stream stays open
  await wrote;
  const beforeEnd = out;
  stdin.end();
  const code = await done;
  return { beforeEnd, all: out, code };
}

describe('flows streams its records as connections end', () => {
  it('ndjson: closed connections are written while the capture is still arriving', async () => {
    const r = await run('ndjson');
    expect(r.code).toBe(0);
    const early = r.beforeEnd.trim().split('\n').map((l) => JSON.parse(l));
    expect(early.length).toBeGreaterThan(0);
    expect(early.every((c) => c.state === 'SF')).toBe(true);
    expect(r.all.trim().split('\n')).toHaveLength(CLOSED + 1);
  });

  it('json: the document starts with the connections ended so far and is whole at the end', async () => {
    const r = await run('json');
    expect(r.code).toBe(0);
    expect(r.beforeEnd).toMatch(/^\{\n {2}"connections": \[\n {4}\{\n {6}"first": /);
    expect(r.beforeEnd).not.toMatch(/"summary"/);
    const j = JSON.parse(r.all);
    expect(Object.keys(j)).toEqual(['connections', 'capture', 'summary', 'warnings']);
    expect(j.connections).toHaveLength(CLOSED + 1);
    expect(j.summary.connections).toBe(CLOSED + 1);
    expect(new Set(j.connections.map((c: { id: number }) => c.id)).size).toBe(CLOSED + 1);
  });
});

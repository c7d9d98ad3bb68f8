import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogFollower } from './follow.js';

/** Real lab lines: the client sidecar's log of captures/rst-after-idle (the 503 UC is line 4). */
const LINES = readFileSync(resolve(import.meta.dirname, '../../captures/rst-after-idle/client.log'), 'utf8').trimEnd().split('\n');
const line = (n: number) => `${LINES[n - 1]}\n`;

let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
function logFile(): string {
  dir = mkdtempSync(join(tmpdir(), 'flowdoc-follow-'));
  return join(dir, 'client.log');
}
const paths = (f: LogFollower) => f.take().map((e) => `${e.line}:${e.path}`);

describe('LogFollower follows an access log as it grows (tail -F)', () => {
  it('reads only what was added since the last poll, and holds a last line until its newline comes', async () => {
    const file = logFile();
    writeFileSync(file, line(1) + line(2));
    const f = new LogFollower(file, { hop: 'client' });
    await f.poll();
    expect(paths(f)).toEqual(['1:/api/items/1', '2:/api/orders']);
    const third = line(3);
    appendFileSync(file, third.slice(0, 60));
    await f.poll();
    expect(paths(f)).toEqual([]); // half a line is never parsed
    appendFileSync(file, third.slice(60) + line(4).slice(0, 10));
    await f.poll();
    expect(paths(f)).toEqual(['3:/api/items/3']);
    appendFileSync(file, line(4).slice(10));
    await f.poll();
    const [e] = f.take();
    expect(e).toMatchObject({ line: 4, hop: 'client', responseCode: 503, flags: ['UC'] });
    expect((await f.close()).lines).toBe(4);
  });

  it('reads a file renamed away to its end, then the new file at the path from its start', async () => {
    const file = logFile();
    writeFileSync(file, line(1));
    const f = new LogFollower(file, { hop: 'client' });
    await f.poll();
    expect(paths(f)).toEqual(['1:/api/items/1']);
    appendFileSync(file, line(2)); // written just before the rotation: still read
    renameSync(file, `${file}.1`);
    await f.poll(); // between the rename and the create: the path names nothing
    writeFileSync(file, line(3) + line(4));
    await f.poll();
    expect(paths(f)).toEqual(['2:/api/orders', '1:/api/items/3', '2:/api/items/4']);
    appendFileSync(`${file}.1`, line(5)); // the old file is let go once the new one is read
    appendFileSync(file, line(5));
    await f.poll();
    expect(paths(f)).toEqual(['3:/api/items/5']);
    expect(f.counts).toEqual({ lines: 5, rotations: 1, truncations: 0 });
  });

  it('reads a file truncated in place (copytruncate) again from its start', async () => {
    const file = logFile();
    writeFileSync(file, line(1) + line(2) + line(3));
    const f = new LogFollower(file, { hop: 'client' });
    await f.poll();
    expect(f.take()).toHaveLength(3);
    truncateSync(file, 0);
    appendFileSync(file, line(4));
    await f.poll();
    expect(paths(f)).toEqual(['1:/api/items/4']);
    expect(f.counts).toMatchObject({ truncations: 1, rotations: 0 });
  });

  it('waits for a file that does not exist yet, and reports one that never came as no error', async () => {
    const file = logFile();
    const f = new LogFollower(file, { hop: 'client' });
    await f.poll();
    expect(f.take()).toEqual([]);
    writeFileSync(file, line(4));
    await f.poll();
    expect(paths(f)).toEqual(['1:/api/items/4']);
    const never = new LogFollower(join(dir, 'never.log'));
    await never.poll();
    expect((await never.close())).toMatchObject({ lines: 0, error: null, entries: [] });
  });

  it('parses a last line without a newline when following ends', async () => {
    const file = logFile();
    writeFileSync(file, line(1) + LINES[3]!);
    const f = new LogFollower(file, { hop: 'client' });
    await f.poll();
    expect(paths(f)).toEqual(['1:/api/items/1']);
    const r = await f.close();
    expect(r.entries.map((e) => e.line)).toEqual([2]);
    expect(r.lines).toBe(2);
  });
});

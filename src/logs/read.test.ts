import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLogFile } from './read.js';

/** istio-text-1.9plus.log lines 3–4 (istio/istio#38213): outbound then inbound line of one request. */
const OUTBOUND =
  '[2022-04-01T03:23:12.736Z] "GET /get HTTP/1.1" 200 - via_upstream - "-" 0 605 4 3 "-" "curl/7.82.0-DEV" "200efb6c-82be-4760-8ab6-7b6af588d4fb" "httpbin:8000" "10.244.0.31:80" outbound|8000||httpbin.default.svc.cluster.local 10.244.0.26:35086 10.96.71.143:8000 10.244.0.26:41616 - default';
const INBOUND =
  '[2022-04-01T03:23:12.738Z] "GET /get HTTP/1.1" 200 - via_upstream - "-" 0 605 2 2 "-" "curl/7.82.0-DEV" "200efb6c-82be-4760-8ab6-7b6af588d4fb" "httpbin:8000" "10.244.0.31:80" inbound|80|| 127.0.0.6:52027 10.244.0.31:80 10.244.0.26:35086 outbound_.8000_._.httpbin.default.svc.cluster.local default';

let dir = '';

async function file(name: string, content: string | Buffer): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, content);
  return p;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowdoc-logs-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readLogFile', () => {
  it('streams a CRLF file without a final newline and names the hop after the file', async () => {
    const p = await file('podA.log', `${OUTBOUND}\r\n${INBOUND}`);
    const r = await readLogFile(p);
    expect(r).toMatchObject({ file: p, hop: 'podA.log', format: 'istio-1.23', lines: 2, rejected: 0, error: null });
    expect(r.entries.map((e) => [e.line, e.upstreamLocalAddress, e.downstreamRemoteAddress])).toEqual([
      [1, '10.244.0.26:35086', '10.244.0.26:41616'],
      [2, '127.0.0.6:52027', '10.244.0.26:35086'],
    ]);
    expect(r.entries[1]?.routeName).toBe('default');
  });

  it('uses the hop it is given', async () => {
    const p = await file('x.log', `${OUTBOUND}\n`);
    const r = await readLogFile(p, { hop: 'podA-sidecar' });
    expect(r.hop).toBe('podA-sidecar');
    expect(r.entries[0]?.hop).toBe('podA-sidecar');
  });

  it('skips over a 10 MB line, keeping only its start for the sample', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024, 0x61);
    const p = await file('big.log', Buffer.concat([Buffer.from(OUTBOUND + '\n'), big, Buffer.from('\n' + INBOUND + '\n')]));
    const r = await readLogFile(p);
    expect(r.lines).toBe(3);
    expect(r.entries.map((e) => e.line)).toEqual([1, 3]);
    expect(r.rejectedSamples).toEqual([
      { line: 2, text: 'a'.repeat(200) + '…', reason: 'line is 10485760 bytes, longer than the 1048576-byte limit' },
    ]);
  });

  it('rejects binary junk between good lines without giving up on the file', async () => {
    const junk = Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x02, 0x80, 0x81, 0x0d]);
    const p = await file('mixed.log', Buffer.concat([Buffer.from(OUTBOUND + '\n'), junk, Buffer.from('\n' + INBOUND)]));
    const r = await readLogFile(p);
    expect(r.entries.map((e) => e.line)).toEqual([1, 3]);
    expect(r.rejected).toBe(1);
    expect(r.rejectedSamples[0]?.text).toBe('\\x00\ufffd\ufffd\\x01\\x02\ufffd\ufffd');
  });

  it('reports a binary file as not an access log', async () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37) % 256;
    const p = await file('capture.pcap', bytes);
    const r = await readLogFile(p);
    expect(r.entries).toHaveLength(0);
    expect(r.error?.code).toBe('not-an-access-log');
    expect(r.error?.oneLine()).toMatch(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not an access log: .* looks like binary data: "`));
  });

  it('reports a syslog as not an access log, quoting its first line', async () => {
    const p = await file('syslog', 'Nov 22 20:04:54 host kernel: [  0.000000] Linux version 6.1\n');
    const r = await readLogFile(p);
    expect(r.error?.code).toBe('not-an-access-log');
    expect(r.error?.detail).toContain('line 1 looks like text: "Nov 22 20:04:54 host kernel: [  0.000000] Linux version 6.1"');
  });

  it('reads a JSON file nested 10,000 deep without blowing the stack', async () => {
    const p = await file('deep.log', '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) + '\n');
    const r = await readLogFile(p);
    expect(r.rejected).toBe(1);
    expect(r.error?.code).toBe('not-an-access-log');
  });

  it('gives an io error, not a throw, for a missing file or a directory', async () => {
    const missing = await readLogFile(path.join(dir, 'nope.log'));
    expect(missing.error?.code).toBe('io');
    expect(missing.error?.oneLine()).toBe(`${path.join(dir, 'nope.log')}: cannot read the log file: no such file (ENOENT)`);
    const isDir = await readLogFile(dir);
    expect(isDir.error?.code).toBe('io');
    expect(isDir.error?.detail).toBe('cannot read the log file: it is a directory (EISDIR)');
    expect(isDir.entries).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('gives an io error for a file it may not read (skipped as root, who may read anything)', async () => {
    const p = await file('secret.log', OUTBOUND);
    await chmod(p, 0o000);
    const r = await readLogFile(p);
    expect(r.error?.code).toBe('io');
    expect(r.error?.detail).toBe('cannot read the log file: permission denied (EACCES)');
  });

  it('returns an empty result without error for an empty file', async () => {
    const p = await file('empty.log', '');
    expect(await readLogFile(p)).toMatchObject({ lines: 0, entries: [], rejected: 0, error: null, format: null });
  });
});

import { symlinkSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gzip, healthyCapture, put, staleCapture, tempDir } from '../../test/support/scan-fixtures.js';
import { findFiles, peekFile } from './discover.js';
import { globToRegExp } from './glob.js';

describe('finding files', () => {
  it('walks directories recursively, in path order, each file once (a linked directory already walked is not walked again)', async () => {
    const d = tempDir();
    put(d, 'b/2.pcap', 'x');
    put(d, 'a/deep/er/1.pcap', 'x');
    put(d, 'a/0.txt', 'x');
    symlinkSync(join(d, 'a'), join(d, 'b/loop'));
    const { files, missing } = await findFiles([d, join(d, 'b/2.pcap')]);
    expect(missing).toEqual([]);
    expect(files.map((f) => f.rel)).toEqual(['a/0.txt', 'a/deep/er/1.pcap', 'b/2.pcap']);
  });

  it('matches quoted glob patterns below their fixed base', async () => {
    const d = tempDir();
    put(d, 'n1/x.pcap', 'x');
    put(d, 'n1/sub/y.pcap.gz', 'x');
    put(d, 'n2/z.log', 'x');
    const { files } = await findFiles([`${d}/**/*.{pcap,pcap.gz}`]);
    expect(files.map((f) => f.rel)).toEqual(['n1/sub/y.pcap.gz', 'n1/x.pcap']);
    expect(globToRegExp('n?/[!y]*.pcap').test('n1/x.pcap')).toBe(true);
    expect(globToRegExp('n?/[!y]*.pcap').test('n1/y.pcap')).toBe(false);
  });

  it('reports inputs that do not exist and patterns that match nothing', async () => {
    const d = tempDir();
    const { missing } = await findFiles([join(d, 'nope'), `${d}/*.pcapng`]);
    expect(missing.map((m) => m.reason)).toEqual(['no such file or directory', 'no file matches this pattern']);
  });
});

describe('telling captures by magic bytes', () => {
  it('knows pcap, pcapng and gzip of either, whatever the name', async () => {
    const d = tempDir();
    expect(await peekFile(put(d, 'a.bin', staleCapture()))).toEqual({ kind: 'capture', format: 'pcap', gzip: false });
    expect(await peekFile(put(d, 'b.dat', staleCapture({ format: 'pcapng' })))).toEqual({ kind: 'capture', format: 'pcapng', gzip: false });
    expect(await peekFile(put(d, 'c.gz', gzip(healthyCapture())))).toEqual({ kind: 'capture', format: 'pcap', gzip: true });
  });

  it('skips text, gzip of text, and empty files', async () => {
    const d = tempDir();
    expect(await peekFile(put(d, 'x.pcap', 'not a capture at all'))).toEqual({ kind: 'not-capture' });
    expect(await peekFile(put(d, 'logs.gz', gzip(new TextEncoder().encode('a log line\n'.repeat(100)))))).toEqual({ kind: 'not-capture' });
    expect(await peekFile(put(d, 'empty.pcap', ''))).toEqual({ kind: 'empty' });
    expect(await peekFile(put(d, 'empty.gz', gzip(new Uint8Array(0))))).toEqual({ kind: 'empty' });
  });

  it('scans a gzip whose start does not decompress, so its row can show the damage', async () => {
    const d = tempDir();
    const z = gzip(staleCapture());
    z.fill(0xff, 10, 40);
    expect(await peekFile(put(d, 'bad.pcap.gz', z))).toEqual({ kind: 'capture', format: null, gzip: true });
  });

  it.skipIf(process.getuid?.() === 0)('scans a file it cannot read, so its row can say so', async () => {
    const d = tempDir();
    const p = put(d, 'secret.pcap', staleCapture());
    chmodSync(p, 0);
    expect(await peekFile(p)).toEqual({ kind: 'unreadable' });
  });
});

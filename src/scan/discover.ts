import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { sniffFormat } from '../capture/index.js';
import { globBase, globToRegExp, hasGlob } from './glob.js';

/** A file found under one of the scan's inputs. */
export interface FoundFile {
  /** The path as the user will read it: the input joined with the path below it. */
  readonly path: string;
  /** Path relative to the input it was found under (`/`-separated): the stable shard key. */
  readonly rel: string;
  /** Size on disk. */
  readonly size: number;
}

/** An input that does not exist (or a glob that matched nothing): a usage error for the caller. */
export interface MissingInput {
  readonly input: string;
  readonly reason: string;
}

/**
 * Every regular file under the inputs: directories recursively (symbolic links followed, each
 * directory once), files as given, globs matched below their static base. Sorted by path (code
 * unit order, locale-independent) and without duplicates, so every run and every shard sees the
 * same list.
 */
export async function findFiles(inputs: readonly string[]): Promise<{ files: FoundFile[]; missing: MissingInput[] }> {
  const out = new Map<string, FoundFile>();
  const missing: MissingInput[] = [];
  for (const input of inputs) {
    let st: Awaited<ReturnType<typeof stat>> | null = null;
    try { st = await stat(input); } catch { st = null; }
    if (st === null && hasGlob(input)) {
      const { base, rest } = globBase(input.split(sep).join('/'));
      const re = globToRegExp(rest);
      const found: FoundFile[] = [];
      try {
        await walk(base, base, new Set(), (f) => { if (re.test(f.rel)) found.push(f); });
      } catch { /* base missing: reported below */ }
      if (found.length === 0) missing.push({ input, reason: 'no file matches this pattern' });
      for (const f of found) if (!out.has(f.path)) out.set(f.path, f);
    } else if (st === null) {
      missing.push({ input, reason: 'no such file or directory' });
    } else if (st.isDirectory()) {
      await walk(input, input, new Set(), (f) => { if (!out.has(f.path)) out.set(f.path, f); });
    } else if (st.isFile()) {
      const name = input.split(sep).pop() ?? input;
      if (!out.has(input)) out.set(input, { path: input, rel: name, size: st.size });
    } else {
      missing.push({ input, reason: 'not a regular file or directory' });
    }
  }
  const files = [...out.values()].sort((a, b) => cmp(a.path, b.path));
  return { files, missing };
}

async function walk(root: string, dir: string, seen: Set<string>, onFile: (f: FoundFile) => void): Promise<void> {
  let real: string;
  try { real = await realpath(dir); } catch { return; }
  if (seen.has(real)) return; // a symbolic link back up the tree
  seen.add(real);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (dir === root) throw err;
    return; // an unreadable sub-directory: nothing in it can be scanned
  }
  entries.sort((a, b) => cmp(a.name, b.name));
  for (const e of entries) {
    const path = dir === '.' && root === '.' ? e.name : join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    let size = 0;
    if (e.isSymbolicLink() || isFile) {
      try {
        const s = await stat(path);
        isDir = s.isDirectory();
        isFile = s.isFile();
        size = s.size;
      } catch { continue; } // a dangling link
    }
    if (isDir) await walk(root, path, seen, onFile);
    else if (isFile) onFile({ path, rel: relative(root, path).split(sep).join('/'), size });
  }
}

/** Code-unit order: the same on every machine and locale. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What the first bytes of a file say, for choosing what to scan. */
export type Peek =
  | { readonly kind: 'capture'; readonly format: 'pcap' | 'pcapng' | null; readonly gzip: boolean }
  | { readonly kind: 'not-capture' }
  | { readonly kind: 'empty' }
  /** Could not be read at all: it may be a capture, so it is scanned and its row shows the error. */
  | { readonly kind: 'unreadable' };

const HEAD_BYTES = 64 * 1024;
const MAX_GZIP_HEAD_BYTES = 1 << 20;

/**
 * Tells a capture by its magic bytes: pcap, pcapng, or gzip whose decompressed first bytes are one
 * of those. A gzip file whose start does not decompress may be a damaged capture, so it is
 * scanned (its row reports the gzip error) rather than skipped.
 */
export async function peekFile(path: string): Promise<Peek> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return { kind: 'unreadable' };
  }
  try {
    let head = await readHead(fh, HEAD_BYTES);
    if (head.length === 0) return { kind: 'empty' };
    const outer = sniffFormat(head);
    if (outer === 'pcap' || outer === 'pcapng') return { kind: 'capture', format: outer, gzip: false };
    if (outer !== 'gzip') return { kind: 'not-capture' };
    for (;;) {
      let inner: Buffer;
      try {
        inner = gunzipSync(head, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      } catch {
        return { kind: 'capture', format: null, gzip: true };
      }
      if (inner.length >= 4) {
        const f = sniffFormat(inner);
        return f === 'pcap' || f === 'pcapng' ? { kind: 'capture', format: f, gzip: true } : { kind: 'not-capture' };
      }
      if (head.length < HEAD_BYTES || head.length >= MAX_GZIP_HEAD_BYTES) return inner.length === 0 ? { kind: 'empty' } : { kind: 'not-capture' };
      head = await readHead(fh, MAX_GZIP_HEAD_BYTES);
    }
  } catch {
    return { kind: 'unreadable' };
  } finally {
    await fh.close();
  }
}

async function readHead(fh: import('node:fs/promises').FileHandle, n: number): Promise<Buffer> {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await fh.read(buf, got, n - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

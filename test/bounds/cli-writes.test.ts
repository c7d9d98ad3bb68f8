/**
 * What the CLI writes: the result, to standard output or to the one `--out` path given, and
 * nothing else anywhere. An existing file is never overwritten without `--force` (not even
 * through a symbolic link), and a path it cannot write is a one-line usage error, not a stack trace.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';
import { tempDir } from './support.js';

const CAPTURE = join(REPO_ROOT, 'captures/rst-after-idle/client-any.pcap');
const LOG = join(REPO_ROOT, 'captures/rst-after-idle/client.log');

/** Every command that writes a result, with arguments that make it write one. */
const COMMANDS: ReadonlyArray<readonly [string, string[]]> = [
  ['analyze', ['analyze', '--idle-threshold', '5', '--logs', `client=${LOG}`, '--fail-on', 'none', CAPTURE]],
  ['flows', ['flows', '--format', 'ndjson', CAPTURE]],
  ['flows json', ['flows', '--format', 'json', CAPTURE]],
  ['info', ['info', CAPTURE]],
  ['logs', ['logs', LOG]],
];

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** Every path under `dir` (files, directories, links), relative. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      out.push(join(rel, name));
      if (lstatSync(p).isDirectory()) walk(p, join(rel, name));
    }
  };
  walk(dir, '');
  return out;
}

describe('the CLI writes only where --out says', () => {
  let work: { dir: string; remove: () => void };
  let cwd: { dir: string; remove: () => void };
  const home = process.cwd();
  const inputs = [CAPTURE, LOG].map((f) => [f, sha(f)] as const);

  beforeEach(() => {
    work = tempDir();
    cwd = tempDir();
    // Run from an empty directory: anything written relative to the working directory shows up here.
    process.chdir(cwd.dir);
  });

  afterEach(() => {
    process.chdir(home);
    expect(listing(cwd.dir)).toEqual([]);
    for (const [f, h] of inputs) expect(sha(f)).toBe(h);
    work.remove();
    cwd.remove();
  });

  for (const [name, args] of COMMANDS) {
    describe(`flowdoc ${name}`, () => {
      it('writes the result to a new --out file and nothing else', async () => {
        const out = join(work.dir, 'result.txt');
        const plain = await runCli(args);
        const r = await runCli([...args, '--out', out]);
        expect(r.stdout).toBe('');
        expect(r.code).toBe(plain.code);
        expect(readFileSync(out, 'utf8')).toBe(plain.stdout);
        expect(listing(work.dir)).toEqual(['result.txt']);
      });

      it('refuses to overwrite an existing file without --force, and overwrites it with --force', async () => {
        const out = join(work.dir, 'keep.txt');
        writeFileSync(out, 'keep me');
        const r = await runCli([...args, '--out', out]);
        expect(r.code).toBe(2);
        expect(r.stderr).toBe(`flowdoc: ${out} already exists (use --force to overwrite it)\n`);
        expect(readFileSync(out, 'utf8')).toBe('keep me');
        const forced = await runCli([...args, '--out', out, '--force']);
        expect(forced.stderr).toBe('');
        expect(readFileSync(out, 'utf8')).not.toBe('keep me');
        expect(listing(work.dir)).toEqual(['keep.txt']);
      });

      it('does not write through a symbolic link to an existing file, nor create the target of a dangling one', async () => {
        const target = join(work.dir, 'target.txt');
        writeFileSync(target, 'keep me');
        symlinkSync(target, join(work.dir, 'link.txt'));
        symlinkSync(join(work.dir, 'nowhere.txt'), join(work.dir, 'dangling.txt'));
        const r = await runCli([...args, '--out', join(work.dir, 'link.txt')]);
        expect(r.code).toBe(2);
        expect(readFileSync(target, 'utf8')).toBe('keep me');
        const d = await runCli([...args, '--out', join(work.dir, 'dangling.txt')]);
        expect(d.code).toBe(2);
        expect(d.stderr.split('\n').filter(Boolean)).toHaveLength(1);
        expect(existsSync(join(work.dir, 'nowhere.txt'))).toBe(false);
      });

      it('says in one line that it cannot write into a missing directory or onto a directory, and creates neither', async () => {
        const missing = join(work.dir, 'no', 'such', 'dir', 'out.txt');
        const r = await runCli([...args, '--out', missing]);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/^flowdoc: cannot write .*out\.txt: no such file or directory, open '.*out\.txt'\n$/);
        expect(existsSync(join(work.dir, 'no'))).toBe(false);
        mkdirSync(join(work.dir, 'adir'));
        const d = await runCli([...args, '--out', join(work.dir, 'adir'), '--force']);
        expect(d.code).toBe(2);
        expect(d.stderr).toMatch(/^flowdoc: cannot write .*adir: illegal operation on a directory/);
        expect(listing(work.dir)).toEqual(['adir']);
      });

      it('writes to standard output with --out -', async () => {
        const r = await runCli([...args, '--out', '-']);
        expect(r.stdout.length).toBeGreaterThan(0);
        expect(listing(work.dir)).toEqual([]);
      });
    });
  }

  it('writes no table report at all for a file that is not a capture', async () => {
    const notCapture = join(work.dir, 'notes.txt');
    writeFileSync(notCapture, 'hello, this is not a capture\n');
    const out = join(work.dir, 'report.txt');
    const r = await runCli(['analyze', '--out', out, notCapture]);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

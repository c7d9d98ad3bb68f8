import { Command, CommanderError } from 'commander';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { registerMerge } from '../../src/cli/commands/merge.js';
import { registerScan } from '../../src/cli/commands/scan.js';
import { type Io, UsageError } from '../../src/cli/io.js';
import type { WorkerSpec } from '../../src/scan/index.js';
import { REPO_ROOT } from '../corpus/shared.js';

let compiled: string | null = null;

/**
 * Worker threads cannot load TypeScript, and dist/ may be stale while others edit: the sources
 * (and the test workers) are transpiled file by file with the project's TypeScript (no type
 * check) into node_modules/.cache/flowdoc-scan-test/<hash of the sources>, where bare imports
 * still resolve. Test processes share it; a change in any source makes a new one (old ones are
 * pruned after ten minutes). The workers then run real JavaScript, as `flowdoc scan` does from dist/.
 */
function compiledTree(): string {
  if (compiled) return compiled;
  const cache = join(REPO_ROOT, 'node_modules/.cache/flowdoc-scan-test');
  const sources = [...walk(join(REPO_ROOT, 'src')), join(REPO_ROOT, 'test/support/faulty-scan-worker.ts')]
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .sort();
  const texts = sources.map((f) => readFileSync(f, 'utf8'));
  const hash = createHash('sha1');
  sources.forEach((f, i) => hash.update(f).update('\0').update(texts[i]!).update('\0'));
  const out = join(cache, hash.digest('hex').slice(0, 16));
  if (!existsSync(out)) {
    const tmp = `${out}.tmp-${process.pid}`;
    sources.forEach((f, i) => {
      const js = ts.transpileModule(texts[i]!, {
        fileName: f,
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText;
      const target = join(tmp, relative(REPO_ROOT, f)).replace(/\.ts$/, '.js');
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, js);
    });
    try {
      renameSync(tmp, out);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another test process made it first
    }
  }
  for (const old of readdirSync(cache)) {
    const p = join(cache, old);
    if (p !== out && Date.now() - statSync(p).mtimeMs > 10 * 60_000) rmSync(p, { recursive: true, force: true });
  }
  compiled = out;
  return out;
}

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Scan workers running the transpiled sources; `faulty` runs test/support/faulty-scan-worker.ts. */
export function testWorker(which: 'real' | 'faulty' = 'real'): WorkerSpec {
  const entry = which === 'real' ? 'src/scan/worker.js' : 'test/support/faulty-scan-worker.js';
  return { url: pathToFileURL(join(compiledTree(), entry)) };
}

/**
 * Runs `flowdoc scan …` / `flowdoc merge …` in this process as main() would (same error
 * handling, same exit codes) until main.ts registers the two commands; workers run from sources.
 */
export async function runScanCli(
  args: string[],
  options: { tty?: boolean; env?: NodeJS.ProcessEnv; worker?: WorkerSpec; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stdin = Readable.from(options.stdin !== undefined ? [Buffer.from(options.stdin)] : []) as Readable & { isTTY?: boolean };
  const io: Io = {
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
    stderrIsTty: Boolean(options.tty),
    stdoutIsTty: Boolean(options.tty),
    env: options.env ?? {},
    stdin,
  };
  let code = 0;
  const setExit = (c: number) => { code = Math.max(code, c); };
  const program = new Command()
    .name('flowdoc')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
  registerScan(program, io, setExit, { worker: options.worker ?? testWorker() });
  registerMerge(program, io, setExit);
  try {
    await program.parseAsync(['node', 'flowdoc', ...args]);
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.code === 'commander.helpDisplayed' ? 0 : 2, stdout, stderr };
    if (err instanceof UsageError) return { code: 2, stdout, stderr: stderr + `flowdoc: ${err.message}\n` };
    throw err;
  }
  return { code, stdout, stderr };
}

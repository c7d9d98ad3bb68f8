import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import type { WorkerSpec } from '../../src/scan/index.js';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from './io.js';

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
/** The compiled JavaScript of a source file (`src/cli/main.ts` → its .js in the compiled tree), to run in a child process. */
export function compiledSource(source: string): string {
  return join(compiledTree(), source.replace(/\.ts$/, '.js'));
}

export function testWorker(which: 'real' | 'faulty' = 'real'): WorkerSpec {
  const entry = which === 'real' ? 'src/scan/worker.js' : 'test/support/faulty-scan-worker.js';
  return { url: pathToFileURL(join(compiledTree(), entry)) };
}

/** Runs `flowdoc scan …` / `flowdoc merge …` through the real main(), with workers running from the sources. */
export async function runScanCli(
  args: string[],
  options: { tty?: boolean; env?: NodeJS.ProcessEnv; worker?: WorkerSpec; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args, {
    ...(options.tty !== undefined && { tty: options.tty }),
    ...(options.env !== undefined && { env: options.env }),
    ...(options.stdin !== undefined && { stdin: Buffer.from(options.stdin) }),
    scan: { worker: options.worker ?? testWorker() },
  });
}

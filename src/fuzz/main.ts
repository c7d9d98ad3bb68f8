/**
 * `node dist-tools/fuzz/main.js [--seed N] [--cases N] [--seconds N] [--target capture|decode|flows|logs|analyze|all]`
 *
 * Runs the fuzz loop in a worker thread watched from here: a case that does not finish within
 * `--deadline` seconds (a synchronous hang cannot be stopped from inside) or that runs the worker
 * out of memory is recorded as a finding, the worker is replaced, and the run goes on from the
 * next case. New findings are saved under `test/regressions/<target>/` (unless `--no-save`).
 *
 * Findings that depend on the machine rather than the input (slow, hang, process memory, a worker
 * out of memory: ENVIRONMENTAL_KINDS) are suspicions first: each is re-run alone in a fresh
 * worker and reported only if the same kind of problem happens again there; otherwise stderr
 * says it did not reproduce. (The memory finding proper comes from the analysis's own count and
 * needs no confirmation: it is the same on every run.)
 *
 * Other modes: `--replay FILE` runs one saved regression; `--case N` runs one case of `--target`
 * and prints what it did.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  DEFAULT_SLOW_MS, ENVIRONMENTAL_KINDS, loadRegressions, makeCase, runCase, runFuzz, saveFinding, signatureOf,
  type Finding, type FindingKind, type FuzzOptions,
} from './harness.js';
import { REPO_ROOT, seedCorpus, type CorpusChoice } from './seeds.js';
import { TARGET_NAMES, removeAllFuzzTempDirs, removeFuzzTempDir, type TargetName } from './targets.js';

const USAGE = `usage: node dist-tools/fuzz/main.js [--seed N] [--cases N] [--seconds N] [--target ${TARGET_NAMES.join('|')}|all]
       [--corpus bundled|all] [--deadline S] [--slow S] [--save DIR | --no-save] [--minimize] [--json]
       node dist-tools/fuzz/main.js --replay test/regressions/<target>/<hash>.json
       node dist-tools/fuzz/main.js --target T --case N [--seed N]`;

interface WorkerInput {
  readonly options: Omit<FuzzOptions, 'onBegin' | 'onCase' | 'onFinding'>;
  /** Instead of the loop: run this one case alone (to confirm a suspicion) and post its problem kinds. */
  readonly confirm?: { readonly target: TargetName; readonly index: number };
}

type WorkerMessage =
  | { type: 'begin'; target: TargetName; index: number }
  | { type: 'case'; target: TargetName; index: number; ms: number }
  | { type: 'finding'; finding: Finding }
  | { type: 'confirmed'; kinds: FindingKind[] }
  | { type: 'done' };

// ---- worker ------------------------------------------------------------------------------------

async function workerMain(): Promise<void> {
  const { options, confirm } = workerData as WorkerInput;
  const post = (m: WorkerMessage) => parentPort!.postMessage(m);
  if (confirm) {
    try {
      const c = makeCase(confirm.target, options.seed, confirm.index, seedCorpus(options.corpus ?? 'all'));
      const o = await runCase(c, { ...(options.slowMs !== undefined ? { slowMs: options.slowMs } : {}), watchProcessMemory: true });
      post({ type: 'confirmed', kinds: o.problems.map((p) => p.kind) });
    } finally {
      removeFuzzTempDir();
    }
    return;
  }
  try {
    await runFuzz({
      ...options,
      onBegin: (target, index) => post({ type: 'begin', target, index }),
      onCase: (target, index, ms) => post({ type: 'case', target, index, ms }),
      onFinding: (finding) => post({ type: 'finding', finding }),
    });
  } finally {
    removeFuzzTempDir();
  }
  post({ type: 'done' });
}

// ---- supervisor ----------------------------------------------------------------------------------

interface Args {
  seed: number;
  cases: number | undefined;
  seconds: number | undefined;
  targets: TargetName[];
  corpus: CorpusChoice;
  deadlineMs: number;
  slowMs: number;
  save: string | null;
  minimize: boolean;
  json: boolean;
  replay: string | undefined;
  caseIndex: number | undefined;
}

class UsageError extends Error {}
class HelpRequested extends Error {}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: 'string' }, cases: { type: 'string' }, seconds: { type: 'string' }, target: { type: 'string' },
      corpus: { type: 'string' }, deadline: { type: 'string' }, slow: { type: 'string' }, save: { type: 'string' },
      'no-save': { type: 'boolean' }, minimize: { type: 'boolean' }, json: { type: 'boolean' }, replay: { type: 'string' },
      case: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new HelpRequested();
  const num = (v: string | undefined, name: string, min = 0): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number ≥ ${min}, not '${v}'`);
    return n;
  };
  const target = values.target ?? 'all';
  const targets = target === 'all' ? [...TARGET_NAMES] : target.split(',') as TargetName[];
  for (const t of targets) if (!(TARGET_NAMES as readonly string[]).includes(t)) throw new UsageError(`unknown --target '${t}'`);
  const corpus = (values.corpus ?? 'all') as CorpusChoice;
  if (corpus !== 'all' && corpus !== 'bundled') throw new UsageError(`unknown --corpus '${values.corpus}'`);
  return {
    seed: num(values.seed, 'seed') ?? 1,
    cases: num(values.cases, 'cases', 1),
    seconds: num(values.seconds, 'seconds'),
    targets,
    corpus,
    deadlineMs: (num(values.deadline, 'deadline') ?? 60) * 1000,
    slowMs: (num(values.slow, 'slow') ?? DEFAULT_SLOW_MS / 1000) * 1000,
    save: values['no-save'] ? null : resolve(values.save ?? resolve(REPO_ROOT, 'test/regressions')),
    minimize: values.minimize ?? false,
    json: values.json ?? false,
    replay: values.replay,
    caseIndex: num(values.case, 'case'),
  };
}

function describe(f: Finding): string {
  return `${f.target} ${f.kind}: ${f.message}\n    case ${f.index} of seed ${f.seed} (from ${f.case.seedName}; ${f.case.input.length} bytes)\n    ${f.case.mutations.slice(0, 8).join('\n    ')}`;
}

async function supervise(a: Args): Promise<number> {
  const started = performance.now();
  const counts = Object.fromEntries(TARGET_NAMES.map((t) => [t, 0])) as Record<TargetName, number>;
  const findings: Finding[] = [];
  const signatures = new Set<string>();
  let lastProgress = started;
  const suspects: Finding[] = [];
  const record = (f: Finding): void => {
    if (signatures.has(f.signature)) return;
    signatures.add(f.signature);
    if (ENVIRONMENTAL_KINDS.has(f.kind)) {
      suspects.push(f);
      return;
    }
    findings.push(f);
    const where = a.save ? saveFinding(f, a.save) : null;
    process.stderr.write(`\nFINDING ${describe(f)}${where ? `\n    saved ${where}` : ''}\n`);
  };
  let startIndex = 0;
  let skipThrough: TargetName | undefined;
  for (;;) {
    const elapsed = (performance.now() - started) / 1000;
    if (a.seconds !== undefined && elapsed >= a.seconds) break;
    const casesLeft = a.cases !== undefined ? a.cases - startIndex : undefined;
    if (casesLeft === 1 && skipThrough === a.targets[a.targets.length - 1]) break;
    if (casesLeft !== undefined && casesLeft <= 0) break;
    const options: WorkerInput['options'] = {
      seed: a.seed, targets: a.targets, corpus: a.corpus, startIndex, minimize: a.minimize, slowMs: a.slowMs, watchProcessMemory: true,
      ...(skipThrough !== undefined ? { skipThrough } : {}),
      ...(casesLeft !== undefined ? { cases: casesLeft } : {}),
      ...(a.seconds !== undefined ? { seconds: a.seconds - elapsed } : {}),
      ...(casesLeft === undefined && a.seconds === undefined ? { cases: 1000 } : {}),
    };
    const outcome = await new Promise<{ kind: 'done' } | { kind: 'stopped'; target: TargetName; index: number; why: FindingKind; message: string }>((done) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: { options } satisfies WorkerInput, resourceLimits: { maxOldGenerationSizeMb: 3072 } });
      let current: { target: TargetName; index: number } | null = null;
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (v: Parameters<typeof done>[0]) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void worker.terminate();
        done(v);
      };
      // Until the first case begins the worker is loading the seed corpus: give it time for that too.
      const arm = (ms = a.deadlineMs) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const c = current ?? { target: a.targets[0]!, index: startIndex };
          finish({ kind: 'stopped', ...c, why: 'hang', message: `did not finish within ${a.deadlineMs / 1000} s (stopped)` });
        }, ms);
      };
      arm(Math.max(a.deadlineMs, 120_000));
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'begin') { current = { target: m.target, index: m.index }; arm(); }
        else if (m.type === 'case') {
          counts[m.target]++;
          startIndex = m.index;
          skipThrough = m.target;
          const now = performance.now();
          if (now - lastProgress > 10_000) {
            lastProgress = now;
            process.stderr.write(`${Math.round((now - started) / 1000)} s: ${TARGET_NAMES.map((t) => `${t} ${counts[t]}`).join(', ')}; ${findings.length} findings\n`);
          }
        } else if (m.type === 'finding') record(m.finding);
        else finish({ kind: 'done' });
      });
      worker.on('error', (e: Error & { code?: string }) => {
        const c = current ?? { target: a.targets[0]!, index: startIndex };
        const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
        finish({ kind: 'stopped', ...c, why: oom ? 'process-memory' : 'exception', message: oom ? 'ran the worker out of memory' : `the worker died: ${e.name}: ${e.message.split('\n')[0]}` });
      });
      worker.on('exit', () => finish({ kind: 'done' }));
    });
    removeAllFuzzTempDirs();
    if (outcome.kind === 'done') break;
    // Remake the case here (cases depend only on seed, target and index) and record it.
    const c = makeCase(outcome.target, a.seed, outcome.index, seedCorpus(a.corpus));
    counts[outcome.target]++;
    record({
      target: outcome.target, kind: outcome.why, message: outcome.message, signature: `${outcome.target} ${signatureOf(outcome.why, outcome.message)} ${outcome.index}`,
      seed: a.seed, index: outcome.index, case: c,
    });
    startIndex = outcome.index;
    skipThrough = outcome.target;
  }
  // Suspicions that depend on the machine: each case again, alone, in a fresh worker.
  for (const f of suspects) {
    const kinds = await confirmInFreshWorker(a, f.target, f.index);
    if (kinds.includes(f.kind)) {
      findings.push(f);
      const where = a.save ? saveFinding(f, a.save) : null;
      process.stderr.write(`\nFINDING (reproduced in a fresh worker) ${describe(f)}${where ? `\n    saved ${where}` : ''}\n`);
    } else {
      process.stderr.write(`\nnot reproduced in a fresh worker, so not reported: ${f.target} ${f.kind}: ${f.message} (case ${f.index} of seed ${f.seed}; the re-run gave ${kinds.length > 0 ? kinds.join(', ') : 'no problem'})\n`);
    }
  }
  removeAllFuzzTempDirs();
  const seconds = (performance.now() - started) / 1000;
  const total = Object.values(counts).reduce((x, y) => x + y, 0);
  if (a.json) {
    process.stdout.write(JSON.stringify({ seed: a.seed, seconds, total, cases: counts, findings: findings.map((f) => ({ target: f.target, kind: f.kind, message: f.message, index: f.index, seedName: f.case.seedName, mutations: f.case.mutations })) }, null, 2) + '\n');
  } else {
    process.stdout.write(`seed ${a.seed}: ${total} cases in ${seconds.toFixed(1)} s (${TARGET_NAMES.map((t) => `${t} ${counts[t]}`).join(', ')}); ${findings.length} finding(s)\n`);
    for (const f of findings) process.stdout.write(`  ${describe(f)}\n`);
  }
  return findings.length > 0 ? 1 : 0;
}

/**
 * Runs one case alone in a new worker (same seed, corpus and bounds) and says which kinds of
 * problem it had: a worker stopped at the deadline counts as a hang, one out of memory as process memory.
 */
function confirmInFreshWorker(a: Args, target: TargetName, index: number): Promise<FindingKind[]> {
  return new Promise((done) => {
    const input: WorkerInput = { options: { seed: a.seed, corpus: a.corpus, slowMs: a.slowMs }, confirm: { target, index } };
    const worker = new Worker(new URL(import.meta.url), { workerData: input, resourceLimits: { maxOldGenerationSizeMb: 3072 } });
    let settled = false;
    const finish = (kinds: FindingKind[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      done(kinds);
    };
    // The corpus loads first (as in supervise), then the case gets the deadline.
    const timer = setTimeout(() => finish(['hang']), Math.max(a.deadlineMs, 120_000) + a.deadlineMs);
    worker.on('message', (m: WorkerMessage) => { if (m.type === 'confirmed') finish(m.kinds); });
    worker.on('error', (e: Error & { code?: string }) => finish([e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'process-memory' : 'exception']));
    worker.on('exit', () => finish([]));
  });
}

async function replay(file: string): Promise<number> {
  const dir = resolve(file, '../..');
  const wanted = resolve(file).replace(/\.(bin|json)$/, '.bin');
  const r = loadRegressions(dir).find((x) => resolve(x.file) === wanted);
  if (!r) throw new UsageError(`no saved regression at ${file}`);
  const o = await runCase(r.case);
  process.stdout.write(`${r.meta.target} ${r.meta.kind}: ${r.meta.message}\n  now: ${o.problems.length === 0 ? 'no problem' : o.problems.map((p) => `${p.kind}: ${p.message}`).join('\n       ')} (${o.ms.toFixed(0)} ms)\n`);
  removeFuzzTempDir();
  return o.problems.length > 0 ? 1 : 0;
}

async function single(a: Args, index: number): Promise<number> {
  const target = a.targets[0]!;
  const c = makeCase(target, a.seed, index, seedCorpus(a.corpus));
  const o = await runCase(c, { slowMs: a.slowMs });
  process.stdout.write(`${target} case ${index} of seed ${a.seed}: ${c.input.length} bytes from ${c.seedName}\n  ${c.mutations.join('\n  ')}\n  params ${JSON.stringify(c.params).slice(0, 500)}\n  ${o.problems.length === 0 ? 'no problem' : o.problems.map((p) => `${p.kind}: ${p.message}`).join('\n  ')} (${o.ms.toFixed(0)} ms)\n`);
  if (a.save && o.problems.length > 0) {
    for (const p of o.problems) process.stdout.write(`  saved ${saveFinding({ target, kind: p.kind, message: p.message, signature: '', seed: a.seed, index, case: c }, a.save)}\n`);
  }
  removeFuzzTempDir();
  return o.problems.length > 0 ? 1 : 0;
}

async function cli(argv: string[]): Promise<number> {
  try {
    const a = parse(argv);
    if (a.replay !== undefined) return await replay(a.replay);
    if (a.caseIndex !== undefined) return await single(a, a.caseIndex);
    return await supervise(a);
  } catch (e) {
    if (e instanceof HelpRequested) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`fuzz: ${(e as Error).message}\n${USAGE}\n`);
      return 2;
    }
    throw e;
  }
}

if (isMainThread) {
  process.exitCode = await cli(process.argv.slice(2));
} else {
  await workerMain();
}

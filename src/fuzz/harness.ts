/**
 * The fuzz loop: makes case `i` of target `t` from its own seed (so any case can be replayed
 * alone), runs it, and turns what went wrong into findings:
 *
 * - exception: anything thrown (everything must come back as a typed error or a result);
 * - invariant: a promise of the stage broken (see targets.ts);
 * - slow: a case that took longer than `slowMs` (work per byte out of line; a sync hang is caught
 *   by the worker supervisor in main.ts, which can stop it);
 * - hang: an async case that did not settle within `hangMs`;
 * - memory: what the analysis itself says it retains (connections live at once, bytes buffered
 *   for unfinished heads, log entries held; see `Retained`), costed by `retainedBytes`, more than
 *   `memoryBound(input)` (64 bytes per input byte, at least 16 MiB). These are counts the stages
 *   keep, so the finding is the same on every run of the case, whatever the garbage collector did;
 * - process-memory (only with `watchProcessMemory`): live heap + array buffers grew by more than
 *   the bound. That sample depends on GC timing and on what ran before in the process, so it is a
 *   suspicion, not a finding: the supervisor (main.ts) re-runs the case alone in a fresh worker
 *   and reports it only if it happens again there (as it does for slow cases and hangs).
 *
 * Process memory growth is always reported as a figure (`processBytes`), never asserted on.
 * Findings are de-duplicated by signature (kind + message without numbers), optionally
 * minimised, and saved as `test/regressions/<target>/<hash>.bin` + `.json`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { scanLayout } from './layout.js';
import { Rng, caseSeed, contentHash } from './random.js';
import { seedCorpus, type CorpusChoice, type SeedCorpus } from './seeds.js';
import { TARGETS, TARGET_NAMES, type FuzzCase, type RunContext, type Target, type TargetName } from './targets.js';

export type FindingKind = 'exception' | 'invariant' | 'slow' | 'hang' | 'memory' | 'process-memory';

/**
 * Kinds whose finding depends on the machine (its load, the garbage collector's timing) rather
 * than on the input alone: confirmed by a re-run in a fresh worker before they are reported.
 */
export const ENVIRONMENTAL_KINDS: ReadonlySet<FindingKind> = new Set(['slow', 'hang', 'process-memory']);

/**
 * What a run retains by its own count, at its peak: the connection table's live connections and
 * the bytes its sniffers buffer (`TableStats.peakLive`, `.peakBufferedBytes`), and the log
 * entries held. Every field is a count the pipeline keeps, identical on every run of one input.
 */
export interface Retained {
  readonly liveConnections: number;
  readonly bufferedBytes: number;
  readonly logEntries: number;
}

export const NOTHING_RETAINED: Retained = { liveConnections: 0, bufferedBytes: 0, logEntries: 0 };

/**
 * What one live connection record costs at most in the account: its fixed fields and endpoints,
 * and its bounded lists (RECORD_BOUNDS in targets.ts, checked on every record handed on) at a
 * typical fill. The Slowloris test in test/bounds/http-heads.test.ts measures well under this.
 */
export const CONNECTION_BYTES = 2048;
/** What one parsed access-log entry costs in the account (its fields, strings included). */
export const LOG_ENTRY_BYTES = 512;

/** The bytes a run retains by its own account: connections and log entries at their cost, buffers as counted. */
export function retainedBytes(r: Retained): number {
  return r.liveConnections * CONNECTION_BYTES + r.bufferedBytes + r.logEntries * LOG_ENTRY_BYTES;
}

function describeRetained(r: Retained): string {
  return `${r.liveConnections} live connections × ${CONNECTION_BYTES} B, ${r.bufferedBytes} bytes buffered, ${r.logEntries} log entries × ${LOG_ENTRY_BYTES} B`;
}

export interface Finding {
  readonly target: TargetName;
  readonly kind: FindingKind;
  /** One line: what went wrong. */
  readonly message: string;
  /** For de-duplication: kind and message with numbers and quoted text blanked. */
  readonly signature: string;
  /** The run seed and case index that made the input (the case can be remade from them). */
  readonly seed: number;
  readonly index: number;
  readonly case: FuzzCase;
  readonly ms?: number;
  /** What the run retained by its own account (bytes, see `retainedBytes`). */
  readonly retainedBytes?: number;
  /** How much live process memory grew during the case: a figure to read, not a verdict. */
  readonly processBytes?: number;
  /** Size of the input as generated, when it was shrunk before saving. */
  readonly generatedBytes?: number;
}

export interface CaseOutcome {
  readonly problems: { kind: FindingKind; message: string }[];
  readonly ms: number;
  /** Peak of what the run retained by its own account (`Retained`, the most of each count reported). */
  readonly retained: Retained;
  readonly retainedBytes: number;
  /** Live process memory (JS heap + array buffers) at the case's peak over what it was before: reported only. */
  readonly processBytes: number;
}

export interface CaseOptions {
  slowMs?: number;
  hangMs?: number;
  target?: Target;
  /** The memory bound for this case (default `memoryBound` of its input). */
  boundBytes?: number;
  /** Also turn process memory growth above the bound into a (`process-memory`) problem; see the file comment. */
  watchProcessMemory?: boolean;
  /** The clock for `ms` and `slowMs` (default `performance.now`). */
  now?: () => number;
}

export interface FuzzOptions {
  readonly seed: number;
  readonly targets?: readonly TargetName[];
  /** Cases per target, or per target by name (default 1000 each when no time budget is given). */
  readonly cases?: number | Partial<Record<TargetName, number>>;
  /** Stop after this many seconds in all (whichever of cases/seconds comes first). */
  readonly seconds?: number;
  readonly corpus?: CorpusChoice;
  /** First case index (per target) to run; the supervisor restarts past a hung case with it. */
  readonly startIndex?: number;
  /** At `startIndex`, skip the targets up to and including this one (they ran, or hung, already). */
  readonly skipThrough?: TargetName;
  readonly slowMs?: number;
  readonly hangMs?: number;
  /** See CaseOptions.watchProcessMemory (main.ts turns it on and confirms what it finds). */
  readonly watchProcessMemory?: boolean;
  /** Shrink each new finding's input before reporting it. */
  readonly minimize?: boolean;
  readonly onBegin?: (target: TargetName, index: number) => void;
  readonly onCase?: (target: TargetName, index: number, ms: number) => void;
  readonly onFinding?: (f: Finding) => void;
}

export interface FuzzReport {
  readonly seed: number;
  readonly cases: Record<TargetName, number>;
  readonly total: number;
  readonly seconds: number;
  readonly findings: Finding[];
  /** The slowest case per target (ms, index). */
  readonly slowest: Partial<Record<TargetName, { ms: number; index: number; bytes: number }>>;
}

export const DEFAULT_SLOW_MS = 5_000;
export const DEFAULT_HANG_MS = 30_000;
const MIB = 1024 * 1024;

/** The memory a case may hold: 64 bytes per input byte (64 MiB per MiB), at least 16 MiB. */
export function memoryBound(inputBytes: number): number {
  return Math.max(16 * MIB, 64 * inputBytes);
}

/** The bytes a case feeds the analysis: its capture or log bytes, and the text of the logs in its params. */
export function caseInputBytes(c: FuzzCase): number {
  const logs = (c.params as { logs?: { text?: unknown }[] }).logs;
  let n = c.input.length;
  if (Array.isArray(logs)) for (const l of logs) if (typeof l?.text === 'string') n += Buffer.byteLength(l.text);
  return n;
}

let gcFn: (() => void) | null | undefined;

/** A full garbage collection, when the engine lets us have one (`--expose-gc`, or set at run time). */
export function collectGarbage(): boolean {
  if (gcFn === undefined) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (typeof g === 'function') gcFn = g;
    else {
      try {
        setFlagsFromString('--expose-gc');
        gcFn = runInNewContext('gc') as () => void;
      } catch {
        gcFn = null;
      }
    }
  }
  if (gcFn === null) return false;
  gcFn();
  return true;
}

export function liveBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Case `index` of `target` for run seed `seed`: always the same bytes for the same corpus. */
export function makeCase(target: TargetName, seed: number, index: number, corpus: SeedCorpus): FuzzCase {
  try {
    return TARGETS[target].generate(new Rng(caseSeed(seed, target, index)), corpus);
  } catch (e) {
    // A bug of the fuzzer itself, not a finding: say so plainly.
    throw new Error(`the fuzzer could not make ${target} case ${index} of seed ${seed}: ${(e as Error).stack ?? String(e)}`);
  }
}

function oneLine(s: string): string {
  const i = s.indexOf('\n');
  return (i < 0 ? s : s.slice(0, i)).slice(0, 500);
}

/** Messages put their varying details after ` | `; the part before it, numbers blanked, names the problem. */
export function signatureOf(kind: FindingKind, message: string): string {
  const key = message.split(' | ')[0]!;
  return `${kind}: ${key.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N')}`.slice(0, 160);
}

function describeError(e: unknown): string {
  if (e instanceof Error) {
    // Where it was thrown, without line numbers that shift with every edit.
    const at = (e.stack ?? '').split('\n').find((l) => /^\s+at /.test(l))?.trim().replace(/:\d+:\d+\)?$/, '').replace(/\(.*[\\/]/, '(') ?? '';
    return `${e.name}: ${oneLine(e.message)}${at ? ` ${at}` : ''}`;
  }
  return `thrown non-Error: ${oneLine(String(e))}`;
}

/** Runs one case and reports its problems, time, what it retained and process memory growth. Never throws. */
export async function runCase(c: FuzzCase, options: CaseOptions = {}): Promise<CaseOutcome> {
  const slowMs = options.slowMs ?? DEFAULT_SLOW_MS;
  const hangMs = options.hangMs ?? DEFAULT_HANG_MS;
  const now = options.now ?? (() => performance.now());
  const bound = options.boundBytes ?? memoryBound(caseInputBytes(c));
  const watch = options.watchProcessMemory ?? false;
  const before = liveBytes();
  let peak = before;
  let retained: Retained = NOTHING_RETAINED;
  const ctx: RunContext = {
    sample(): void {
      let live = liveBytes();
      // Watching, and above the bound: collect the garbage while the results are still held, and look again.
      if (watch && live - before > bound && collectGarbage()) live = liveBytes();
      if (live > peak) peak = live;
    },
    retained(r: Partial<Retained>): void {
      retained = {
        liveConnections: Math.max(retained.liveConnections, r.liveConnections ?? 0),
        bufferedBytes: Math.max(retained.bufferedBytes, r.bufferedBytes ?? 0),
        logEntries: Math.max(retained.logEntries, r.logEntries ?? 0),
      };
    },
  };
  const problems: { kind: FindingKind; message: string }[] = [];
  const t0 = now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const running = (options.target ?? TARGETS[c.target]).run(c, ctx);
    // No timer at all for an unbounded wait (setTimeout would turn Infinity into 1 ms).
    const hang = Number.isFinite(hangMs) ? new Promise<'hang'>((resolve) => { timer = setTimeout(() => resolve('hang'), hangMs); }) : null;
    const r = await (hang ? Promise.race([running, hang]) : running);
    if (r === 'hang') problems.push({ kind: 'hang', message: `did not finish within ${hangMs} ms` });
    else for (const p of r) problems.push({ kind: 'invariant', message: oneLine(p) });
  } catch (e) {
    problems.push({ kind: 'exception', message: describeError(e) });
  } finally {
    clearTimeout(timer);
  }
  const ms = now() - t0;
  if (ms > slowMs && !problems.some((p) => p.kind === 'hang')) problems.push({ kind: 'slow', message: `took ${Math.round(ms)} ms for ${c.input.length} bytes (bound ${slowMs} ms)` });
  const held = retainedBytes(retained);
  if (held > bound) {
    problems.push({ kind: 'memory', message: `retained more than its input allows by its own count | ${held} bytes (${describeRetained(retained)}) for ${caseInputBytes(c)} input bytes (bound ${bound} bytes)` });
  }
  const growth = peak - before;
  if (watch && growth > bound) {
    problems.push({ kind: 'process-memory', message: `process memory grew more than the input allows | ${Math.round(growth / MIB)} MiB for ${caseInputBytes(c)} input bytes (bound ${Math.round(bound / MIB)} MiB)` });
  }
  return { problems, ms, retained, retainedBytes: held, processBytes: growth };
}

/**
 * Shrinks a case's input while it still gives a problem with the same signature: first whole
 * records/blocks, then byte ranges of halving size. Bounded by `budget` runs.
 */
export async function minimizeCase(c: FuzzCase, signature: string, budget = 300, target?: Target): Promise<FuzzCase> {
  let best = c;
  let runs = 0;
  const still = async (input: Uint8Array): Promise<boolean> => {
    runs++;
    const o = await runCase({ ...best, input }, { slowMs: Infinity, ...(target ? { target } : {}) });
    return o.problems.some((p) => signatureOf(p.kind, p.message) === signature);
  };
  // Runs of whole units (records, blocks), halving the run length, last runs first.
  for (let size = Math.floor(scanLayout(best.input).units.length / 2); size >= 1 && runs < budget; size = Math.floor(size / 2)) {
    const units = scanLayout(best.input).units;
    for (let i = units.length - size; i >= 0 && runs < budget; i -= size) {
      const from = units[i]!.start, to = units[i + size - 1]!.end;
      const cut = new Uint8Array(best.input.length - (to - from));
      cut.set(best.input.subarray(0, from));
      cut.set(best.input.subarray(to), from);
      if (cut.length > 0 && (await still(cut))) {
        best = { ...best, input: cut };
        units.splice(i, size);
      }
    }
  }
  // Byte ranges.
  for (let size = Math.floor(best.input.length / 2); size >= 1 && runs < budget; size = Math.floor(size / 2)) {
    for (let at = 0; at + size <= best.input.length && runs < budget;) {
      const cut = new Uint8Array(best.input.length - size);
      cut.set(best.input.subarray(0, at));
      cut.set(best.input.subarray(at + size), at);
      if (cut.length > 0 && (await still(cut))) best = { ...best, input: cut };
      else at += size;
    }
  }
  return best;
}

/** Runs the fuzz loop: targets round-robin, until the case count or the time budget is reached. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const targets = options.targets ?? TARGET_NAMES;
  const corpus = seedCorpus(options.corpus ?? 'bundled');
  const fallback = options.seconds === undefined ? 1000 : Infinity;
  const countOf = (t: TargetName): number => (typeof options.cases === 'object' ? options.cases[t] ?? 0 : options.cases ?? fallback);
  const perTarget = Math.max(...targets.map(countOf));
  const deadline = options.seconds === undefined ? Infinity : performance.now() + options.seconds * 1000;
  const cases = Object.fromEntries(TARGET_NAMES.map((t) => [t, 0])) as Record<TargetName, number>;
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const slowest: FuzzReport['slowest'] = {};
  const start = performance.now();
  let total = 0;
  for (let index = options.startIndex ?? 0; index < (options.startIndex ?? 0) + perTarget; index++) {
    if (performance.now() > deadline) break;
    const skip = index === (options.startIndex ?? 0) && options.skipThrough !== undefined ? targets.indexOf(options.skipThrough) : -1;
    for (const [k, target] of targets.entries()) {
      if (k <= skip || index - (options.startIndex ?? 0) >= countOf(target)) continue;
      options.onBegin?.(target, index);
      const c = makeCase(target, options.seed, index, corpus);
      const o = await runCase(c, options);
      cases[target]++;
      total++;
      options.onCase?.(target, index, o.ms);
      const s = slowest[target];
      if (!s || o.ms > s.ms) slowest[target] = { ms: Math.round(o.ms), index, bytes: c.input.length };
      for (const p of o.problems) {
        const signature = `${target} ${signatureOf(p.kind, p.message)}`;
        if (seen.has(signature)) continue;
        seen.add(signature);
        const small = options.minimize && (p.kind === 'exception' || p.kind === 'invariant')
          ? await minimizeCase(c, signatureOf(p.kind, p.message))
          : c;
        const f: Finding = {
          target, kind: p.kind, message: p.message, signature, seed: options.seed, index, case: small, ms: o.ms,
          retainedBytes: o.retainedBytes, processBytes: o.processBytes,
          ...(small !== c ? { generatedBytes: c.input.length } : {}),
        };
        findings.push(f);
        options.onFinding?.(f);
      }
    }
  }
  return { seed: options.seed, cases, total, seconds: (performance.now() - start) / 1000, findings, slowest };
}

// ---- regression files ---------------------------------------------------------------------------

/** What is saved beside each regression input. */
export interface RegressionMeta {
  readonly target: TargetName;
  readonly kind: FindingKind;
  readonly message: string;
  readonly seed: number;
  readonly index: number;
  readonly seedName: string;
  /** The mutations that made the input as generated (before it was shrunk, see `generatedBytes`). */
  readonly mutations: readonly string[];
  readonly generatedBytes?: number;
  readonly params: Record<string, unknown>;
  /** What was fixed (file: what), filled in by hand once it is. */
  readonly fix?: string;
}

/** Saves the input as `<dir>/<target>/<hash>.bin` and its metadata as `<hash>.json`; returns the .bin path. */
export function saveFinding(f: Finding, dir: string): string {
  const sub = join(dir, f.target);
  mkdirSync(sub, { recursive: true });
  const hash = contentHash(f.case.input, `${f.target} ${JSON.stringify(f.case.params)}`);
  const meta: RegressionMeta = {
    target: f.target, kind: f.kind, message: f.message, seed: f.seed, index: f.index,
    seedName: f.case.seedName, mutations: f.case.mutations, ...(f.generatedBytes !== undefined ? { generatedBytes: f.generatedBytes } : {}),
    params: f.case.params,
  };
  const bin = join(sub, `${hash}.bin`);
  writeFileSync(bin, f.case.input);
  writeFileSync(join(sub, `${hash}.json`), JSON.stringify(meta, null, 2) + '\n');
  return bin;
}

export interface Regression {
  readonly file: string;
  readonly meta: RegressionMeta;
  readonly case: FuzzCase;
}

/** Every saved regression under `dir` (sorted by path). */
export function loadRegressions(dir: string): Regression[] {
  if (!existsSync(dir)) return [];
  const out: Regression[] = [];
  for (const target of readdirSync(dir).sort()) {
    const sub = join(dir, target);
    if (!(TARGET_NAMES as readonly string[]).includes(target)) continue;
    for (const name of readdirSync(sub).filter((n) => n.endsWith('.json')).sort()) {
      const meta = JSON.parse(readFileSync(join(sub, name), 'utf8')) as RegressionMeta;
      const bin = join(sub, name.replace(/\.json$/, '.bin'));
      const input = new Uint8Array(readFileSync(bin));
      out.push({ file: bin, meta, case: { target: meta.target, input, params: meta.params, mutations: meta.mutations, seedName: meta.seedName } });
    }
  }
  return out;
}

/**
 * `scan --logs DIR`: which access-log files go with which capture. The rules, first that pairs
 * any log wins (docs/scan.md has them with examples):
 *
 * 1. name — log files named `<stem>.<ext>` or `<stem>.<hop>.<ext>`, where `<stem>` is the capture's
 *    name without `.gz`, its capture extension and (for rotated files) its rotation marks; those in
 *    the capture's mirrored directory (DIR + the capture's directory below its scanned root) win,
 *    else any under DIR.
 * 2. directory — every log file directly in `DIR/<stem>/`, or, for a capture in a sub-directory of
 *    its scanned root, directly in the mirrored directory (the capture's folder holds one incident).
 * 3. time — every log file under DIR with an entry whose START_TIME falls within the capture's
 *    first..last packet (± the skew allowance).
 *
 * Log files are `*.log`, `*.txt`, `*.json`, `*.jsonl`, `*.ndjson`. Hops are ordered by file name
 * (path order matters for the verdict: name them `1-client.log`, `2-gateway.log`); the hop is the
 * file's stem without such a leading number.
 */
import { readCapture } from '../capture/index.js';
import { readLogFile } from '../logs/index.js';
import { cmp, findFiles } from './discover.js';
import { naturalCompare, rotationTemplate } from './stitch.js';
import type { PairedLog } from './types.js';

export const LOG_FILE = /\.(?:log|txt|json|jsonl|ndjson)$/i;
const CAPTURE_EXT = /\.(?:pcap|pcapng|cap|dmp|trc)\d*$/i;

export interface LogFileInfo {
  readonly path: string;
  /** Directory below DIR (`/`-separated, '' at the top). */
  readonly relDir: string;
  /** File name without the log extension. */
  readonly stem: string;
}

export interface LogIndex {
  readonly dir: string;
  readonly files: readonly LogFileInfo[];
}

/** Every log file under DIR, in path order. */
export async function indexLogDir(dir: string): Promise<LogIndex | null> {
  const { files, missing } = await findFiles([dir]);
  if (missing.length) return null;
  const logs = files
    .filter((f) => LOG_FILE.test(f.rel))
    .map((f) => {
      const i = f.rel.lastIndexOf('/');
      const name = i === -1 ? f.rel : f.rel.slice(i + 1);
      return { path: f.path, relDir: i === -1 ? '' : f.rel.slice(0, i), stem: name.replace(LOG_FILE, '') };
    });
  return { dir, files: logs };
}

/** The names a capture's logs may carry: its plain stem and, for rotated names, the stem without rotation marks. */
export function captureStems(name: string): string[] {
  const plain = name.replace(/\.gz$/i, '').replace(CAPTURE_EXT, '');
  const rotated = rotationTemplate(name).replace(CAPTURE_EXT, '').replace(/[-_. ]*\{time\}/g, '').replace(/^[-_. ]+|[-_. ]+$/g, '');
  return rotated && rotated !== plain ? [plain, rotated] : [plain];
}

/** Hop name of a log file: its stem without a leading order number (`2-gateway` → `gateway`). */
export function hopName(stem: string): string {
  const h = stem.replace(/^\d+[-_.]/, '');
  return h || stem;
}

/**
 * Pairs a capture with logs by the name and directory rules. `rel` is the capture's path below
 * its scanned root (`/`-separated). Returns [] when neither rule pairs anything (the time rule is
 * then tried by the worker, which knows the capture's time span).
 */
export function pairByNameOrDirectory(rel: string, index: LogIndex): PairedLog[] {
  const i = rel.lastIndexOf('/');
  const relDir = i === -1 ? '' : rel.slice(0, i);
  const name = i === -1 ? rel : rel.slice(i + 1);
  const stems = captureStems(name);

  const named: { file: LogFileInfo; hop: string }[] = [];
  for (const f of index.files) {
    for (const s of stems) {
      if (f.stem === s) { named.push({ file: f, hop: hopName(s) }); break; }
      if (f.stem.startsWith(s + '.') && f.stem.length > s.length + 1) { named.push({ file: f, hop: hopName(f.stem.slice(s.length + 1)) }); break; }
    }
  }
  if (named.length) {
    const mirrored = named.filter((n) => n.file.relDir === relDir);
    return finish(mirrored.length ? mirrored : named, 'name');
  }
  const inDir = index.files.filter((f) => stems.includes(f.relDir) || stems.some((s) => relDir !== '' && f.relDir === `${relDir}/${s}`));
  if (inDir.length) return finish(inDir.map((f) => ({ file: f, hop: hopName(f.stem) })), 'directory');
  if (relDir !== '') {
    const mirror = index.files.filter((f) => f.relDir === relDir);
    if (mirror.length) return finish(mirror.map((f) => ({ file: f, hop: hopName(f.stem) })), 'directory');
  }
  return [];
}

function finish(found: { file: LogFileInfo; hop: string }[], rule: PairedLog['rule']): PairedLog[] {
  found.sort((a, b) => naturalCompare(a.file.stem, b.file.stem) || cmp(a.file.path, b.file.path));
  const used = new Map<string, number>();
  return found.map(({ file, hop }) => {
    const n = (used.get(hop) ?? 0) + 1;
    used.set(hop, n);
    return { hop: n === 1 ? hop : `${hop}#${n}`, file: file.path, rule };
  });
}

/** A log file's entry times, for the time rule: sorted START_TIMEs (ms), shared with the workers without copying. */
export interface TimedLog {
  readonly file: string;
  readonly stem: string;
  readonly times: Float64Array;
}

/** Reads every log file once and keeps only its sorted START_TIMEs (files with none are left out). */
export async function loadLogTimes(index: LogIndex, logFormat: string | null): Promise<TimedLog[]> {
  const out: TimedLog[] = [];
  for (const f of index.files) {
    const r = await readLogFile(f.path, logFormat ? { format: logFormat } : {});
    const times = r.entries.map((e) => e.startMs).filter((t): t is number => t !== null).sort((a, b) => a - b);
    if (times.length === 0) continue;
    const shared = new Float64Array(new SharedArrayBuffer(times.length * 8));
    shared.set(times);
    out.push({ file: f.path, stem: f.stem, times: shared });
  }
  return out;
}

/** The time rule: logs with a START_TIME within [firstMs − skew, lastMs + skew]. */
export function pairByTime(firstMs: number, lastMs: number, skewMs: number, logs: readonly TimedLog[]): PairedLog[] {
  const lo = firstMs - skewMs;
  const hi = lastMs + skewMs;
  const hits = logs.filter((l) => {
    const t = l.times;
    let a = 0, b = t.length;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (t[m]! < lo) a = m + 1; else b = m;
    }
    return a < t.length && t[a]! <= hi;
  });
  return finish(hits.map((l) => ({ file: { path: l.file, relDir: '', stem: l.stem }, hop: hopName(l.stem) })), 'time');
}

/** First and last packet time of capture files (µs), for the time rule; null when none has a packet. */
export async function captureSpan(paths: readonly string[]): Promise<{ first: number; last: number } | null> {
  let first = Infinity, last = -Infinity;
  for (const p of paths) {
    await readCapture(p, (r) => {
      if (!r.hasTimestamp) return;
      if (r.tsMicros < first) first = r.tsMicros;
      if (r.tsMicros > last) last = r.tsMicros;
    });
  }
  return first === Infinity ? null : { first, last };
}

/**
 * `--stitch`: the rotated files of one capture (tcpdump `-C` / `-G` / `-W`) read in time order
 * as ONE stream into one connection table, so a connection that was idle across a rotation is
 * not cut in two.
 *
 * Frame numbers: the stream numbers frames continuously over the group in reading order, exactly
 * as `mergecap -a -w all.pcap <files in that order>` would; that keeps every frame comparison in
 * the connection table and the detector right. Each cited frame is also given as file + frame in
 * that file (`FrameLocation`), which is what a user opens in Wireshark.
 */
import { readCapture, type CaptureRecord, type CaptureSummary, type ReadOptions } from '../capture/index.js';
import type { CaptureSource } from '../analysis/flows.js';
import { isoWithPrecision } from '../shared/time.js';
import { cmp } from './discover.js';
import type { CaptureRowError, FrameLocation, StitchPart } from './types.js';

const GZ = /\.gz$/i;
/** tcpdump -C (and -W) appends a number to the -w name: `x.pcap`, `x.pcap1`, `x.pcap2` (`x.pcap00` with -W). */
const SIZE_ROTATION = /^(.*\.(?:pcap|pcapng|cap|dmp|trc))(\d+)$/i;
/** A strftime date-time of -G: `2024-05-01_10:00:00`, `20240501-1000`, `2024-05-01T10`, `20240501100000`. */
const DATE_TIME = /(?<!\d)\d{4}(-?)\d{2}\1\d{2}(?:[T_. -]?\d{2}(?:([:.-]?)\d{2}(?:\2\d{2})?)?)?(?!\d)/g;
/** `%s`: seconds since the epoch (2001 … 2286). */
const EPOCH = /(?<!\d)[1-9]\d{9}(?!\d)/g;
const TIME_MARK = '{time}';

/**
 * The rotation template of a file name: its date-times replaced by `{time}`, a -C rotation number
 * after the capture extension and a `.gz` removed. Files of one directory with the same template
 * are one rotated capture.
 */
export function rotationTemplate(name: string): string {
  let base = name.replace(GZ, '');
  base = base.replace(DATE_TIME, TIME_MARK).replace(EPOCH, TIME_MARK);
  const m = SIZE_ROTATION.exec(base);
  return m ? m[1]! : base;
}

/** A group of rotated files (or a single file). */
export interface FileGroup<F extends { path: string; rel: string }> {
  /** Directory + template, from the full path: two inputs never share a group. */
  readonly key: string;
  /** Directory + template, relative to the scanned root: the shard key. */
  readonly shardKey: string;
  /** Members in path order. */
  readonly files: F[];
}

/**
 * Forms the rotation groups: same directory and same template (see `rotationTemplate`); plus
 * tcpdump -C without a capture extension (`trace`, `trace1`, `trace2`): a name that is another
 * file's name followed by digits joins that file's group. A name without any rotation mark stays
 * alone, and so does every member of a group holding a file and its `.gz` copy (`x.pcap` and
 * `x.pcap.gz`: the same packets twice, not a rotation). Groups come out in the path order of
 * their first file; members in path order.
 */
export function groupRotations<F extends { path: string; rel: string }>(files: readonly F[]): FileGroup<F>[] {
  const byDir = new Map<string, Set<string>>();
  for (const f of files) {
    const [dir, name] = splitPath(f.path);
    const s = byDir.get(dir) ?? new Set<string>();
    s.add(name.replace(GZ, ''));
    byDir.set(dir, s);
  }
  const groups = new Map<string, FileGroup<F>>();
  for (const f of files) {
    const [dir, name] = splitPath(f.path);
    const [relDir] = splitPath(f.rel);
    let template = rotationTemplate(name);
    const plain = name.replace(GZ, '');
    const trailing = /^(.*?\D)(\d+)$/.exec(plain);
    if (template === plain && trailing && byDir.get(dir)!.has(trailing[1]!)) template = rotationTemplate(trailing[1]!);
    const key = `${dir}/${template}`;
    let g = groups.get(key);
    if (!g) {
      g = { key, shardKey: relDir ? `${relDir}/${template}` : template, files: [] };
      groups.set(key, g);
    }
    g.files.push(f);
  }
  const out: FileGroup<F>[] = [];
  for (const g of groups.values()) {
    g.files.sort((a, b) => cmp(a.path, b.path));
    // `x.pcap` beside `x.pcap.gz` is a file and its compressed copy, not a rotation: no stitching.
    const names = g.files.map((f) => f.path.replace(GZ, ''));
    if (new Set(names).size < names.length) out.push(...g.files.map((f) => ({ key: f.path, shardKey: f.rel, files: [f] })));
    else out.push(g);
  }
  return out.sort((a, b) => cmp(a.files[0]!.path, b.files[0]!.path));
}

function splitPath(p: string): [string, string] {
  const i = p.lastIndexOf('/');
  return i === -1 ? ['', p] : [p.slice(0, i), p.slice(i + 1)];
}

/** Natural order (`x.pcap2` before `x.pcap10`), the tie-break when first packet times are equal. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!, y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x), ny = /^\d/.test(y);
    if (nx && ny) return Number(x) - Number(y) || cmp(x, y);
    return cmp(x, y);
  }
  return pa.length - pb.length || cmp(a, b);
}

class FirstPacketFound extends Error {}

/** Time of a capture's first packet (µs), reading no further than it; null when it has none. */
export async function firstPacketMicros(path: string): Promise<number | null> {
  let found: number | null = null;
  await readCapture(path, (r: CaptureRecord) => {
    if (!r.hasTimestamp) return;
    found = r.tsMicros;
    throw new FirstPacketFound(); // stops the reader: readCapture catches it and closes the file
  }, { chunkSize: 64 * 1024 });
  return found;
}

/**
 * Orders rotated files by the time of their first packet (names in natural order break ties);
 * files without a readable first packet go last, in natural name order.
 */
export async function orderByFirstPacket(paths: readonly string[]): Promise<string[]> {
  const firsts = await Promise.all(paths.map(async (p) => ({ p, t: await firstPacketMicros(p) })));
  firsts.sort((a, b) => {
    if (a.t !== null && b.t !== null && a.t !== b.t) return a.t - b.t;
    if ((a.t === null) !== (b.t === null)) return a.t === null ? 1 : -1;
    return naturalCompare(a.p, b.p);
  });
  return firsts.map((x) => x.p);
}

/**
 * One file as the stitched source read it: a `StitchPart` with its first and last packet times as
 * µs (the row gets their ISO display; the gap warnings measure on the µs).
 */
export interface ReadPart extends Omit<StitchPart, 'first' | 'last'> {
  readonly firstMicros: number | null;
  readonly lastMicros: number | null;
}

/** What a stitched source learnt about each file while reading, for the row and frame locations. */
export interface StitchLog {
  readonly parts: ReadPart[];
}

/**
 * A capture source reading `paths` in the order given as one stream: frame numbers continue from
 * file to file, progress counts the raw bytes of all files, a damaged file ends only its own part
 * (reading goes on with the next). The summary describes the whole stream; its error is the first
 * file error (with the file in it).
 */
export function stitchedSource(paths: readonly string[], log: StitchLog): CaptureSource {
  return async (sink, options: ReadOptions): Promise<CaptureSummary> => {
    const all: CaptureSummary = {
      file: paths[0] ?? '', format: null, gzip: false, packets: 0, linkTypes: [], precision: 6,
      bytes: 0, rawBytes: 0, skipped: {}, kernelDrops: null, error: null,
    };
    let offset = 0;
    let rawBefore = 0;
    for (const path of paths) {
      let first: number | null = null;
      let last: number | null = null;
      const base = offset;
      const s = await readCapture(path, (r) => {
        const own = r.frame;
        r.frame = own + base;
        if (r.hasTimestamp) {
          if (first === null) first = r.tsMicros;
          last = r.tsMicros;
        }
        try {
          sink(r);
        } finally {
          r.frame = own;
        }
      }, {
        ...options,
        onProgress: options.onProgress ? (n: number) => options.onProgress!(rawBefore + n) : undefined,
      });
      log.parts.push({
        path, packets: s.packets, firstFrame: base + 1,
        firstMicros: first, lastMicros: last,
        error: s.error ? { ...s.error.toJSON(), file: path } : null,
      });
      offset += s.packets;
      rawBefore += s.rawBytes;
      all.format = all.format ?? s.format;
      if (s.kernelDrops !== null) all.kernelDrops = (all.kernelDrops ?? 0) + s.kernelDrops;
      all.gzip = all.gzip || s.gzip;
      all.packets += s.packets;
      for (const l of s.linkTypes) if (!all.linkTypes.includes(l)) all.linkTypes.push(l);
      all.precision = Math.max(all.precision, s.precision);
      all.bytes += s.bytes;
      all.rawBytes += s.rawBytes;
      for (const [k, n] of Object.entries(s.skipped)) all.skipped[k] = (all.skipped[k] ?? 0) + n;
      all.error = all.error ?? s.error;
    }
    return all;
  };
}

/** The file and in-file frame of a stream frame number of a stitched group. */
export function locateFrame(frame: number | null, parts: readonly ReadPart[]): FrameLocation | null {
  if (frame === null) return null;
  for (const p of parts) {
    if (frame >= p.firstFrame && frame < p.firstFrame + p.packets) return { file: p.path, frame: frame - p.firstFrame + 1 };
  }
  return null;
}

/** The first error of a group's files, as a row error. */
export function firstPartError(parts: readonly ReadPart[]): CaptureRowError | null {
  return parts.find((p) => p.error)?.error ?? null;
}

/** A part as the scan row shows it: its first and last packet times in ISO-8601 UTC (µs). */
export function stitchPart(p: ReadPart): StitchPart {
  const iso = (m: number | null) => (m === null ? null : isoWithPrecision(m, 0, 6));
  return { path: p.path, packets: p.packets, firstFrame: p.firstFrame, first: iso(p.firstMicros), last: iso(p.lastMicros), error: p.error };
}

/**
 * Mutations of capture files. Each operator takes the bytes and the generator, and returns the
 * new bytes with a one-line description (saved with every finding), or null when it does not
 * apply. Structure-aware operators use `scanLayout` of the current bytes, so they keep working
 * on already-damaged input.
 */
import { gzipSync } from 'node:zlib';
import { fieldMax, readField, scanLayout, writeField, type Field, type Layout } from './layout.js';
import type { Rng } from './random.js';

export interface Mutation {
  readonly bytes: Uint8Array;
  readonly what: string;
}

type Operator = (b: Uint8Array, rng: Rng, ctx: MutateContext) => Mutation | null;

export interface MutateContext {
  /** Other seeds, for splicing blocks across files. */
  readonly donors: readonly Uint8Array[];
}

/** Never grow a case past this: big inputs make every case slow without finding more. */
export const MAX_MUTANT_BYTES = 512 * 1024;

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x20, 0x45, 0x60];

/** Values a length field is set to: the edges of every check the readers and decoders make. */
function lengthValues(cur: number, f: Field): number[] {
  const max = fieldMax(f);
  const vals = [0, 1, max, cur - 1, cur + 1, cur - 4, cur + 4, cur * 2, Math.floor(cur / 2), cur + 8];
  if (f.size === 4) vals.push(262_143, 262_144, 262_145, 16 * 1024 * 1024, 16 * 1024 * 1024 + 4, 0x7fffffff, 0x80000000, 0xfffffff0, 12, 28, 32);
  if (f.size === 2) vals.push(0x7fff, 0x8000, 20, 40, 60, 65535 - 3);
  if (f.bits === 4) vals.push(0, 1, 4, 5, 6, 15);
  return vals.filter((v) => v >= 0 && v <= max);
}

const LENGTH_KINDS = new Set([
  'pcap-caplen', 'pcap-origlen', 'pcap-snaplen', 'ng-block-length', 'ng-trailer-length', 'ng-option-length',
  'ng-epb-caplen', 'ng-epb-origlen', 'ng-spb-origlen', 'ng-idb-snaplen', 'ipv4-ihl', 'ipv4-total-length',
  'tcp-data-offset', 'ipv6-payload-length', 'ipv6-ext-length', 'tcp-option-length',
]);

const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 105, 127, 147, 242, 0xffff];

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at), 0);
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

/** A position at a structural boundary (start or end of some region) or anywhere. */
function position(b: Uint8Array, rng: Rng, layout: Layout): number {
  if (layout.regions.length > 0 && rng.chance(0.6)) {
    const r = rng.pick(layout.regions);
    const p = rng.chance(0.5) ? r.start : r.end;
    return Math.max(0, Math.min(b.length, p + rng.int(-2, 2)));
  }
  return rng.below(b.length + 1);
}

const flipBits: Operator = (b, rng) => {
  if (b.length === 0) return null;
  const out = b.slice();
  const n = rng.smallSize(16);
  const where: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = rng.below(out.length);
    out[p] = out[p]! ^ (1 << rng.below(8));
    where.push(p);
  }
  return { bytes: out, what: `flip ${n} bit(s) at ${where.slice(0, 4).join(',')}${n > 4 ? ',…' : ''}` };
};

const setBytes: Operator = (b, rng) => {
  if (b.length === 0) return null;
  const out = b.slice();
  const layout = scanLayout(b);
  const n = rng.smallSize(8);
  for (let i = 0; i < n; i++) out[Math.min(out.length - 1, position(b, rng, layout))] = rng.chance(0.7) ? rng.pick(INTERESTING_BYTES) : rng.u32() & 0xff;
  return { bytes: out, what: `set ${n} byte(s)` };
};

const insertBytes: Operator = (b, rng) => {
  const at = position(b, rng, scanLayout(b));
  const n = rng.smallSize(32);
  const ins = rng.chance(0.5) ? rng.bytes(n) : new Uint8Array(n).fill(rng.pick(INTERESTING_BYTES));
  return { bytes: splice(b, at, 0, ins), what: `insert ${n} byte(s) at ${at}` };
};

const deleteBytes: Operator = (b, rng) => {
  if (b.length < 2) return null;
  const at = Math.min(b.length - 1, position(b, rng, scanLayout(b)));
  const n = Math.min(b.length - at, rng.smallSize(64));
  return { bytes: splice(b, at, n), what: `delete ${n} byte(s) at ${at}` };
};

/** Cuts the file inside a region of a chosen kind: file header, SHB, IDB, EPB header/body/trailer, record header, mid-packet … */
const truncate: Operator = (b, rng) => {
  const layout = scanLayout(b);
  if (layout.regions.length === 0 || rng.chance(0.1)) {
    const at = rng.below(b.length);
    return { bytes: b.slice(0, at), what: `truncate at ${at}` };
  }
  const kinds = [...new Set(layout.regions.map((r) => r.kind))];
  const kind = rng.pick(kinds);
  const regions = layout.regions.filter((r) => r.kind === kind);
  const r = rng.pick(regions);
  const at = Math.max(1, Math.min(b.length, r.start + rng.below(Math.max(1, r.end - r.start) + 1)));
  return { bytes: b.slice(0, at), what: `truncate inside ${kind} at ${at}` };
};

function setFieldOp(filter: (f: Field) => boolean, label: string): Operator {
  return (b, rng) => {
    const layout = scanLayout(b);
    const fields = layout.fields.filter(filter);
    if (fields.length === 0) return null;
    const f = rng.pick(fields);
    const cur = readField(b, f);
    const v = rng.chance(0.85) ? rng.pick(lengthValues(cur, f)) : (rng.u32() & fieldMax(f)) >>> 0;
    const out = b.slice();
    writeField(out, f, v);
    // pcapng: keep the two copies of a block length in step half of the time, so the trailer
    // check does not catch every change before the length is used.
    if (f.kind === 'ng-block-length' && rng.chance(0.5)) {
      const start = f.offset - 4;
      const oldLen = cur;
      const trailer = layout.fields.find((t) => t.kind === 'ng-trailer-length' && t.offset === start + oldLen - 4);
      if (trailer) writeField(out, trailer, v);
    }
    return { bytes: out, what: `${label} ${f.kind}@${f.offset}: ${cur} -> ${v}` };
  };
}

const setLength = setFieldOp((f) => LENGTH_KINDS.has(f.kind), 'set length');
const setAnyField = setFieldOp(() => true, 'set field');

const linkType: Operator = (b, rng) => {
  const layout = scanLayout(b);
  const fields = layout.fields.filter((f) => f.kind === 'pcap-linktype' || f.kind === 'ng-idb-linktype');
  if (fields.length === 0) return null;
  const f = rng.pick(fields);
  const v = rng.chance(0.8) ? rng.pick(LINK_TYPES) : rng.u32() & 0xffff;
  const out = b.slice();
  writeField(out, f, v);
  return { bytes: out, what: `link type ${f.kind}@${f.offset} -> ${v}` };
};

const duplicateUnit: Operator = (b, rng) => {
  const { units } = scanLayout(b);
  if (units.length === 0) return null;
  const u = rng.pick(units);
  const copy = b.slice(u.start, u.end);
  const at = rng.chance(0.5) ? u.end : rng.pick(units).start;
  return { bytes: splice(b, at, 0, copy), what: `duplicate ${u.kind}@${u.start} to ${at}` };
};

/** The same record or block many times over: storms of one packet. */
const repeatUnit: Operator = (b, rng) => {
  const { units } = scanLayout(b);
  if (units.length === 0) return null;
  const u = rng.pick(units);
  const size = u.end - u.start;
  const times = Math.min(rng.smallSize(400), Math.floor((MAX_MUTANT_BYTES - b.length) / Math.max(1, size)));
  if (times < 2) return null;
  const ins = new Uint8Array(size * times);
  for (let i = 0; i < times; i++) ins.set(b.subarray(u.start, u.end), i * size);
  return { bytes: splice(b, u.end, 0, ins), what: `repeat ${u.kind}@${u.start} ${times} times` };
};

const dropUnit: Operator = (b, rng) => {
  const { units } = scanLayout(b);
  if (units.length === 0) return null;
  const u = rng.pick(units);
  return { bytes: splice(b, u.start, u.end - u.start), what: `drop ${u.kind}@${u.start}` };
};

const swapUnits: Operator = (b, rng) => {
  const { units } = scanLayout(b);
  if (units.length < 2) return null;
  let i = rng.below(units.length), j = rng.below(units.length);
  if (i === j) j = (j + 1) % units.length;
  if (i > j) [i, j] = [j, i];
  const a = units[i]!, c = units[j]!;
  const out = new Uint8Array(b.length);
  let p = 0;
  const put = (s: number, e: number) => { out.set(b.subarray(s, e), p); p += e - s; };
  put(0, a.start); put(c.start, c.end); put(a.end, c.start); put(a.start, a.end); put(c.end, b.length);
  return { bytes: out, what: `swap ${a.kind}@${a.start} with ${c.kind}@${c.start}` };
};

/** A record or block from another seed (maybe another format or byte order) at a unit boundary. */
const spliceDonor: Operator = (b, rng, ctx) => {
  if (ctx.donors.length === 0) return null;
  const donor = rng.pick(ctx.donors);
  const { units: du } = scanLayout(donor);
  if (du.length === 0) return null;
  const u = rng.pick(du);
  const { units } = scanLayout(b);
  const at = units.length > 0 ? (rng.chance(0.5) ? rng.pick(units).start : rng.pick(units).end) : b.length;
  return { bytes: splice(b, at, 0, donor.slice(u.start, u.end)), what: `splice donor ${u.kind} (${u.end - u.start} bytes) at ${at}` };
};

/** The pcap magic swapped for another (byte order, µs/ns), or the pcapng byte-order magic flipped. */
const magic: Operator = (b, rng) => {
  if (b.length < 12) return null;
  const out = b.slice();
  const l = scanLayout(b);
  if (l.format === 'pcap') {
    const m = rng.pick([[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d], [0x0a, 0x0d, 0x0d, 0x0a]]);
    out.set(m, 0);
    return { bytes: out, what: `magic -> ${Buffer.from(m).toString('hex')}` };
  }
  if (l.format === 'pcapng') {
    out.set(rng.chance(0.5) ? [0x4d, 0x3c, 0x2b, 0x1a] : [0x1a, 0x2b, 0x3c, 0x4d], 8);
    return { bytes: out, what: 'swap SHB byte-order magic' };
  }
  return null;
};

const OPERATORS: ReadonlyArray<readonly [number, string, Operator]> = [
  [12, 'flip', flipBits],
  [8, 'set-bytes', setBytes],
  [6, 'insert', insertBytes],
  [6, 'delete', deleteBytes],
  [10, 'truncate', truncate],
  [18, 'length', setLength],
  [6, 'field', setAnyField],
  [5, 'link-type', linkType],
  [5, 'duplicate', duplicateUnit],
  [2, 'repeat', repeatUnit],
  [4, 'drop', dropUnit],
  [5, 'swap', swapUnits],
  [4, 'splice', spliceDonor],
  [2, 'magic', magic],
];

/** gzip on top: intact, or corrupted in the header, the deflate data, the trailer, or cut short. */
export function gzipMutation(b: Uint8Array, rng: Rng): Mutation {
  const gz = new Uint8Array(gzipSync(b, { level: rng.int(1, 9) }));
  const how = rng.weighted<string>([[3, 'intact'], [4, 'flip'], [4, 'truncate'], [2, 'trailer'], [1, 'header'], [2, 'concat'], [1, 'garbage']]);
  const out = gz.slice();
  switch (how) {
    case 'flip': {
      const n = rng.smallSize(8);
      for (let i = 0; i < n; i++) {
        const p = 10 + rng.below(Math.max(1, out.length - 10));
        if (p < out.length) out[p] = out[p]! ^ (1 << rng.below(8));
      }
      return { bytes: out, what: `gzip, then flip ${n} bit(s) in the compressed data` };
    }
    case 'truncate': {
      const at = rng.int(1, Math.max(1, gz.length - 1));
      return { bytes: gz.slice(0, at), what: `gzip, then truncate at ${at} of ${gz.length}` };
    }
    case 'trailer': {
      const p = out.length - 1 - rng.below(8);
      out[p] = out[p]! ^ 0xff;
      return { bytes: out, what: `gzip, then corrupt the CRC/ISIZE trailer at ${p}` };
    }
    case 'header': {
      out[3] = rng.u32() & 0xff; // FLG: FEXTRA / FNAME / FCOMMENT / FHCRC bits with no such fields
      return { bytes: out, what: `gzip, then set FLG to ${out[3]}` };
    }
    case 'concat': {
      const second = new Uint8Array(gzipSync(b.subarray(0, rng.below(b.length + 1))));
      const both = new Uint8Array(gz.length + second.length);
      both.set(gz); both.set(second, gz.length);
      return { bytes: both, what: 'gzip, then a second gzip member of a prefix' };
    }
    case 'garbage': {
      const g = rng.bytes(rng.smallSize(64));
      const both = new Uint8Array(gz.length + g.length);
      both.set(gz); both.set(g, gz.length);
      return { bytes: both, what: `gzip, then ${g.length} bytes of garbage after it` };
    }
    default:
      return { bytes: gz, what: 'gzip' };
  }
}

/**
 * 1–6 stacked mutations of a seed, then sometimes gzip (intact or damaged). The result is never
 * empty (an empty file is its own, already tested, case).
 */
export function mutateCapture(seed: Uint8Array, rng: Rng, ctx: MutateContext, options: { gzip?: number } = {}): { bytes: Uint8Array; mutations: string[] } {
  let bytes = seed;
  const mutations: string[] = [];
  let n = 1;
  while (n < 6 && rng.chance(0.45)) n++;
  for (let i = 0; i < n; i++) {
    const [, name, op] = rng.weighted(OPERATORS.map((o) => [o[0], o] as const));
    const m = op(bytes, rng, ctx);
    if (m === null || m.bytes.length === 0 || m.bytes.length > MAX_MUTANT_BYTES) continue;
    bytes = m.bytes;
    mutations.push(`${name}: ${m.what}`);
  }
  if (rng.chance(options.gzip ?? 0.12)) {
    const g = gzipMutation(bytes, rng);
    bytes = g.bytes;
    mutations.push(g.what);
  }
  if (bytes === seed) bytes = seed.slice();
  return { bytes, mutations };
}

/**
 * What the fuzzer drives, one target per stage: the capture readers (push parsers, fed in chunks
 * of 1 byte to 64 KiB), the decoders, the connection table (with the detector behind it), the
 * access-log parsers, and the whole `analyzeCapture` path with logs (and sometimes the CLI).
 *
 * A target makes a case from the generator (`generate`, deterministic) and runs it (`run`),
 * returning the problems it saw. A thrown exception is never caught here: the harness records it
 * as a finding, because everything must come back as a typed error or a result. Besides not
 * throwing, each target checks what its stage promises (invariants) and, where the same input
 * can be fed two ways, that both give the same answer (chunked vs whole, file vs text, bytes
 * outside the record vs none).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { threadId } from 'node:worker_threads';
import { analyzeCapture, type AnalysisResult } from '../analysis/analyze.js';
import { runFlows } from '../analysis/flows.js';
import { CaptureError, MAX_RECORD_BYTES, readCapture, type CaptureRecord, type CaptureSummary } from '../capture/index.js';
import type { CaptureParser } from '../capture/parser.js';
import { PcapParser } from '../capture/pcap.js';
import { PcapReader } from '../capture/pcap-reader.js';
import type { Io } from '../cli/io.js';
import { main } from '../cli/main.js';
import { correlate } from '../correlate/index.js';
import { DecodeStatus, IpProtocol, PacketDecoder, describePacket } from '../decode/index.js';
import { Detector } from '../detect/index.js';
import { CONN_STATE_MEANINGS, type Connection } from '../flows/index.js';
import { BUILTIN_FORMATS, compileFormat, matchFormat, parseLogText, readLogFile, type LogReadResult, type MatchStats } from '../logs/index.js';
import { renderAnalysis, renderFlowsTable } from '../report/index.js';
import { buildPcap } from '../writer/index.js';
import { packetsOf, scanFrame, scanLayout, writeField, readField, fieldMax, type Packet } from './layout.js';
import { mutateCapture } from './mutate-capture.js';
import { h2Target } from './h2-target.js';
import { makeLogText } from './mutate-log.js';
import { Rng, hashString } from './random.js';
import type { Retained } from './harness.js';
import type { CaptureSeed, SeedCorpus } from './seeds.js';

export const TARGET_NAMES = ['capture', 'decode', 'flows', 'logs', 'analyze', 'h2'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** How the input is cut into chunks for a push parser. */
export type ChunkPlan =
  | { readonly mode: 'whole' }
  | { readonly mode: 'fixed'; readonly size: number }
  | { readonly mode: 'random'; readonly seed: number; readonly max: number };

/** One reproducible case: the input bytes and everything else the run needs (JSON). */
export interface FuzzCase {
  readonly target: TargetName;
  readonly input: Uint8Array;
  readonly params: Record<string, unknown>;
  /** What was done to the seed, one line each (saved with a finding). */
  readonly mutations: readonly string[];
  readonly seedName: string;
}

/** What a target tells the harness while it runs. */
export interface RunContext {
  /** Samples process memory at a moment the run holds the most (results still referenced): a figure only. */
  sample(): void;
  /** Reports what the stages count as retained (the harness keeps the most of each and checks it against the bound). */
  retained(r: Partial<Retained>): void;
}

export interface Target {
  readonly name: TargetName;
  generate(rng: Rng, corpus: SeedCorpus): FuzzCase;
  run(c: FuzzCase, ctx: RunContext): Promise<string[]>;
}

// ---- helpers -----------------------------------------------------------------------------------

export function chunksOf(bytes: Uint8Array, plan: ChunkPlan): Buffer[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (plan.mode === 'whole') return [buf];
  const out: Buffer[] = [];
  const rng = plan.mode === 'random' ? new Rng(plan.seed) : null;
  const max = plan.mode === 'random' ? plan.max : plan.size;
  for (let at = 0; at < buf.length;) {
    const n = rng ? rng.smallSize(max) : max;
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
}

function randomChunkPlan(rng: Rng, length: number): ChunkPlan {
  const mode = rng.weighted<ChunkPlan['mode']>([[2, 'whole'], [3, 'fixed'], [5, 'random']]);
  if (mode === 'whole') return { mode };
  if (mode === 'fixed') {
    let size = rng.pick([1, 2, 3, 4, 7, 12, 16, 24, 28, 100, 1500, 4096, 65536]);
    // One-byte chunks of a large input cost time without finding more than they do on a small one.
    if (length / size > 8192) size = Math.ceil(length / 8192);
    return { mode, size };
  }
  return { mode, seed: rng.u32(), max: rng.pick([16, 256, 4096, 65536]) };
}

function stdinOf(bytes: Uint8Array, plan: ChunkPlan): Readable {
  return Readable.from(chunksOf(bytes, plan), { objectMode: false });
}

function pickSeed(rng: Rng, corpus: SeedCorpus): CaptureSeed {
  return rng.pick(corpus.captures);
}

function donors(rng: Rng, corpus: SeedCorpus): Uint8Array[] {
  return [pickSeed(rng, corpus).bytes, pickSeed(rng, corpus).bytes];
}

const CAPTURE_ERROR_CODES = new Set(['empty', 'not-a-capture', 'truncated-header', 'truncated-record', 'bad-version', 'bad-length', 'bad-block', 'gzip', 'io']);

/** Numbers that are not finite, anywhere in a JSON-able value (NaN and Infinity become null in JSON). */
function nonFinite(v: unknown, path: string, out: string[], depth = 0): void {
  if (out.length > 3 || depth > 40) return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) out.push(`${path} is ${v}`);
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length && i < 2000; i++) nonFinite(v[i], `${path}[${i}]`, out, depth + 1);
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) nonFinite(x, `${path}.${k}`, out, depth + 1);
  }
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}

// ---- capture ---------------------------------------------------------------------------------

interface ReadOutcome {
  summary: CaptureSummary;
  fingerprint: number;
  problems: string[];
}

/** Reads capture bytes through `readCapture` (stdin path) and checks every record handed on. */
async function readAndCheck(bytes: Uint8Array, plan: ChunkPlan): Promise<ReadOutcome> {
  const problems: string[] = [];
  let frames = 0;
  let fp = 0x811c9dc5;
  const mix = (n: number) => { fp = Math.imul(fp ^ (n | 0), 0x01000193) ^ Math.imul(Math.floor(n / 4294967296) | 0, 0x5bd1e995); };
  const sink = (r: CaptureRecord) => {
    frames++;
    if (r.frame !== frames) problems.push(`record frame ${r.frame}, expected ${frames}`);
    if (!(r.start >= 0 && r.capturedLength >= 0 && r.start + r.capturedLength <= r.data.length)) {
      problems.push(`frame ${r.frame}: record [${r.start}, +${r.capturedLength}) outside its ${r.data.length}-byte buffer`);
    }
    if (r.capturedLength > MAX_RECORD_BYTES) problems.push(`frame ${r.frame}: captured length ${r.capturedLength} above the maximum`);
    if (!Number.isFinite(r.tsMicros)) problems.push(`frame ${r.frame}: timestamp ${r.tsMicros}`);
    if (!(Number.isInteger(r.tsExtraNanos) && r.tsExtraNanos >= 0 && r.tsExtraNanos <= 999)) problems.push(`frame ${r.frame}: tsExtraNanos ${r.tsExtraNanos}`);
    if (!(r.fileOffset >= 0)) problems.push(`frame ${r.frame}: file offset ${r.fileOffset}`);
    mix(r.frame); mix(r.tsMicros); mix(r.tsExtraNanos); mix(r.linkType); mix(r.capturedLength); mix(r.originalLength); mix(r.interfaceId); mix(r.fileOffset);
    mix(r.hasTimestamp ? 1 : 0);
    const end = Math.min(r.data.length, r.start + r.capturedLength);
    for (let i = Math.max(0, r.start); i < end; i++) fp = Math.imul(fp ^ r.data[i]!, 0x01000193);
  };
  const summary = await readCapture('-', sink, { stdin: stdinOf(bytes, plan) });
  if (summary.packets !== frames) problems.push(`summary says ${summary.packets} packets, the sink got ${frames}`);
  const e = summary.error;
  if (e !== null) {
    if (!(e instanceof CaptureError)) problems.push(`error is not a CaptureError | ${String(e)}`);
    else {
      if (!CAPTURE_ERROR_CODES.has(e.code)) problems.push(`unknown error code ${e.code}`);
      if (e.oneLine().includes('\n')) problems.push(`error message spans lines | ${JSON.stringify(e.oneLine())}`);
      if (e.code !== 'io' && e.frame !== summary.packets + 1) problems.push(`error frame ${e.frame}, but ${summary.packets} packets were read before it`);
      if (!(Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= summary.bytes)) problems.push(`error offset ${e.offset} outside the ${summary.bytes} bytes read`);
    }
  }
  for (const lt of summary.linkTypes) if (!(Number.isInteger(lt) && lt >= 0 && lt <= 0xffff)) problems.push(`link type ${lt}`);
  return { summary, fingerprint: fp >>> 0, problems };
}

/**
 * The two classic pcap readers (flowdoc's own PcapReader, and PcapParser around pcap-parser, kept
 * as the reference) must agree on every input: same records, same error, same offset and frame.
 */
function comparePcapReaders(bytes: Uint8Array, plan: ChunkPlan): string | null {
  const run = (make: (sink: (r: CaptureRecord) => void) => CaptureParser) => {
    let fp = 0x811c9dc5;
    const mix = (n: number) => { fp = Math.imul(fp ^ (n | 0), 0x01000193) ^ Math.imul(Math.floor(n / 4294967296) | 0, 0x5bd1e995); };
    const parser = make((r) => {
      mix(r.frame); mix(r.tsMicros); mix(r.tsExtraNanos); mix(r.linkType); mix(r.capturedLength); mix(r.originalLength); mix(r.fileOffset);
      for (let i = r.start; i < r.start + r.capturedLength; i++) fp = Math.imul(fp ^ (r.data[i] ?? 256), 0x01000193);
    });
    for (const chunk of chunksOf(bytes, plan)) {
      parser.push(chunk);
      if (parser.error) break;
    }
    parser.end();
    const e = parser.error;
    return `${parser.packets} packets, fingerprint ${fp >>> 0}, ${e ? `${e.code} at ${e.offset} frame ${e.frame}: ${e.detail}` : 'no error'}`;
  };
  const own = run((sink) => new PcapReader(sink, 'x'));
  const reference = run((sink) => new PcapParser(sink, 'x'));
  return own === reference ? null : `PcapReader and PcapParser disagree | ${own} vs ${reference}`;
}

const captureTarget: Target = {
  name: 'capture',
  generate(rng, corpus) {
    const seed = pickSeed(rng, corpus);
    const m = mutateCapture(seed.bytes, rng, { donors: donors(rng, corpus) }, { gzip: 0.15 });
    return { target: 'capture', input: m.bytes, params: { chunks: randomChunkPlan(rng, m.bytes.length) }, mutations: m.mutations, seedName: seed.name };
  },
  async run(c, ctx) {
    const plan = c.params.chunks as ChunkPlan;
    const a = await readAndCheck(c.input, plan);
    ctx.sample();
    const problems = [...a.problems];
    if (a.summary.format === 'pcap' && !a.summary.gzip) {
      const d = comparePcapReaders(c.input, plan);
      if (d !== null) problems.push(d);
    }
    // A push parser must not care how its input was cut. (gzip output is chunked by zlib, and its
    // error offsets count what zlib had produced, so only plain captures are compared.)
    if (!a.summary.gzip && plan.mode !== 'whole') {
      const b = await readAndCheck(c.input, { mode: 'whole' });
      const ea = a.summary.error, eb = b.summary.error;
      const say = (e: CaptureError | null) => (e ? `${e.code} at ${e.offset} frame ${e.frame}: ${e.detail}` : 'no error');
      if (a.summary.packets !== b.summary.packets || a.fingerprint !== b.fingerprint) {
        problems.push(`chunked and whole reads give different packets | ${a.summary.packets} vs ${b.summary.packets} packets, chunks ${JSON.stringify(plan)}`);
      } else if (say(ea) !== say(eb)) {
        const what = ea?.code !== eb?.code || ea?.offset !== eb?.offset || ea?.frame !== eb?.frame ? 'errors' : 'error messages';
        problems.push(`chunked and whole reads end with different ${what} (${ea?.code ?? 'none'} vs ${eb?.code ?? 'none'}) | "${say(ea)}" vs "${say(eb)}", chunks ${JSON.stringify(plan)}`);
      }
    }
    return problems;
  },
};

// ---- decode ----------------------------------------------------------------------------------

const DECODE_LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

/** A frame cut from a record of a seed, mutated at its header fields, under some link type. */
function decodeCase(rng: Rng, corpus: SeedCorpus): FuzzCase {
  const seed = pickSeed(rng, corpus);
  const layout = scanLayout(seed.bytes);
  const bodies = layout.regions.filter((r) => r.kind === 'pcap-record-data' || r.kind === 'epb-body' || r.kind === 'spb-body');
  let frame: Uint8Array;
  let linkType: number;
  const mutations: string[] = [];
  if (bodies.length === 0 || rng.chance(0.05)) {
    frame = rng.bytes(rng.smallSize(200));
    linkType = rng.pick(DECODE_LINK_TYPES);
    mutations.push('random bytes');
  } else {
    const r = rng.pick(bodies);
    frame = seed.bytes.slice(r.start, r.end);
    linkType = seedLinkType(seed.bytes, layout.format, r.start);
  }
  if (rng.chance(0.1)) { linkType = rng.chance(0.8) ? rng.pick(DECODE_LINK_TYPES) : rng.u32() & 0xffff; mutations.push(`link type ${linkType}`); }
  const n = rng.int(1, 4);
  for (let i = 0; i < n; i++) {
    const { fields } = scanFrame(frame, linkType);
    const op = rng.below(fields.length > 0 ? 6 : 3);
    if (op === 0) {
      if (frame.length === 0) continue;
      const p = rng.below(frame.length);
      frame[p] = frame[p]! ^ (1 << rng.below(8));
      mutations.push(`flip a bit at ${p}`);
    } else if (op === 1) {
      const at = rng.below(frame.length + 1);
      const k = rng.smallSize(24);
      const out = new Uint8Array(frame.length + k);
      out.set(frame.subarray(0, at)); out.set(rng.bytes(k), at); out.set(frame.subarray(at), at + k);
      frame = out;
      mutations.push(`insert ${k} bytes at ${at}`);
    } else if (op === 2) {
      const at = rng.below(frame.length + 1);
      frame = frame.slice(0, at);
      mutations.push(`cut at ${at}`);
    } else {
      const f = rng.pick(fields);
      const cur = readField(frame, f);
      const max = fieldMax(f);
      const v = rng.pick([0, 1, max, cur + 1, cur - 1, cur + 4, cur - 4, 5, 6, 15, 20, 40, 60, (rng.u32() & max) >>> 0].filter((x) => x >= 0 && x <= max));
      writeField(frame, f, v);
      mutations.push(`${f.kind}@${f.offset}: ${cur} -> ${v}`);
    }
  }
  // The record may be a view into a bigger buffer: bytes before `start` and after the captured
  // length belong to other records and must never be read.
  const pad = rng.pick([0, 0, 1, 7, 64]);
  const tail = rng.pick([0, 0, 3, 64, 1500]);
  const capturedLength = rng.chance(0.15) ? rng.below(frame.length + 1) : frame.length;
  return { target: 'decode', input: frame, params: { linkType, pad, tail, capturedLength }, mutations, seedName: seed.name };
}

function seedLinkType(bytes: Uint8Array, format: string, at: number): number {
  if (format === 'pcap') {
    const le = bytes[0] === 0xd4 || bytes[0] === 0x4d;
    return le ? bytes[20]! | (bytes[21]! << 8) : (bytes[22]! << 8) | bytes[23]!;
  }
  // pcapng: the link type of interface 0 of the section holding `at` is good enough for a seed.
  const layout = scanLayout(bytes.subarray(0, at));
  const idb = [...layout.fields].reverse().find((f) => f.kind === 'ng-idb-linktype');
  return idb ? readField(bytes, idb) : 1;
}

interface DecodeSnapshot {
  readonly text: string;
  readonly problems: string[];
}

function decodeOnce(decoder: PacketDecoder, frame: Uint8Array, pad: number, tail: number, fill: number, capturedLength: number, linkType: number): DecodeSnapshot {
  const buf = new Uint8Array(pad + frame.length + tail).fill(fill);
  buf.set(frame, pad);
  const p = decoder.decodeBytes(buf, pad, capturedLength, linkType);
  const problems: string[] = [];
  const capEnd = pad + capturedLength;
  const within = (name: string, o: number, len = 0) => {
    if (!(Number.isInteger(o) && o >= pad && o + len <= capEnd)) problems.push(`${name} ${o}+${len} outside the record [${pad}, ${capEnd})`);
  };
  const int = (name: string, v: number, lo: number, hi: number) => {
    if (!(Number.isInteger(v) && v >= lo && v <= hi)) problems.push(`${name} is ${v}`);
  };
  if (p.capEnd !== capEnd) problems.push(`capEnd ${p.capEnd}, expected ${capEnd}`);
  if (p.ipVersion !== 0) {
    within('l3Start', p.l3Start);
    within('source address', p.srcAddrOff, p.addrLen);
    within('destination address', p.dstAddrOff, p.addrLen);
    int('ttl', p.ttl, 0, 255);
    int('protocol', p.protocol, -1, 255);
    if (!(p.ipEnd >= p.l3Start && p.ipEnd <= capEnd)) problems.push(`ipEnd ${p.ipEnd} outside [l3Start ${p.l3Start}, ${capEnd}]`);
    int('ipPayloadWireLen', p.ipPayloadWireLen, 0, 0x10000);
  }
  if (p.status === DecodeStatus.OK && !p.isFragment && (p.protocol === IpProtocol.TCP || p.protocol === IpProtocol.UDP)) {
    within('l4Start', p.l4Start);
    within('payload', p.payloadStart, p.payloadLen);
    if (p.payloadStart < p.l4Start) problems.push(`payload starts at ${p.payloadStart}, before the transport header at ${p.l4Start}`);
    if (p.payloadStart + p.payloadLen > p.ipEnd) problems.push(`payload runs past the IP end ${p.ipEnd}`);
    int('payloadLen', p.payloadLen, 0, capEnd);
    int('payloadWireLen', p.payloadWireLen, 0, 0x10000);
    if (p.payloadLen > p.payloadWireLen && !p.truncated) problems.push(`captured payload ${p.payloadLen} longer than on the wire ${p.payloadWireLen}`);
    int('srcPort', p.srcPort, 0, 65535);
    int('dstPort', p.dstPort, 0, 65535);
    if (p.protocol === IpProtocol.TCP) {
      int('tcpHeaderLen', p.tcpHeaderLen, 20, 60);
      int('seq', p.seq, 0, 0xffffffff);
      int('ack', p.ack, 0, 0xffffffff);
      int('flags', p.flags, 0, 255);
      int('window', p.window, 0, 65535);
    }
  }
  const line = describePacket(p);
  if (typeof line !== 'string' || line.includes('\n')) problems.push(`describePacket gave more than one line | ${JSON.stringify(line)}`);
  const text = JSON.stringify({
    s: p.status, t: p.truncated, f: p.failedLayer, v: p.ipVersion, e: p.etherType, l3: p.l3Start, src: p.srcAddrOff, ttl: p.ttl, pr: p.protocol,
    ie: p.ipEnd, frag: p.isFragment, l4: p.l4Start, sp: p.srcPort, dp: p.dstPort, seq: p.seq, ack: p.ack, fl: p.flags, w: p.window,
    ps: p.payloadStart, pl: p.payloadLen, pw: p.payloadWireLen, mss: p.mss, ws: p.windowScale, ts: p.tsVal, sack: p.sackBlocks, line,
  });
  return { text, problems };
}

const decodeTarget: Target = {
  name: 'decode',
  generate: decodeCase,
  async run(c) {
    const { linkType, pad, tail, capturedLength } = c.params as { linkType: number; pad: number; tail: number; capturedLength: number };
    const decoder = new PacketDecoder();
    const a = decodeOnce(decoder, c.input, pad, tail, 0x00, capturedLength, linkType);
    // The same record with different bytes around it must decode the same: a decoder that reads
    // outside [start, start + capturedLength) gives itself away here.
    const b = decodeOnce(decoder, c.input, pad + 3, tail + 5, 0xff, capturedLength, linkType);
    const problems = [...a.problems];
    if (a.text.replace(/"(l3|src|ie|l4|ps)":\d+/g, '') !== b.text.replace(/"(l3|src|ie|l4|ps)":\d+/g, '')) {
      problems.push(`decoding depends on bytes outside the record | ${a.text.slice(0, 200)} vs ${b.text.slice(0, 200)}`);
    }
    return problems;
  },
};

// ---- flows -----------------------------------------------------------------------------------

/** Bounds a connection record must keep whatever the input (see src/flows/live.ts). */
export const RECORD_BOUNDS = { history: 256, idleGaps: 1024, app: 1024, anomalies: 32 } as const;

/**
 * A valid pcap whose packets were reordered, duplicated, dropped, retimed, rewritten at their TCP
 * fields, or repeated as storms (one packet thousands of times with a field changing each time).
 */
function flowsCase(rng: Rng, corpus: SeedCorpus): FuzzCase {
  const pcaps = corpus.captures.filter((s) => s.bytes[0] === 0xd4 || s.bytes[0] === 0xa1);
  const seed = rng.pick(pcaps.length > 0 ? pcaps : corpus.captures);
  const parsed = packetsOf(seed.bytes) ?? { linkType: 1, packets: [] };
  let packets = parsed.packets.map((p) => ({ ts: p.ts, data: p.data }));
  const mutations: string[] = [];
  const n = rng.int(1, 6);
  for (let i = 0; i < n && packets.length > 0; i++) {
    const op = rng.below(9);
    const k = rng.below(packets.length);
    const p = packets[k]!;
    const { fields } = scanFrame(p.data, parsed.linkType);
    const tcp = fields.filter((f) => f.kind.startsWith('tcp-') || f.kind === 'ipv4-total-length' || f.kind === 'ipv6-payload-length');
    if (op === 0) { const j = rng.below(packets.length); [packets[k], packets[j]] = [packets[j]!, packets[k]!]; mutations.push(`swap packets ${k} and ${j}`); }
    else if (op === 1) { packets.splice(k, 0, { ts: p.ts, data: p.data.slice() }); mutations.push(`duplicate packet ${k}`); }
    else if (op === 2) { packets.splice(k, 1); mutations.push(`drop packet ${k}`); }
    else if (op === 3) {
      const d = rng.pick([-1, -1e6, -3600e6, 1, 1e6, 30e6, 3600e6, 86400e6 * 365]);
      for (let j = k; j < packets.length; j++) packets[j] = { ts: Math.max(0, packets[j]!.ts + d), data: packets[j]!.data };
      mutations.push(`shift time from packet ${k} by ${d} µs`);
    } else if (op === 4 && tcp.length > 0) {
      const f = rng.pick(tcp);
      const v = f.kind === 'tcp-flags' ? rng.pick([0x02, 0x12, 0x10, 0x11, 0x04, 0x14, 0x18, 0x01, 0xff, 0x00, 0x06, 0x03]) : (rng.u32() & fieldMax(f)) >>> 0;
      writeField(p.data, f, v);
      mutations.push(`packet ${k} ${f.kind} -> ${v}`);
    } else if (op === 5 && tcp.length > 0) {
      const s = storm(p, parsed.linkType, rng);
      packets.splice(k + 1, 0, ...s.packets);
      mutations.push(`after packet ${k}: ${s.what}`);
    } else if (op === 6) {
      // HTTP heads that never end, split over segments, or pipelined; TLS records cut short.
      const text = rng.pick([
        'GET /a HTTP/1.1\r\nHost: x\r\n', 'X-Long: ' + 'a'.repeat(3000), 'HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n',
        '\u0016\u0003\u0001\u00ff\u00ff\u0001', 'GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
        'POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 'GET / HTTP/1.1\n\n', '\u0017\u0003\u0003\u0000\u0001x',
      ]);
      const fixLength = rng.chance(0.7);
      const d = appendPayload(p.data, parsed.linkType, Buffer.from(text, 'latin1'), fixLength);
      if (d) {
        packets[k] = { ts: p.ts, data: d };
        mutations.push(`append ${text.length} payload bytes to packet ${k}${fixLength ? '' : ' (IP length not updated)'}`);
      }
    } else if (op === 7) {
      const j = rng.below(packets.length);
      packets = [...packets.slice(0, Math.min(k, j)), ...packets.slice(Math.max(k, j))];
      mutations.push(`drop packets ${Math.min(k, j)}..${Math.max(k, j)}`);
    } else {
      const d = p.data.slice();
      const at = rng.below(d.length);
      d[at] = d[at]! ^ (1 << rng.below(8));
      packets[k] = { ts: p.ts, data: d };
      mutations.push(`flip a bit of packet ${k} at ${at}`);
    }
  }
  const input = buildPcap({ linkType: parsed.linkType }, packets.map((p) => ({ tsMicros: p.ts, data: p.data })));
  const params = {
    maxConnections: rng.pick([1, 2, 3, 10, 1000, 1_000_000]),
    idleThresholdMicros: rng.pick([0, 1, 1e6, 10e6, 3600e6]),
    lingerMicros: rng.pick([0, 1, 10e6, 3600e6]),
  };
  return { target: 'flows', input, params, mutations, seedName: seed.name };
}

/** The frame with `extra` appended to its TCP payload (and the IP length fixed when `fix`), or null. */
function appendPayload(frame: Uint8Array, linkType: number, extra: Uint8Array, fix: boolean): Uint8Array | null {
  const { fields } = scanFrame(frame, linkType);
  const len = fields.find((f) => f.kind === 'ipv4-total-length' || f.kind === 'ipv6-payload-length');
  if (!len || !fields.some((f) => f.kind === 'tcp-flags')) return null;
  const d = new Uint8Array(frame.length + extra.length);
  d.set(frame);
  d.set(extra, frame.length);
  if (fix) writeField(d, len, Math.min(0xffff, readField(frame, len) + extra.length));
  return d;
}

/**
 * A storm: one packet again and again with something changing each time — RSTs, FINs or
 * SYN-ACKs with new sequence numbers, SYNs from new ports (a SYN flood), data out of order or
 * retransmitted, zero windows, bare ACKs, or one random field.
 */
function storm(p: Packet, linkType: number, rng: Rng): { packets: Packet[]; what: string } {
  const kind = rng.pick(['rst', 'fin', 'syn-ack', 'syn', 'data-out-of-order', 'retransmission', 'zero-window', 'ack', 'keepalive', 'unfinished-heads', 'random-field'] as const);
  const times = rng.weighted<() => number>([[6, () => rng.smallSize(64)], [3, () => rng.int(65, 600)], [1, () => rng.int(1000, 6000)]])();
  const head = kind === 'unfinished-heads' ? 'GET /slow HTTP/1.1\r\nX-a: b\r\n' : 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';
  const base = (kind === 'unfinished-heads' || rng.chance(0.5) ? appendPayload(p.data, linkType, Buffer.from(head), true) : null) ?? p.data;
  const { fields } = scanFrame(base, linkType);
  const field = (k: string) => fields.find((f) => f.kind === k);
  const flags = field('tcp-flags'), seqF = field('tcp-seq'), ackF = field('tcp-ack'), win = field('tcp-window');
  const ports = fields.filter((f) => f.kind === 'tcp-port');
  const seq0 = seqF ? readField(base, seqF) : 0;
  const step = rng.pick([0, 1, 1000, 1_000_000]);
  const out: Packet[] = [];
  const others = fields.filter((f) => f.kind.startsWith('tcp-') && f.kind !== 'tcp-data-offset');
  const randomField = others.length > 0 ? rng.pick(others) : undefined;
  for (let t = 0; t < times; t++) {
    const d = base.slice();
    const setFlags = (v: number) => { if (flags) writeField(d, flags, v); };
    const setSeq = (v: number) => { if (seqF) writeField(d, seqF, v >>> 0); };
    switch (kind) {
      case 'rst': setFlags(rng.chance(0.5) ? 0x04 : 0x14); setSeq(seq0 + rng.u32()); break;
      case 'fin': setFlags(0x11); setSeq(seq0 + rng.u32()); break;
      case 'syn-ack': setFlags(0x12); setSeq(rng.u32()); break;
      case 'syn': setFlags(0x02); setSeq(rng.u32()); if (ports[0]) writeField(d, ports[0], 1024 + (t % 64000)); break;
      case 'data-out-of-order': setFlags(0x18); setSeq(seq0 + rng.int(-1_000_000, 1_000_000)); break;
      case 'retransmission': setFlags(0x18); break;
      case 'zero-window': setFlags(0x10); if (win) writeField(d, win, 0); break;
      case 'ack': setFlags(0x10); if (ackF) writeField(d, ackF, rng.u32()); break;
      case 'keepalive': setFlags(0x10); setSeq(seq0 - 1); break;
      // Slowloris: many connections (new client ports), each with a head that never ends.
      case 'unfinished-heads': setFlags(0x18); if (ports[0]) writeField(d, ports[0], 1024 + (t % 64000)); break;
      default: if (randomField) writeField(d, randomField, (rng.u32() & fieldMax(randomField)) >>> 0);
    }
    out.push({ ts: p.ts + t * step, data: d });
  }
  return { packets: out, what: `storm of ${times} ${kind} packets, ${step} µs apart` };
}

/** What every connection record promises, whatever the packets were. */
export function checkConnection(c: Connection, problems: string[]): void {
  const where = `connection ${c.id}`;
  if (c.history.length > RECORD_BOUNDS.history) problems.push(`${where}: history is ${c.history.length} letters long (bound ${RECORD_BOUNDS.history})`);
  if (c.idleGaps.length > RECORD_BOUNDS.idleGaps) problems.push(`${where}: ${c.idleGaps.length} idle gaps kept`);
  if (c.app.length > RECORD_BOUNDS.app) problems.push(`${where}: ${c.app.length} app messages kept`);
  if (c.anomalies.length > RECORD_BOUNDS.anomalies) problems.push(`${where}: ${c.anomalies.length} anomalies kept`);
  if (!(c.firstFrame >= 1 && c.lastFrame >= c.firstFrame)) problems.push(`${where}: frames ${c.firstFrame}..${c.lastFrame}`);
  if (!(c.state in CONN_STATE_MEANINGS)) problems.push(`${where}: state ${c.state}`);
  const bad: string[] = [];
  nonFinite(c, where, bad);
  problems.push(...bad);
}

const flowsTarget: Target = {
  name: 'flows',
  generate: flowsCase,
  async run(c, ctx) {
    const p = c.params as { maxConnections: number; idleThresholdMicros: number; lingerMicros: number };
    const problems: string[] = [];
    const seen = new Set<number>();
    const connections: Connection[] = [];
    const detector = new Detector({ idleThresholdSeconds: p.idleThresholdMicros / 1e6, precision: 6 });
    const run = await runFlows('-', (conn) => {
      // The table holds the most while it hands connections on (at eviction, at the end).
      if (seen.size % 1000 === 0) ctx.sample();
      if (seen.has(conn.id)) problems.push(`connection ${conn.id} handed on twice`);
      seen.add(conn.id);
      checkConnection(conn, problems);
      detector.onConnection(conn);
      if (connections.length < 2000) connections.push(conn);
    }, { stdin: stdinOf(c.input, { mode: 'whole' }), table: p });
    ctx.sample();
    ctx.retained({ liveConnections: run.table.peakLive, bufferedBytes: run.table.peakBufferedBytes });
    if (seen.size !== run.table.connections) problems.push(`${run.table.connections} connections created, ${seen.size} handed on`);
    if (run.table.peakLive > p.maxConnections) problems.push(`${run.table.peakLive} live connections, more than the maximum ${p.maxConnections}`);
    const { incidents, destinations } = detector.finish();
    const { incidents: correlated } = correlate(incidents, [], { skewMs: 1000 });
    const text = JSON.stringify({ correlated, destinations });
    JSON.parse(text);
    renderFlowsTable(connections.slice(0, 20), false);
    return problems.slice(0, 10);
  },
};

// ---- logs ------------------------------------------------------------------------------------

let tempDir: string | null = null;
/** Temporary directories of this process (and its worker threads) start with this. */
const TEMP_PREFIX = `flowdoc-fuzz-${process.pid}-`;

/** A private temporary directory for this thread (log files for the file readers). */
export function fuzzTempDir(): string {
  tempDir ??= mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}${threadId}-`));
  return tempDir;
}

export function removeFuzzTempDir(): void {
  if (tempDir !== null) rmSync(tempDir, { recursive: true, force: true });
  tempDir = null;
}

/** Removes the temporary directories of every thread of this process (a stopped worker cannot). */
export function removeAllFuzzTempDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (name.startsWith(TEMP_PREFIX)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
  tempDir = null;
}

/**
 * C0 control characters other than tab: line breaks and escape sequences must never reach a
 * terminal from a log or capture. (Tab is harmless, and comes from users' own format strings.)
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f]/;

function checkLogResult(r: LogReadResult, lineCount: number, problems: string[]): void {
  if (r.lines > lineCount) problems.push(`${r.lines} lines counted, the text has ${lineCount}`);
  if (r.entries.length + r.rejected > lineCount) problems.push(`${r.entries.length} entries + ${r.rejected} rejected > ${lineCount} lines`);
  if (r.rejectedSamples.length > 5) problems.push(`${r.rejectedSamples.length} rejected samples`);
  for (const s of r.rejectedSamples) {
    if (s.text.length > 1000) problems.push(`rejected sample of ${s.text.length} chars`);
    // Printed on a terminal: no line breaks, no escape sequences from the log.
    if (CONTROL.test(s.text) || CONTROL.test(s.reason)) problems.push(`rejected sample holds control characters | ${JSON.stringify(s).slice(0, 200)}`);
  }
  if (r.error !== null && CONTROL.test(r.error.oneLine())) problems.push(`log error holds control characters | ${JSON.stringify(r.error.oneLine()).slice(0, 200)}`);
  const bad: string[] = [];
  nonFinite(r.entries.slice(0, 500), 'entries', bad);
  problems.push(...bad);
  JSON.parse(JSON.stringify(r));
}

/** Work the matcher may do on a line: each character a bounded number of times. */
function checkLinear(text: string, format: string | null, problems: string[]): void {
  const compiled = format !== null ? compileFormat(format) : null;
  const formats = [...BUILTIN_FORMATS, ...(compiled?.ok ? [compiled.format] : [])];
  const origin = { file: 'fuzz', line: 1, hop: 'fuzz' };
  for (const line of text.split('\n').slice(0, 64)) {
    const l = line.trimEnd();
    if (l.length > 1024 * 1024) continue;
    for (const f of formats) {
      const stats: MatchStats = { steps: 0 };
      matchFormat(f, l, origin, stats);
      const bound = 2 * l.length + 2 * f.source.length + 64;
      if (stats.steps > bound) {
        problems.push(`matching ${f.name} looked at ${stats.steps} characters of a ${l.length}-character line (bound ${bound})`);
        return;
      }
    }
  }
}

const logsTarget: Target = {
  name: 'logs',
  generate(rng, corpus) {
    const seed = rng.pick(corpus.logs);
    const t = makeLogText(seed.lines, rng);
    return {
      target: 'logs',
      input: new Uint8Array(Buffer.from(t.text, 'utf8')),
      params: { format: t.format, viaFile: rng.chance(0.25) },
      mutations: t.mutations,
      seedName: seed.name,
    };
  },
  async run(c, ctx) {
    const { format, viaFile } = c.params as { format: string | null; viaFile: boolean };
    const text = Buffer.from(c.input).toString('utf8');
    const opts = { file: 'fuzz.log', hop: 'fuzz', ...(format !== null ? { format } : {}) };
    const lineCount = text.length === 0 ? 0 : text.split('\n').length;
    const problems: string[] = [];
    const r = parseLogText(text, opts);
    ctx.sample();
    ctx.retained({ logEntries: r.entries.length });
    checkLogResult(r, lineCount, problems);
    checkLinear(text, format, problems);
    if (viaFile) {
      const file = join(fuzzTempDir(), `case-${hashString(text).toString(16)}.log`);
      writeFileSync(file, c.input);
      try {
        const f = await readLogFile(file, { hop: 'fuzz', ...(format !== null ? { format } : {}) });
        checkLogResult(f, lineCount, problems);
        const summary = (x: LogReadResult) => `${x.entries.length} entries, ${x.rejected} rejected, ${x.lines} lines, format ${x.format}, error ${x.error?.code ?? 'none'}`;
        if (summary(f) !== summary(r)) problems.push(`the file reader and parseLogText disagree | ${summary(f)} vs ${summary(r)}`);
      } finally {
        rmSync(file, { force: true });
      }
    }
    return problems;
  },
};

// ---- analyze (and the CLI) ---------------------------------------------------------------------

/** Runs the CLI in this process with captured output, stdin fed in chunks. */
export async function runCliCaptured(args: string[], stdin: Readable): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
    stderrIsTty: false,
    stdoutIsTty: false,
    env: {},
    stdin,
  };
  const code = await main(['node', 'flowdoc', ...args], io);
  return { code, stdout, stderr };
}

/** The one-line error for a broken capture: file, what, byte offset and frame. */
export const CAPTURE_ERROR_LINE = /^flowdoc: .*: .* \(byte offset \d+, frame \d+\)/;

function checkAnalysis(r: AnalysisResult, problems: string[]): void {
  const bad: string[] = [];
  nonFinite(r.summary, 'summary', bad);
  nonFinite(r.incidents, 'incidents', bad);
  problems.push(...bad);
  for (const w of r.warnings) if (w.includes('\n')) problems.push(`warning spans lines | ${JSON.stringify(w).slice(0, 200)}`);
  if (r.capture.error && !r.warnings.some((w) => w.includes(`byte offset ${r.capture.error!.offset}`)) && r.capture.format !== null) {
    problems.push(`the capture error (${r.capture.error.code}) is not among the warnings`);
  }
  JSON.parse(JSON.stringify(r));
}

const analyzeTarget: Target = {
  name: 'analyze',
  generate(rng, corpus) {
    const seed = pickSeed(rng, corpus);
    const m = mutateCapture(seed.bytes, rng, { donors: donors(rng, corpus) }, { gzip: 0.1 });
    const logs: { hop: string; text: string }[] = [];
    const hops = rng.weighted([[3, 0], [4, 1], [2, 2], [1, 3]] as const);
    let logFormat: string | null = null;
    // The lab captures come with the access logs of their run: those make correlations happen.
    const dir = seed.name.slice(0, seed.name.lastIndexOf('/') + 1);
    const sameRun = corpus.logs.filter((l) => dir !== '' && l.name.startsWith(dir));
    for (let h = 0; h < hops; h++) {
      const t = makeLogText(rng.pick(sameRun.length > 0 && rng.chance(0.7) ? sameRun : corpus.logs).lines, rng);
      if (t.format !== null && logFormat === null && rng.chance(0.5)) logFormat = t.format;
      logs.push({ hop: rng.pick(['client', 'podA-sidecar', 'gateway-b', 'a=b', 'hop with spaces', 'é']), text: t.text });
    }
    const cli = rng.chance(0.3)
      ? { command: rng.pick(['analyze', 'analyze', 'flows', 'info']), format: rng.pick(['table', 'json']) }
      : null;
    return {
      target: 'analyze',
      input: m.bytes,
      params: {
        chunks: randomChunkPlan(rng, m.bytes.length),
        logs, logFormat, cli,
        idleThresholdSeconds: rng.pick([0, 1, 5, 10, 600]),
        maxConnections: rng.pick([1, 2, 5, 1_000_000]),
        report: rng.pick(['table', 'json', 'markdown', 'html']),
      },
      mutations: m.mutations,
      seedName: seed.name,
    };
  },
  async run(c, ctx) {
    const p = c.params as {
      chunks: ChunkPlan; logs: { hop: string; text: string }[]; logFormat: string | null; cli: { command: string; format: string } | null;
      idleThresholdSeconds: number; maxConnections: number; report: 'table' | 'json' | 'markdown' | 'html';
    };
    const problems: string[] = [];
    const dir = fuzzTempDir();
    const files = p.logs.map((l, i) => {
      const file = join(dir, `hop-${i}-${hashString(l.text).toString(16)}.log`);
      writeFileSync(file, l.text);
      return { hop: l.hop, file };
    });
    try {
      if (p.cli !== null) {
        const args = [p.cli.command, '-', '--format', p.cli.format];
        if (p.cli.command === 'analyze') {
          for (const f of files) args.push('--logs', `${f.hop}=${f.file}`);
          if (p.logFormat !== null) args.push('--log-format', p.logFormat);
          args.push('--idle-threshold', String(p.idleThresholdSeconds), '--max-connections', String(p.maxConnections));
        }
        const r = await runCliCaptured(args, stdinOf(c.input, p.chunks));
        ctx.sample();
        if (![0, 1, 2].includes(r.code)) problems.push(`exit code ${r.code}`);
        if (/^\s+at .*:\d+:\d+\)?$/m.test(r.stderr)) problems.push(`stack trace on stderr | ${firstLine(r.stderr)}`);
        // What reaches a terminal carries no control characters from the input (escape sequences, CRs).
        // eslint-disable-next-line no-control-regex
        const raw = /[\u0000-\u0008\u000b-\u001f]/;
        if (raw.test(r.stderr)) problems.push(`control characters on stderr | ${JSON.stringify(r.stderr.slice(0, 300))}`);
        if (p.cli.format === 'table' && raw.test(r.stdout)) problems.push(`control characters in the table | ${JSON.stringify(r.stdout.slice(0, 300))}`);
        for (const line of r.stderr.split('\n').filter(Boolean)) {
          if (!line.startsWith('flowdoc: ')) problems.push(`stderr line does not start with flowdoc: | ${JSON.stringify(line.slice(0, 120))}`);
        }
        if (p.cli.format === 'json' && r.stdout.length > 0) JSON.parse(r.stdout);
        if (p.cli.command !== 'analyze' || files.length === 0) {
          const lines = r.stderr.split('\n').filter(Boolean);
          if (r.code === 2 && lines.length !== 1) problems.push(`${lines.length} lines on stderr for one broken capture | ${JSON.stringify(r.stderr.slice(0, 300))}`);
        }
        return problems;
      }
      let finished = 0;
      const result = await analyzeCapture('-', {
        stdin: stdinOf(c.input, p.chunks),
        onConnection: () => { if (finished++ % 1000 === 0) ctx.sample(); },
        logs: files,
        idleThresholdSeconds: p.idleThresholdSeconds,
        maxConnections: p.maxConnections,
        ...(p.logFormat !== null ? { logFormat: p.logFormat } : {}),
      });
      ctx.sample();
      ctx.retained({
        liveConnections: result.summary.peakLiveConnections,
        bufferedBytes: result.summary.peakBufferedBytes,
        logEntries: (result.logs?.hops ?? []).reduce((n, h) => n + h.entries, 0),
      });
      checkAnalysis(result, problems);
      const out = renderAnalysis(result, p.report);
      if (typeof out !== 'string') problems.push(`the ${p.report} report is not text`);
      return problems;
    } finally {
      for (const f of files) rmSync(f.file, { force: true });
    }
  },
};

export const TARGETS: Readonly<Record<TargetName, Target>> = {
  capture: captureTarget,
  decode: decodeTarget,
  flows: flowsTarget,
  logs: logsTarget,
  analyze: analyzeTarget,
  h2: h2Target,
};

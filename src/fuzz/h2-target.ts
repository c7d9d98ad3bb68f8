/**
 * The `h2` fuzz target: HTTP/2 frames and HPACK blocks, both directions of one connection, fed
 * to the HTTP/2 session through the app sniffer as segments — some cut by a snap length, some
 * lost — the way the connection table feeds it. The inputs start from the lab's real node:http2
 * byte streams and from frames written here, and are made hostile on purpose: frame lengths set
 * to nonsense, CONTINUATION floods, HPACK table size updates and SETTINGS_HEADER_TABLE_SIZE far
 * past any limit, bad Huffman (EOS inside, long or zero padding), integer overflows, bad indexes,
 * table churn, unknown frame types, bit flips, bytes inserted and cut.
 *
 * Checks, besides "nothing is thrown": every anomaly is one of the documented codes; a hostile
 * construct that reached the parser intact gave its anomaly; what the session buffers (its own
 * count: frame payload and header block buffers, HPACK tables) never passes H2_MAX_BUFFERED, and
 * the sniffer's BufferAccount returns to zero when it is released; HPACK tables stay within
 * MAX_TABLE_SIZE; every header list handed on stays within MAX_HEADER_LIST; and **the same bytes
 * fed whole or in any segmentation give the same events and anomalies**.
 */
import { DecodeStatus, IpProtocol, PacketDecoder } from '../decode/index.js';
import { BufferAccount } from '../flows/buffered.js';
import type { AppMessage } from '../flows/index.js';
import { CLIENT_PREFACE, Flag, FrameType } from '../flows/app/h2/frames.js';
import { MAX_HEADER_LIST, MAX_TABLE_SIZE } from '../flows/app/h2/hpack.js';
import { H2_ANOMALY_CODES, H2_MAX_BUFFERED, H2Session, MAX_CONTINUATIONS, type H2Event } from '../flows/app/h2/session.js';
import { AppSniffer } from '../flows/app/sniffer.js';
import { Rng } from './random.js';
import type { CaptureSeed, SeedCorpus } from './seeds.js';
import { packetsOf } from './layout.js';
import type { FuzzCase, RunContext, Target } from './targets.js';

/** Longest input a case makes (a CONTINUATION flood included): enough to pass every 64 KiB cap a few times. */
const MAX_INPUT = 256 * 1024;

// ---- frames and HPACK blocks -------------------------------------------------------------------

function frame(type: number, flags: number, stream: number, payload: ArrayLike<number>): number[] {
  const n = payload.length;
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, type, flags, (stream >>> 24) & 127, (stream >> 16) & 255, (stream >> 8) & 255, stream & 255, ...Array.from(payload)];
}
/** dst[at, at) = src, without spreading src into arguments (it can be hundreds of KiB). */
function insert(dst: number[], at: number, src: readonly number[]): void {
  const tail = dst.splice(at);
  for (const x of src) dst.push(x);
  for (const x of tail) dst.push(x);
}
const lit = (s: string): number[] => [s.length & 0x7f, ...Buffer.from(s.slice(0, 127), 'latin1')];
/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1) under `first`'s high bits. */
function hpackInt(first: number, prefixBits: number, value: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [first | value];
  const out = [first | max];
  let v = value - max;
  while (v >= 128) { out.push((v % 128) + 128); v = Math.floor(v / 128); }
  out.push(v);
  return out;
}

/** RFC 7541 C.3.1 and C.4.1 (the same request, raw and Huffman), and C.6.1's Huffman response. */
const RFC_BLOCKS: readonly (readonly number[])[] = [
  [0x82, 0x86, 0x84, 0x41, 0x0f, ...Buffer.from('www.example.com')],
  [0x82, 0x86, 0x84, 0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff],
  [0x48, 0x82, 0x64, 0x02, 0x58, 0x85, 0xae, 0xc3, 0x77, 0x1a, 0x4b, 0x61, 0x96, 0xd0, 0x7a, 0xbe, 0x94, 0x10, 0x54, 0xd4, 0x44, 0xa8, 0x20, 0x05, 0x95, 0x04, 0x0b, 0x81, 0x66, 0xe0, 0x82, 0xa6, 0x2d, 0x1b, 0xff, 0x6e, 0x91, 0x9d, 0x29, 0xad, 0x17, 0x18, 0x63, 0xc7, 0x8f, 0x0b, 0x97, 0xc8, 0xe9, 0xae, 0x82, 0xae, 0x43, 0xd3],
];

function requestBlock(rng: Rng, k: number): number[] {
  if (rng.chance(0.3)) return [...rng.pick(RFC_BLOCKS)];
  const grpc = rng.chance(0.3);
  return [
    grpc ? 0x83 : 0x82, 0x86, 0x44, ...lit(grpc ? '/lab.Inventory/GetItem' : `/api/items/${k}`), 0x41, ...lit('backend.lab.svc.cluster.local'),
    0x40, ...lit('x-request-id'), ...lit(`fd1ab0${k}-0000-4000-8000-00000000000${k % 10}`),
    ...(grpc ? [0x5f, ...lit('application/grpc')] : []),
  ];
}

/** Hostile HPACK fragments, with the anomaly each must give when it reaches the decoder whole. */
function hostileBlock(rng: Rng): { blocks: number[][]; expect: string | null; what: string } {
  switch (rng.below(7)) {
    case 0: {
      // Above 64 KiB is over any limit a peer can set (the cap); 4097 and 65536 depend on the SETTINGS seen.
      const size = rng.pick([4097, 65536, 65537, 1 << 24, 2 ** 28 - 1]);
      return { blocks: [[...hpackInt(0x20, 5, size), 0x82]], expect: size > MAX_TABLE_SIZE ? 'hpack-table-size-over-limit' : null, what: `table size update to ${size}` };
    }
    case 1: return { blocks: [[0x82, 0x41, 0x83, 0xff, 0xff, 0xff]], expect: 'huffman-padding', what: 'Huffman string of all ones (EOS inside)' };
    case 2: return { blocks: [[0x41, 0x82, 0x1f, 0x00]], expect: 'huffman-padding', what: 'Huffman padding of zeros' };
    case 3: return { blocks: [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]], expect: 'hpack-integer-overflow', what: 'integer longer than 2^28' };
    case 4: return { blocks: [[0x80]], expect: 'hpack-bad-index', what: 'indexed field 0' };
    case 5: return { blocks: [[0x82, 0x44, 0x7f, 0x90, 0x01, 0x61]], expect: 'hpack-truncated', what: 'string length past the block' };
    default: {
      // Churn: a table size update (within or far past any limit), then blocks of inserts that
      // evict each other — up to 240 KiB of entries in frames of at most 16 KiB (each decoded).
      const size = rng.pick([0, 4096, 65536, 2 ** 28 - 1]);
      const value = rng.pick([30, 300, 2000, 4000]);
      const perBlock = Math.max(1, Math.floor(16000 / (value + 8)));
      const blocks: number[][] = [hpackInt(0x20, 5, size)];
      const n = rng.int(2, Math.floor(240_000 / value));
      for (let i = 0; i < n; i++) {
        if (i % perBlock === 0) blocks.push([]);
        blocks[blocks.length - 1]!.push(0x40, ...lit(`x-${i}`), ...hpackInt(0, 7, value), ...new Array<number>(value).fill(0x61));
      }
      return { blocks, expect: size > MAX_TABLE_SIZE ? 'hpack-table-size-over-limit' : null, what: `table size update to ${size}, then ${n} inserts of ${value}-byte values` };
    }
  }
}

interface Built { client: number[]; server: number[]; expect: string[]; mutations: string[] }

/** A connection written from scratch: preface, SETTINGS, requests and answers, PINGs, GOAWAY, and hostile parts. */
function synthetic(rng: Rng): Built {
  const b: Built = { client: [...CLIENT_PREFACE], server: [], expect: [], mutations: [] };
  const tableSize = rng.pick([0, 256, 4096, 65536, 65537, 0xffffffff]);
  b.client.push(...frame(FrameType.SETTINGS, 0, 0, [0, 1, (tableSize >>> 24) & 255, (tableSize >> 16) & 255, (tableSize >> 8) & 255, tableSize & 255]));
  if (tableSize > 65536) b.expect.push('h2-header-table-size-capped');
  b.server.push(...frame(FrameType.SETTINGS, 0, 0, []), ...frame(FrameType.SETTINGS, Flag.ACK, 0, []));
  const streams = rng.int(1, 12);
  for (let k = 0, id = 1; k < streams; k++, id += 2) {
    const block = requestBlock(rng, k);
    if (rng.chance(0.3) && block.length > 4) { // split over CONTINUATION
      const cut = rng.int(1, block.length - 1);
      b.client.push(...frame(FrameType.HEADERS, 0, id, block.slice(0, cut)), ...frame(FrameType.CONTINUATION, Flag.END_HEADERS | Flag.END_STREAM, id, block.slice(cut)));
    } else {
      b.client.push(...frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, block));
    }
    b.server.push(...frame(FrameType.HEADERS, Flag.END_HEADERS, id, [0x88]), ...frame(FrameType.DATA, Flag.END_STREAM, id, new Array(rng.int(0, 64)).fill(0x7a)));
    if (rng.chance(0.3)) b.client.push(...frame(FrameType.PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, k])), b.server.push(...frame(FrameType.PING, Flag.ACK, 0, [1, 2, 3, 4, 5, 6, 7, k]));
  }
  if (rng.chance(0.5)) b.server.push(...frame(FrameType.GOAWAY, 0, 0, [0, 0, 0, 1, 0, 0, 0, rng.pick([0, 11])]));
  return b;
}

/** The lab's real byte streams (client → server and back) of a capture's first TCP connection, cached. */
const realCache = new Map<string, { client: number[]; server: number[] } | null>();
function realStreams(seed: CaptureSeed): { client: number[]; server: number[] } | null {
  if (realCache.has(seed.name)) return realCache.get(seed.name)!;
  const parsed = packetsOf(seed.bytes);
  let out: { client: number[]; server: number[] } | null = null;
  if (parsed) {
    const decoder = new PacketDecoder();
    let clientPort = -1;
    const next = [-1, -1];
    const bytes: number[][] = [[], []];
    for (const pk of parsed.packets) {
      const p = decoder.decodeBytes(pk.data, 0, pk.data.length, parsed.linkType);
      if (p.status !== DecodeStatus.OK || p.protocol !== IpProtocol.TCP || p.truncated) continue;
      if (clientPort < 0 && (p.flags & 0x12) === 0x02) clientPort = p.srcPort;
      if (clientPort < 0 || (p.srcPort !== clientPort && p.dstPort !== clientPort)) continue;
      const dir = p.srcPort === clientPort ? 0 : 1;
      const syn = (p.flags & 0x02) !== 0;
      if (syn) { next[dir] = (p.seq + 1) >>> 0; continue; }
      if (p.payloadLen === 0 || p.seq !== next[dir]) continue; // in order only (no retransmissions)
      for (let i = 0; i < p.payloadLen; i++) bytes[dir]!.push(p.data[p.payloadStart + i]!);
      next[dir] = (p.seq + p.payloadLen) >>> 0;
    }
    if (bytes[0]!.length >= CLIENT_PREFACE.length) out = { client: bytes[0]!, server: bytes[1]! };
  }
  realCache.set(seed.name, out);
  return out;
}

/** Frame starts in a stream (walking the length fields; stops at nonsense). */
function frameStarts(s: number[], from: number): number[] {
  const out: number[] = [];
  for (let o = from; o + 9 <= s.length && out.length < 4096;) {
    out.push(o);
    o += 9 + ((s[o]! << 16) | (s[o + 1]! << 8) | s[o + 2]!);
  }
  return out;
}

function mutate(b: Built, rng: Rng): void {
  const n = rng.weighted([[2, 0], [5, 1], [2, 2], [1, 3], [1, 5]] as const);
  for (let i = 0; i < n; i++) {
    const toClient = rng.chance(0.7);
    const s = toClient ? b.client : b.server;
    const side = toClient ? 'client' : 'server';
    const starts = frameStarts(s, toClient ? CLIENT_PREFACE.length : 0);
    const at = starts.length > 0 ? rng.pick(starts) : 0;
    switch (rng.weighted([[1, 0], [2, 1], [3, 2], [1, 3], [1, 4], [1, 5], [1, 6], [1, 7], [1, 8], [1, 9]] as const)) {
      case 0: { // a frame length set to nonsense
        if (at + 3 > s.length) break;
        const v = rng.pick([0, 1, 7, 9, 16384, 16385, 65535, 0xffffff, rng.u32() & 0xffffff]);
        s[at] = (v >> 16) & 255; s[at + 1] = (v >> 8) & 255; s[at + 2] = v & 255;
        b.mutations.push(`${side} frame at ${at}: length ${v}`);
        b.expect.length = 0; // the rest of the stream is read out of step: nothing is promised
        break;
      }
      case 1: { // CONTINUATION flood: a header block that never ends
        const count = rng.pick([10, 200, 300, 5000]);
        const size = rng.pick([0, 1, 100, 1000, 16384]);
        const flood = frame(FrameType.HEADERS, 0, 101, [0x82]);
        let frames = 0;
        for (; frames < count && flood.length < MAX_INPUT / 2; frames++) insert(flood, flood.length, frame(FrameType.CONTINUATION, 0, 101, new Array<number>(size).fill(0x82)));
        insert(s, at, flood);
        b.mutations.push(`${side}: CONTINUATION flood of ${frames} × ${size} bytes at ${at}`);
        // Whichever limit comes first: the frame count or the block's bytes.
        const tooLarge = Math.floor((64 * 1024 - 1) / Math.max(1, size)) + 1;
        if (frames > MAX_CONTINUATIONS && (size === 0 || tooLarge > MAX_CONTINUATIONS)) b.expect.push('h2-continuation-flood');
        else if (size > 0 && frames >= tooLarge) b.expect.push('h2-header-block-too-large');
        break;
      }
      case 2: { // a hostile HPACK block in its own HEADERS
        const h = hostileBlock(rng);
        const frames: number[] = [];
        h.blocks.forEach((block, k) => insert(frames, frames.length, frame(FrameType.HEADERS, Flag.END_HEADERS, 201 + 2 * k, block)));
        insert(s, at, frames);
        b.mutations.push(`${side}: HEADERS at ${at} with ${h.what}`);
        if (h.expect) b.expect.push(h.expect);
        break;
      }
      case 3: { // an unknown frame type
        insert(s, at, frame(rng.int(10, 255), rng.u32() & 255, rng.u32() & 0x7fffffff, rng.bytes(rng.int(0, 40))));
        b.mutations.push(`${side}: unknown frame type at ${at}`);
        b.expect.push('h2-unknown-frame-type');
        break;
      }
      case 4: { // SETTINGS_HEADER_TABLE_SIZE far past the cap
        insert(s, at, frame(FrameType.SETTINGS, 0, 0, [0, 1, 0xff, 0xff, 0xff, 0xff]));
        b.mutations.push(`${side}: SETTINGS_HEADER_TABLE_SIZE 2^32-1 at ${at}`);
        b.expect.push('h2-header-table-size-capped');
        break;
      }
      case 5: { // frames of the wrong size for their type
        const t = rng.pick([FrameType.PING, FrameType.GOAWAY, FrameType.RST_STREAM, FrameType.WINDOW_UPDATE, FrameType.PRIORITY, FrameType.SETTINGS]);
        insert(s, at, frame(t, 0, t === FrameType.PING || t === FrameType.GOAWAY || t === FrameType.SETTINGS ? 0 : 5, [1, 2, 3]));
        b.mutations.push(`${side}: ${t} frame of 3 bytes at ${at}`);
        break;
      }
      case 6: { // bit flip
        if (s.length === 0) break;
        const k = rng.below(s.length);
        s[k] = s[k]! ^ (1 << rng.below(8));
        b.mutations.push(`${side}: flip a bit at ${k}`);
        b.expect.length = 0;
        break;
      }
      case 7: { // random bytes inserted
        const junk = rng.bytes(rng.smallSize(200));
        insert(s, rng.below(s.length + 1), Array.from(junk));
        b.mutations.push(`${side}: ${junk.length} random bytes inserted`);
        b.expect.length = 0;
        break;
      }
      case 8: { // cut short
        const k = rng.below(s.length + 1);
        s.length = k;
        b.mutations.push(`${side}: cut at ${k}`);
        b.expect.length = 0;
        break;
      }
      default: { // a HEADERS with padding longer than the frame
        insert(s, at, frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.PADDED, 301, [200, 0x82]));
        b.mutations.push(`${side}: HEADERS at ${at} with 200 bytes of padding in 2`);
        b.expect.push('h2-bad-padding');
      }
    }
  }
}

// ---- the target --------------------------------------------------------------------------------

interface Segment { fromClient: boolean; start: number; end: number; cutTo?: number; lost?: boolean }

/** How the two streams are fed (kept in a case as a seed, remade in run()). */
interface Feed { seed: number; max: number; hostile: boolean }

/** Segments alternating between sides at random sizes up to `max`; with `hostile`, some cut by a snap length and some lost. */
function segmentation(f: Feed, clientLen: number, serverLen: number): Segment[] {
  const rng = new Rng(f.seed);
  const segs: Segment[] = [];
  let c = 0, s = 0;
  while (c < clientLen || s < serverLen) {
    const fromClient = s >= serverLen || (c < clientLen && rng.chance(0.6));
    const at = fromClient ? c : s;
    const len = Math.min((fromClient ? clientLen : serverLen) - at, rng.smallSize(f.max));
    const seg: Segment = { fromClient, start: at, end: at + len };
    if (f.hostile && rng.chance(0.1)) seg.cutTo = at + rng.below(len + 1);
    else if (f.hostile && rng.chance(0.03)) seg.lost = true;
    segs.push(seg);
    if (fromClient) c += len; else s += len;
  }
  return segs;
}

/** Feeds the segments to a session; returns its events (frame numbers dropped) and anomalies, and checks bounds on the way. */
function feedSession(client: Uint8Array, server: Uint8Array, segs: readonly Segment[], problems: string[]): { events: string; anomalies: string[]; peak: number } {
  const events: H2Event[] = [];
  const anomalies: string[] = [];
  const session = new H2Session(true, true, (e) => events.push(e), (code) => anomalies.push(code));
  let peak = 0;
  segs.forEach((g, k) => {
    const b = g.fromClient ? client : server;
    session.push(g.fromClient, b, g.start, g.end, k + 1, k + 1);
    const held = session.bufferedBytes;
    if (held > peak) peak = held;
  });
  for (const side of [true, false]) {
    const t = session.hpackTableSize(side);
    if (t > MAX_TABLE_SIZE) problems.push(`HPACK table of ${t} octets, over ${MAX_TABLE_SIZE}`);
  }
  for (const e of events) {
    if (e.type !== 'headers') continue;
    let bytes = 0;
    for (const v of Object.values(e.headers)) bytes += String(v).length + 32;
    if (bytes > MAX_HEADER_LIST) problems.push(`header list of ${bytes} octets handed on, over ${MAX_HEADER_LIST}`);
  }
  return { events: JSON.stringify(events.map((e) => ({ ...e, frame: 0, micros: 0 }))), anomalies, peak };
}

export const h2Target: Target = {
  name: 'h2',
  generate(rng: Rng, corpus: SeedCorpus): FuzzCase {
    const real = corpus.captures.filter((c) => /(^|\/)h2-[^/]*\/[^/]+\.pcap$/.test(c.name));
    let b: Built;
    let seedName = 'synthetic';
    const seed = real.length > 0 && rng.chance(0.4) ? rng.pick(real) : null;
    const streams = seed ? realStreams(seed) : null;
    if (seed && streams) {
      b = { client: streams.client.slice(), server: streams.server.slice(), expect: [], mutations: [] };
      seedName = seed.name;
    } else {
      b = synthetic(rng);
    }
    mutate(b, rng);
    // What a hostile part must give is promised only when nothing else was done to the stream.
    if (b.mutations.length > 1) b.expect.length = 0;
    if (b.client.length > MAX_INPUT) b.client.length = MAX_INPUT;
    if (b.server.length > MAX_INPUT) b.server.length = MAX_INPUT;
    const input = new Uint8Array(b.client.length + b.server.length);
    input.set(b.client);
    input.set(b.server, b.client.length);
    // Segments of 1 to 64 KiB, never more than ~4,096 of them (tiny segments of a large input cost time, not findings).
    let max = rng.pick([1, 7, 64, 1448, 16384, 65536]);
    if (input.length / max > 4096) max = Math.ceil(input.length / 4096);
    const feed: Feed = { seed: rng.u32(), max, hostile: rng.chance(0.4) };
    return { target: 'h2', input, mutations: b.mutations, seedName, params: { clientLength: b.client.length, expect: [...new Set(b.expect)], feed } };
  },
  async run(c: FuzzCase, ctx: RunContext): Promise<string[]> {
    const p = c.params as { clientLength: number; expect: string[]; feed: Feed };
    const problems: string[] = [];
    const client = c.input.subarray(0, p.clientLength);
    const server = c.input.subarray(p.clientLength);
    const segments = segmentation(p.feed, client.length, server.length);
    const inStep = segments.every((g) => g.cutTo === undefined && !g.lost);
    const whole: Segment[] = [{ fromClient: true, start: 0, end: client.length }, { fromClient: false, start: 0, end: server.length }];
    // Client first, then server, in both runs: a side's SETTINGS limit what the other sends, so the order across sides matters, the segmentation must not.
    const ordered = [...segments.filter((g) => g.fromClient), ...segments.filter((g) => !g.fromClient)];
    const a = feedSession(client, server, whole, problems);
    for (const code of a.anomalies) if (!H2_ANOMALY_CODES.includes(code)) problems.push(`unknown anomaly code ${code}`);
    for (const code of p.expect) if (!a.anomalies.includes(code)) problems.push(`hostile input without its anomaly: ${code} (got ${[...new Set(a.anomalies)].join(', ') || 'none'})`);
    if (a.peak > H2_MAX_BUFFERED) problems.push(`the session buffered ${a.peak} bytes, over ${H2_MAX_BUFFERED}`);
    if (inStep) {
      const b = feedSession(client, server, ordered, problems);
      if (b.events !== a.events) problems.push(`fed in ${ordered.length} segments, the events differ from whole | ${b.events.slice(0, 160)} vs ${a.events.slice(0, 160)}`);
      if (b.anomalies.join() !== a.anomalies.join()) problems.push(`fed in ${ordered.length} segments, the anomalies differ from whole | ${b.anomalies.join()} vs ${a.anomalies.join()}`);
      if (b.peak > H2_MAX_BUFFERED) problems.push(`the session buffered ${b.peak} bytes in segments, over ${H2_MAX_BUFFERED}`);
    }
    // Through the sniffer, as the connection table feeds it: segments interleaved, some cut by a snap length, some lost.
    const account = new BufferAccount();
    const anomalies: string[] = [];
    const messages: AppMessage[] = [];
    const sniffer = new AppSniffer({ appMessage: (m) => messages.push(m), appAnomaly: (code) => anomalies.push(code) }, account);
    segments.forEach((g, k) => {
      const b = g.fromClient ? client : server;
      if (g.lost) { sniffer.h2?.lost(g.fromClient); return; }
      const captured = (g.cutTo ?? g.end) - g.start;
      sniffer.onPayload(g.fromClient, b, g.start, captured, k + 1, k + 1, g.end - g.start);
    });
    ctx.retained({ bufferedBytes: account.peak });
    if (account.peak > H2_MAX_BUFFERED + 2 * 16 * 1024) problems.push(`the sniffer's account peaked at ${account.peak} bytes`);
    sniffer.release();
    if (account.held !== 0) problems.push(`${account.held} bytes still counted after release`);
    for (const code of anomalies) if (!H2_ANOMALY_CODES.includes(code) && !['http-head-too-long', 'tls-hello-too-long'].includes(code)) problems.push(`unknown anomaly code ${code}`);
    for (const m of messages) {
      if (m.streamId !== undefined && !(Number.isInteger(m.streamId) && m.streamId >= 0 && m.streamId < 2 ** 31)) problems.push(`stream id ${m.streamId}`);
      if (m.truncated && !(m.truncated.capturedBytes < m.truncated.wireBytes)) problems.push(`truncated ${JSON.stringify(m.truncated)} with nothing cut`);
    }
    JSON.stringify(messages);
    ctx.sample();
    return problems;
  },
};

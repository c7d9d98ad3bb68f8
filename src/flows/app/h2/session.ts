/**
 * One HTTP/2 connection as both directions' frames tell it: header blocks (HEADERS + CONTINUATION,
 * PUSH_PROMISE) decoded with each direction's HPACK table, SETTINGS applied to the other side's
 * limits, and the events flowdoc reports — requests and responses per stream, PING / PING ACK,
 * GOAWAY, RST_STREAM — handed to `onEvent`. Hostile or broken input is counted through
 * `onAnomaly`, never thrown; memory is bounded per connection (two frame readers, two header
 * block buffers of at most MAX_HEADER_BLOCK, two HPACK tables of at most MAX_TABLE_SIZE).
 */
import { DEFAULT_MAX_FRAME_SIZE, Flag, FrameReader, FrameType, MAX_FRAME_KEEP, type RawFrame } from './frames.js';
import { HpackDecoder, MAX_TABLE_SIZE } from './hpack.js';

/** A header block (HEADERS + CONTINUATIONs) longer than this is a flood: dropped, counted. */
export const MAX_HEADER_BLOCK = 64 * 1024;
/**
 * A header block in more CONTINUATION frames than this is a flood too, whatever their size (empty
 * CONTINUATIONs cost a peer nothing to send; RFC 9113 sets no limit, servers cut it — CVE-2024-27316).
 */
export const MAX_CONTINUATIONS = 256;

/**
 * The most a session holds in buffers of its own, both sides together: each side's frame payload
 * buffer (MAX_FRAME_KEEP) and header block buffer (MAX_HEADER_BLOCK), and each HPACK table at
 * MAX_TABLE_SIZE octets as RFC 7541 §4.1 counts them. `bufferedBytes` is measured against it.
 */
export const H2_MAX_BUFFERED = 2 * (MAX_FRAME_KEEP + MAX_HEADER_BLOCK + MAX_TABLE_SIZE);

/** Every anomaly code the session (and its HPACK decoders) can report; see docs/http2.md. */
export const H2_ANOMALY_CODES: readonly string[] = [
  'h2-frame-too-large', 'h2-continuation-expected', 'h2-unexpected-continuation', 'h2-continuation-flood', 'h2-header-block-too-large',
  'h2-stream-zero', 'h2-bad-ping', 'h2-bad-goaway', 'h2-bad-rst-stream', 'h2-bad-settings', 'h2-header-table-size-capped',
  'h2-bad-window-update', 'h2-bad-priority', 'h2-bad-padding', 'h2-unknown-frame-type',
  'hpack-truncated', 'hpack-integer-overflow', 'hpack-bad-index', 'huffman-eos', 'huffman-padding',
  'hpack-table-size-over-limit', 'hpack-header-list-too-large',
];

const SETTINGS_HEADER_TABLE_SIZE = 1;
const SETTINGS_MAX_FRAME_SIZE = 5;

/** RFC 9113 §7 error codes, by value. */
export const H2_ERROR_NAMES: readonly string[] = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT', 'STREAM_CLOSED',
  'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR', 'CONNECT_ERROR', 'ENHANCE_YOUR_CALM',
  'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];

export function h2ErrorName(code: number): string {
  return H2_ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** The header fields flowdoc keeps from a block (the rest are decoded for the table only). */
export interface H2Headers {
  method?: string;
  path?: string;
  authority?: string;
  scheme?: string;
  status?: number;
  requestId?: string;
  contentType?: string;
  userAgent?: string;
  grpcStatus?: number;
  grpcMessage?: string;
}

/** A header block whose end was not captured (the snap length cut its segment). */
export interface H2Cut {
  /** The HPACK field whose value is only its captured prefix (':path', …), or null when the cut fell between fields. */
  readonly field: string | null;
}

interface Base {
  /** Packet frame number and time where the HTTP/2 frame started. */
  readonly frame: number;
  readonly micros: number;
  readonly fromClient: boolean;
}

export type H2Event =
  | (Base & { readonly type: 'headers'; readonly streamId: number; readonly endStream: boolean; readonly headers: H2Headers;
      /** Fields that referenced HPACK entries from before the capture (or a resync): not known. */
      readonly unknownFields: number;
      /** Set when the block was cut by the snap length: `headers` is what its captured prefix held. */
      readonly cut: H2Cut | null })
  | (Base & { readonly type: 'ping'; readonly ack: boolean; readonly opaque: string })
  | (Base & { readonly type: 'goaway'; readonly lastStreamId: number; readonly errorCode: number })
  | (Base & { readonly type: 'rst-stream'; readonly streamId: number; readonly errorCode: number })
  | (Base & { readonly type: 'settings'; readonly ack: boolean; readonly headerTableSize: number | null; readonly maxFrameSize: number | null })
  | (Base & { readonly type: 'data'; readonly streamId: number; readonly length: number; readonly endStream: boolean });

/** Per direction: its frame reader, the HPACK table its peer's encoder fills, the block being assembled. */
class Side {
  readonly reader: FrameReader;
  readonly hpack: HpackDecoder;
  block: Uint8Array | null = null;
  blockLen = 0;
  /** A HEADERS / PUSH_PROMISE awaits CONTINUATION frames on `blockStream`. */
  blockActive = false;
  blockStream = 0;
  /** Stream the finished block is reported for (-1: a PUSH_PROMISE's, decoded for the table only). */
  blockReport = 0;
  blockEndStream = false;
  blockFrame = 0;
  blockMicros = 0;
  /** CONTINUATION frames of the block being assembled. */
  blockContinuations = 0;
  /** Dropping the rest of a block that was too large or broken (until END_HEADERS). */
  blockDropping = false;
  /** Largest frame this side may send: the other side's SETTINGS_MAX_FRAME_SIZE. */
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;

  constructor(fromStart: boolean, onFrame: (f: RawFrame) => void, skipPreface: boolean) {
    this.reader = new FrameReader(onFrame, skipPreface);
    this.hpack = new HpackDecoder(fromStart);
  }
}

export type H2AnomalyHandler = (code: string, frame: number) => void;

export class H2Session {
  private readonly client: Side;
  private readonly server: Side;
  /** Highest stream id the client opened (a GOAWAY race is judged against the peer's last-stream-id). */
  highestClientStream = 0;

  /**
   * @param fromStart whether the connection's start (the client preface) was captured: without
   *   it HPACK references to older entries are unknown, and said so per header block.
   * @param clientSkipsPreface the client direction starts with the 24-byte preface.
   */
  constructor(
    fromStart: boolean,
    clientSkipsPreface: boolean,
    private readonly onEvent: (e: H2Event) => void,
    private readonly onAnomaly: H2AnomalyHandler,
  ) {
    this.client = new Side(fromStart, (f) => this.onFrame(true, f), clientSkipsPreface);
    this.server = new Side(fromStart, (f) => this.onFrame(false, f), false);
  }

  /** In-order payload of one segment from one side (`cut`: the snap length cut the segment after `end`). */
  push(fromClient: boolean, b: Uint8Array, start: number, end: number, frame: number, micros: number, cut = false): void {
    (fromClient ? this.client : this.server).reader.push(b, start, end, frame, micros, cut);
  }

  /**
   * `n` bytes of one side that followed the last push were not captured (snap length). Frames
   * whose payload they were in are handed on as cut; when a frame header was among them, the side
   * resynchronises as after lost bytes.
   */
  uncaptured(fromClient: boolean, n: number): void {
    const s = fromClient ? this.client : this.server;
    if (!s.reader.skip(n)) this.lost(fromClient);
  }

  /** Bytes of one direction were not captured: resynchronise (frames and that direction's HPACK table). */
  lost(fromClient: boolean): void {
    const s = fromClient ? this.client : this.server;
    s.reader.reset();
    s.hpack.resync();
    s.blockActive = false;
    s.blockDropping = false;
  }

  /**
   * Bytes this session holds in buffers of its own now: both sides' frame payload and header
   * block buffers, and their HPACK tables (§4.1 octets). At most H2_MAX_BUFFERED.
   */
  get bufferedBytes(): number {
    const c = this.client, s = this.server;
    return c.reader.bufferBytes + (c.block?.length ?? 0) + c.hpack.size + s.reader.bufferBytes + (s.block?.length ?? 0) + s.hpack.size;
  }

  /** One side's HPACK table size in §4.1 octets (for tests and the fuzzer's bound). */
  hpackTableSize(fromClient: boolean): number {
    return (fromClient ? this.client : this.server).hpack.size;
  }

  /** Whether every header block so far could be decoded with a fully known table, per side. */
  get hpackFromStart(): { client: boolean; server: boolean } {
    return { client: this.client.hpack.fromStart, server: this.server.hpack.fromStart };
  }

  private onFrame(fromClient: boolean, f: RawFrame): void {
    const s = fromClient ? this.client : this.server;
    if (f.length > s.maxFrameSize) this.onAnomaly('h2-frame-too-large', f.frame);
    if (s.blockActive && f.type !== FrameType.CONTINUATION) {
      // RFC 9113 §6.10: nothing may come between HEADERS and its CONTINUATIONs. The block is lost.
      this.onAnomaly('h2-continuation-expected', f.frame);
      s.blockActive = false;
      s.blockDropping = false;
      s.hpack.resync();
    }
    switch (f.type) {
      case FrameType.HEADERS: return this.onHeaders(s, fromClient, f);
      case FrameType.PUSH_PROMISE: return this.onPushPromise(s, fromClient, f);
      case FrameType.CONTINUATION: return this.onContinuation(s, fromClient, f);
      case FrameType.DATA: {
        if (f.streamId === 0) this.onAnomaly('h2-stream-zero', f.frame);
        this.onEvent({ type: 'data', frame: f.frame, micros: f.micros, fromClient, streamId: f.streamId, length: f.length, endStream: (f.flags & Flag.END_STREAM) !== 0 });
        return;
      }
      case FrameType.PING: {
        if (f.length !== 8 || f.streamId !== 0) return this.onAnomaly('h2-bad-ping', f.frame);
        this.onEvent({ type: 'ping', frame: f.frame, micros: f.micros, fromClient, ack: (f.flags & Flag.ACK) !== 0, opaque: hex(f.payload, f.kept) });
        return;
      }
      case FrameType.GOAWAY: {
        if (f.length < 8 || f.streamId !== 0) return this.onAnomaly('h2-bad-goaway', f.frame);
        if (f.kept < 8) return; // cut by the snap length before the last stream id and error code
        this.onEvent({ type: 'goaway', frame: f.frame, micros: f.micros, fromClient, lastStreamId: u31(f.payload, 0), errorCode: u32(f.payload, 4) });
        return;
      }
      case FrameType.RST_STREAM: {
        if (f.length !== 4 || f.streamId === 0) return this.onAnomaly('h2-bad-rst-stream', f.frame);
        if (f.kept < 4) return; // cut before the error code
        this.onEvent({ type: 'rst-stream', frame: f.frame, micros: f.micros, fromClient, streamId: f.streamId, errorCode: u32(f.payload, 0) });
        return;
      }
      case FrameType.SETTINGS: return this.onSettings(fromClient, f);
      case FrameType.WINDOW_UPDATE:
        if (f.length !== 4) this.onAnomaly('h2-bad-window-update', f.frame);
        return;
      case FrameType.PRIORITY:
        if (f.length !== 5) this.onAnomaly('h2-bad-priority', f.frame);
        return;
      default:
        this.onAnomaly('h2-unknown-frame-type', f.frame);
    }
  }

  private onSettings(fromClient: boolean, f: RawFrame): void {
    const ack = (f.flags & Flag.ACK) !== 0;
    // A cut SETTINGS frame gives the settings whose 6 bytes were captured.
    if (f.streamId !== 0 || f.length % 6 !== 0 || (ack && f.length !== 0) || (f.kept < f.length && !f.cut)) {
      this.onAnomaly('h2-bad-settings', f.frame);
      return;
    }
    let headerTableSize: number | null = null;
    let maxFrameSize: number | null = null;
    for (let i = 0; i + 6 <= f.kept; i += 6) {
      const id = (f.payload[i]! << 8) | f.payload[i + 1]!;
      const value = u32(f.payload, i + 2);
      if (id === SETTINGS_HEADER_TABLE_SIZE) headerTableSize = value;
      else if (id === SETTINGS_MAX_FRAME_SIZE) maxFrameSize = value;
    }
    // A side's settings limit what the OTHER side sends: its encoder's table, its frame size.
    const other = fromClient ? this.server : this.client;
    if (headerTableSize !== null) {
      if (headerTableSize > 64 * 1024) this.onAnomaly('h2-header-table-size-capped', f.frame);
      other.hpack.setLimit(headerTableSize);
    }
    if (maxFrameSize !== null) {
      if (maxFrameSize < DEFAULT_MAX_FRAME_SIZE || maxFrameSize > 0xffffff) this.onAnomaly('h2-bad-settings', f.frame);
      else other.maxFrameSize = maxFrameSize;
    }
    this.onEvent({ type: 'settings', frame: f.frame, micros: f.micros, fromClient, ack, headerTableSize, maxFrameSize });
  }

  private onHeaders(s: Side, fromClient: boolean, f: RawFrame): void {
    if (f.streamId === 0) this.onAnomaly('h2-stream-zero', f.frame);
    let o = 0;
    let pad = 0;
    if (f.flags & Flag.PADDED) {
      pad = f.payload[0] ?? 0;
      o = 1;
    }
    if (f.flags & Flag.PRIORITY) o += 5;
    if (fromClient && f.streamId > this.highestClientStream) this.highestClientStream = f.streamId;
    this.startBlock(s, fromClient, f, o, pad);
  }

  private onPushPromise(s: Side, fromClient: boolean, f: RawFrame): void {
    let o = 0;
    let pad = 0;
    if (f.flags & Flag.PADDED) {
      pad = f.payload[0] ?? 0;
      o = 1;
    }
    o += 4; // promised stream id
    this.startBlock(s, fromClient, f, o, pad);
  }

  /** The fragment of a HEADERS / PUSH_PROMISE is payload[o, length - pad). */
  private startBlock(s: Side, fromClient: boolean, f: RawFrame, o: number, pad: number): void {
    const report = f.type === FrameType.HEADERS ? f.streamId : -1;
    const fragEnd = f.length - pad;
    s.blockEndStream = f.type === FrameType.HEADERS && (f.flags & Flag.END_STREAM) !== 0;
    s.blockFrame = f.frame;
    s.blockMicros = f.micros;
    s.blockStream = f.streamId;
    s.blockReport = report;
    s.blockLen = 0;
    s.blockContinuations = 0;
    s.blockDropping = false;
    s.blockActive = (f.flags & Flag.END_HEADERS) === 0;
    if (fragEnd < o) {
      this.onAnomaly('h2-bad-padding', f.frame);
      s.hpack.resync();
      s.blockDropping = true;
      return;
    }
    if (f.cut && f.kept < fragEnd) {
      // The snap length cut the block: decode what was captured; any CONTINUATION is dropped (the table is lost).
      this.decodeBlock(s, fromClient, report, f.payload, o, Math.max(o, f.kept), true);
      s.blockDropping = s.blockActive;
      return;
    }
    if (f.kept < fragEnd) { // the frame was longer than MAX_FRAME_KEEP
      this.blockTooLarge(s, f);
      s.blockDropping = true;
      return;
    }
    if (!s.blockActive) {
      this.decodeBlock(s, fromClient, report, f.payload, o, fragEnd);
      return;
    }
    // The block continues: keep its fragment (a deliberate copy: it outlives the frame buffer).
    this.appendBlock(s, f.payload, o, fragEnd);
  }

  private onContinuation(s: Side, fromClient: boolean, f: RawFrame): void {
    if (!s.blockActive || f.streamId !== s.blockStream) {
      this.onAnomaly('h2-unexpected-continuation', f.frame);
      if (s.blockActive) { s.blockActive = false; s.blockDropping = false; }
      s.hpack.resync();
      return;
    }
    if (!s.blockDropping && ++s.blockContinuations > MAX_CONTINUATIONS) {
      this.onAnomaly('h2-continuation-flood', f.frame); // many small (or empty) CONTINUATIONs: dropped like a large block
      s.hpack.resync();
      s.blockDropping = true;
    }
    if (!s.blockDropping && f.cut && f.kept < f.length && s.blockLen + f.kept <= MAX_HEADER_BLOCK) {
      // The snap length cut this CONTINUATION: the block is what was captured of it.
      this.appendBlock(s, f.payload, 0, f.kept);
      this.decodeBlock(s, fromClient, s.blockReport, s.block!, 0, s.blockLen, true);
      s.blockDropping = true;
    }
    if (!s.blockDropping) {
      if (f.kept < f.length || s.blockLen + f.length > MAX_HEADER_BLOCK) {
        this.blockTooLarge(s, f); // a CONTINUATION flood, or one enormous block
        s.blockDropping = true;
      } else {
        this.appendBlock(s, f.payload, 0, f.length);
      }
    }
    if (!(f.flags & Flag.END_HEADERS)) return;
    s.blockActive = false;
    if (s.blockDropping) {
      s.blockDropping = false;
      return;
    }
    this.decodeBlock(s, fromClient, s.blockReport, s.block!, 0, s.blockLen);
  }

  private blockTooLarge(s: Side, f: RawFrame): void {
    this.onAnomaly('h2-header-block-too-large', f.frame);
    s.hpack.resync();
  }

  private appendBlock(s: Side, b: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (!s.block || s.blockLen + n > s.block.length) {
      const grown = new Uint8Array(Math.min(MAX_HEADER_BLOCK, Math.max(s.blockLen + n, 2 * (s.block?.length ?? 512))));
      if (s.block) grown.set(s.block.subarray(0, s.blockLen));
      s.block = grown;
    }
    s.block.set(b.subarray(start, end), s.blockLen);
    s.blockLen += n;
  }

  /** Decodes a complete block; streamId -1 for a PUSH_PROMISE (decoded to keep the table right, not reported). */
  private decodeBlock(s: Side, fromClient: boolean, streamId: number, b: Uint8Array, start: number, end: number, cut = false): void {
    const headers: H2Headers = {};
    const err = s.hpack.decode(b, start, end, (name, value) => pick(headers, name, value), cut);
    const notes = s.hpack.notes;
    if (err) this.onAnomaly(err, s.blockFrame);
    if (notes.sizeOverLimit) this.onAnomaly('hpack-table-size-over-limit', s.blockFrame);
    if (notes.listTooLarge) this.onAnomaly('hpack-header-list-too-large', s.blockFrame);
    if (streamId <= 0) return;
    this.onEvent({
      type: 'headers', frame: s.blockFrame, micros: s.blockMicros, fromClient, streamId, endStream: s.blockEndStream, headers,
      unknownFields: notes.unknownRefs + (err ? 1 : 0),
      cut: cut ? { field: notes.cutField } : null,
    });
  }
}

function pick(h: H2Headers, name: string, value: string): void {
  switch (name) {
    case ':method': h.method = value; break;
    case ':path': h.path = value; break;
    case ':authority': h.authority = value; break;
    case ':scheme': h.scheme = value; break;
    case ':status': { const n = Number(value); if (Number.isInteger(n)) h.status = n; break; }
    case 'x-request-id': h.requestId = value; break;
    case 'content-type': h.contentType = value; break;
    case 'user-agent': h.userAgent = value; break;
    case 'grpc-status': { const n = Number(value); if (Number.isInteger(n)) h.grpcStatus = n; break; }
    case 'grpc-message': h.grpcMessage = value; break;
    case 'host': if (h.authority === undefined) h.authority = value; break;
  }
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
}

function u31(b: Uint8Array, o: number): number {
  return u32(b, o) & 0x7fffffff;
}

function hex(b: Uint8Array, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return s;
}

/** gRPC service and method from a request path `/package.Service/Method` (null when it is not that shape). */
export function grpcMethodOf(path: string): { service: string; method: string } | null {
  const m = /^\/([^/?#]+)\/([^/?#]+)$/.exec(path);
  return m ? { service: m[1]!, method: m[2]! } : null;
}

export function isGrpc(contentType: string | undefined): boolean {
  return contentType !== undefined && (contentType === 'application/grpc' || contentType.startsWith('application/grpc+') || contentType.startsWith('application/grpc;'));
}

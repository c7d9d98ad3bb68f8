/**
 * HTTP/2 frame layout (RFC 9113 §4.1, §6) and a push reader that finds frames in one direction's
 * in-order byte stream, whatever the segment boundaries: a frame may span segments and a segment
 * may hold many frames. Only the payload bytes a frame's meaning needs are kept (a header block,
 * SETTINGS, the first 8 bytes of GOAWAY …), never DATA, and never more than MAX_FRAME_KEEP.
 */

export const FrameType = {
  DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7,
  WINDOW_UPDATE: 8, CONTINUATION: 9,
} as const;

export const FRAME_TYPE_NAMES: readonly string[] = [
  'DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION',
];

export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;

export const FRAME_HEADER = 9;
/** SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 §6.5.2). */
export const DEFAULT_MAX_FRAME_SIZE = 16384;
/** Largest frame payload whose bytes are kept for parsing (a header block fragment, SETTINGS). */
export const MAX_FRAME_KEEP = 64 * 1024;

/** The client connection preface (RFC 9113 §3.4). */
export const CLIENT_PREFACE = Uint8Array.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', (c) => c.charCodeAt(0));

/** Does b[o, end) start with the client preface (or with as much of it as there is)? */
export function startsWithPreface(b: Uint8Array, o: number, end: number): boolean {
  const n = Math.min(end - o, CLIENT_PREFACE.length);
  if (n < 4) return false; // "PRI " at least: fewer bytes could be anything
  for (let k = 0; k < n; k++) if (b[o + k] !== CLIENT_PREFACE[k]) return false;
  return true;
}

/** One frame as the reader hands it on: its header, and the kept part of its payload. */
export interface RawFrame {
  length: number;
  type: number;
  flags: number;
  streamId: number;
  /** Kept payload: payload[0, kept) (kept < length when the frame is DATA, unknown, or over MAX_FRAME_KEEP). */
  payload: Uint8Array;
  kept: number;
  /**
   * Some of the payload was never captured (the snap length cut the segment): the kept bytes are
   * only the captured prefix of what the frame's meaning needs.
   */
  cut: boolean;
  /** Packet frame number and time where the frame header started. */
  frame: number;
  micros: number;
}

/** How many payload bytes of a frame are worth keeping. */
function keepBytes(type: number, length: number): number {
  switch (type) {
    case FrameType.HEADERS: case FrameType.CONTINUATION: case FrameType.PUSH_PROMISE: case FrameType.SETTINGS:
      return Math.min(length, MAX_FRAME_KEEP);
    case FrameType.PING: case FrameType.GOAWAY: return Math.min(length, 8);
    case FrameType.RST_STREAM: case FrameType.WINDOW_UPDATE: return Math.min(length, 4);
    case FrameType.PRIORITY: return 0;
    default: return 0; // DATA: length only; unknown types: skipped
  }
}

/**
 * Reads frames from one direction. `push` the in-order payload of each segment; `onFrame` is
 * called for each complete frame (the RawFrame object and its payload buffer are reused: copy
 * what you keep). The only memory is a 9-byte header buffer and a payload buffer grown to the
 * largest kept payload seen (at most MAX_FRAME_KEEP).
 */
export class FrameReader {
  private readonly header = new Uint8Array(FRAME_HEADER);
  private headerLen = 0;
  /** Payload bytes of the current frame still to come (-1: reading a header). */
  private remaining = -1;
  private keep = 0;
  private readonly f: RawFrame = { length: 0, type: 0, flags: 0, streamId: 0, payload: new Uint8Array(64), kept: 0, cut: false, frame: 0, micros: 0 };
  /**
   * The reader lost its place (bytes missing where a frame header was): segments are skipped
   * until one starts with something that looks like frames, rather than reading frame headers
   * out of the middle of a payload.
   */
  private searching = false;
  /** Bytes of the client preface still to skip before the first frame. */
  private prefaceLeft: number;
  /** Frames read (for the report and tests). */
  frames = 0;

  constructor(private readonly onFrame: (f: RawFrame) => void, skipPreface = false) {
    this.prefaceLeft = skipPreface ? CLIENT_PREFACE.length : 0;
  }

  /** True between frames (nothing of a frame buffered). */
  get atBoundary(): boolean { return this.remaining < 0 && this.headerLen === 0 && this.prefaceLeft === 0; }

  /** Bytes of the payload buffer (grown to the largest kept payload, at most MAX_FRAME_KEEP). */
  get bufferBytes(): number { return this.f.payload.length; }

  /** Whether the reader lost its place and waits for a segment that starts with frames. */
  get lostPlace(): boolean { return this.searching; }

  /** Bytes were lost from this direction: whatever frame was in progress is abandoned. */
  reset(): void {
    this.headerLen = 0;
    this.remaining = -1;
    this.prefaceLeft = 0;
    this.searching = true;
  }

  /**
   * `n` bytes that followed the last push were on the wire but not captured (the snap length cut
   * the segment). Inside a frame's payload they are accounted exactly — the frame is handed on
   * with `cut` set, and the next frame is still found where it starts; when a frame header fell
   * among them the reader lost its place (returns false) and resynchronises at a later segment.
   */
  skip(n: number): boolean {
    if (this.searching) return false;
    if (this.prefaceLeft > 0) {
      const s = Math.min(this.prefaceLeft, n);
      this.prefaceLeft -= s;
      n -= s;
    }
    if (n === 0) return true;
    if (this.remaining < 0) { // at a frame header (or inside one): it is among the lost bytes
      this.reset();
      return false;
    }
    const f = this.f;
    f.cut = true;
    const inFrame = Math.min(this.remaining, n);
    this.remaining -= inFrame;
    n -= inFrame;
    if (this.remaining > 0) return true;
    this.remaining = -1;
    this.frames++;
    this.onFrame(f);
    if (n === 0) return true;
    this.reset();
    return false;
  }

  push(b: Uint8Array, start: number, end: number, frame: number, micros: number, cut = false): void {
    let o = start;
    if (this.searching) {
      // Resume only at a segment that starts with plausible frames (see looksLikeFrames).
      if (!looksLikeFrames(b, o, end, cut)) return;
      this.searching = false;
    }
    if (this.prefaceLeft > 0) {
      const skip = Math.min(this.prefaceLeft, end - o);
      this.prefaceLeft -= skip;
      o += skip;
    }
    const f = this.f;
    while (o < end) {
      if (this.remaining < 0) {
        if (this.headerLen === 0) { f.frame = frame; f.micros = micros; }
        const take = Math.min(FRAME_HEADER - this.headerLen, end - o);
        this.header.set(b.subarray(o, o + take), this.headerLen);
        this.headerLen += take;
        o += take;
        if (this.headerLen < FRAME_HEADER) return;
        const h = this.header;
        f.length = (h[0]! << 16) | (h[1]! << 8) | h[2]!;
        f.type = h[3]!;
        f.flags = h[4]!;
        f.streamId = ((h[5]! & 0x7f) << 24) | (h[6]! << 16) | (h[7]! << 8) | h[8]!;
        f.kept = 0;
        f.cut = false;
        this.keep = keepBytes(f.type, f.length);
        if (this.keep > f.payload.length) f.payload = new Uint8Array(Math.min(MAX_FRAME_KEEP, Math.max(this.keep, 2 * f.payload.length)));
        this.remaining = f.length;
        this.headerLen = 0;
      }
      const take = Math.min(this.remaining, end - o);
      const copy = Math.min(take, this.keep - f.kept);
      if (copy > 0) {
        f.payload.set(b.subarray(o, o + copy), f.kept);
        f.kept += copy;
      }
      o += take;
      this.remaining -= take;
      if (this.remaining > 0) return;
      this.remaining = -1;
      this.frames++;
      this.onFrame(f);
    }
  }
}

/**
 * Does b[o, end) look like HTTP/2 frames (for a connection whose start was not captured)? Every
 * frame header in the segment must be plausible (known type, length ≤ the default maximum, the
 * stream-0 rules of RFC 9113 §6) and the frames must end exactly at the segment's end, or run on
 * past it after at least one whole frame. A plain-text or TLS stream fails this within a frame or two.
 */
export function looksLikeFrames(b: Uint8Array, o: number, end: number, cut = false): boolean {
  let whole = 0;
  while (end - o >= FRAME_HEADER) {
    const length = (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
    const type = b[o + 3]!;
    const streamId = ((b[o + 5]! & 0x7f) << 24) | (b[o + 6]! << 16) | (b[o + 7]! << 8) | b[o + 8]!;
    if (length > DEFAULT_MAX_FRAME_SIZE || type > FrameType.CONTINUATION || (b[o + 5]! & 0x80) !== 0) return false;
    const connectionLevel = type === FrameType.SETTINGS || type === FrameType.PING || type === FrameType.GOAWAY;
    if (connectionLevel !== (streamId === 0) && type !== FrameType.WINDOW_UPDATE) return false;
    if (type === FrameType.PING && length !== 8) return false;
    if ((type === FrameType.RST_STREAM || type === FrameType.WINDOW_UPDATE) && length !== 4) return false;
    if (type === FrameType.SETTINGS && length % 6 !== 0) return false;
    o += FRAME_HEADER + length;
    // A segment cut by the snap length ends early: one plausible frame header running past the captured end will do.
    if (o > end) return whole > 0 || cut;
    whole++;
  }
  return (o === end && whole > 0) || (cut && whole > 0);
}

/** Byte order of a capture file or pcapng section. */
export type Endian = 'le' | 'be';

/**
 * A growable byte buffer with a write position, for assembling capture files and blocks.
 * Multi-byte writes use `le` (the file's or section's byte order) unless told otherwise; packet
 * headers are written by the protocol builders in network order, not through this.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  /** Byte order of the multi-byte writes below. */
  le = true;

  constructor(capacity = 4096) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  /** Makes room for `n` more bytes, doubling so appends stay amortized O(1). */
  ensure(n: number): void {
    const want = this.pos + n;
    if (want <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(want, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(v: number): this {
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, v, this.le);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0, this.le);
    this.pos += 4;
    return this;
  }

  i32(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, v, this.le);
    this.pos += 4;
    return this;
  }

  /** A 64-bit value as two 32-bit halves in the writer's byte order (pcapng writes hi first). */
  u32pair(hi: number, lo: number): this {
    return this.u32(hi).u32(lo);
  }

  i64(v: bigint): this {
    this.ensure(8);
    this.view.setBigInt64(this.pos, v, this.le);
    this.pos += 8;
    return this;
  }

  u64(v: bigint): this {
    this.ensure(8);
    this.view.setBigUint64(this.pos, v, this.le);
    this.pos += 8;
    return this;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): this {
    const n = end - start;
    this.ensure(n);
    this.buf.set(start === 0 && end === src.length ? src : src.subarray(start, end), this.pos);
    this.pos += n;
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  /** Zero bytes up to the next multiple of 4 (pcapng pads everything to 32 bits). */
  pad4(): this {
    return this.zeros((4 - (this.pos & 3)) & 3);
  }

  /** Overwrites a 32-bit value written earlier (block lengths known only at the end). */
  patchU32(at: number, v: number): this {
    this.view.setUint32(at, v >>> 0, this.le);
    return this;
  }

  /** A copy of everything written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** Everything written, without copying: valid until the next write or reset. */
  peek(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}

/** Big-endian (network order) stores for the packet builders; plain byte writes beat a DataView per packet. */
export function put16(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 8;
  out[at + 1] = v;
}

export function put32(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = v >>> 16;
  out[at + 2] = v >>> 8;
  out[at + 3] = v;
}

const encoder = new TextEncoder();

/** Payloads may be given as text (UTF-8) or bytes. */
export type Payload = string | Uint8Array;

export function payloadBytes(p: Payload | undefined): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  return typeof p === 'string' ? encoder.encode(p) : p;
}

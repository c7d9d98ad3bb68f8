import { TcpFlag, endpointText, formatIpv4, type DecodedPacket } from '../decode/index.js';
import { u32 } from '../decode/bytes.js';
import type { EndReason, HostPort } from './connection.js';

/**
 * Connection attempts kept as data: a connection whose only packet so far is one IPv4 SYN
 * without payload (what a SYN flood or a port scan is made of, and how every connection starts)
 * is a slot in typed arrays — that packet's fields, its tuple, its id — not objects. About
 * BYTES_PER_ATTEMPT bytes a slot, none of it on the garbage-collected heap, nothing allocated
 * per packet (the arrays double when full). The table turns a slot into a `LiveConnection` by
 * replaying the stored SYN into one, the moment a second packet arrives on the tuple or the
 * connection is handed on (expired, evicted, end of capture): the same record, byte for byte.
 * Or, when the table's caller takes attempts as data (`analyze`: the detector needs only counts
 * of them), an attempt is handed on as a `HandedOnAttempt` read from its slot — no object at all.
 */

/** Bytes per slot over all columns and the hash index (see the columns below; the index: two i32 per entry, two entries per slot). */
export const BYTES_PER_ATTEMPT = 8 * 4 + 4 * 7 + 2 * 7 + 1 * 2 + 2 * 2 * 4;

const NONE = -1;

/** The packets a slot can hold: SYN alone (no ACK, FIN, RST), no payload, IPv4, first packet of its tuple. */
export function isBareSyn(p: DecodedPacket): boolean {
  return (p.flags & (TcpFlag.SYN | TcpFlag.ACK | TcpFlag.FIN | TcpFlag.RST)) === TcpFlag.SYN &&
    p.payloadWireLen === 0 && p.payloadLen === 0 && p.addrLen === 4 && p.ipVersion === 4;
}

export class AttemptStore {
  /** Slots in use. */
  count = 0;
  private capacity = 0;
  // Columns, one entry per slot. f64: values past 2^32 (µs since the epoch, ids, frame numbers, queue positions).
  id = new Float64Array(0);
  frame = new Float64Array(0);
  micros = new Float64Array(0);
  /** Where the slot sits in the table's attempt queue (absolute position), -1 when not queued. */
  queuePos = new Float64Array(0);
  // u32: the tuple (client = the SYN's sender) and the SYN's sequence fields.
  clientV4 = new Uint32Array(0);
  serverV4 = new Uint32Array(0);
  seq = new Uint32Array(0);
  ack = new Uint32Array(0);
  /** i32: LINUX_SLL2 interface index (-1: none), the tuple hash, the next slot of the free list. */
  ifIndex = new Int32Array(0);
  hash = new Int32Array(0);
  next = new Int32Array(0);
  /**
   * Hash index, open addressing with linear probing: entry i is index[2i] = the tuple hash and
   * index[2i + 1] = slot + 1 (0: empty), side by side so a probe costs one cache miss (a chain
   * head and each member's hash in separate arrays cost two to three on a flood of 1 M slots).
   * 2 × capacity entries, so at most half full; deletion shifts later entries back (no tombstones).
   */
  private index = new Int32Array(0);
  private indexMask = 0;
  // u16 / i16: ports, window, IP id, flags, VLAN ids (-1: none).
  clientPort = new Uint16Array(0);
  serverPort = new Uint16Array(0);
  window = new Uint16Array(0);
  ipId = new Uint16Array(0);
  flags = new Uint16Array(0);
  vlanOuter = new Int16Array(0);
  vlanInner = new Int16Array(0);
  // u8: TTL, VLAN tag count.
  ttl = new Uint8Array(0);
  vlanCount = new Uint8Array(0);
  private free = NONE;

  /** Bytes the arrays take now (capacity, not only slots in use): the table's own account of this store. */
  get bytes(): number {
    return this.capacity * BYTES_PER_ATTEMPT;
  }

  /**
   * The slot of the attempt on this packet's tuple (either direction), or -1. `fromClient` of the
   * result: compare the packet's source port and address with the slot's client.
   */
  find(hash: number, src: number, dst: number, srcPort: number, dstPort: number): number {
    if (this.count === 0) return NONE;
    const index = this.index, mask = this.indexMask;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const e = index[2 * i + 1]!;
      if (e === 0) return NONE;
      if (index[2 * i] !== hash) continue;
      const s = e - 1;
      const cp = this.clientPort[s]!, sp = this.serverPort[s]!, c = this.clientV4[s]!, v = this.serverV4[s]!;
      if ((cp === srcPort && sp === dstPort && c === src && v === dst) || (cp === dstPort && sp === srcPort && c === dst && v === src)) return s;
    }
  }

  /** Puts slot s (hash h) into the index at the first empty entry of its probe sequence. */
  private indexAdd(s: number, h: number): void {
    const index = this.index, mask = this.indexMask;
    let i = h & mask;
    while (index[2 * i + 1] !== 0) i = (i + 1) & mask;
    index[2 * i] = h;
    index[2 * i + 1] = s + 1;
  }

  /** Stores a bare SYN (isBareSyn) as a new attempt; returns its slot. */
  add(p: DecodedPacket, hash: number, id: number, frame: number, micros: number): number {
    if (this.free === NONE) this.grow();
    const s = this.free;
    this.free = this.next[s]!;
    this.id[s] = id;
    this.frame[s] = frame;
    this.micros[s] = micros;
    this.queuePos[s] = -1;
    this.clientV4[s] = u32(p.data, p.srcAddrOff);
    this.serverV4[s] = u32(p.data, p.dstAddrOff);
    this.seq[s] = p.seq;
    this.ack[s] = p.ack;
    this.ifIndex[s] = p.linkIfIndex;
    this.clientPort[s] = p.srcPort;
    this.serverPort[s] = p.dstPort;
    this.window[s] = p.window;
    this.ipId[s] = p.ipId;
    this.flags[s] = p.flags;
    this.vlanCount[s] = p.vlanCount;
    this.vlanOuter[s] = p.vlanOuter;
    this.vlanInner[s] = p.vlanInner;
    this.ttl[s] = p.ttl;
    this.hash[s] = hash;
    this.indexAdd(s, hash);
    this.count++;
    return s;
  }

  /** Empties the store and lets go of its arrays (the end of the capture: every attempt was handed on). */
  clear(): void {
    const empty = new AttemptStore();
    this.count = 0;
    this.capacity = 0;
    this.free = NONE;
    this.index = new Int32Array(0);
    this.indexMask = 0;
    this.id = empty.id; this.frame = empty.frame; this.micros = empty.micros; this.queuePos = empty.queuePos;
    this.clientV4 = empty.clientV4; this.serverV4 = empty.serverV4; this.seq = empty.seq; this.ack = empty.ack;
    this.ifIndex = empty.ifIndex; this.hash = empty.hash; this.next = empty.next;
    this.clientPort = empty.clientPort; this.serverPort = empty.serverPort; this.window = empty.window;
    this.ipId = empty.ipId; this.flags = empty.flags; this.vlanOuter = empty.vlanOuter; this.vlanInner = empty.vlanInner;
    this.ttl = empty.ttl; this.vlanCount = empty.vlanCount;
  }

  /** Frees a slot (its attempt became a connection object or was handed on). */
  remove(s: number): void {
    const index = this.index, mask = this.indexMask;
    let i = this.hash[s]! & mask;
    while (index[2 * i + 1] !== s + 1) i = (i + 1) & mask;
    // Backward shift: move up each later entry of the run that may sit at i (its home is not
    // cyclically in (i, j]), so every entry stays reachable from its home without tombstones.
    for (let j = (i + 1) & mask; index[2 * j + 1] !== 0; j = (j + 1) & mask) {
      const home = index[2 * j]! & mask;
      if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
        index[2 * i] = index[2 * j]!;
        index[2 * i + 1] = index[2 * j + 1]!;
        i = j;
      }
    }
    index[2 * i] = 0;
    index[2 * i + 1] = 0;
    this.id[s] = 0;
    this.next[s] = this.free;
    this.free = s;
    this.count--;
  }

  /** Slots in use, in id order (creation order). */
  slotsById(): Int32Array {
    const out = new Int32Array(this.count);
    if (this.count === 0) return out;
    const id = this.id;
    let min = Infinity, max = -Infinity, n = 0;
    for (let s = 0; s < this.capacity; s++) {
      const v = id[s]!;
      if (v === 0) continue;
      out[n++] = s;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const range = max - min + 1;
    if (range > 4 * this.count + 1024) return out.sort((a, b) => id[a]! - id[b]!);
    // Ids are unique integers: placed by id, no comparison sort.
    const at = new Int32Array(range).fill(NONE);
    for (let k = 0; k < n; k++) at[id[out[k]!]! - min] = out[k]!;
    n = 0;
    for (let k = 0; k < range; k++) if (at[k] !== NONE) out[n++] = at[k]!;
    return out;
  }

  /** Slots in use by capture time, then id (the order eviction takes them). */
  slotsByTime(): Int32Array {
    const out = this.slotsById();
    const micros = this.micros, id = this.id;
    // Made in capture-time order, so nearly always sorted already (time going backwards aside).
    for (let k = 1; k < out.length; k++) {
      if (micros[out[k]!]! < micros[out[k - 1]!]!) return out.sort((a, b) => micros[a]! - micros[b]! || id[a]! - id[b]!);
    }
    return out;
  }

  /** Writes the stored SYN into `p` (a scratch packet whose `data` has room for the two addresses at 0 and 4). */
  replay(s: number, p: DecodedPacket): void {
    const d = p.data;
    const c = this.clientV4[s]!, v = this.serverV4[s]!;
    d[0] = c >>> 24; d[1] = (c >>> 16) & 0xff; d[2] = (c >>> 8) & 0xff; d[3] = c & 0xff;
    d[4] = v >>> 24; d[5] = (v >>> 16) & 0xff; d[6] = (v >>> 8) & 0xff; d[7] = v & 0xff;
    p.ipVersion = 4;
    p.addrLen = 4;
    p.srcAddrOff = 0;
    p.dstAddrOff = 4;
    p.srcPort = this.clientPort[s]!;
    p.dstPort = this.serverPort[s]!;
    p.seq = this.seq[s]!;
    p.ack = this.ack[s]!;
    p.flags = this.flags[s]!;
    p.window = this.window[s]!;
    p.ttl = this.ttl[s]!;
    p.ipId = this.ipId[s]!;
    p.linkIfIndex = this.ifIndex[s]!;
    p.vlanCount = this.vlanCount[s]!;
    p.vlanOuter = this.vlanOuter[s]!;
    p.vlanInner = this.vlanInner[s]!;
    p.payloadStart = 8;
    p.payloadLen = 0;
    p.payloadWireLen = 0;
  }

  private grow(): void {
    const old = this.capacity;
    const cap = old === 0 ? 1024 : old * 2;
    const f64 = (a: Float64Array) => { const n = new Float64Array(cap); n.set(a); return n; };
    const u32a = (a: Uint32Array) => { const n = new Uint32Array(cap); n.set(a); return n; };
    const i32 = (a: Int32Array) => { const n = new Int32Array(cap); n.set(a); return n; };
    const u16 = (a: Uint16Array) => { const n = new Uint16Array(cap); n.set(a); return n; };
    const i16 = (a: Int16Array) => { const n = new Int16Array(cap); n.set(a); return n; };
    const u8 = (a: Uint8Array) => { const n = new Uint8Array(cap); n.set(a); return n; };
    this.id = f64(this.id); this.frame = f64(this.frame); this.micros = f64(this.micros); this.queuePos = f64(this.queuePos);
    this.clientV4 = u32a(this.clientV4); this.serverV4 = u32a(this.serverV4); this.seq = u32a(this.seq); this.ack = u32a(this.ack);
    this.ifIndex = i32(this.ifIndex); this.hash = i32(this.hash); this.next = i32(this.next);
    this.clientPort = u16(this.clientPort); this.serverPort = u16(this.serverPort); this.window = u16(this.window);
    this.ipId = u16(this.ipId); this.flags = u16(this.flags);
    this.vlanOuter = i16(this.vlanOuter); this.vlanInner = i16(this.vlanInner);
    this.ttl = u8(this.ttl); this.vlanCount = u8(this.vlanCount);
    this.capacity = cap;
    // Rebuild the index for the new size (new slots go on the free list).
    this.index = new Int32Array(4 * cap);
    this.indexMask = 2 * cap - 1;
    for (let s = 0; s < old; s++) if (this.id[s] !== 0) this.indexAdd(s, this.hash[s]!);
    for (let s = cap - 1; s >= old; s--) {
      this.next[s] = this.free;
      this.free = s;
    }
  }
}

/**
 * A connection attempt handed on as data: one bare IPv4 SYN from `client` to `server`, never
 * answered, nothing else on its tuple — what its record would say without making one. Its record
 * would have: no packet from the server (no server TTL), no idle gap, no keepalive probe, no app
 * message, state S0, history `S`, `firstFrame` = `lastFrame` = `frame`, `firstMicros` = `lastMicros`
 * = `micros`. The table gives one reused view, valid only during the call it is given to.
 */
export interface HandedOnAttempt {
  readonly id: number;
  readonly frame: number;
  /** Capture time of its SYN (µs). */
  readonly micros: number;
  readonly clientPort: number;
  readonly serverPort: number;
  /** The server's IPv4 address as an unsigned 32-bit number (with the port: a numeric destination key). */
  readonly serverV4: number;
  readonly endReason: Extract<EndReason, 'capture-end' | 'evicted' | 'attempt-expired'>;
  /** `ip:port` of the server, as the record's `server` spells it (made on each call). */
  serverText(): string;
  /** The record's `endpoints.client` / `endpoints.server` (made on each call). */
  clientEndpoint(): HostPort;
  serverEndpoint(): HostPort;
}

/** The view the table hands on (see HandedOnAttempt): points at one slot at a time. */
export class AttemptView implements HandedOnAttempt {
  slot = NONE;
  endReason: HandedOnAttempt['endReason'] = 'capture-end';

  constructor(private readonly store: AttemptStore) {}

  get id(): number { return this.store.id[this.slot]!; }
  get frame(): number { return this.store.frame[this.slot]!; }
  get micros(): number { return this.store.micros[this.slot]!; }
  get clientPort(): number { return this.store.clientPort[this.slot]!; }
  get serverPort(): number { return this.store.serverPort[this.slot]!; }
  get serverV4(): number { return this.store.serverV4[this.slot]!; }

  serverText(): string {
    return endpointText(ipv4Host(this.serverV4), this.serverPort, 4);
  }

  clientEndpoint(): HostPort {
    return { host: ipv4Host(this.store.clientV4[this.slot]!), port: this.clientPort };
  }

  serverEndpoint(): HostPort {
    return { host: ipv4Host(this.serverV4), port: this.serverPort };
  }
}

/** Scratch bytes of an IPv4 address being formatted (ipv4Host). */
const V4_BYTES = new Uint8Array(4);

/** Dotted-quad text of an IPv4 address held as a 32-bit number (signed or not), as decode spells it. */
export function ipv4Host(v4: number): string {
  V4_BYTES[0] = v4 >>> 24;
  V4_BYTES[1] = (v4 >>> 16) & 0xff;
  V4_BYTES[2] = (v4 >>> 8) & 0xff;
  V4_BYTES[3] = v4 & 0xff;
  return formatIpv4(V4_BYTES, 0);
}

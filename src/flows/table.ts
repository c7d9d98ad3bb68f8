import { DecodedPacket, TcpFlag } from '../decode/index.js';
import { u32 } from '../decode/bytes.js';
import { AttemptStore, AttemptView, isBareSyn, type HandedOnAttempt } from './attempts.js';
import { BufferAccount } from './buffered.js';
import type { Connection, RoleSource } from './connection.js';
import { EndpointState } from './endpoint.js';
import { LiveConnection, asSmall, type FlowOptions } from './live.js';

export interface TableOptions extends FlowOptions {
  /** A connection closed by FIN (both sides) or RST is handed on after this much capture time (µs) without packets. */
  lingerMicros: number;
  /** Live connections kept at most; past it the longest-idle tenth is evicted (reported, never silent). */
  maxConnections: number;
  /**
   * A connection without a packet for this much capture time (µs) is handed on as `idle-expired`
   * (0 or absent: never — `analyze` keeps every connection to the end of the file). `flowdoc
   * watch` sets it beyond the longest idle timeout of interest, so a stream that never ends holds
   * only connections that can still tell something.
   */
  idleExpiryMicros?: number;
  /**
   * A connection attempt — a SYN never answered (no SYN-ACK, no packet at all from the server), not
   * closed — is handed on as `attempt-expired` after this much capture time (µs) without packets,
   * like Zeek's `tcp_attempt_delay` (5 s, scripts/base/init-bare.zeek): a SYN flood or a scan then
   * holds only the last few seconds of attempts. A retransmitted SYN after it starts a new
   * attempt. 0 or absent: never.
   */
  attemptTimeoutMicros?: number;
  /**
   * Keep a connection whose only packet is a bare IPv4 SYN as data, not objects (attempts.ts;
   * default true). False makes every connection an object from its first packet: the same
   * records, which is what the equivalence test checks.
   */
  attemptsAsData?: boolean;
}

export const DEFAULT_TABLE_OPTIONS: TableOptions = {
  idleThresholdMicros: 10_000_000,
  lingerMicros: 10_000_000,
  maxConnections: 1_000_000,
};

export interface TableStats {
  /** Connections created (= the highest id). */
  connections: number;
  /** Connections evicted because the table was full. */
  evicted: number;
  /** Connections handed on because they were idle past `idleExpiryMicros` (0 unless set). */
  expired: number;
  /** Connection attempts (unanswered SYNs) handed on past `attemptTimeoutMicros` (0 unless set). */
  attemptsExpired: number;
  /**
   * Most bytes the table's store of attempts held as data took at once (its typed arrays at
   * their capacity; BYTES_PER_ATTEMPT a slot): the table's own count, the same on every run.
   */
  peakAttemptBytes: number;
  /** Most connections live at once. */
  peakLive: number;
  /** Copies of the same packet on another interface (`-i any`) skipped. */
  duplicatesSkipped: number;
  /**
   * Most bytes held at once in buffers of the table's own: unfinished HTTP heads and TLS
   * ClientHellos (at most 16 KiB per direction of a live connection) and IPv6 address copies
   * (32 bytes per connection); see BufferAccount. Up to date after `flush()`.
   */
  peakBufferedBytes: number;
}

/**
 * The connection table: tuple → live connection. Like tshark (and unlike Zeek's option), the key
 * ignores VLAN tags: routed SPAN captures carry each direction of one connection on a different
 * VLAN. The tags are kept on the record. Lookups hash the packet's own address bytes
 * (no string keys, no allocation per packet); a connection's endpoint bytes are copied once.
 * One connection per TCP connection, not per tuple: a SYN with a new ISN starts a new one.
 * Memory holds live connections only: closed ones are handed on after a linger, and a cap evicts
 * the longest-idle ones.
 */
export class ConnectionTable {
  /** Hash → first connection of the bucket (see LiveConnection.next). */
  private readonly buckets = new Map<number, LiveConnection>();
  private live = 0;
  private nextId = 1;
  /** Entries closed, in close order; slots before closedHead are cleared (undefined) as they are passed. */
  private readonly closedQueue: (LiveConnection | undefined)[] = [];
  private closedHead = 0;
  /**
   * Connections created by a SYN and not answered yet, in creation order (see expireAttempts):
   * a connection object, or a number — the slot of an attempt still held as data in `attempts`,
   * replaced by its object when it becomes one. Passed slots are cleared.
   */
  private readonly attemptQueue: (LiveConnection | number | undefined)[] = [];
  private attemptHead = 0;
  /** Slots dropped from the front of attemptQueue so far (an entry's attemptSlot minus this is its index). */
  private attemptBase = 0;
  readonly stats: TableStats = { connections: 0, evicted: 0, expired: 0, attemptsExpired: 0, peakAttemptBytes: 0, peakLive: 0, duplicatesSkipped: 0, peakBufferedBytes: 0 };
  /** Capture time of the next sweep for idle connections (idleExpiryMicros only). */
  private nextSweepMicros = -Infinity;
  /** The buffers of every live connection (sniffers, IPv6 addresses), counted: the table's own account of what it holds. */
  readonly buffers = new BufferAccount();
  /** Connections whose only packet is one bare IPv4 SYN, kept as data (see attempts.ts). */
  private readonly attempts = new AttemptStore();
  /** The packet a stored SYN is replayed from (its `data` holds the two addresses). */
  private readonly replayPacket = Object.assign(new DecodedPacket(), { data: new Uint8Array(8) });
  /** The one view an attempt is handed on through (onAttempt). */
  private readonly attemptView = new AttemptView(this.attempts);

  /**
   * `onClosed` (optional): told the moment a connection closes (RST, or FIN from both sides), while
   * it still lingers in the table for late packets — `flowdoc watch` reports its incident then.
   * `onAttempt` (optional): takes attempts as data — an attempt still held as a slot when it is
   * handed on (attempt timeout, eviction, end of capture) goes to it, read from the slot, instead
   * of being made a connection and a record for `onFinished`; in the same place of the order.
   * `analyze` counts them this way; `flows`, which prints a record per connection, does not.
   */
  constructor(
    private readonly options: TableOptions,
    private readonly onFinished: (c: Connection) => void,
    private readonly onClosed?: (c: LiveConnection) => void,
    private readonly onAttempt?: (a: HandedOnAttempt) => void,
  ) {}

  /** Feeds one decoded TCP segment (status OK, not a fragment). */
  onPacket(p: DecodedPacket, frame: number, micros: number): void {
    this.expireClosed(micros);
    if (this.attemptHead < this.attemptQueue.length) this.expireAttempts(micros);
    if (micros >= this.nextSweepMicros) this.sweepIdle(micros);
    const hash = tupleHash(p);
    const v4 = p.addrLen === 4;
    const srcV4 = v4 ? u32(p.data, p.srcAddrOff) : 0;
    const dstV4 = v4 ? u32(p.data, p.dstAddrOff) : 0;
    const src32 = srcV4 | 0, dst32 = dstV4 | 0; // as the connection keeps them
    let entry: LiveConnection | undefined;
    let fromClient = false;
    for (let e: LiveConnection | null = this.buckets.get(hash) ?? null; e !== null; e = e.next) {
      if (v4) {
        if (e.clientAddr !== null) continue;
        if (e.clientPort === p.srcPort && e.serverPort === p.dstPort && e.clientV4 === src32 && e.serverV4 === dst32) {
          entry = e; fromClient = true; break;
        }
        if (e.clientPort === p.dstPort && e.serverPort === p.srcPort && e.clientV4 === dst32 && e.serverV4 === src32) {
          entry = e; fromClient = false; break;
        }
      } else {
        if (e.clientAddr === null || e.clientAddr.length !== p.addrLen) continue;
        if (e.clientPort === p.srcPort && e.serverPort === p.dstPort && same(e.clientAddr, p.data, p.srcAddrOff) && same(e.serverAddr!, p.data, p.dstAddrOff)) {
          entry = e; fromClient = true; break;
        }
        if (e.clientPort === p.dstPort && e.serverPort === p.srcPort && same(e.clientAddr, p.data, p.dstAddrOff) && same(e.serverAddr!, p.data, p.srcAddrOff)) {
          entry = e; fromClient = false; break;
        }
      }
    }
    if (!entry && v4 && this.attempts.count > 0) {
      // A second packet on an attempt held as data: from here on it is a connection object.
      const slot = this.attempts.find(hash, srcV4, dstV4, p.srcPort, p.dstPort);
      if (slot >= 0) {
        fromClient = this.attempts.clientPort[slot] === p.srcPort && this.attempts.clientV4[slot] === srcV4;
        entry = this.promote(slot);
      }
    }
    const syn = (p.flags & TcpFlag.SYN) !== 0 && (p.flags & TcpFlag.ACK) === 0 && (p.flags & TcpFlag.RST) === 0;
    if (entry && syn && !isSameSyn(entry, fromClient, p.seq)) {
      // Port reuse: a new SYN (new ISN) on this tuple is a new connection.
      const old = entry;
      this.remove(entry);
      this.finish(entry, old.closedAtMicros >= 0 ? (old.client.firstRst || old.server.firstRst ? 'reset' : 'closed') : 'port-reuse');
      entry = undefined;
    }
    if (!entry) {
      // Make room first, so the newcomer (which has no packet yet) is never the one evicted.
      if (this.live >= this.options.maxConnections) this.evictIdle();
      const id = this.nextId++;
      this.stats.connections = id;
      if (this.options.attemptsAsData !== false && isBareSyn(p) && !this.options.traceSegments) {
        // Held as data until a second packet (see attempts.ts): no objects for a SYN flood.
        const slot = this.attempts.add(p, hash, id, frame, micros);
        this.live++;
        if (this.live > this.stats.peakLive) this.stats.peakLive = this.live;
        if ((this.options.attemptTimeoutMicros ?? 0) > 0) {
          this.attempts.queuePos[slot] = this.attemptBase + this.attemptQueue.length;
          this.attemptQueue.push(slot);
        }
        if (this.attempts.bytes > this.stats.peakAttemptBytes) this.stats.peakAttemptBytes = this.attempts.bytes;
        return;
      }
      entry = this.create(p, hash, id);
      fromClient = entry.clientPort === p.srcPort && entry.serverPort === p.dstPort &&
        (entry.clientAddr === null ? entry.clientV4 === src32 : same(entry.clientAddr, p.data, p.srcAddrOff));
      this.insert(entry);
      this.live++;
      if (this.live > this.stats.peakLive) this.stats.peakLive = this.live;
      if (syn && fromClient && (this.options.attemptTimeoutMicros ?? 0) > 0) {
        entry.attemptSlot = this.attemptBase + this.attemptQueue.length;
        this.attemptQueue.push(entry);
      }
    }
    const conn = entry;
    if (!conn.onPacket(p, frame, micros, fromClient)) this.stats.duplicatesSkipped++;
    if (conn.closedAtMicros >= 0 && !entry.inClosedQueue) {
      entry.inClosedQueue = true;
      this.closedQueue.push(entry);
      this.onClosed?.(conn);
    }
  }

  /** End of the capture: every live connection is handed on, in id order. */
  flush(): void {
    const all = this.entries();
    all.sort((a, b) => a.id - b.id);
    const slots = this.attempts.slotsById();
    this.buckets.clear();
    this.live = 0;
    // Objects and stored attempts merged in id order; an attempt becomes an object only as it is handed on.
    let i = 0, j = 0;
    while (i < all.length || j < slots.length) {
      if (j >= slots.length || (i < all.length && all[i]!.id < this.attempts.id[slots[j]!]!)) {
        const e = all[i++]!;
        this.finish(e, e.closedAtMicros >= 0 ? (e.client.firstRst || e.server.firstRst ? 'reset' : 'closed') : 'capture-end');
      } else {
        this.handOnAttempt(slots[j++]!, 'capture-end');
      }
    }
    this.attempts.clear();
    this.closedQueue.length = 0;
    this.closedHead = 0;
    this.attemptQueue.length = 0;
    this.attemptHead = 0;
    this.attemptBase = 0;
    this.stats.peakBufferedBytes = this.buffers.peak;
  }

  get liveConnections(): number {
    return this.live;
  }

  /** Calls `fn` for every live connection (`flowdoc watch` looks for idle ones at risk). */
  forEachLive(fn: (c: LiveConnection) => void): void {
    if (this.attempts.count > 0) for (const slot of this.attempts.slotsById()) this.promote(slot);
    for (const head of this.buckets.values()) for (let e: LiveConnection | null = head; e !== null; e = e.next) fn(e);
  }

  /** The connection object of a stored attempt: a new entry, its SYN replayed into it (the slot stays; the caller frees it). */
  private materialize(slot: number): LiveConnection {
    const p = this.replayPacket;
    this.attempts.replay(slot, p);
    const e = this.create(p, this.attempts.hash[slot]!, this.attempts.id[slot]!);
    e.onPacket(p, this.attempts.frame[slot]!, this.attempts.micros[slot]!, true);
    return e;
  }

  /** A stored attempt becomes a connection object in the table, in its place in the attempt queue. */
  private promote(slot: number): LiveConnection {
    const e = this.materialize(slot);
    const pos = this.attempts.queuePos[slot]!;
    if (pos >= 0) {
      e.attemptSlot = asSmall(pos);
      this.attemptQueue[pos - this.attemptBase] = e;
    }
    this.attempts.remove(slot);
    this.insert(e);
    return e;
  }

  private create(p: DecodedPacket, hash: number, id: number): LiveConnection {
    const synOnly = (p.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    const synAck = (p.flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK);
    let srcIsClient: boolean;
    let roleSource: RoleSource;
    if (synOnly) { srcIsClient = true; roleSource = 'syn'; }
    else if (synAck) { srcIsClient = false; roleSource = 'syn-ack'; }
    else { srcIsClient = !dstLooksLikeClient(p.srcPort, p.dstPort); roleSource = 'port-heuristic'; }
    const cOff = srcIsClient ? p.srcAddrOff : p.dstAddrOff;
    const sOff = srcIsClient ? p.dstAddrOff : p.srcAddrOff;
    const vlan = p.vlanCount === 0 ? NO_VLAN : p.vlanCount === 1 ? [p.vlanOuter] : [p.vlanOuter, p.vlanInner];
    const v4 = p.addrLen === 4;
    // Deliberate copies of IPv6 addresses: the record's bytes are gone after this packet. (Never
    // `p.data.slice`: on a Buffer that is a view, which would keep the reader's whole 1 MiB chunk
    // alive as long as the connection lives — memory growing with the file, not with live connections.)
    const clientAddr = v4 ? null : copyBytes(p.data, cOff, p.addrLen);
    const serverAddr = v4 ? null : copyBytes(p.data, sOff, p.addrLen);
    this.buffers.take(heldBytes(clientAddr) + heldBytes(serverAddr));
    return new LiveConnection(
      id,
      {
        clientV4: v4 ? u32(p.data, cOff) | 0 : 0,
        serverV4: v4 ? u32(p.data, sOff) | 0 : 0,
        clientAddr,
        serverAddr,
        clientPort: srcIsClient ? p.srcPort : p.dstPort,
        serverPort: srcIsClient ? p.dstPort : p.srcPort,
        hash,
      },
      p.ipVersion === 6 ? 6 : 4,
      vlan,
      roleSource,
      this.options,
      this.buffers,
    );
  }

  /** Hands on closed connections whose linger has passed (the queue is in close order). */
  private expireClosed(now: number): void {
    const q = this.closedQueue;
    while (this.closedHead < q.length) {
      const e = q[this.closedHead]!;
      if (e.closedAtMicros < 0) {
        // Reopened (a handshake retried after a reset): it re-enters the queue when it closes again.
        q[this.closedHead++] = undefined;
        e.inClosedQueue = false;
        continue;
      }
      if (e.closedAtMicros + this.options.lingerMicros > now) break;
      // Clear the slot: a passed entry must not keep its finished connection alive until the
      // queue is next compacted (that held up to half the queue's connections in memory).
      q[this.closedHead++] = undefined;
      if (e.lastMicros + this.options.lingerMicros > now) {
        q.push(e); // it saw packets after closing: look again later
        continue;
      }
      if (this.remove(e)) this.finish(e, e.client.firstRst || e.server.firstRst ? 'reset' : 'closed');
    }
    if (this.closedHead > 1024 && this.closedHead * 2 > q.length) {
      q.splice(0, this.closedHead);
      this.closedHead = 0;
    }
  }

  /**
   * Hands on connection attempts whose timeout has passed. The queue is in creation order, which
   * is capture-time order; an entry that was answered or closed leaves it, one that saw a later
   * packet (a retransmitted SYN) goes to the back to be looked at again, like the closed queue.
   */
  private expireAttempts(now: number): void {
    const q = this.attemptQueue;
    const timeout = this.options.attemptTimeoutMicros!;
    // Only what was queued before this call: an attempt put back below (a retried SYN) is looked
    // at again on a later packet. Walking up to q.length instead met it again at once when nothing
    // younger stood before it, and put it back forever (an endless loop, the queue growing until
    // the process died: nDPI ocs.pcap, sites.pcapng, http_asymmetric.pcapng, http_espn_fail.pcapng).
    const end = q.length;
    while (this.attemptHead < end) {
      const e = q[this.attemptHead];
      if (e === undefined) { // removed from the table meanwhile (evicted, port reuse)
        this.attemptHead++;
        continue;
      }
      if (typeof e === 'number') { // still held as data: its one packet is its first and last
        if (this.attempts.micros[e]! + timeout > now) break;
        q[this.attemptHead++] = undefined;
        this.attempts.queuePos[e] = -1;
        this.stats.attemptsExpired++;
        this.handOnAttempt(e, 'attempt-expired');
        this.dropAttempt(e);
        continue;
      }
      if (!isAttempt(e)) {
        q[this.attemptHead++] = undefined;
        e.attemptSlot = -1;
        continue;
      }
      if (e.firstMicros + timeout > now) break;
      q[this.attemptHead++] = undefined;
      if (e.lastMicros + timeout > now) {
        e.attemptSlot = this.attemptBase + q.length;
        q.push(e); // a retransmitted SYN: look again later
        continue;
      }
      e.attemptSlot = -1;
      if (this.remove(e)) {
        this.stats.attemptsExpired++;
        this.finish(e, 'attempt-expired');
      }
    }
    if (this.attemptHead > 1024 && this.attemptHead * 2 > q.length) {
      q.splice(0, this.attemptHead);
      this.attemptBase += this.attemptHead;
      this.attemptHead = 0;
    }
  }

  /**
   * Hands on connections idle past idleExpiryMicros, oldest id first. A sweep walks the whole
   * table, so it runs once per 1/16 of the expiry (at least a second) of capture time: a
   * connection leaves between 1 and 1 1/16 expiries after its last packet.
   */
  private sweepIdle(now: number): void {
    const expiry = this.options.idleExpiryMicros ?? 0;
    if (expiry <= 0) {
      this.nextSweepMicros = Infinity;
      return;
    }
    const first = this.nextSweepMicros === -Infinity;
    this.nextSweepMicros = now + Math.max(1_000_000, Math.floor(expiry / 16));
    if (first) return;
    if (this.attempts.count > 0) {
      for (const slot of this.attempts.slotsById()) if (this.attempts.micros[slot]! + expiry <= now) this.promote(slot);
    }
    const idle = this.entries().filter((e) => e.closedAtMicros < 0 && e.lastMicros + expiry <= now);
    idle.sort((a, b) => a.id - b.id);
    for (const e of idle) {
      this.remove(e);
      this.stats.expired++;
      this.finish(e, 'idle-expired');
    }
  }

  /** Evicts the longest-idle tenth of the table (amortised: runs once per maxConnections/10 new connections). */
  private evictIdle(): void {
    // Longest idle first; equally idle: the older connection (lower id) first.
    const all = this.entries();
    all.sort((a, b) => a.lastMicros - b.lastMicros || a.id - b.id);
    const slots = this.attempts.slotsByTime();
    const micros = this.attempts.micros, ids = this.attempts.id;
    const n = Math.max(1, Math.floor((all.length + slots.length) / 10));
    let i = 0, j = 0;
    for (let k = 0; k < n; k++) {
      const a = all[i];
      const s = slots[j];
      if (s === undefined || (a !== undefined && (a.lastMicros < micros[s]! || (a.lastMicros === micros[s]! && a.id < ids[s]!)))) {
        i++;
        this.remove(a!);
        this.stats.evicted++;
        this.finish(a!, 'evicted');
      } else {
        j++;
        this.stats.evicted++;
        this.handOnAttempt(s!, 'evicted');
        this.dropAttempt(s!);
      }
    }
  }

  /**
   * Hands on an attempt still held as data: to onAttempt, read from its slot, or else as the
   * record of the connection its SYN makes. The slot stays; the caller frees it afterwards.
   */
  private handOnAttempt(slot: number, reason: HandedOnAttempt['endReason']): void {
    if (this.onAttempt) {
      const v = this.attemptView;
      v.slot = slot;
      v.endReason = reason;
      this.onAttempt(v);
    } else {
      this.finish(this.materialize(slot), reason);
    }
  }

  /** A stored attempt leaves the table (after it was handed on). */
  private dropAttempt(slot: number): void {
    const pos = this.attempts.queuePos[slot]!;
    if (pos >= 0) this.attemptQueue[pos - this.attemptBase] = undefined;
    this.attempts.remove(slot);
    this.live--;
  }

  /** Appends to its bucket (a new bucket goes last in the map's order, as a new key does). */
  private insert(e: LiveConnection): void {
    let last = this.buckets.get(e.hash);
    if (last === undefined) {
      this.buckets.set(e.hash, e);
      return;
    }
    while (last.next !== null) last = last.next;
    last.next = e;
  }

  private remove(e: LiveConnection): boolean {
    const head = this.buckets.get(e.hash);
    if (head === undefined) return false;
    if (head === e) {
      // The bucket keeps its place in the map while it has entries; an empty one is deleted.
      if (e.next === null) this.buckets.delete(e.hash);
      else this.buckets.set(e.hash, e.next);
    } else {
      let prev = head;
      while (prev.next !== null && prev.next !== e) prev = prev.next;
      if (prev.next !== e) return false;
      prev.next = e.next;
    }
    e.next = null;
    this.live--;
    if (e.attemptSlot >= 0) {
      // Let go of it now: a queue slot must not keep an evicted connection alive until the timeout.
      this.attemptQueue[e.attemptSlot - this.attemptBase] = undefined;
      e.attemptSlot = -1;
    }
    return true;
  }

  /** Every live entry, bucket by bucket in the map's order, each bucket in insertion order. */
  private entries(): LiveConnection[] {
    const all: LiveConnection[] = [];
    for (const head of this.buckets.values()) for (let e: LiveConnection | null = head; e !== null; e = e.next) all.push(e);
    return all;
  }

  private finish(e: LiveConnection, reason: Connection['endReason']): void {
    this.buffers.give(heldBytes(e.clientAddr) + heldBytes(e.serverAddr));
    this.onFinished(e.finish(reason));
  }
}

/** A connection attempt: the client's SYN sent, nothing at all from the server, not closed (Zeek's AttemptTimer test). */
function isAttempt(c: LiveConnection): boolean {
  return c.closedAtMicros < 0 && c.server.packets === 0 && (c.client.state === EndpointState.SYN_SENT);
}

/** The `vlan` of every untagged connection: one shared, frozen empty list instead of one each. */
const NO_VLAN: readonly number[] = Object.freeze([]);

/** What a held copy costs: its whole backing buffer (a view into a reader's chunk would cost the chunk). */
function heldBytes(b: Uint8Array | null): number {
  return b === null ? 0 : b.buffer.byteLength;
}

/** A copy of b[o, o + n) in its own small buffer (never a view, whatever `b` is). */
function copyBytes(b: Uint8Array, o: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = b[o + i]!;
  return out;
}

function same(addr: Uint8Array, b: Uint8Array, o: number): boolean {
  for (let i = 0; i < addr.length; i++) if (addr[i] !== b[o + i]) return false;
  return true;
}

/** Symmetric hash of the tuple (both directions land in the same bucket), VLANs included. */
function tupleHash(p: DecodedPacket): number {
  const b = p.data;
  let hs = 0x811c9dc5, hd = 0x811c9dc5;
  for (let i = 0; i < p.addrLen; i++) {
    hs = Math.imul(hs ^ b[p.srcAddrOff + i]!, 0x01000193);
    hd = Math.imul(hd ^ b[p.dstAddrOff + i]!, 0x01000193);
  }
  hs = Math.imul(hs ^ p.srcPort, 0x01000193);
  hd = Math.imul(hd ^ p.dstPort, 0x01000193);
  return (hs + hd) | 0;
}

/**
 * Is this SYN part of the connection we have, rather than a new one on the same tuple? It is when
 * it repeats the client's ISN (a retransmitted SYN), or when the SYN-ACK already seen (captured
 * earlier in file order) acknowledges it.
 */
function isSameSyn(conn: LiveConnection, fromClient: boolean, seq: number): boolean {
  if (!fromClient) return false;
  if (conn.client.hasIsn) return conn.client.isn32 === (seq | 0);
  return conn.synAckAck !== null && conn.synAckAck === ((seq + 1) | 0);
}

/**
 * Without a handshake, which side is the client? A well-known port (< 1024) is the server's;
 * otherwise an ephemeral port (≥ 32768, Linux's range starts there) is the client's; otherwise the
 * lower port is the server's.
 */
export function dstLooksLikeClient(srcPort: number, dstPort: number): boolean {
  const sWell = srcPort < 1024, dWell = dstPort < 1024;
  if (sWell !== dWell) return sWell;
  const sEph = srcPort >= 32768, dEph = dstPort >= 32768;
  if (sEph !== dEph) return dEph;
  return srcPort < dstPort;
}

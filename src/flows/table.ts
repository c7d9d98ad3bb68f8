import { TcpFlag, formatEndpoint, type DecodedPacket } from '../decode/index.js';
import type { Connection, RoleSource } from './connection.js';
import { LiveConnection, type FlowOptions } from './live.js';

export interface TableOptions extends FlowOptions {
  /** A connection closed by FIN (both sides) or RST is handed on after this much capture time (µs) without packets. */
  lingerMicros: number;
  /** Live connections kept at most; past it the longest-idle tenth is evicted (reported, never silent). */
  maxConnections: number;
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
  /** Most connections live at once. */
  peakLive: number;
  /** Copies of the same packet on another interface (`-i any`) skipped. */
  duplicatesSkipped: number;
}

/** One live connection and the copied bytes of its endpoints (copied once, when it is created). */
interface Entry {
  conn: LiveConnection;
  clientAddr: Uint8Array;
  serverAddr: Uint8Array;
  clientPort: number;
  serverPort: number;
  inClosedQueue: boolean;
  hash: number;
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
  private readonly buckets = new Map<number, Entry[]>();
  private live = 0;
  private nextId = 1;
  private readonly closedQueue: Entry[] = [];
  private closedHead = 0;
  readonly stats: TableStats = { connections: 0, evicted: 0, peakLive: 0, duplicatesSkipped: 0 };

  constructor(private readonly options: TableOptions, private readonly onFinished: (c: Connection) => void) {}

  /** Feeds one decoded TCP segment (status OK, not a fragment). */
  onPacket(p: DecodedPacket, frame: number, micros: number): void {
    this.expireClosed(micros);
    const hash = tupleHash(p);
    let bucket = this.buckets.get(hash);
    let entry: Entry | undefined;
    let fromClient = false;
    if (bucket) {
      for (let i = 0; i < bucket.length; i++) {
        const e = bucket[i]!;
        if (e.clientAddr.length !== p.addrLen) continue;
        if (e.clientPort === p.srcPort && e.serverPort === p.dstPort && same(e.clientAddr, p.data, p.srcAddrOff) && same(e.serverAddr, p.data, p.dstAddrOff)) {
          entry = e; fromClient = true; break;
        }
        if (e.clientPort === p.dstPort && e.serverPort === p.srcPort && same(e.clientAddr, p.data, p.dstAddrOff) && same(e.serverAddr, p.data, p.srcAddrOff)) {
          entry = e; fromClient = false; break;
        }
      }
    }
    const syn = (p.flags & TcpFlag.SYN) !== 0 && (p.flags & TcpFlag.ACK) === 0 && (p.flags & TcpFlag.RST) === 0;
    if (entry && syn && !isSameSyn(entry.conn, fromClient, p.seq)) {
      // Port reuse: a new SYN (new ISN) on this tuple is a new connection.
      const old = entry.conn;
      this.remove(entry);
      this.finish(entry, old.closedAtMicros >= 0 ? (old.client.firstRst || old.server.firstRst ? 'reset' : 'closed') : 'port-reuse');
      entry = undefined;
      bucket = this.buckets.get(hash);
    }
    if (!entry) {
      // Make room first, so the newcomer (which has no packet yet) is never the one evicted.
      if (this.live >= this.options.maxConnections) {
        this.evictIdle();
        bucket = this.buckets.get(hash);
      }
      entry = this.create(p, hash);
      fromClient = entry.clientPort === p.srcPort && same(entry.clientAddr, p.data, p.srcAddrOff) && entry.serverPort === p.dstPort;
      if (bucket) bucket.push(entry);
      else this.buckets.set(hash, [entry]);
      this.live++;
      if (this.live > this.stats.peakLive) this.stats.peakLive = this.live;
    }
    const conn = entry.conn;
    if (!conn.onPacket(p, frame, micros, fromClient)) this.stats.duplicatesSkipped++;
    if (conn.closedAtMicros >= 0 && !entry.inClosedQueue) {
      entry.inClosedQueue = true;
      this.closedQueue.push(entry);
    }
  }

  /** End of the capture: every live connection is handed on, in id order. */
  flush(): void {
    const all: Entry[] = [];
    for (const bucket of this.buckets.values()) all.push(...bucket);
    all.sort((a, b) => a.conn.id - b.conn.id);
    this.buckets.clear();
    this.live = 0;
    for (const e of all) this.finish(e, e.conn.closedAtMicros >= 0 ? (e.conn.client.firstRst || e.conn.server.firstRst ? 'reset' : 'closed') : 'capture-end');
    this.closedQueue.length = 0;
    this.closedHead = 0;
  }

  get liveConnections(): number {
    return this.live;
  }

  private create(p: DecodedPacket, hash: number): Entry {
    const synOnly = (p.flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;
    const synAck = (p.flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK);
    let srcIsClient: boolean;
    let roleSource: RoleSource;
    if (synOnly) { srcIsClient = true; roleSource = 'syn'; }
    else if (synAck) { srcIsClient = false; roleSource = 'syn-ack'; }
    else { srcIsClient = !dstLooksLikeClient(p.srcPort, p.dstPort); roleSource = 'port-heuristic'; }
    const cOff = srcIsClient ? p.srcAddrOff : p.dstAddrOff;
    const sOff = srcIsClient ? p.dstAddrOff : p.srcAddrOff;
    const cPort = srcIsClient ? p.srcPort : p.dstPort;
    const sPort = srcIsClient ? p.dstPort : p.srcPort;
    const vlan = p.vlanCount === 0 ? [] : p.vlanCount === 1 ? [p.vlanOuter] : [p.vlanOuter, p.vlanInner];
    const id = this.nextId++;
    this.stats.connections = id;
    const conn = new LiveConnection(
      id,
      formatEndpoint(p.data, cOff, p.addrLen, cPort),
      formatEndpoint(p.data, sOff, p.addrLen, sPort),
      p.ipVersion === 6 ? 6 : 4,
      vlan,
      roleSource,
      this.options,
    );
    return {
      conn,
      // Deliberate copies: the record's bytes are gone after this packet.
      clientAddr: p.data.slice(cOff, cOff + p.addrLen),
      serverAddr: p.data.slice(sOff, sOff + p.addrLen),
      clientPort: cPort,
      serverPort: sPort,
      inClosedQueue: false,
      hash,
    };
  }

  /** Hands on closed connections whose linger has passed (the queue is in close order). */
  private expireClosed(now: number): void {
    const q = this.closedQueue;
    while (this.closedHead < q.length) {
      const e = q[this.closedHead]!;
      if (e.conn.closedAtMicros < 0) {
        // Reopened (a handshake retried after a reset): it re-enters the queue when it closes again.
        this.closedHead++;
        e.inClosedQueue = false;
        continue;
      }
      if (e.conn.closedAtMicros + this.options.lingerMicros > now) break;
      this.closedHead++;
      if (e.conn.lastMicros + this.options.lingerMicros > now) {
        q.push(e); // it saw packets after closing: look again later
        continue;
      }
      if (this.remove(e)) this.finish(e, e.conn.client.firstRst || e.conn.server.firstRst ? 'reset' : 'closed');
    }
    if (this.closedHead > 1024 && this.closedHead * 2 > q.length) {
      q.splice(0, this.closedHead);
      this.closedHead = 0;
    }
  }

  /** Evicts the longest-idle tenth of the table (amortised: runs once per maxConnections/10 new connections). */
  private evictIdle(): void {
    const all: Entry[] = [];
    for (const bucket of this.buckets.values()) all.push(...bucket);
    all.sort((a, b) => a.conn.lastMicros - b.conn.lastMicros);
    const n = Math.max(1, Math.floor(all.length / 10));
    for (let i = 0; i < n; i++) {
      const e = all[i]!;
      this.remove(e);
      this.stats.evicted++;
      this.finish(e, 'evicted');
    }
  }

  private remove(e: Entry): boolean {
    const bucket = this.buckets.get(e.hash);
    if (!bucket) return false;
    const i = bucket.indexOf(e);
    if (i < 0) return false;
    if (bucket.length === 1) this.buckets.delete(e.hash);
    else bucket.splice(i, 1);
    this.live--;
    return true;
  }

  private finish(e: Entry, reason: Connection['endReason']): void {
    this.onFinished(e.conn.finish(reason));
  }
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
  if (conn.client.hasIsn) return conn.client.isn === seq;
  return conn.synAckAck !== null && conn.synAckAck === ((seq + 1) >>> 0);
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

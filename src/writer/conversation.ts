import { formatEndpoint, parseEndpoint, type Endpoint } from './address.js';
import { payloadBytes, type Payload } from './bytes.js';
import type { Ipv4Fields } from './ipv4.js';
import type { Ipv6Fields } from './ipv6.js';
import { macForIp, type FrameLink } from './link.js';
import type { IpPacketSpec } from './packet.js';
import type { SeededRandom } from './rng.js';
import { TCP_FLAGS, tcpFlags, type TcpFlagsInput, type TcpOption } from './tcp.js';

/** What a conversation needs from the script: the clock, the seeded generator, a way to emit. */
export interface PacketEmitter {
  readonly now: number;
  readonly random: SeededRandom;
  /** Emits now and returns the frame number, or 0 when `captured` is false. */
  emitIp(spec: IpPacketSpec, link: FrameLink | undefined, captured: boolean): number;
}

export type Side = 'client' | 'server';

/** What both SYNs offer (the same on both sides, so the negotiation always agrees). */
export interface TcpHandshakeOptions {
  /** Default 1460 over IPv4, 1440 over IPv6. Also the default segment size of the peer's sends. */
  mss?: number;
  /** Window scale shift; null = no option. Default 7, as Linux. */
  wscale?: number | null;
  /** Default true. */
  sackPermitted?: boolean;
  /** Default true: every later segment carries TSval/TSecr, as between two Linux hosts. */
  timestamps?: boolean;
}

export interface TcpConversationOptions {
  /** `'10.0.0.1:40000'` or `'[2001:db8::1]:40000'`. */
  client: string;
  server: string;
  /** TTL / hop limit of each side's packets; default 64. */
  clientTtl?: number;
  serverTtl?: number;
  /** Initial sequence numbers; default drawn from the script's seeded generator. */
  clientIsn?: number;
  serverIsn?: number;
  /** Receive window in bytes; default 64240 (client) and 65160 (server), Linux's first windows. */
  clientWindow?: number;
  serverWindow?: number;
  tcpOptions?: TcpHandshakeOptions;
  /** Link details for every frame (e.g. VLAN tags), merged under per-call `link`. */
  link?: FrameLink;
}

/** Per-segment overrides. */
export interface SegmentOptions {
  /** TTL / hop limit of this packet (e.g. a middlebox forging a RST with its own TTL). */
  ttl?: number;
  /** Raw window field of this segment (e.g. 0 for a zero window). */
  window?: number;
  link?: FrameLink;
  /** False: the segment was sent (state moves on) but the capture missed it — no frame. */
  captured?: boolean;
  ipv4?: Ipv4Fields;
  ipv6?: Ipv6Fields;
}

export interface SendOptions extends SegmentOptions {
  /** Default true: the peer answers with an ACK. False: no ACK comes back. */
  ack?: boolean;
  /** Default true: PSH on the last segment, as Linux sets it at the end of a write. */
  push?: boolean;
  /** Split the data into segments of at most this many bytes; default the negotiated MSS. */
  segmentSize?: number;
  /** Default true. False: lost after the vantage point — the peer never gets it (nor ACKs it). */
  delivered?: boolean;
}

export interface ReplyOptions extends SegmentOptions {
  /** Whether the peer answers with an ACK. */
  ack?: boolean;
}

export interface RstOptions extends SegmentOptions {
  /** Default: the side's next sequence number (what the peer expects). */
  seq?: number;
  /** true: RST+ACK acknowledging what the side has received; a number: RST+ACK with that ack. */
  ack?: boolean | number;
}

/** The raw escape hatch: exactly this segment, with bookkeeping as if it were real. */
export interface RawSegment extends SegmentOptions {
  flags: TcpFlagsInput;
  /** Default: the side's next sequence number. */
  seq?: number;
  /** Default: what the side has received if ACK is set, else 0. */
  ack?: number;
  payload?: Payload;
  /** Exactly these options; default none. */
  options?: readonly TcpOption[];
  urgent?: number;
  /** Force a (wrong) checksum. */
  checksum?: number;
  /** Default true: the peer receives it (sequence and ack bookkeeping moves on). */
  delivered?: boolean;
}

interface SentSegment {
  seq: number;
  payload: Uint8Array;
  flags: number;
}

/** Sequence-number state of one side. All sequence numbers are modulo 2^32. */
interface SideState {
  readonly ep: Endpoint;
  isn: number;
  /** Sequence number of the next new byte this side sends (SND.NXT). */
  next: number;
  /** Next sequence number expected from the peer (RCV.NXT): what this side acknowledges. */
  rcvNext: number;
  /** Received peer data beyond a hole, [start, end) — joined once the hole is filled. */
  readonly outOfOrder: Array<[number, number]>;
  /** Data segments the peer has not acknowledged (what `retransmit` resends). */
  readonly unacked: SentSegment[];
  ttl: number;
  windowBytes: number;
  ipId: number;
  tsBase: number;
  /** Last TSval received from the peer, echoed as TSecr. */
  peerTsval: number;
}

const seqAdd = (a: number, n: number): number => (a + n) >>> 0;
/** a comes after b, modulo 2^32 (RFC 1982 serial arithmetic). */
const seqAfter = (a: number, b: number): boolean => ((a - b) | 0) > 0;
const EMPTY = new Uint8Array(0);

/**
 * One scripted TCP connection. Without `handshake()` it behaves as if the handshake happened
 * before the capture started (a partial connection): sequence numbers start at ISN + 1.
 *
 * Every method returns the 1-based frame numbers it produced, in order (segments that were not
 * captured are left out), so `const [rst] = c.rst('server')` names the RST's frame.
 *
 * Bookkeeping follows RFC 9293: SYN and FIN take one sequence number, data advances the
 * sender's sequence, an ACK carries everything the side received in order; data past a hole is
 * held and acknowledged once the hole is filled. RSTs move no state.
 */
export class TcpConversation {
  private readonly c: SideState;
  private readonly s: SideState;
  private readonly mss: number;
  private readonly wscale: number | null;
  private readonly sackPermitted: boolean;
  private readonly timestamps: boolean;
  /** Link details per sending side, MACs included, built once (see send1). */
  private readonly links: Readonly<Record<Side, FrameLink>>;

  constructor(
    private readonly emitter: PacketEmitter,
    o: TcpConversationOptions,
  ) {
    const client = parseEndpoint(o.client);
    const server = parseEndpoint(o.server);
    if (client.ip.family !== server.ip.family) throw new Error(`client ${o.client} and server ${o.server} are of different IP families`);
    const rnd = emitter.random;
    // Draw both even when given, so fixing one ISN does not shift every later random value.
    const drawnC = rnd.next32();
    const drawnS = rnd.next32();
    const cIsn = (o.clientIsn ?? drawnC) >>> 0;
    const sIsn = (o.serverIsn ?? drawnS) >>> 0;
    this.c = this.newSide(client, cIsn, sIsn, o.clientTtl ?? 64, o.clientWindow ?? 64240);
    this.s = this.newSide(server, sIsn, cIsn, o.serverTtl ?? 64, o.serverWindow ?? 65160);
    const t = o.tcpOptions ?? {};
    this.mss = t.mss ?? (client.ip.family === 4 ? 1460 : 1440);
    this.wscale = t.wscale === undefined ? 7 : t.wscale;
    this.sackPermitted = t.sackPermitted ?? true;
    this.timestamps = t.timestamps ?? true;
    this.links = { client: directionLink(client, server, o.link), server: directionLink(server, client, o.link) };
  }

  private newSide(ep: Endpoint, isn: number, peerIsn: number, ttl: number, windowBytes: number): SideState {
    const rnd = this.emitter.random;
    return {
      ep,
      isn,
      next: seqAdd(isn, 1),
      rcvNext: seqAdd(peerIsn, 1),
      outOfOrder: [],
      unacked: [],
      ttl,
      windowBytes,
      ipId: rnd.next32() & 0xffff,
      tsBase: rnd.next32(),
      peerTsval: 0,
    };
  }

  // ---- what tests may want to know ---------------------------------------------------------

  /** `'10.0.0.1:40000'` / `'[2001:db8::1]:443'`. */
  endpoint(side: Side): string {
    return formatEndpoint(this.side(side).ep);
  }

  isn(side: Side): number {
    return this.side(side).isn;
  }

  /** The sequence number the side's next new byte will carry. */
  nextSeq(side: Side): number {
    return this.side(side).next;
  }

  /** The ack number the side's next segment will carry. */
  ackNumber(side: Side): number {
    return this.side(side).rcvNext;
  }

  /** Changes the receive window the side advertises from now on (0 for a zero window). */
  setWindow(side: Side, bytes: number): this {
    this.side(side).windowBytes = bytes;
    return this;
  }

  // ---- opening -----------------------------------------------------------------------------

  /** SYN, SYN-ACK, ACK with Linux-like options; returns their three frames. */
  handshake(o: SegmentOptions = {}): number[] {
    return [...this.syn(o), ...this.synAck(o), ...this.ack('client', o)];
  }

  syn(o: SegmentOptions = {}): number[] {
    const c = this.c;
    return this.send1('client', { flags: TCP_FLAGS.SYN, seq: c.isn, ack: 0, payload: EMPTY, options: this.synOptions(c) }, o, true);
  }

  synAck(o: SegmentOptions = {}): number[] {
    const s = this.s;
    return this.send1('server', { flags: TCP_FLAGS.SYN | TCP_FLAGS.ACK, seq: s.isn, ack: s.rcvNext, payload: EMPTY, options: this.synOptions(s) }, o, true);
  }

  /** A pure ACK of everything the side has received. */
  ack(side: Side, o: SegmentOptions = {}): number[] {
    const me = this.side(side);
    return this.send1(side, { flags: TCP_FLAGS.ACK, seq: me.next, ack: me.rcvNext, payload: EMPTY, options: null }, o, true);
  }

  // ---- data --------------------------------------------------------------------------------

  clientSends(data: Payload, o: SendOptions = {}): number[] {
    return this.send('client', data, o);
  }

  serverSends(data: Payload, o: SendOptions = {}): number[] {
    return this.send('server', data, o);
  }

  /** Data in MSS-sized segments (PSH on the last), then the peer's ACK unless `ack: false`. */
  send(side: Side, data: Payload, o: SendOptions = {}): number[] {
    const bytes = payloadBytes(data);
    if (bytes.length === 0) throw new Error('send() needs at least one byte; use ack() or segment() for empty segments');
    const size = o.segmentSize ?? this.mss;
    const me = this.side(side);
    const frames: number[] = [];
    for (let at = 0; at < bytes.length; at += size) {
      const chunk = bytes.subarray(at, Math.min(at + size, bytes.length));
      const last = at + size >= bytes.length;
      const flags = TCP_FLAGS.ACK | (last && o.push !== false ? TCP_FLAGS.PSH : 0);
      frames.push(...this.send1(side, { flags, seq: me.next, ack: me.rcvNext, payload: chunk, options: null }, o, o.delivered ?? true));
    }
    if (o.ack !== false) frames.push(...this.ack(peerOf(side)));
    return frames;
  }

  /**
   * A Linux-style keepalive probe (seq = next − 1, no data; Windows sends one garbage byte:
   * `withByte`) and, unless `ack: false`, the peer's ACK of it.
   */
  keepalive(side: Side, o: ReplyOptions & { withByte?: boolean } = {}): number[] {
    const me = this.side(side);
    const payload = o.withByte ? Uint8Array.of(0) : EMPTY;
    const frames = this.send1(side, { flags: TCP_FLAGS.ACK, seq: seqAdd(me.next, -1), ack: me.rcvNext, payload, options: null }, o, true);
    if (o.ack !== false) frames.push(...this.ack(peerOf(side)));
    return frames;
  }

  /**
   * Resends the last data segment the peer has not acknowledged, with the current ack number.
   * No ACK follows unless `ack: true`: a retransmission usually means nothing answers.
   */
  retransmit(side: Side, o: ReplyOptions & { which?: 'last' | 'first'; delivered?: boolean } = {}): number[] {
    const me = this.side(side);
    const seg = o.which === 'first' ? me.unacked[0] : me.unacked[me.unacked.length - 1];
    if (seg === undefined) throw new Error(`the ${side} has no unacknowledged data to retransmit`);
    const frames = this.send1(side, { flags: seg.flags, seq: seg.seq, ack: me.rcvNext, payload: seg.payload, options: null }, o, o.delivered ?? true);
    if (o.ack === true) frames.push(...this.ack(peerOf(side)));
    return frames;
  }

  // ---- closing -----------------------------------------------------------------------------

  /** FIN+ACK from the side and, unless `ack: false`, the peer's ACK of it. */
  fin(side: Side, o: ReplyOptions = {}): number[] {
    const me = this.side(side);
    const frames = this.send1(side, { flags: TCP_FLAGS.FIN | TCP_FLAGS.ACK, seq: me.next, ack: me.rcvNext, payload: EMPTY, options: null }, o, true);
    if (o.ack !== false) frames.push(...this.ack(peerOf(side)));
    return frames;
  }

  /**
   * A RST "from" the side's address — sent by the host or forged by a middlebox (give it its
   * own `ttl`). Plain RST at the side's next sequence number by default, as a host answers a
   * segment it has no connection for; window 0 and no options, as Linux sends them.
   */
  rst(side: Side, o: RstOptions = {}): number[] {
    const me = this.side(side);
    const withAck = o.ack !== undefined && o.ack !== false;
    const ack = typeof o.ack === 'number' ? o.ack : withAck ? me.rcvNext : 0;
    const flags = TCP_FLAGS.RST | (withAck ? TCP_FLAGS.ACK : 0);
    return this.send1(side, { flags, seq: o.seq ?? me.next, ack, payload: EMPTY, options: [] }, { window: 0, ...o }, true);
  }

  /** Exactly the segment described, for odd cases (zero windows, out of order, SYN with data …). */
  segment(side: Side, r: RawSegment): number[] {
    const me = this.side(side);
    const flags = tcpFlags(r.flags);
    const seq = r.seq ?? me.next;
    const ack = r.ack ?? (flags & TCP_FLAGS.ACK ? me.rcvNext : 0);
    return this.send1(side, { flags, seq, ack, payload: payloadBytes(r.payload), options: r.options ?? [], urgent: r.urgent, checksum: r.checksum }, r, r.delivered ?? true);
  }

  // ---- internals ---------------------------------------------------------------------------

  private side(side: Side): SideState {
    return side === 'client' ? this.c : this.s;
  }

  private synOptions(me: SideState): TcpOption[] {
    // Linux's order: MSS, SACK-permitted, timestamps, NOP, window scale (20 bytes).
    const opts: TcpOption[] = [{ kind: 'mss', value: this.mss }];
    if (this.sackPermitted && this.timestamps) opts.push({ kind: 'sack-permitted' }, this.tsOption(me));
    else if (this.sackPermitted) opts.push({ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack-permitted' });
    else if (this.timestamps) opts.push({ kind: 'nop' }, { kind: 'nop' }, this.tsOption(me));
    if (this.wscale !== null) opts.push({ kind: 'nop' }, { kind: 'wscale', shift: this.wscale });
    return opts;
  }

  private tsOption(me: SideState): TcpOption {
    // TSval ticks in milliseconds of the script clock, from a per-side random base.
    return { kind: 'timestamps', tsval: (me.tsBase + Math.floor(this.emitter.now / 1000)) >>> 0, tsecr: me.peerTsval };
  }

  /**
   * Emits one segment and does the bookkeeping. `options: null` = the usual ones (timestamps
   * when negotiated). Returns [frame], or [] when not captured.
   */
  private send1(
    side: Side,
    seg: { flags: number; seq: number; ack: number; payload: Uint8Array; options: readonly TcpOption[] | null; urgent?: number; checksum?: number },
    o: SegmentOptions,
    delivered: boolean,
  ): number[] {
    const me = this.side(side);
    const peer = this.side(peerOf(side));
    const isSyn = (seg.flags & TCP_FLAGS.SYN) !== 0;
    const options = seg.options ?? (this.timestamps ? [{ kind: 'nop' } as const, { kind: 'nop' } as const, this.tsOption(me)] : []);
    const shift = isSyn || this.wscale === null ? 0 : this.wscale;
    const window = o.window ?? Math.min(0xffff, Math.floor(me.windowBytes / 2 ** shift));
    const id = me.ipId;
    me.ipId = (me.ipId + 1) & 0xffff;
    const frame = this.emitter.emitIp(
      {
        src: me.ep.ip,
        dst: peer.ep.ip,
        ttl: o.ttl ?? me.ttl,
        // Spread only when the caller overrides something: objects built by spreading are slow to read.
        ipv4: o.ipv4 === undefined ? { id } : { id, ...o.ipv4 },
        ipv6: o.ipv6,
        transport: {
          protocol: 'tcp',
          srcPort: me.ep.port,
          dstPort: peer.ep.port,
          seq: seg.seq,
          ack: seg.ack,
          flags: seg.flags,
          window,
          urgent: seg.urgent,
          checksum: seg.checksum,
          options,
          payload: seg.payload,
        },
      },
      o.link === undefined ? this.links[side] : { ...this.links[side], ...o.link },
      o.captured ?? true,
    );
    this.account(me, peer, seg.flags, seg.seq, seg.ack, seg.payload, options, delivered);
    return frame === 0 ? [] : [frame];
  }

  private account(me: SideState, peer: SideState, flags: number, seq: number, ack: number, payload: Uint8Array, options: readonly TcpOption[], delivered: boolean): void {
    // RST payload and acks are not stream state (RFC 9293 §3.10.7); nothing moves.
    if (flags & TCP_FLAGS.RST) return;
    const syn = (flags & TCP_FLAGS.SYN) !== 0;
    const len = payload.length + (syn ? 1 : 0) + (flags & TCP_FLAGS.FIN ? 1 : 0);
    const end = seqAdd(seq, len);
    if (syn) {
      // A SYN (re)starts the side's sequence space, e.g. a scripted port reuse with a new ISN.
      me.isn = seq;
      me.next = end;
    } else if (seqAfter(end, me.next)) {
      if (payload.length > 0) me.unacked.push({ seq, payload, flags });
      me.next = end;
    }
    if (flags & TCP_FLAGS.ACK) {
      // What the peer sent up to `ack` is now acknowledged: no longer a retransmission candidate.
      while (peer.unacked.length > 0 && !seqAfter(seqAdd(peer.unacked[0].seq, peer.unacked[0].payload.length), ack)) peer.unacked.shift();
    }
    if (!delivered) return;
    for (const opt of options) if (opt.kind === 'timestamps') peer.peerTsval = opt.tsval;
    if (syn) peer.rcvNext = end;
    else receive(peer, seq, end);
  }
}

/**
 * The frame link of one direction: stable MACs derived from the two addresses plus the
 * conversation's link details, written out field by field because it is read for every frame.
 */
function directionLink(from: Endpoint, to: Endpoint, link: FrameLink | undefined): FrameLink {
  return {
    srcMac: link?.srcMac ?? macForIp(from.ip),
    dstMac: link?.dstMac ?? macForIp(to.ip),
    vlans: link?.vlans,
    pkttype: link?.pkttype,
    ifIndex: link?.ifIndex,
  };
}

function peerOf(side: Side): Side {
  return side === 'client' ? 'server' : 'client';
}

/** Moves RCV.NXT over [seq, end) if it joins what was received, then over held later data. */
function receive(r: SideState, seq: number, end: number): void {
  if (seq === end) return;
  if (seqAfter(seq, r.rcvNext)) {
    r.outOfOrder.push([seq, end]);
    return;
  }
  if (seqAfter(end, r.rcvNext)) r.rcvNext = end;
  let joined = true;
  while (joined) {
    joined = false;
    for (let i = 0; i < r.outOfOrder.length; i++) {
      const [s, e] = r.outOfOrder[i];
      if (!seqAfter(s, r.rcvNext)) {
        if (seqAfter(e, r.rcvNext)) r.rcvNext = e;
        r.outOfOrder.splice(i, 1);
        joined = true;
        break;
      }
    }
  }
}

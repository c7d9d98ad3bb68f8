import { TcpFlag, endpointText, formatAddress, type DecodedPacket } from '../decode/index.js';
import { AppSniffer, type AppSink } from './app/sniffer.js';
import { isTlsAlertOnly } from './app/tls.js';
import { PING_MAX_BYTES, PING_MIN_QUIET_MICROS, PingTracker, pingKindCode } from './app-ping.js';
import type { BufferAccount } from './buffered.js';
import type {
  AfterFin, Anomaly, AppMessage, CloseEvent, ConnState, Connection, EndReason, GapAftermath, HostPort, IdleGap, RoleSource, RstContext,
} from './connection.js';
import { Endpoint, EndpointState } from './endpoint.js';
import { ipv4Host } from './attempts.js';
import { SegmentTrace } from './trace.js';
import { seqGt, seqLt } from './seq.js';

/** Bounds per connection, so one hostile connection cannot grow memory without limit. */
export const MAX_APP_MESSAGES = 256;
export const MAX_ANOMALIES = 32;
export const MAX_IDLE_GAPS = 1024;

export interface FlowOptions {
  /** Idle gaps at least this long (µs) are recorded with their aftermath. */
  idleThresholdMicros: number;
  /** Keep a bounded trace of each connection's segments (to find it in another capture; off by default). */
  traceSegments?: boolean;
}

type Side = 'client' | 'server';

/** A connection's tuple as the table keys it (see LiveConnection's fields of the same names). */
export interface ConnTuple {
  clientV4: number;
  serverV4: number;
  clientAddr: Uint8Array | null;
  serverAddr: Uint8Array | null;
  clientPort: number;
  serverPort: number;
  hash: number;
}

/** Mutable aftermath of the most recent idle gap, closed when the exchange resolves. */
interface OpenAftermath {
  gapIndex: number;
  requestFrame: number | null;
  requestMicros: number | null;
  requestRetransmissions: number;
  lastRetransmissionFrame: number | null;
  lastRetransmissionMicros: number | null;
  /** Sequence number just past the request's bytes (valid once requestFrame is set). */
  requestEndSeq: number;
  requestAcked: boolean;
  requestAckFrame: number | null;
  replyFrame: number | null;
  serverPackets: number;
  rst: (CloseEvent & { from: Side }) | null;
  fin: (CloseEvent & { from: Side }) | null;
  lastFrame: number;
  lastMicros: number;
}

interface OpenAfterFin {
  by: Side;
  fin: CloseEvent;
  dataFrame: number | null;
  dataMicros: number | null;
  dataGapSeconds: number | null;
  dataPrevFrame: number | null;
  idleBeforeSeconds: number;
  rst: (CloseEvent & { from: Side }) | null;
}

/**
 * One TCP connection while it is live. `onPacket` runs the same short steps for every segment,
 * in a fixed order: duplicates, timing and idle gaps, sequence analysis (keepalive, retransmission,
 * gaps), history, endpoint state, TTL and close events, application payload. `finish()` computes
 * the summary state once and returns the plain record.
 */
export class LiveConnection implements AppSink {
  readonly id: number;
  readonly client: Endpoint;
  readonly server: Endpoint;
  // The tuple, kept as numbers (the endpoint strings are made only for the record) and the
  // table's bookkeeping: no separate entry object per connection (docs/performance.md).
  /** IPv4 addresses as signed 32-bit numbers (`u32 | 0`: stored in the object, no heap-number box); valid when clientAddr is null. */
  readonly clientV4: number;
  readonly serverV4: number;
  /** IPv6 addresses (16-byte copies); null for IPv4. */
  readonly clientAddr: Uint8Array | null;
  readonly serverAddr: Uint8Array | null;
  readonly clientPort: number;
  readonly serverPort: number;
  /** The table's: the tuple's hash, the next connection in its bucket (insertion order). */
  readonly hash: number;
  next: LiveConnection | null = null;
  /** The table's: its slot in the attempt queue (-1: not in it); inClosedQueue is one of the bits. */
  attemptSlot = -1;
  /** Small flags and enums packed in one number (see BIT and the accessors below). */
  private bits = 0;
  /** Set when both sides sent FIN or either sent RST: the table finishes the record after a linger. */
  closedAtMicros = -1;
  firstMicros = 0;
  lastMicros = 0;
  firstFrame = 0;
  lastFrame = 0;
  synFrame: number | null = null;
  synAckFrame: number | null = null;
  /**
   * The ack number of the server's SYN-ACK (client ISN + 1), to recognise a SYN captured after it:
   * as a signed 32-bit number (`| 0`, so no heap number of its own), null before the SYN-ACK.
   */
  synAckAck: number | null = null;

  private history = '';
  private maxGapMicros = 0;
  private maxGapAfterFrame: number | null = null;
  // Lists and counts most connections never need are made on first use (null until then): the
  // table may hold hundreds of thousands of connections, and finish() gives [] / {} for null.
  private app: AppMessage[] | null = null;
  private sniffer: AppSniffer | null = null;

  // Idle-gap tracking: the last packet that was not a keepalive probe or keepalive ACK.
  private lastRealMicros = 0;
  private lastRealFrame = 0;
  private quietMaxPacketGap = 0;
  /**
   * The survival candidate — a client request after a quiet stretch, not yet answered — kept as
   * scalars (one per request; an object each time would be garbage per request). Valid when
   * hasSurvivalCandidate.
   */
  /** In µs, not seconds: an integer below 2^31 is kept in the object, a fraction would be boxed. */
  private candidateQuietMicros = 0;
  private candidateMaxPacketGapMicros = 0;
  private candidateRequestFrame = 0;
  private longestSurvived: Connection['longestSurvivedIdle'] = null;
  /** Oldest client payload not yet answered by server payload (for the RST context). */
  private pendingRequestFrame: number | null = null;
  /** The state few connections need (see ConnExtra and the accessors below); null until one does. */
  private extraState: ConnExtra | null = null;

  // What most connections never need lives in ConnExtra, made on the first write of anything but
  // its default; these accessors (on the prototype: no room in each connection) read the defaults until then.
  get duplicatesSkipped(): number { return this.extraState === null ? 0 : this.extraState.duplicatesSkipped; }
  set duplicatesSkipped(v: number) { if (this.extraState !== null || v !== 0) this.extra().duplicatesSkipped = v; }
  /** Only with options.traceSegments: the segments, bounded (see SegmentTrace). */
  private get trace(): SegmentTrace | null { return this.extraState === null ? null : this.extraState.trace; }
  private set trace(v: SegmentTrace | null) { if (this.extraState !== null || v !== null) this.extra().trace = v; }
  private get gaps(): IdleGap[] | null { return this.extraState === null ? null : this.extraState.gaps; }
  private set gaps(v: IdleGap[] | null) { if (this.extraState !== null || v !== null) this.extra().gaps = v; }
  private get appDropped(): number { return this.extraState === null ? 0 : this.extraState.appDropped; }
  private set appDropped(v: number) { if (this.extraState !== null || v !== 0) this.extra().appDropped = v; }
  private get sni(): string | null { return this.extraState === null ? null : this.extraState.sni; }
  private set sni(v: string | null) { if (this.extraState !== null || v !== null) this.extra().sni = v; }
  private get anomalies(): Anomaly[] | null { return this.extraState === null ? null : this.extraState.anomalies; }
  private set anomalies(v: Anomaly[] | null) { if (this.extraState !== null || v !== null) this.extra().anomalies = v; }
  private get anomalyCounts(): Record<string, number> | null { return this.extraState === null ? null : this.extraState.anomalyCounts; }
  private set anomalyCounts(v: Record<string, number> | null) { if (this.extraState !== null || v !== null) this.extra().anomalyCounts = v; }
  private get pings(): PingTracker | null { return this.extraState === null ? null : this.extraState.pings; }
  private set pings(v: PingTracker | null) { if (this.extraState !== null || v !== null) this.extra().pings = v; }
  /** Keepalive probes of the quiet stretch so far (made at the first probe). */
  private get quiet(): QuietProbes | null { return this.extraState === null ? null : this.extraState.quiet; }
  private set quiet(v: QuietProbes | null) { if (this.extraState !== null || v !== null) this.extra().quiet = v; }
  private get longestProbeGap(): Connection['longestAnsweredProbeGap'] { return this.extraState === null ? null : this.extraState.longestProbeGap; }
  private set longestProbeGap(v: Connection['longestAnsweredProbeGap']) { if (this.extraState !== null || v !== null) this.extra().longestProbeGap = v; }
  private get aftermath(): OpenAftermath | null { return this.extraState === null ? null : this.extraState.aftermath; }
  private set aftermath(v: OpenAftermath | null) { if (this.extraState !== null || v !== null) this.extra().aftermath = v; }
  /** What followed each side's first FIN. */
  private get afterClientFin(): OpenAfterFin | null { return this.extraState === null ? null : this.extraState.afterClientFin; }
  private set afterClientFin(v: OpenAfterFin | null) { if (this.extraState !== null || v !== null) this.extra().afterClientFin = v; }
  private get afterServerFin(): OpenAfterFin | null { return this.extraState === null ? null : this.extraState.afterServerFin; }
  private set afterServerFin(v: OpenAfterFin | null) { if (this.extraState !== null || v !== null) this.extra().afterServerFin = v; }
  private get firstRst(): RstContext | null { return this.extraState === null ? null : this.extraState.firstRst; }
  private set firstRst(v: RstContext | null) { if (this.extraState !== null || v !== null) this.extra().firstRst = v; }
  /** Last packet fingerprint, to drop `-i any` copies of the same packet on another interface (SLL2 captures only). */
  private get lastSig(): PacketSignature | null { return this.extraState === null ? null : this.extraState.lastSig; }
  private set lastSig(v: PacketSignature | null) { if (this.extraState !== null || v !== null) this.extra().lastSig = v; }

  private extra(): ConnExtra {
    return (this.extraState ??= new ConnExtra());
  }

  /** The table's: whether it is in the closed queue. */
  get inClosedQueue(): boolean { return (this.bits & BIT.IN_CLOSED_QUEUE) !== 0; }
  set inClosedQueue(v: boolean) { this.bits = v ? this.bits | BIT.IN_CLOSED_QUEUE : this.bits & ~BIT.IN_CLOSED_QUEUE; }
  /** Whether a survival candidate is held (see candidateQuietMicros). */
  private get hasSurvivalCandidate(): boolean { return (this.bits & BIT.SURVIVAL_CANDIDATE) !== 0; }
  private set hasSurvivalCandidate(v: boolean) { this.bits = v ? this.bits | BIT.SURVIVAL_CANDIDATE : this.bits & ~BIT.SURVIVAL_CANDIDATE; }
  /** Whether the previous packet was a keepalive probe, and from whom (for keepalive ACKs). */
  private get lastWasProbeFrom(): Side | null {
    const v = this.bits & BIT.PROBE_FROM_MASK;
    return v === 0 ? null : v === BIT.PROBE_FROM_CLIENT ? 'client' : 'server';
  }

  private set lastWasProbeFrom(side: Side | null) {
    const v = side === null ? 0 : side === 'client' ? BIT.PROBE_FROM_CLIENT : BIT.PROBE_FROM_SERVER;
    this.bits = (this.bits & ~BIT.PROBE_FROM_MASK) | v;
  }

  /** historyFirst's letters already written (FIRST_LETTER_BITS, client's shifted up by 3). */
  private get firstLetters(): number { return (this.bits >> BIT.LETTERS_SHIFT) & 63; }
  private set firstLetters(v: number) { this.bits = (this.bits & ~(63 << BIT.LETTERS_SHIFT)) | (v << BIT.LETTERS_SHIFT); }
  get ipVersion(): 4 | 6 { return (this.bits & BIT.IPV6) !== 0 ? 6 : 4; }
  get roleSource(): RoleSource { return ROLE_SOURCES[(this.bits >> BIT.ROLE_SHIFT) & 3]!; }

  constructor(
    id: number,
    tuple: ConnTuple,
    ipVersion: 4 | 6,
    readonly vlan: readonly number[],
    roleSource: RoleSource,
    private readonly options: FlowOptions,
    /** Where the sniffer's buffers of unfinished heads are counted (the table's). */
    private readonly buffers?: BufferAccount,
  ) {
    this.id = asSmall(id);
    this.bits = (ipVersion === 6 ? BIT.IPV6 : 0) | (ROLE_SOURCES.indexOf(roleSource) << BIT.ROLE_SHIFT);
    this.clientV4 = tuple.clientV4;
    this.serverV4 = tuple.serverV4;
    this.clientAddr = tuple.clientAddr;
    this.serverAddr = tuple.serverAddr;
    this.clientPort = tuple.clientPort;
    this.serverPort = tuple.serverPort;
    this.hash = tuple.hash;
    this.client = new Endpoint();
    this.server = new Endpoint();
    if (roleSource !== 'syn') this.history = '^';
    this.trace = options.traceSegments ? new SegmentTrace() : null;
  }

  /** Feeds one decoded TCP segment. Returns false when it was a duplicate and was skipped. */
  onPacket(p: DecodedPacket, frameNumber: number, micros: number, fromClient: boolean): boolean {
    const frame = asSmall(frameNumber);
    if (this.isDuplicate(p, micros, fromClient)) {
      this.duplicatesSkipped++;
      return false;
    }
    const me = fromClient ? this.client : this.server;
    const peer = fromClient ? this.server : this.client;
    const side: Side = fromClient ? 'client' : 'server';
    const flags = p.flags;
    const syn = (flags & TcpFlag.SYN) !== 0;
    const fin = (flags & TcpFlag.FIN) !== 0;
    const rst = (flags & TcpFlag.RST) !== 0;
    const ackFlag = (flags & TcpFlag.ACK) !== 0;
    const payload = p.payloadWireLen > 0 ? p.payloadWireLen : 0;
    // RST payload is diagnostic text, not stream data (RFC 9293 §3.5.3).
    const dataLen = rst ? 0 : payload;
    // Sequence and ack numbers as signed 32-bit numbers (see Endpoint.nextSeq32): passed on or
    // compared, an unsigned one past 2^31 − 1 would be a heap number each time.
    const seq = p.seq | 0;
    const ack = p.ack | 0;
    this.trace?.record(frame, micros, fromClient, p.seq, p.ack, payload, flags, p.ttl);

    // 0. a handshake retried after a reset (SYN → RST → the same SYN again) reopens the connection
    if (syn && !rst && this.closedAtMicros >= 0 && (me.state === EndpointState.RESET || peer.state === EndpointState.RESET)) {
      this.closedAtMicros = -1;
      if (me.state === EndpointState.RESET) me.state = EndpointState.INACTIVE;
      if (peer.state === EndpointState.RESET) peer.state = fromClient ? EndpointState.INACTIVE : EndpointState.SYN_SENT;
      this.addAnomaly('handshake-after-rst', frame);
    }

    // 1. timing
    if (this.firstFrame === 0) {
      this.firstFrame = frame;
      this.firstMicros = micros;
      this.lastMicros = micros;
      this.lastRealMicros = micros;
      this.lastRealFrame = frame;
    } else {
      const gap = asSmall(micros - this.lastMicros);
      if (gap > this.maxGapMicros) {
        this.maxGapMicros = gap;
        this.maxGapAfterFrame = this.lastFrame;
      }
      if (gap > this.quietMaxPacketGap) this.quietMaxPacketGap = gap;
    }

    // 2. sequence analysis
    const seglen = dataLen + (syn ? 1 : 0) + (fin ? 1 : 0);
    let probe = false;
    let probeAck = false;
    let retransmission = false;
    if (!syn && !fin && !rst && payload <= 1 && me.hasSeq && seq === ((me.nextSeq32 - 1) | 0) && this.lastFrame !== 0) {
      probe = true; // Wireshark: seq = next expected − 1, 0 or 1 byte
      me.keepaliveProbes++;
    } else if (this.lastWasProbeFrom !== null && this.lastWasProbeFrom !== side && seglen === 0 && !rst && ackFlag &&
      me.hasSeq && seq === me.nextSeq32 && peer.hasSeq && ack === peer.nextSeq32) {
      probeAck = true;
      me.keepaliveAcks++;
    }
    if (syn) {
      if (!me.hasIsn) {
        me.isn32 = seq;
        me.hasIsn = true;
      }
    }
    if (!probe && !rst && me.hasSeq && seglen > 0) {
      if (seqLt(seq, me.nextSeq32)) {
        retransmission = dataLen > 0 || (syn && seq === me.isn32) || fin;
        if (retransmission && dataLen > 0) me.retransmissions++;
        else if (retransmission) retransmission = false;
      } else if (seqGt(seq, me.nextSeq32) && !syn) {
        me.segmentsNotCaptured++;
        this.addAnomaly('previous-segment-not-captured', frame);
        this.sniffer?.h2?.lost(fromClient); // HTTP/2 frames and HPACK state lost bytes: resynchronise
        this.historyLog(fromClient, 'g', me);
      }
    }
    if (!rst && !probe) {
      const end = (seq + seglen) | 0;
      if (!me.hasSeq || seqGt(end, me.nextSeq32)) {
        me.nextSeq32 = end;
        me.hasSeq = true;
      }
    }

    // 3. history letters
    if (syn && !ackFlag) this.historyOnce(fromClient, 's', me, seq);
    else if (syn && ackFlag) this.historyOnce(fromClient, 'h', me, seq);
    if (fin) this.historyOnce(fromClient, 'f', me, seq);
    if (rst) this.historyOnce(fromClient, 'r', me, seq);
    if (dataLen > 0) {
      if (retransmission) this.historyLog(fromClient, 't', me);
      else this.historyFirst(fromClient, 'd');
    } else if (!syn && !fin && !rst && ackFlag) {
      if (probe) this.historyFirst(fromClient, 'k');
      else this.historyFirst(fromClient, 'a');
    }
    if (p.window === 0 && !syn && !fin && !rst) {
      me.zeroWindows++;
      this.historyLog(fromClient, 'w', me);
      this.addAnomaly('zero-window', frame);
    }

    // 4. endpoint states (Zeek's TCP_Endpoint)
    this.updateStates(me, peer, syn, fin, rst, ackFlag, frame, fromClient, ack);

    // 5. per-side counters, TTL, close events
    me.packets++;
    me.payloadBytes += dataLen;
    if (!rst) me.noteTtl(p.ttl);
    const event: CloseEvent | null = fin || rst ? { frame, micros, ttl: p.ttl, ipId: p.ipId, ack: ackFlag } : null;
    if (fin) {
      me.fins++;
      if (!me.firstFin) {
        me.firstFin = event;
        // The quiet before a FIN is how long that side waited before closing an idle connection:
        // for a server, its keep-alive timeout as it acted.
        const idleBeforeSeconds = this.lastFrame === 0 ? 0 : (micros - this.lastRealMicros) / 1e6;
        const af: OpenAfterFin = { by: side, fin: event!, dataFrame: null, dataMicros: null, dataGapSeconds: null, dataPrevFrame: null, idleBeforeSeconds, rst: null };
        if (fromClient) this.afterClientFin = af;
        else this.afterServerFin = af;
      }
    }
    if (rst) {
      me.rsts++;
      if (!me.firstRst) me.firstRst = event;
      if (!this.firstRst) {
        this.firstRst = {
          from: side, event: event!, pendingRequestFrame: this.pendingRequestFrame,
          gapBeforeSeconds: (micros - this.lastMicros) / 1e6,
          afterIdleGap: this.aftermath ? this.aftermath.gapIndex : null,
        };
      }
    }
    // A keepalive probe's garbage byte (0 or 1 byte at next-expected − 1) is not data of the stream:
    // not a request waiting for an answer, not data after a FIN, and nothing for the app sniffer.
    if (dataLen > 0 && !retransmission && !probe && !this.isTlsAlert(p, dataLen)) {
      if (fromClient) {
        if (this.pendingRequestFrame === null) this.pendingRequestFrame = frame;
      } else {
        this.pendingRequestFrame = null;
      }
      const otherFin = fromClient ? this.afterServerFin : this.afterClientFin;
      if (otherFin && otherFin.dataFrame === null) {
        otherFin.dataFrame = frame;
        otherFin.dataMicros = micros;
        otherFin.dataGapSeconds = (micros - this.lastMicros) / 1e6;
        otherFin.dataPrevFrame = this.lastFrame;
        this.addAnomaly('data-after-fin', frame);
      }
    }
    if (rst) {
      for (const af of [this.afterClientFin, this.afterServerFin]) {
        if (af && af.dataFrame !== null && !af.rst) af.rst = { ...event!, from: side };
      }
    }
    if (!rst && !probe && (this.client.state === EndpointState.RESET || this.server.state === EndpointState.RESET) && dataLen > 0) {
      this.addAnomaly('data-after-rst', frame);
    }

    // 6. idle gaps and their aftermath
    const quietBefore = micros - this.lastRealMicros;
    if (probe || probeAck) {
      if (probeAck) {
        const q = (this.quiet ??= new QuietProbes());
        q.probeAcks++;
        if (q.lastProbe !== null && (this.longestProbeGap === null || q.lastProbeGap > this.longestProbeGap.seconds * 1e6)) {
          this.longestProbeGap = { seconds: q.lastProbeGap / 1e6, probeFrame: q.lastProbe, ackFrame: frame };
        }
      }
      if (probe) {
        const q = (this.quiet ??= new QuietProbes());
        if (q.firstProbe === null) q.firstProbeMicros = micros;
        q.lastProbe = frame;
        q.lastProbeMicros = micros;
        q.lastProbeFrom = side;
        q.lastProbeGap = this.lastFrame === 0 ? 0 : micros - this.lastMicros;
        const first = fromClient ? q.probesClient === 0 : q.probesServer === 0;
        if (first) {
          const idle = asSmall(micros - this.lastRealMicros);
          if (me.keepaliveIdleMicros < 0 || idle < me.keepaliveIdleMicros) me.keepaliveIdleMicros = idle;
        } else if (me.lastProbeMicros >= 0) {
          const interval = asSmall(micros - me.lastProbeMicros);
          if (me.keepaliveIntervalMicros < 0 || interval < me.keepaliveIntervalMicros) me.keepaliveIntervalMicros = interval;
        }
        me.lastProbeMicros = micros;
        if (fromClient) q.probesClient++;
        else q.probesServer++;
        if (q.firstProbe === null) q.firstProbe = frame;
      }
    } else {
      this.onRealPacket(frame, micros, side, dataLen, retransmission, rst, fin, event, seq, ackFlag, ack);
    }
    this.lastWasProbeFrom = probe ? side : null;

    // 7. application payload: only new, in-order data
    if (dataLen > 0 && !retransmission && !probe && p.payloadLen === 0) {
      // Headers only (the snap length left none of the payload): nothing to read, but the sniffer
      // must still skip these bytes, or the next message would be looked for inside them.
      this.sniffer?.onPayload(fromClient, p.data, p.payloadStart, 0, frame, micros, dataLen);
    }
    if (dataLen > 0 && !retransmission && !probe && p.payloadLen > 0) {
      const len = Math.min(p.payloadLen, dataLen);
      if (this.sniffer === null) {
        this.sniffer = new AppSniffer(this, this.buffers);
      }
      // The sniffer is told the length on the wire too: a snap length that cut the segment must not shift what follows.
      this.sniffer.onPayload(fromClient, p.data, p.payloadStart, len, frame, micros, dataLen);
      // App-level keepalive (pings): the tracker exists from a connection's first small request after quiet.
      if (fromClient) {
        if (this.pings === null && dataLen <= PING_MAX_BYTES && quietBefore >= PING_MIN_QUIET_MICROS) this.pings = new PingTracker();
        this.pings?.onClientData(frame, micros, dataLen, quietBefore, dataLen <= PING_MAX_BYTES ? pingKindCode(p.data, p.payloadStart, len) : 0);
      } else {
        this.pings?.onServerData(dataLen);
      }
    }

    this.lastMicros = micros;
    this.lastFrame = frame;
    if (this.closedAtMicros < 0 && (rst || (this.client.firstFin && this.server.firstFin))) this.closedAtMicros = micros;
    else if (this.closedAtMicros >= 0) this.closedAtMicros = Math.max(this.closedAtMicros, micros);
    return true;
  }

  /** `seq` and `ack` (valid when `hasAck`, the ACK flag) are the segment's numbers, signed (`| 0`). */
  private onRealPacket(frame: number, micros: number, side: Side, dataLen: number, retransmission: boolean, rst: boolean, fin: boolean, event: CloseEvent | null, seq: number, hasAck: boolean, ack: number): void {
    const quiet = micros - this.lastRealMicros;
    if (this.lastRealFrame !== 0 && quiet >= this.options.idleThresholdMicros && this.roomForGap(frame)) {
      this.closeAftermath();
      const q = this.quiet ?? NO_PROBES;
      const gap: IdleGap = {
        seconds: quiet / 1e6,
        maxPacketGapSeconds: Math.max(this.quietMaxPacketGap, micros - this.lastMicros) / 1e6,
        fromFrame: this.lastRealFrame,
        fromMicros: this.lastRealMicros,
        toFrame: frame,
        toMicros: micros,
        endedBy: side,
        clientProbes: q.probesClient,
        serverProbes: q.probesServer,
        firstProbeFrame: q.firstProbe,
        firstProbeMicros: q.firstProbe === null ? null : q.firstProbeMicros,
        lastProbeFrame: q.lastProbe,
        lastProbeMicros: q.lastProbe === null ? null : q.lastProbeMicros,
        lastProbeFrom: q.lastProbe === null ? null : q.lastProbeFrom,
        lastProbeGapSeconds: q.lastProbe === null ? null : q.lastProbeGap / 1e6,
        probeAcks: q.probeAcks,
        after: EMPTY_AFTERMATH, // replaced when the aftermath closes
      };
      (this.gaps ??= []).push(gap);
      this.aftermath = {
        gapIndex: this.gaps.length - 1, requestFrame: null, requestMicros: null, requestRetransmissions: 0,
        lastRetransmissionFrame: null, lastRetransmissionMicros: null, requestEndSeq: 0, requestAcked: false, requestAckFrame: null, replyFrame: null, serverPackets: 0, rst: null, fin: null, lastFrame: frame, lastMicros: micros,
      };
    }
    const a = this.aftermath;
    if (a) {
      a.lastFrame = frame;
      a.lastMicros = micros;
      if (side === 'client' && dataLen > 0) {
        if (a.requestFrame === null) {
          a.requestFrame = frame;
          a.requestMicros = micros;
          a.requestEndSeq = (seq + dataLen) | 0;
        } else if (retransmission && a.replyFrame === null) {
          a.requestRetransmissions++;
          a.lastRetransmissionFrame = frame;
          a.lastRetransmissionMicros = micros;
        }
      }
      if (side === 'server' && a.requestFrame !== null) {
        a.serverPackets++;
        // An RST's ACK number says nothing about receipt (REJECT and closed sockets echo it).
        if (!rst && !a.rst && !a.requestAcked && hasAck && !seqLt(ack, a.requestEndSeq)) {
          a.requestAcked = true;
          a.requestAckFrame = frame;
        }
      }
      if (side === 'server' && dataLen > 0 && a.replyFrame === null) a.replyFrame = frame;
      if (rst && !a.rst) a.rst = { ...event!, from: side };
      if (fin && !a.fin) a.fin = { ...event!, from: side };
      // The exchange is resolved once the server answered with data or the connection was reset.
      if (a.replyFrame !== null || a.rst) this.closeAftermath();
    }
    // Survival: a client request after a quiet stretch, answered with server payload, proves the
    // path still held the connection after that long (any length: the idle-timeout bracket needs it).
    if (side === 'client' && dataLen > 0 && !retransmission && !this.hasSurvivalCandidate && !rst) {
      this.hasSurvivalCandidate = true;
      this.candidateQuietMicros = asSmall(quiet);
      this.candidateMaxPacketGapMicros = asSmall(Math.max(this.quietMaxPacketGap, micros - this.lastMicros));
      this.candidateRequestFrame = frame;
    } else if (side === 'server' && this.hasSurvivalCandidate) {
      if (dataLen > 0 && !rst && (!this.longestSurvived || this.candidateQuietMicros / 1e6 > this.longestSurvived.seconds)) {
        this.longestSurvived = {
          seconds: this.candidateQuietMicros / 1e6, maxPacketGapSeconds: this.candidateMaxPacketGapMicros / 1e6, requestFrame: this.candidateRequestFrame, replyFrame: frame,
        };
      }
      if (dataLen > 0 || rst || fin) this.hasSurvivalCandidate = false;
    }
    if (rst || fin) this.hasSurvivalCandidate = false;
    this.lastRealMicros = micros;
    this.lastRealFrame = frame;
    this.quiet?.reset(); // kept once made: a connection that probed once will again, no object per quiet stretch
    this.quietMaxPacketGap = 0;
  }

  /**
   * Whether a new idle gap can be recorded. The list is bounded (MAX_IDLE_GAPS); when it is full,
   * the oldest gap whose exchange ended well (answered, no RST or FIN) makes room, so the newest
   * gap — the one a stale reuse follows — is still recorded and the incident still found (anomaly
   * 'idle-gap-dropped'). When every kept gap matters the new one is not recorded
   * ('idle-gap-not-recorded').
   */
  private roomForGap(frame: number): boolean {
    const gaps = this.gaps;
    if (gaps === null || gaps.length < MAX_IDLE_GAPS) return true;
    // The open aftermath's gap has no reply yet, so it is never the one dropped.
    const i = gaps.findIndex((g) => g.after.replyFrame !== null && g.after.rst === null && g.after.fin === null);
    if (i < 0) {
      this.addAnomaly('idle-gap-not-recorded', frame);
      return false;
    }
    gaps.splice(i, 1);
    if (this.aftermath && this.aftermath.gapIndex > i) this.aftermath.gapIndex--;
    const r = this.firstRst;
    if (r && r.afterIdleGap !== null && r.afterIdleGap > i) this.firstRst = { ...r, afterIdleGap: r.afterIdleGap - 1 };
    this.addAnomaly('idle-gap-dropped', frame);
    return true;
  }

  private closeAftermath(): void {
    const a = this.aftermath;
    if (!a) return;
    const after = aftermathOf(a);
    const gaps = this.gaps!; // an open aftermath always follows a recorded gap
    gaps[a.gapIndex] = { ...gaps[a.gapIndex]!, after };
    this.aftermath = null;
  }

  private updateStates(me: Endpoint, peer: Endpoint, syn: boolean, fin: boolean, rst: boolean, ack: boolean, frame: number, fromClient: boolean, ackNumber: number): void {
    if (rst) {
      me.state = EndpointState.RESET;
      return;
    }
    if (syn) {
      if (ack) {
        if (me.state === EndpointState.INACTIVE) me.state = EndpointState.SYN_ACK_SENT;
        if (this.synAckFrame === null && !fromClient) {
          this.synAckFrame = frame;
          this.synAckAck = ackNumber | 0;
        }
      } else {
        if (me.state === EndpointState.INACTIVE) me.state = EndpointState.SYN_SENT;
        if (this.synFrame === null && fromClient) this.synFrame = frame;
      }
    } else if (me.state === EndpointState.INACTIVE) {
      me.state = EndpointState.PARTIAL;
    } else if (ack && (me.state === EndpointState.SYN_SENT || me.state === EndpointState.SYN_ACK_SENT)) {
      // The handshake completed: the originator ACKs the SYN-ACK (or data flows).
      if (peer.state === EndpointState.SYN_ACK_SENT || peer.state === EndpointState.ESTABLISHED || peer.state === EndpointState.SYN_SENT) {
        me.state = EndpointState.ESTABLISHED;
        if (peer.state === EndpointState.SYN_ACK_SENT || peer.state === EndpointState.SYN_SENT) peer.state = EndpointState.ESTABLISHED;
      }
    }
    if (!syn && ack && peer.state === EndpointState.SYN_ACK_SENT && me.state !== EndpointState.PARTIAL) {
      peer.state = EndpointState.ESTABLISHED;
      if (me.state === EndpointState.SYN_SENT) me.state = EndpointState.ESTABLISHED;
    }
    if (fin && me.state !== EndpointState.RESET) me.state = EndpointState.CLOSED;
  }

  /**
   * d, k, a: once per direction. Which of them are already in the history is kept as bits (no
   * other step writes these letters, so this is the same test as history.includes(letter)).
   */
  private historyFirst(fromClient: boolean, letter: 'd' | 'k' | 'a'): void {
    const bit = FIRST_LETTER_BITS[letter] << (fromClient ? 3 : 0);
    if ((this.firstLetters & bit) !== 0) return;
    this.firstLetters |= bit;
    this.history += fromClient ? letter.toUpperCase() : letter;
  }

  /**
   * f, h, r, s: repeat only with a new sequence number — and past the 10th such repeat only on
   * the log scale (100th, 1000th …), so a storm of RSTs or FINs with changing sequence numbers
   * cannot make the history (and the record) grow with the number of packets.
   */
  private historyOnce(fromClient: boolean, letter: 's' | 'h' | 'f' | 'r', me: Endpoint, seq: number): void {
    if (!me.newHistorySeq(letter, seq)) return;
    const n = me.countLetter(letter);
    if (n > 10 && n !== 100 && n !== 1000 && n !== 10000 && n !== 100000) return;
    this.history += fromClient ? letter.toUpperCase() : letter;
  }

  /** t, w, g: the 1st, 10th, 100th … occurrence (Zeek's log scale), so history stays short. */
  private historyLog(fromClient: boolean, letter: 't' | 'w' | 'g', me: Endpoint): void {
    const n = me.countLetter(letter);
    if (n === 1 || n === 10 || n === 100 || n === 1000 || n === 10000 || n === 100000) {
      this.history += fromClient ? letter.toUpperCase() : letter;
    }
  }

  /**
   * A segment of TLS alerts only (close_notify after the peer's FIN, say): it ends the session and
   * asks for nothing, so it is neither a request waiting for an answer nor data sent on a closed
   * connection. Only the first bytes are read, and only on a connection that looks like TLS.
   */
  private isTlsAlert(p: DecodedPacket, dataLen: number): boolean {
    if (p.payloadLen < 5) return false;
    const proto = this.sniffer?.protocol() ?? null;
    const end = p.payloadStart + Math.min(p.payloadLen, dataLen);
    return isTlsAlertOnly(p.data, p.payloadStart, end, dataLen, proto === 'tls' || proto === 'h2');
  }

  private addAnomaly(code: string, frame: number): void {
    const counts = (this.anomalyCounts ??= {});
    const n = (counts[code] ?? 0) + 1;
    counts[code] = n;
    const list = (this.anomalies ??= []);
    if (list.length < MAX_ANOMALIES && n <= 4) list.push({ code, frame });
  }

  /** AppSink: an anomaly the sniffer found. */
  appAnomaly(code: string, frame: number): void {
    this.addAnomaly(code, frame);
  }

  /** AppSink: a message the sniffer read. */
  appMessage(m: AppMessage): void {
    if (m.kind === 'tls-client-hello' && m.sni && this.sni === null) this.sni = m.sni;
    // Keep the first messages and every one that starts an exchange after an idle gap (incident candidates).
    const afterGap = this.aftermath !== null && this.aftermath.requestFrame === m.frame;
    const app = (this.app ??= []);
    if (app.length < MAX_APP_MESSAGES || (afterGap && app.length < MAX_APP_MESSAGES * 4)) app.push(m);
    else this.appDropped++;
  }

  /**
   * `-i any` shows a forwarded or bridged packet once per interface. A packet identical in
   * direction, flags, seq, ack, length and IP id to the previous one, on another interface,
   * within 50 ms, is that copy. Only used when the link layer names the interface (SLL2).
   */
  private isDuplicate(p: DecodedPacket, micros: number, fromClient: boolean): boolean {
    if (p.linkIfIndex < 0) return false;
    const sig = ((p.seq ^ (p.ack * 31) ^ (p.flags << 24) ^ (p.payloadWireLen << 8) ^ (p.ipId << 3) ^ (fromClient ? 1 : 0)) >>> 0);
    const last = (this.lastSig ??= new PacketSignature());
    const dup = last.sig === sig && last.ifIndex !== p.linkIfIndex && micros - last.micros <= 50_000;
    if (!dup) {
      last.sig = sig;
      last.ifIndex = p.linkIfIndex;
      last.micros = micros;
    }
    return dup;
  }

  finish(endReason: EndReason): Connection {
    this.closeAftermath();
    this.sniffer?.release();
    return this.record(endReason, this.gaps ?? [], false);
  }

  /**
   * The record `finish` would give now, leaving the connection live (`flowdoc watch` looks at a
   * connection the moment it closes, while the table still lingers for its late packets). The
   * open aftermath, if any, is folded into a copy of the gaps, not into the live ones.
   */
  snapshot(endReason: EndReason): Connection {
    const a = this.aftermath;
    if (!a) return this.record(endReason, this.gaps ? [...this.gaps] : [], true);
    const gaps = [...this.gaps!];
    gaps[a.gapIndex] = { ...gaps[a.gapIndex]!, after: aftermathOf(a) };
    return this.record(endReason, gaps, true);
  }

  /** `copy`: lists the live connection goes on filling are copied (a snapshot must not change later). */
  private record(endReason: EndReason, idleGaps: IdleGap[], copy: boolean): Connection {
    const toAfterFin = (f: OpenAfterFin | null): AfterFin | null => f && { ...f };
    const clientAddress = this.address('client'), serverAddress = this.address('server');
    const client = endpointText(clientAddress.host, clientAddress.port, this.ipVersion);
    const server = endpointText(serverAddress.host, serverAddress.port, this.ipVersion);
    return {
      id: this.id,
      client,
      server,
      endpoints: { client: clientAddress, server: serverAddress },
      ipVersion: this.ipVersion,
      vlan: this.vlan,
      partial: this.roleSource !== 'syn',
      roleSource: this.roleSource,
      firstMicros: this.firstMicros,
      lastMicros: this.lastMicros,
      firstFrame: this.firstFrame,
      lastFrame: this.lastFrame,
      synFrame: this.synFrame,
      synAckFrame: this.synAckFrame,
      state: connState(this.client, this.server, this.history),
      history: this.history,
      clientStats: this.client.stats(client),
      serverStats: this.server.stats(server),
      maxIdleSeconds: this.maxGapMicros / 1e6,
      maxIdleAfterFrame: this.maxGapAfterFrame,
      longestSurvivedIdle: this.longestSurvived,
      longestAnsweredProbeGap: this.longestProbeGap,
      appKeepalive: this.pings?.result() ?? null,
      idleGaps,
      app: this.app ? (copy ? [...this.app] : this.app) : [],
      appMessagesDropped: this.appDropped,
      sni: this.sni,
      alpn: this.sniffer && (this.sniffer.alpnOffered || this.sniffer.alpnSelected !== null)
        ? { offered: this.sniffer.alpnOffered ?? [], selected: this.sniffer.alpnSelected } : null,
      appProtocol: this.sniffer?.protocol() ?? null,
      h2: this.sniffer?.h2?.summary() ?? null,
      afterClientFin: toAfterFin(this.afterClientFin),
      afterServerFin: toAfterFin(this.afterServerFin),
      firstRst: this.firstRst,
      anomalies: this.anomalies ? (copy ? [...this.anomalies] : this.anomalies) : [],
      anomalyCounts: this.anomalyCounts ? (copy ? { ...this.anomalyCounts } : this.anomalyCounts) : {},
      endReason,
      duplicatesSkipped: this.duplicatesSkipped,
      ...(this.trace ? { trace: this.trace } : {}),
    };
  }

  /** One side's address and port as data, made from the tuple (for the record only). */
  address(side: Side): HostPort {
    const port = side === 'client' ? this.clientPort : this.serverPort;
    const v6 = side === 'client' ? this.clientAddr : this.serverAddr;
    if (v6 !== null) return { host: formatAddress(v6, 0, v6.length), port };
    return { host: ipv4Host(side === 'client' ? this.clientV4 : this.serverV4), port };
  }
}

/** LiveConnection.bits. */
const BIT = {
  IN_CLOSED_QUEUE: 1, SURVIVAL_CANDIDATE: 2, PROBE_FROM_MASK: 12, PROBE_FROM_CLIENT: 4, PROBE_FROM_SERVER: 8, IPV6: 16,
  ROLE_SHIFT: 5, LETTERS_SHIFT: 8,
} as const;
const ROLE_SOURCES: readonly RoleSource[] = ['syn', 'syn-ack', 'port-heuristic'];

/** A connection's rarely needed state (see LiveConnection's accessors of the same names). */
class ConnExtra {
  duplicatesSkipped: number = 0;
  trace: SegmentTrace | null = null;
  gaps: IdleGap[] | null = null;
  appDropped: number = 0;
  sni: string | null = null;
  anomalies: Anomaly[] | null = null;
  anomalyCounts: Record<string, number> | null = null;
  pings: PingTracker | null = null;
  quiet: QuietProbes | null = null;
  longestProbeGap: Connection['longestAnsweredProbeGap'] = null;
  aftermath: OpenAftermath | null = null;
  afterClientFin: OpenAfterFin | null = null;
  afterServerFin: OpenAfterFin | null = null;
  firstRst: RstContext | null = null;
  lastSig: PacketSignature | null = null;
}

/**
 * The keepalive probes of the current quiet stretch (since the last packet that was not a probe
 * or a probe's ACK); reset by every such packet.
 */
class QuietProbes {
  probesClient = 0;
  probesServer = 0;
  firstProbe: number | null = null;
  firstProbeMicros = 0;
  lastProbe: number | null = null;
  lastProbeMicros = 0;
  lastProbeFrom: Side = 'client';
  lastProbeGap = 0;
  probeAcks = 0;

  reset(): void {
    this.probesClient = 0;
    this.probesServer = 0;
    this.firstProbe = null;
    this.lastProbe = null;
    this.probeAcks = 0;
  }
}

/** What a quiet stretch without probes reads as (never written). */
const NO_PROBES: Readonly<QuietProbes> = Object.freeze(new QuietProbes());

/** The last packet's fingerprint (see isDuplicate). */
class PacketSignature {
  ifIndex = -1;
  sig = -1;
  micros = 0;
}

/**
 * The same number, as a small integer when it is one. Memory, not arithmetic: V8 keeps a field
 * that only ever held small integers in the object itself, but once any connection stores a
 * number that came out of a Float64Array or double arithmetic (frame numbers of stored attempts,
 * differences of µs timestamps) — even an integral one — every connection gets a 16-byte heap
 * number box for that field. `| 0` makes it a small integer again; larger values pass unchanged.
 */
export function asSmall(v: number): number {
  return (v | 0) === v ? v | 0 : v;
}


function aftermathOf(a: OpenAftermath): GapAftermath {
  return {
    requestFrame: a.requestFrame, requestMicros: a.requestMicros, requestRetransmissions: a.requestRetransmissions,
    lastRetransmissionFrame: a.lastRetransmissionFrame, lastRetransmissionMicros: a.lastRetransmissionMicros, requestAcked: a.requestAcked, requestAckFrame: a.requestAckFrame, replyFrame: a.replyFrame, serverPackets: a.serverPackets, rst: a.rst, fin: a.fin,
    lastFrame: a.lastFrame, lastMicros: a.lastMicros,
  };
}

const FIRST_LETTER_BITS = { d: 1, k: 2, a: 4 } as const;

const EMPTY_AFTERMATH: GapAftermath = {
  requestFrame: null, requestMicros: null, requestRetransmissions: 0, lastRetransmissionFrame: null, lastRetransmissionMicros: null,
  requestAcked: false, requestAckFrame: null, replyFrame: null, serverPackets: 0, rst: null, fin: null, lastFrame: 0, lastMicros: 0,
};

/** Zeek's conn_state(), computed once from the two endpoint states (conn/main.zeek). */
export function connState(orig: Endpoint, resp: Endpoint, history: string): ConnState {
  const os = orig.state, rs = resp.state;
  const oInactive = os === EndpointState.INACTIVE || os === EndpointState.PARTIAL;
  const rInactive = rs === EndpointState.INACTIVE || rs === EndpointState.PARTIAL;
  if (rs === EndpointState.RESET) {
    if (os === EndpointState.SYN_SENT || os === EndpointState.SYN_ACK_SENT ||
      (os === EndpointState.RESET && orig.payloadBytes === 0 && resp.payloadBytes === 0)) return 'REJ';
    if (oInactive) return 'RSTRH';
    return 'RSTR';
  }
  if (os === EndpointState.RESET) {
    if (rInactive) return /^\^?S[^HAFGIQ]*R/.test(history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === EndpointState.CLOSED && os === EndpointState.CLOSED) return 'SF';
  if (os === EndpointState.CLOSED) return rInactive ? 'SH' : 'S2';
  if (rs === EndpointState.CLOSED) return oInactive ? 'SHR' : 'S3';
  if (os === EndpointState.SYN_SENT && rs === EndpointState.INACTIVE) return 'S0';
  if (os === EndpointState.ESTABLISHED && rs === EndpointState.ESTABLISHED) return 'S1';
  return 'OTH';
}

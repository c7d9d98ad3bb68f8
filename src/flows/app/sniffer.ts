import type { BufferAccount } from '../buffered.js';
import type { AppMessage, Truncation } from '../connection.js';
import { findHeadEnd, looksLikeRequest, looksLikeResponse, parseCutHead, parseHead, type HttpHead } from './http.js';
import { looksLikeFrames, startsWithPreface } from './h2/frames.js';
import { H2Tracker } from './h2-tracker.js';
import { TlsContentType, readHello, tlsRecordLength, tlsRecordType, tlsVersionName, type HelloFields } from './tls.js';

/**
 * A head (HTTP) or ClientHello split over segments is collected up to this many bytes; past it,
 * what was collected is parsed as far as it goes. Bounds memory against headers that never end.
 */
export const MAX_PENDING_HEAD = 16 * 1024;

/**
 * Where a sniffer's findings go: messages, and anomalies with the frame where they started. The
 * connection itself is the sink — one object, not two closures per connection (the table may
 * hold hundreds of thousands; see docs/performance.md).
 */
export interface AppSink {
  appMessage(m: AppMessage): void;
  /**
   * A head or ClientHello ran past MAX_PENDING_HEAD and was read only that far
   * ('http-head-too-long', 'tls-hello-too-long'), or an HTTP/2 anomaly.
   */
  appAnomaly(code: string, frame: number): void;
}

/** A head or ClientHello that started in an earlier segment, collected until it is whole. */
class PendingHead {
  /** Bytes used of buf. */
  len = 0;
  constructor(
    /** The bytes so far (a deliberate copy: it outlives the record). */
    public buf: Uint8Array,
    readonly kind: 'http' | 'tls',
    readonly frame: number,
    readonly micros: number,
  ) {}
}

/** Per-direction parsing state (memory: two per connection; a pending head only while one is unfinished). */
class Direction {
  pending: PendingHead | null = null;
  /** Body bytes still to skip before the next message. */
  bodyRemaining = 0;
  /** TLS record bytes still to skip. */
  tlsRemaining = 0;
}

/** Bits of AppSniffer.flags. */
const UPGRADE_ASKED = 1, SEEN_PAYLOAD = 2, SAW_HTTP1 = 4, SAW_TLS = 8, TLS_DATA_SEEN = 16, TLS_DATA_FROM_CLIENT = 32;

/**
 * The segment being sniffed: its captured and wire payload lengths (for `truncated`). Set by
 * onPayload and read only within it (one sniffer runs at a time), so not a field of every sniffer.
 */
let cutCaptured = 0;
let cutWire = 0;

/**
 * Recognises HTTP/1.x requests and responses and TLS ClientHello / application data on the
 * in-order payload of one connection. It is fed only new, in-order segments (never
 * retransmissions), so a request retransmitted after an idle gap is reported once.
 */
export class AppSniffer {
  private readonly client = new Direction();
  private readonly server = new Direction();
  /** Booleans, packed (memory: one sniffer per connection that carried payload); see the accessors. */
  private flags = 0;
  /** Set once the connection is known to speak HTTP/2 in clear text: every later byte goes to it. */
  h2: H2Tracker | null = null;


  alpnOffered: string[] | null = null;
  alpnSelected: string | null = null;
  /** Bytes of the HTTP/2 session's own buffers last counted in the account. */
  private h2Held = 0;

  /**
   * @param sink told of every message and anomaly.
   * @param account told of every buffer taken for an unfinished head and given back (see buffered.ts).
   */
  constructor(private readonly sink: AppSink, private readonly account?: BufferAccount) {}

  /** The client asked for `Upgrade: h2c`; a 101 answer switches both directions to HTTP/2. */
  private get upgradeAsked(): boolean { return (this.flags & UPGRADE_ASKED) !== 0; }
  private set upgradeAsked(v: boolean) { this.flag(UPGRADE_ASKED, v); }
  /** Whether any payload was seen yet (HTTP/2 frames on the very first one: a capture that began mid-connection). */
  private get seenPayload(): boolean { return (this.flags & SEEN_PAYLOAD) !== 0; }
  private set seenPayload(v: boolean) { this.flag(SEEN_PAYLOAD, v); }
  /** What the messages showed (for Connection.appProtocol). */
  get sawHttp1(): boolean { return (this.flags & SAW_HTTP1) !== 0; }
  set sawHttp1(v: boolean) { this.flag(SAW_HTTP1, v); }
  get sawTls(): boolean { return (this.flags & SAW_TLS) !== 0; }
  set sawTls(v: boolean) { this.flag(SAW_TLS, v); }

  /** Whether the last TLS application data reported came from the client (to report it once per turn); null before any. */
  private get lastTlsDataFromClient(): boolean | null {
    return (this.flags & TLS_DATA_SEEN) === 0 ? null : (this.flags & TLS_DATA_FROM_CLIENT) !== 0;
  }

  private setLastTlsDataFromClient(fromClient: boolean): void {
    this.flag(TLS_DATA_SEEN, true);
    this.flag(TLS_DATA_FROM_CLIENT, fromClient);
  }

  private flag(bit: number, v: boolean): void {
    this.flags = v ? this.flags | bit : this.flags & ~bit;
  }

  /** Gives back what is still buffered (the connection is finished: nothing more will arrive). */
  release(): void {
    this.drop(this.client);
    this.drop(this.server);
    if (this.h2Held > 0) this.account?.give(this.h2Held);
    this.h2Held = 0;
  }

  /** Brings the account up to what the HTTP/2 session holds now (its frame and header block buffers, its HPACK tables). */
  private accountH2(): void {
    const now = this.h2!.bufferedBytes;
    if (now > this.h2Held) this.account?.take(now - this.h2Held);
    else if (now < this.h2Held) this.account?.give(this.h2Held - now);
    this.h2Held = now;
  }

  /**
   * One segment's in-order payload: b[start, start + len) was captured of `wireLen` bytes on the
   * wire (the IP length). When the snap length cut the segment (len < wireLen), the message the
   * captured bytes ran out in is reported with what its prefix holds, marked `truncated`, and the
   * missing bytes are accounted as skipped — inside a body, a TLS record or an HTTP/2 frame the
   * next message is still found where it starts.
   */
  onPayload(fromClient: boolean, b: Uint8Array, start: number, len: number, frame: number, micros: number, wireLen = len): void {
    const cut = wireLen > len;
    cutCaptured = len;
    cutWire = wireLen;
    this.sniff(fromClient, b, start, len, frame, micros, cut);
    if (cut) this.uncaptured(fromClient, len, wireLen);
    if (this.h2) this.accountH2();
  }

  private sniff(fromClient: boolean, b: Uint8Array, start: number, len: number, frame: number, micros: number, cut: boolean): void {
    const d = fromClient ? this.client : this.server;
    let o = start;
    const end = start + len;
    if (this.h2) {
      this.h2.push(fromClient, b, o, end, frame, micros, cut);
      return;
    }
    const first = !this.seenPayload;
    this.seenPayload = true;
    if (fromClient && !d.pending && startsWithPreface(b, o, end)) {
      this.startH2('prior-knowledge', fromClient, b, o, end, frame, micros, cut);
      return;
    }
    if (first && looksLikeFrames(b, o, end, cut)) {
      this.startH2('midstream', fromClient, b, o, end, frame, micros, cut);
      return;
    }
    if (d.pending) {
      o = this.continuePending(d, fromClient, b, o, end);
      if (o < 0) return;
    }
    while (o < end) {
      if (d.bodyRemaining > 0) {
        const skip = Math.min(d.bodyRemaining, end - o);
        d.bodyRemaining -= skip;
        o += skip;
        continue;
      }
      if (d.tlsRemaining > 0) {
        const skip = Math.min(d.tlsRemaining, end - o);
        d.tlsRemaining -= skip;
        o += skip;
        continue;
      }
      const isHttp = fromClient ? looksLikeRequest(b, o, end) : looksLikeResponse(b, o, end);
      if (isHttp) {
        d.bodyRemaining = 0;
        const headEnd = findHeadEnd(b, o, end);
        if (headEnd < 0) {
          this.startPending(d, 'http', b, o, end, frame, micros);
          return;
        }
        const head = parseHead(b, o, headEnd);
        this.emitHttp(d, head, frame, micros);
        o = headEnd;
        if (head && this.switchesToH2(head)) {
          this.startH2('upgrade', fromClient, b, o, end, frame, micros, cut);
          return;
        }
        continue;
      }
      const tlsType = tlsRecordType(b, o, end);
      if (tlsType >= 0) {
        this.sawTls = true;
        d.bodyRemaining = 0;
        const recLen = tlsRecordLength(b, o, end);
        // The handshake type is the record's 6th byte: a segment cut inside the record header leaves it unknown.
        const handshakeType = tlsType === TlsContentType.HANDSHAKE && o + 5 < end ? b[o + 5] : -1;
        if (fromClient && handshakeType === 1) {
          if (o + recLen > end) {
            this.startPending(d, 'tls', b, o, end, frame, micros);
            return;
          }
          this.emitHello(readHello(b, o, o + recLen, true), frame, micros);
        } else if (!fromClient && handshakeType === 2 && this.alpnSelected === null) {
          // ServerHello: the selected ALPN, when its extension is among the bytes here (nearly always:
          // the record is small; of a ServerHello cut by the snap length, only a short prefix).
          const names = readHello(b, o, Math.min(end, o + recLen), false)?.alpn;
          if (names && names.length > 0) this.alpnSelected = names[0]!;
        } else if (tlsType === TlsContentType.APPLICATION_DATA && this.lastTlsDataFromClient !== fromClient) {
          this.setLastTlsDataFromClient(fromClient);
          if (fromClient) {
            // The record header says what it is; a record that runs past a cut segment's captured end is marked truncated.
            if (cut && o + recLen > end) this.sink.appMessage({ frame, micros, kind: 'tls-application-data', truncated: this.truncation(undefined) });
            else this.sink.appMessage({ frame, micros, kind: 'tls-application-data' });
          }
        }
        d.tlsRemaining = recLen;
        continue;
      }
      // Neither: a body of unknown length, or a protocol flowdoc does not read. Try again at the next segment.
      d.bodyRemaining = 0;
      return;
    }
  }

  private startPending(d: Direction, kind: 'http' | 'tls', b: Uint8Array, o: number, end: number, frame: number, micros: number): void {
    // Sized for what arrived and grown as more does (append): a few unfinished bytes on each of
    // many connections must not cost MAX_PENDING_HEAD each.
    d.pending = new PendingHead(new Uint8Array(Math.min(MAX_PENDING_HEAD, Math.max(256, 2 * (end - o)))), kind, frame, micros);
    this.account?.take(d.pending.buf.buffer.byteLength);
    this.append(d.pending, b, o, end);
  }

  private append(h: PendingHead, b: Uint8Array, o: number, end: number): number {
    const take = Math.min(end - o, MAX_PENDING_HEAD - h.len);
    if (h.len + take > h.buf.length) {
      const grown = new Uint8Array(Math.min(MAX_PENDING_HEAD, Math.max(h.len + take, 2 * h.buf.length)));
      grown.set(h.buf.subarray(0, h.len));
      this.account?.give(h.buf.buffer.byteLength);
      this.account?.take(grown.buffer.byteLength);
      h.buf = grown;
    }
    h.buf.set(b.subarray(o, o + take), h.len);
    h.len += take;
    return take;
  }

  /** Returns the offset in the segment where parsing continues, or -1 when the segment was consumed. */
  private continuePending(d: Direction, fromClient: boolean, b: Uint8Array, o: number, end: number): number {
    const h = d.pending!;
    const before = h.len;
    this.append(h, b, o, end);
    const buf = h.buf;
    const full = h.len >= MAX_PENDING_HEAD;
    if (h.kind === 'http') {
      // Search from a little before the join so a \r\n\r\n split across segments is found.
      const headEnd = findHeadEnd(buf, Math.max(0, before - 3), h.len);
      if (headEnd < 0 && !full) return -1;
      const stop = headEnd < 0 ? h.len : headEnd;
      this.emitHttp(d, parseHead(buf, 0, stop), h.frame, h.micros);
      this.drop(d);
      if (headEnd < 0) { // head too long: say so, and resync at the next segment
        d.bodyRemaining = 0;
        this.sink.appAnomaly('http-head-too-long', h.frame);
        return -1;
      }
      const consumedFromSegment = headEnd - before;
      return o + consumedFromSegment;
    }
    const recLen = tlsRecordLength(buf, 0, h.len);
    if (recLen > h.len && !full) return -1;
    // Whole, or too long to collect (then read as far as it was collected, not marked cut: it was not).
    this.emitHello(readHello(buf, 0, Math.min(recLen, h.len), true), h.frame, h.micros);
    this.drop(d);
    void fromClient;
    if (recLen > h.len) {
      d.tlsRemaining = 0;
      this.sink.appAnomaly('tls-hello-too-long', h.frame);
      return -1;
    }
    return o + (recLen - before);
  }

  private switchesToH2(head: HttpHead): boolean {
    if (head.kind === 'request') {
      if (head.upgradeH2c) this.upgradeAsked = true;
      return false;
    }
    return this.upgradeAsked && head.status === 101;
  }

  private startH2(via: 'prior-knowledge' | 'upgrade' | 'midstream', fromClient: boolean, b: Uint8Array, o: number, end: number, frame: number, micros: number, cut: boolean): void {
    this.drop(this.client);
    this.drop(this.server);
    this.h2 = new H2Tracker(via, this.sink);
    if (o < end) this.h2.push(fromClient, b, o, end, frame, micros, cut);
  }

  /**
   * The snap length cut the segment just sniffed: `wireBytes - capturedBytes` bytes after its
   * captured end were never seen. A head or ClientHello still being collected is reported with
   * what was captured of it (truncated); the lost bytes are taken off the body or TLS record in
   * progress, and when the next message began among them, parsing resumes at the next segment.
   */
  private uncaptured(fromClient: boolean, capturedBytes: number, wireBytes: number): void {
    if (this.h2) {
      this.h2.uncaptured(fromClient, capturedBytes, wireBytes);
      return;
    }
    const d = fromClient ? this.client : this.server;
    let lost = wireBytes - capturedBytes;
    if (d.pending) {
      const h = d.pending;
      const buf = h.buf;
      const n = h.len;
      if (h.kind === 'http') {
        const cutHead = parseCutHead(buf, 0, n);
        if (cutHead) this.emitHttp(d, cutHead.head, h.frame, h.micros, this.truncation(cutHead.cutIn));
        d.bodyRemaining = 0; // the rest of the head, and so the body's length, was not captured
        this.drop(d);
        return;
      }
      const recLen = tlsRecordLength(buf, 0, n);
      // The ClientHello as far as it was captured: its fields before the cut, the one the cut fell in.
      const hello = readHello(buf, 0, n, true);
      this.emitHello(hello, h.frame, h.micros, this.truncation(hello?.cutIn));
      this.drop(d);
      d.tlsRemaining = Math.max(0, recLen - n);
    }
    if (d.bodyRemaining > 0) {
      const skip = Math.min(d.bodyRemaining, lost);
      d.bodyRemaining -= skip;
      lost -= skip;
    }
    if (d.tlsRemaining > 0) {
      const skip = Math.min(d.tlsRemaining, lost);
      d.tlsRemaining -= skip;
      lost -= skip;
    }
    if (lost > 0) {
      // The next message started among the lost bytes: look for one at the next segment's start.
      d.bodyRemaining = 0;
      d.tlsRemaining = 0;
    }
  }

  private truncation(cutIn: string | undefined): Truncation {
    return cutIn === undefined ? { capturedBytes: cutCaptured, wireBytes: cutWire } : { capturedBytes: cutCaptured, wireBytes: cutWire, cutIn };
  }

  /** The protocol the bytes showed (see Connection.appProtocol). */
  protocol(): 'http/1.1' | 'h2c' | 'h2' | 'grpc' | 'tls' | null {
    if (this.h2) return this.h2.grpc ? 'grpc' : 'h2c';
    if (this.alpnSelected === 'h2') return 'h2';
    if (this.sawTls) return 'tls';
    if (this.sawHttp1) return 'http/1.1';
    return null;
  }

  private drop(d: Direction): void {
    if (d.pending) this.account?.give(d.pending.buf.buffer.byteLength);
    d.pending = null;
  }

  private emitHttp(d: Direction, head: HttpHead | null, frame: number, micros: number, truncated?: Truncation): void {
    if (!head) return;
    this.sawHttp1 = true;
    d.bodyRemaining = typeof head.body === 'number' ? head.body : 0;
    if (head.kind === 'request' && !truncated && head.host !== undefined && head.requestId !== undefined && head.userAgent !== undefined) {
      // The common shape in one literal: keys added one by one past the literal's own spill into a
      // property array of their own (40 bytes a message, kept as long as the connection lives).
      this.sink.appMessage({
        frame, micros, kind: 'http-request', method: head.method!, path: head.path!, host: head.host, requestId: head.requestId, userAgent: head.userAgent,
      });
    } else if (head.kind === 'request') {
      // Key by key, no spreads (one message per request): the same keys in the same order.
      const m: { -readonly [K in keyof AppMessage]: AppMessage[K] } = { frame, micros, kind: 'http-request', method: head.method!, path: head.path! };
      if (head.host !== undefined) m.host = head.host;
      if (head.requestId !== undefined) m.requestId = head.requestId;
      if (head.userAgent !== undefined) m.userAgent = head.userAgent;
      if (truncated) m.truncated = truncated;
      this.sink.appMessage(m);
    } else if (truncated) {
      this.sink.appMessage({ frame, micros, kind: 'http-response', status: head.status!, truncated });
    } else {
      this.sink.appMessage({ frame, micros, kind: 'http-response', status: head.status! });
    }
  }

  /** A ClientHello, whole or as far as it was captured (`truncated`); nothing when not even its type was. */
  private emitHello(hello: HelloFields | null, frame: number, micros: number, truncated?: Truncation): void {
    if (hello === null) return;
    this.sawTls = true;
    this.alpnOffered ??= hello.alpn;
    const m: { -readonly [K in keyof AppMessage]: AppMessage[K] } = { frame, micros, kind: 'tls-client-hello' };
    if (hello.sni) m.sni = hello.sni;
    if (hello.legacyVersion >= 0) m.tlsLegacyVersion = tlsVersionName(hello.legacyVersion);
    if (hello.cipherSuites >= 0) m.cipherSuiteCount = hello.cipherSuites;
    if (truncated) m.truncated = truncated;
    this.sink.appMessage(m);
  }
}

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

/** Per-direction parsing state. */
class Direction {
  /** Bytes of a head that started in an earlier segment (a deliberate copy: it outlives the record). */
  pending: Uint8Array | null = null;
  pendingLen = 0;
  pendingFrame = 0;
  pendingMicros = 0;
  pendingKind: 'http' | 'tls' = 'http';
  /** Body bytes still to skip before the next message; -1 when the body length is unknown. */
  bodyRemaining = 0;
  /** TLS record bytes still to skip. */
  tlsRemaining = 0;
}

/**
 * Recognises HTTP/1.x requests and responses and TLS ClientHello / application data on the
 * in-order payload of one connection. It is fed only new, in-order segments (never
 * retransmissions), so a request retransmitted after an idle gap is reported once.
 */
export class AppSniffer {
  private readonly client = new Direction();
  private readonly server = new Direction();
  /** Whether the last message reported came from the client (to report TLS data once per turn). */
  private lastTlsDataFromClient: boolean | null = null;
  /** Set once the connection is known to speak HTTP/2 in clear text: every later byte goes to it. */
  h2: H2Tracker | null = null;
  /** The client asked for `Upgrade: h2c`; a 101 answer switches both directions to HTTP/2. */
  private upgradeAsked = false;
  /** Whether any payload was seen yet (HTTP/2 frames on the very first one: a capture that began mid-connection). */
  private seenPayload = false;
  /** What the first message showed (for Connection.appProtocol). */
  sawHttp1 = false;
  sawTls = false;
  alpnOffered: string[] | null = null;
  alpnSelected: string | null = null;
  /** Bytes of the HTTP/2 session's own buffers last counted in the account. */
  private h2Held = 0;
  /** The segment being sniffed: its captured and wire payload lengths (for `truncated`). */
  private cutCaptured = 0;
  private cutWire = 0;

  /**
   * @param sink told of every message and anomaly.
   * @param account told of every buffer taken for an unfinished head and given back (see buffered.ts).
   */
  constructor(private readonly sink: AppSink, private readonly account?: BufferAccount) {}

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
    this.cutCaptured = len;
    this.cutWire = wireLen;
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
          this.lastTlsDataFromClient = fromClient;
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
    d.pending = new Uint8Array(Math.min(MAX_PENDING_HEAD, Math.max(256, 2 * (end - o))));
    this.account?.take(d.pending.buffer.byteLength);
    d.pendingLen = 0;
    d.pendingKind = kind;
    d.pendingFrame = frame;
    d.pendingMicros = micros;
    this.append(d, b, o, end);
  }

  private append(d: Direction, b: Uint8Array, o: number, end: number): number {
    const take = Math.min(end - o, MAX_PENDING_HEAD - d.pendingLen);
    if (d.pendingLen + take > d.pending!.length) {
      const grown = new Uint8Array(Math.min(MAX_PENDING_HEAD, Math.max(d.pendingLen + take, 2 * d.pending!.length)));
      grown.set(d.pending!.subarray(0, d.pendingLen));
      this.account?.give(d.pending!.buffer.byteLength);
      this.account?.take(grown.buffer.byteLength);
      d.pending = grown;
    }
    d.pending!.set(b.subarray(o, o + take), d.pendingLen);
    d.pendingLen += take;
    return take;
  }

  /** Returns the offset in the segment where parsing continues, or -1 when the segment was consumed. */
  private continuePending(d: Direction, fromClient: boolean, b: Uint8Array, o: number, end: number): number {
    const before = d.pendingLen;
    this.append(d, b, o, end);
    const buf = d.pending!;
    const full = d.pendingLen >= MAX_PENDING_HEAD;
    if (d.pendingKind === 'http') {
      // Search from a little before the join so a \r\n\r\n split across segments is found.
      const headEnd = findHeadEnd(buf, Math.max(0, before - 3), d.pendingLen);
      if (headEnd < 0 && !full) return -1;
      const stop = headEnd < 0 ? d.pendingLen : headEnd;
      this.emitHttp(d, parseHead(buf, 0, stop), d.pendingFrame, d.pendingMicros);
      this.drop(d);
      if (headEnd < 0) { // head too long: say so, and resync at the next segment
        d.bodyRemaining = 0;
        this.sink.appAnomaly('http-head-too-long', d.pendingFrame);
        return -1;
      }
      const consumedFromSegment = headEnd - before;
      return o + consumedFromSegment;
    }
    const recLen = tlsRecordLength(buf, 0, d.pendingLen);
    if (recLen > d.pendingLen && !full) return -1;
    // Whole, or too long to collect (then read as far as it was collected, not marked cut: it was not).
    this.emitHello(readHello(buf, 0, Math.min(recLen, d.pendingLen), true), d.pendingFrame, d.pendingMicros);
    this.drop(d);
    void fromClient;
    if (recLen > d.pendingLen) {
      d.tlsRemaining = 0;
      this.sink.appAnomaly('tls-hello-too-long', d.pendingFrame);
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
      const buf = d.pending;
      const n = d.pendingLen;
      if (d.pendingKind === 'http') {
        const cutHead = parseCutHead(buf, 0, n);
        if (cutHead) this.emitHttp(d, cutHead.head, d.pendingFrame, d.pendingMicros, this.truncation(cutHead.cutIn));
        d.bodyRemaining = 0; // the rest of the head, and so the body's length, was not captured
        this.drop(d);
        return;
      }
      const recLen = tlsRecordLength(buf, 0, n);
      // The ClientHello as far as it was captured: its fields before the cut, the one the cut fell in.
      const hello = readHello(buf, 0, n, true);
      this.emitHello(hello, d.pendingFrame, d.pendingMicros, this.truncation(hello?.cutIn));
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
    return cutIn === undefined ? { capturedBytes: this.cutCaptured, wireBytes: this.cutWire } : { capturedBytes: this.cutCaptured, wireBytes: this.cutWire, cutIn };
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
    if (d.pending) this.account?.give(d.pending.buffer.byteLength);
    d.pending = null;
  }

  private emitHttp(d: Direction, head: HttpHead | null, frame: number, micros: number, truncated?: Truncation): void {
    if (!head) return;
    this.sawHttp1 = true;
    d.bodyRemaining = typeof head.body === 'number' ? head.body : 0;
    if (head.kind === 'request') {
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

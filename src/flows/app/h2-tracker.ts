/**
 * The HTTP/2 side of the app sniffer: runs an H2Session over a connection's payload, turns its
 * events into AppMessages (requests and responses per stream, GOAWAY, RST_STREAM) and keeps the
 * connection's H2Summary (PING counts and intervals, the first GOAWAY, streams opened after it).
 */
import type { AppMessage, H2Summary, Truncation } from '../connection.js';
import { H2Session, grpcMethodOf, h2ErrorName, isGrpc, type H2Event } from './h2/session.js';
import type { AppSink } from './sniffer.js';

type Emit = (m: AppMessage) => void;
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** At most this many streams opened after a GOAWAY are listed (the count keeps going). */
const MAX_AFTER_GOAWAY = 32;

export class H2Tracker {
  private readonly session: H2Session;
  private readonly emit: Emit;
  private streams = 0;
  private unknownFields = 0;
  private pingsClient = 0;
  private pingsServer = 0;
  private acks = 0;
  private lastPingClient = -1;
  private lastPingServer = -1;
  private minInterval = Infinity;
  private maxInterval = 0;
  private firstPingFrame: number | null = null;
  private lastPingFrame: number | null = null;
  private goaway: Mutable<NonNullable<H2Summary['goaway']>> | null = null;
  /** The last stream id of the server's first GOAWAY (-1: none yet); the client may have said GOAWAY first. */
  private serverGoawayLast = -1;
  private readonly afterGoaway: { frame: number; streamId: number }[] = [];
  /** Whether any request was gRPC (application/grpc). */
  grpc = false;
  /** The highest stream a request HEADERS was reported on (a cut block above it opens a stream). */
  private lastRequestStream = 0;
  /** The segment being accounted for in uncaptured(): its captured and wire payload lengths. */
  private cutCaptured = 0;
  private cutWire = 0;

  /** `sink`: the connection, told of every message and anomaly. */
  constructor(readonly via: H2Summary['via'], sink: AppSink) {
    const fromStart = via !== 'midstream';
    this.emit = (m) => sink.appMessage(m);
    this.session = new H2Session(fromStart, via !== 'midstream', (e) => this.onEvent(e), (code, frame) => sink.appAnomaly(code, frame));
  }

  push(fromClient: boolean, b: Uint8Array, start: number, end: number, frame: number, micros: number, cut = false): void {
    this.session.push(fromClient, b, start, end, frame, micros, cut);
  }

  /**
   * The segment just pushed was cut by the snap length: `capturedBytes` of its `wireBytes` payload
   * bytes were captured. The frames the missing bytes belonged to are handed on as cut (a request
   * HEADERS gives what its captured prefix holds, marked truncated).
   */
  uncaptured(fromClient: boolean, capturedBytes: number, wireBytes: number): void {
    this.cutCaptured = capturedBytes;
    this.cutWire = wireBytes;
    this.session.uncaptured(fromClient, wireBytes - capturedBytes);
  }

  /** What the session holds in buffers of its own (see H2Session.bufferedBytes). */
  get bufferedBytes(): number { return this.session.bufferedBytes; }

  /** A direction lost bytes (content gap): resynchronise it. */
  lost(fromClient: boolean): void {
    this.session.lost(fromClient);
  }

  summary(): H2Summary {
    const hp = this.session.hpackFromStart;
    return {
      via: this.via,
      hpackFromStart: hp.client && hp.server,
      unknownHeaderFields: this.unknownFields,
      streams: this.streams,
      highestStreamId: this.session.highestClientStream,
      pings: {
        client: this.pingsClient, server: this.pingsServer, acks: this.acks,
        minIntervalSeconds: this.minInterval === Infinity ? null : this.minInterval / 1e6,
        maxIntervalSeconds: this.minInterval === Infinity ? null : this.maxInterval / 1e6,
        firstFrame: this.firstPingFrame, lastFrame: this.lastPingFrame,
      },
      goaway: this.goaway,
      streamsAfterGoaway: this.afterGoaway,
    };
  }

  private onEvent(e: H2Event): void {
    switch (e.type) {
      case 'headers': return this.onHeaders(e);
      case 'ping': {
        if (e.ack) { this.acks++; return; }
        if (this.firstPingFrame === null) this.firstPingFrame = e.frame;
        this.lastPingFrame = e.frame;
        const last = e.fromClient ? this.lastPingClient : this.lastPingServer;
        if (last >= 0) {
          const interval = e.micros - last;
          if (interval < this.minInterval) this.minInterval = interval;
          if (interval > this.maxInterval) this.maxInterval = interval;
        }
        if (e.fromClient) { this.pingsClient++; this.lastPingClient = e.micros; } else { this.pingsServer++; this.lastPingServer = e.micros; }
        return;
      }
      case 'goaway': {
        const from = e.fromClient ? 'client' : 'server';
        if (this.goaway === null) this.goaway = { frame: e.frame, micros: e.micros, from, lastStreamId: e.lastStreamId, errorCode: h2ErrorName(e.errorCode) };
        if (!e.fromClient && this.serverGoawayLast < 0) this.serverGoawayLast = e.lastStreamId;
        this.emit({ frame: e.frame, micros: e.micros, kind: 'h2-goaway', protocol: 'h2', from, lastStreamId: e.lastStreamId, errorCode: h2ErrorName(e.errorCode) });
        return;
      }
      case 'rst-stream':
        this.emit({ frame: e.frame, micros: e.micros, kind: 'h2-rst-stream', protocol: 'h2', from: e.fromClient ? 'client' : 'server', streamId: e.streamId, errorCode: h2ErrorName(e.errorCode) });
        return;
      default:
        return; // settings, data: nothing per message
    }
  }

  private onHeaders(e: Extract<H2Event, { type: 'headers' }>): void {
    const h = e.headers;
    this.unknownFields += e.unknownFields;
    if (e.fromClient) {
      // Request trailers have neither; a cut block on a new stream is that stream's request, whatever the prefix held.
      if (h.method === undefined && h.path === undefined && !(e.cut && e.streamId > this.lastRequestStream)) return;
      if (e.streamId > this.lastRequestStream) this.lastRequestStream = e.streamId;
      this.streams++;
      // The server's GOAWAY said it will not process streams above lastStreamId: a stream opened after it is lost.
      if (this.serverGoawayLast >= 0 && e.streamId > this.serverGoawayLast && this.afterGoaway.length < MAX_AFTER_GOAWAY) {
        this.afterGoaway.push({ frame: e.frame, streamId: e.streamId });
      }
      const m: Mutable<AppMessage> = { frame: e.frame, micros: e.micros, kind: 'http-request', method: h.method ?? '?', path: h.path ?? '?', protocol: 'h2', streamId: e.streamId };
      if (h.authority !== undefined) m.host = h.authority;
      if (h.requestId !== undefined) m.requestId = h.requestId;
      if (h.userAgent !== undefined) m.userAgent = h.userAgent;
      if (h.contentType !== undefined) m.contentType = h.contentType;
      if (isGrpc(h.contentType)) {
        this.grpc = true;
        const g2 = h.path !== undefined ? grpcMethodOf(h.path.split('?')[0]!) : null;
        if (g2) m.grpc = `${g2.service}/${g2.method}`;
      }
      if (e.unknownFields > 0) m.unknownHeaderFields = e.unknownFields;
      if (e.cut) m.truncated = this.truncation(e.cut.field);
      this.emit(m);
      return;
    }
    if (h.status === undefined && h.grpcStatus === undefined) return;
    const m: Mutable<AppMessage> = { frame: e.frame, micros: e.micros, kind: 'http-response', status: h.status ?? 0, protocol: 'h2', streamId: e.streamId };
    if (h.status === undefined) delete m.status;
    if (h.grpcStatus !== undefined) m.grpcStatus = h.grpcStatus;
    if (e.unknownFields > 0) m.unknownHeaderFields = e.unknownFields;
    if (e.cut) m.truncated = this.truncation(e.cut.field);
    this.emit(m);
  }

  private truncation(field: string | null): Truncation {
    return field === null ? { capturedBytes: this.cutCaptured, wireBytes: this.cutWire } : { capturedBytes: this.cutCaptured, wireBytes: this.cutWire, cutIn: field };
  }
}

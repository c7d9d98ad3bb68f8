/**
 * Application-level keepalive: a small request answered by a small response, repeated at a
 * steady interval on an otherwise quiet connection — Redis `PING`, MySQL `COM_PING`, an HTTP/2
 * PING frame, a pool's `SELECT 1`. It keeps NAT and load-balancer state warm exactly as TCP
 * keepalive does (the box sees packets), and a connection kept by it is not "keepalive off".
 *
 * Fed one client data segment and one server data segment at a time, in scalars: no allocation
 * per packet; one tracker per connection, made on its first small exchange.
 */

/** Payloads at most this long count as a ping (an HTTP/2 PING frame is 17 bytes, Redis' 14). */
export const PING_MAX_BYTES = 64;
/** A ping follows at least this much quiet (a request in a busy exchange is not a keepalive). */
export const PING_MIN_QUIET_MICROS = 1_000_000;
/** Steady: at least this many pings in a row, the longest interval at most this times the shortest. */
export const PING_MIN_COUNT = 3;
export const PING_MAX_SPREAD = 1.5;

export type PingKind = 'HTTP/2 PING' | 'Redis PING' | 'MySQL COM_PING' | 'SELECT 1' | 'small periodic exchange';

const KINDS: readonly PingKind[] = ['small periodic exchange', 'HTTP/2 PING', 'Redis PING', 'MySQL COM_PING', 'SELECT 1'];

/** What the request bytes say the ping is (0: nothing known). Reads at most 16 bytes. */
export function pingKindCode(data: Uint8Array, start: number, len: number): number {
  const at = (i: number) => (i < len ? data[start + i]! : -1);
  // HTTP/2 frame header: length 8, type 6 (PING), stream 0.
  if (len >= 9 && at(0) === 0 && at(1) === 0 && at(2) === 8 && at(3) === 6) return 1;
  // Redis: inline `PING\r\n` or RESP `*1\r\n$4\r\nPING\r\n`.
  if (upperIs(data, start, len, 0, 'PING') || (at(0) === 0x2a && upperIs(data, start, len, 8, 'PING'))) return 2;
  // MySQL packet: 3-byte length 1, sequence 0, command 0x0e.
  if (len === 5 && at(0) === 1 && at(1) === 0 && at(2) === 0 && at(3) === 0 && at(4) === 0x0e) return 3;
  // PostgreSQL simple query 'Q' … "SELECT 1", or a text protocol SELECT 1.
  if (upperIs(data, start, len, 5, 'SELECT 1') || upperIs(data, start, len, 0, 'SELECT 1')) return 4;
  return 0;
}

function upperIs(data: Uint8Array, start: number, len: number, off: number, word: string): boolean {
  if (off + word.length > len) return false;
  for (let i = 0; i < word.length; i++) {
    let c = data[start + off + i]!;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== word.charCodeAt(i)) return false;
  }
  return true;
}

export interface AppKeepalive {
  readonly kind: PingKind;
  /** Pings in the longest steady run, and the intervals between them (seconds). */
  readonly pings: number;
  readonly intervalSeconds: number;
  readonly minIntervalSeconds: number;
  readonly maxIntervalSeconds: number;
  readonly firstFrame: number;
  readonly lastFrame: number;
}

export class PingTracker {
  private candidateMicros = -1;
  private candidateFrame = 0;
  private candidateKind = 0;
  // The current run of pings with nothing else between them.
  private runCount = 0;
  private runLastMicros = 0;
  private runFirstFrame = 0;
  private runLastFrame = 0;
  private runKind = 0;
  private runMin = Infinity;
  private runMax = 0;
  private runSum = 0;
  // The best steady run so far.
  private best: AppKeepalive | null = null;

  /** A client data segment: `quietMicros` since the last real packet. */
  onClientData(frame: number, micros: number, len: number, quietMicros: number, kindCode: number): void {
    if (len <= PING_MAX_BYTES && quietMicros >= PING_MIN_QUIET_MICROS) {
      this.candidateMicros = micros;
      this.candidateFrame = frame;
      this.candidateKind = kindCode;
      return;
    }
    this.candidateMicros = -1;
    this.endRun(); // a real request: whatever came before was not a run of pings up to here
  }

  /** A server data segment; completes a ping when it answers one with a small reply. */
  onServerData(len: number): void {
    if (this.candidateMicros < 0) {
      if (len > PING_MAX_BYTES) this.endRun();
      return;
    }
    const micros = this.candidateMicros;
    this.candidateMicros = -1;
    if (len > PING_MAX_BYTES) {
      this.endRun();
      return;
    }
    if (this.runCount > 0 && this.candidateKind === this.runKind) {
      const interval = micros - this.runLastMicros;
      if (interval < this.runMin) this.runMin = interval;
      if (interval > this.runMax) this.runMax = interval;
      this.runSum += interval;
      this.runCount++;
    } else {
      this.endRun();
      this.runCount = 1;
      this.runFirstFrame = this.candidateFrame;
      this.runKind = this.candidateKind;
    }
    this.runLastMicros = micros;
    this.runLastFrame = this.candidateFrame;
    this.keepIfSteady();
  }

  private keepIfSteady(): void {
    if (this.runCount < PING_MIN_COUNT || this.runMax > this.runMin * PING_MAX_SPREAD) return;
    if (this.best && this.best.pings >= this.runCount && this.best.firstFrame !== this.runFirstFrame) return;
    this.best = {
      kind: KINDS[this.runKind]!,
      pings: this.runCount,
      intervalSeconds: Math.round(this.runSum / (this.runCount - 1)) / 1e6,
      minIntervalSeconds: this.runMin / 1e6,
      maxIntervalSeconds: this.runMax / 1e6,
      firstFrame: this.runFirstFrame,
      lastFrame: this.runLastFrame,
    };
  }

  private endRun(): void {
    this.runCount = 0;
    this.runMin = Infinity;
    this.runMax = 0;
    this.runSum = 0;
  }

  result(): AppKeepalive | null {
    return this.best;
  }
}

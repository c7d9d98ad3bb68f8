import { parseEndpoint, parseIp } from './address.js';
import type { Payload } from './bytes.js';
import { parseTime } from './clock.js';
import { TcpConversation, type PacketEmitter, type TcpConversationOptions } from './conversation.js';
import { renderCapture, type CaptureFileWriter, type RenderOptions } from './file-writer.js';
import type { ScriptFrame } from './frame.js';
import { macForIp, type FrameLink } from './link.js';
import { buildIpPacket, ipEthertype, type IpPacketSpec } from './packet.js';
import { SeededRandom } from './rng.js';

export interface CaptureScriptOptions {
  /** Time of the first frame: ISO 8601 with zone (ns digits allowed) or µs since the epoch. Default 2024-01-01T00:00:00Z. */
  start?: string | number;
  /** Clock advance after every frame, µs; default 100. */
  stepMicros?: number;
  /** Seed for ISNs, IP ids and TCP timestamp bases; default 1. Same seed, same bytes. */
  seed?: number;
  /**
   * Stream frames to this writer as they are produced instead of keeping them (for large
   * benchmark captures); `frames`, `toPcap` and `toPcapng` are then unavailable.
   */
  writer?: CaptureFileWriter;
}

export interface UdpOptions {
  /** `'10.0.0.1:5353'` / `'[2001:db8::1]:53'`. */
  src: string;
  dst: string;
  payload?: Payload;
  ttl?: number;
  link?: FrameLink;
}

const DEFAULT_START = '2024-01-01T00:00:00Z';

/**
 * Builds a capture by script: one shared clock, TCP conversations and other packets interleaved
 * on it, every call returning the 1-based frame numbers it produced. See `TcpConversation`.
 *
 * @example
 * const cap = new CaptureScript({ start: '2024-05-01T10:00:00Z' });
 * const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80', serverTtl: 61 });
 * c.handshake();                                   // frames 1–3
 * c.clientSends('GET /a HTTP/1.1\r\nHost: api\r\n\r\n'); // request + the server's ACK
 * cap.idle(900);                                   // 15 minutes of silence
 * c.clientSends('GET /b HTTP/1.1\r\n\r\n', { ack: false });
 * const [rst] = c.rst('server', { ttl: 250 });     // a middlebox's forged RST
 * const bytes = cap.toPcapng({ linkType: 1 });
 */
export class CaptureScript implements PacketEmitter {
  private micros: number;
  private nanos: number;
  private readonly step: number;
  private readonly kept: ScriptFrame[] = [];
  private readonly writer: CaptureFileWriter | undefined;
  private count = 0;
  readonly random: SeededRandom;

  constructor(o: CaptureScriptOptions = {}) {
    const t = parseTime(o.start ?? DEFAULT_START);
    this.micros = t.micros;
    this.nanos = t.nanos;
    this.step = o.stepMicros ?? 100;
    this.random = new SeededRandom(o.seed ?? 1);
    this.writer = o.writer;
  }

  /** The time the next frame gets, µs since the epoch. */
  get now(): number {
    return this.micros;
  }

  /** Frames emitted so far (the number of the last one). */
  get frameCount(): number {
    return this.count;
  }

  /** Every frame emitted, in order (empty when streaming to a writer). */
  get frames(): readonly ScriptFrame[] {
    return this.kept;
  }

  /** Sets the clock (it may go backwards, to script out-of-order timestamps). */
  at(t: string | number): this {
    const p = parseTime(t);
    this.micros = p.micros;
    this.nanos = p.nanos;
    return this;
  }

  /** Silence on the shared clock. */
  idle(seconds: number): this {
    return this.advance(Math.round(seconds * 1e6));
  }

  advance(micros: number): this {
    this.micros += micros;
    return this;
  }

  /** A TCP conversation on this clock; see `TcpConversation` for what it can emit. */
  tcp(o: TcpConversationOptions): TcpConversation {
    return new TcpConversation(this, o);
  }

  /** One UDP datagram. */
  udp(o: UdpOptions): number[] {
    const src = parseEndpoint(o.src);
    const dst = parseEndpoint(o.dst);
    const n = this.emitIp(
      { src: src.ip, dst: dst.ip, ttl: o.ttl, transport: { protocol: 'udp', srcPort: src.port, dstPort: dst.port, payload: o.payload } },
      o.link,
      true,
    );
    return [n];
  }

  /** Any IP packet the packet builder can make (ICMP as raw protocol 1, fragments, options …). */
  ip(spec: IpPacketSpec, link?: FrameLink): number[] {
    return [this.emitIp(spec, link, true)];
  }

  /** A non-IP EtherType payload, e.g. ARP (0x0806, see `arpPayload`); needs an Ethernet or SLL link. */
  nonIp(ethertype: number, payload: Uint8Array, link?: FrameLink): number[] {
    return [this.push(ethertype, payload, false, link)];
  }

  /** A complete link-layer frame, written as is whatever the file's link type. */
  rawFrame(bytes: Uint8Array): number[] {
    return [this.push(0, bytes, true, undefined)];
  }

  /** Emits an IP packet now; returns its frame number, or 0 if `captured` is false (the clock still moves). */
  emitIp(spec: IpPacketSpec, link: FrameLink | undefined, captured: boolean): number {
    if (!captured) {
      this.micros += this.step;
      return 0;
    }
    const packet = buildIpPacket(spec);
    const src = typeof spec.src === 'string' ? parseIp(spec.src) : spec.src;
    const dst = typeof spec.dst === 'string' ? parseIp(spec.dst) : spec.dst;
    // Distinct, stable MACs per address make Ethernet output look like two hosts talking.
    let withMacs: FrameLink;
    if (link !== undefined && link.srcMac !== undefined && link.dstMac !== undefined) withMacs = link;
    else if (link === undefined) withMacs = { srcMac: macForIp(src), dstMac: macForIp(dst) };
    else withMacs = { srcMac: macForIp(src), dstMac: macForIp(dst), ...link };
    return this.push(ipEthertype(packet), packet, false, withMacs);
  }

  /** Classic pcap of everything emitted. Default: Ethernet, little-endian, µs. */
  toPcap(o: RenderOptions = {}): Uint8Array {
    return renderCapture(this.keptFrames(), { ...o, format: 'pcap' });
  }

  /** pcapng (one section, one interface) of everything emitted. Default: Ethernet, LE, µs, EPBs. */
  toPcapng(o: RenderOptions = {}): Uint8Array {
    return renderCapture(this.keptFrames(), { ...o, format: 'pcapng' });
  }

  private keptFrames(): readonly ScriptFrame[] {
    if (this.writer !== undefined) throw new Error('this script streams to a CaptureFileWriter; its frames are not kept');
    return this.kept;
  }

  private push(ethertype: number, payload: Uint8Array, raw: boolean, link: FrameLink | undefined): number {
    const frame: ScriptFrame = { frame: ++this.count, tsMicros: this.micros, tsExtraNanos: this.nanos, ethertype, payload, raw, link };
    if (this.writer !== undefined) this.writer.writeFrame(frame);
    else this.kept.push(frame);
    this.micros += this.step;
    return frame.frame;
  }
}

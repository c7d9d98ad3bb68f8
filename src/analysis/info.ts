import { readCapture, type CaptureSummary, type ReadOptions } from '../capture/index.js';
import type { CaptureRecord } from '../capture/index.js';
import { DECODE_STATUS_NAMES, DecodeStatus, IpProtocol, PacketDecoder } from '../decode/index.js';
import { linkTypeName } from '../decode/index.js';
import { isoWithPrecision } from '../shared/time.js';

/** What `flowdoc info` reports about one capture, like capinfos. JSON-serializable. */
export interface CaptureInfo {
  file: string;
  /** 'pcap' | 'pcapng', or null when the bytes were not a capture. */
  format: 'pcap' | 'pcapng' | null;
  gzip: boolean;
  packets: number;
  /** LINKTYPE_* numbers, in order of first appearance. */
  linkTypes: number[];
  linkTypeNames: string[];
  /** Decimal digits of the timestamps (6 µs, 9 ns). */
  precision: number;
  /** Sum of captured lengths, and of original (wire) lengths. */
  capturedBytes: number;
  originalBytes: number;
  /** Earliest and latest packet time (ISO-8601 UTC at the capture's precision); null with no timestamped packet. */
  first: string | null;
  last: string | null;
  durationSeconds: number | null;
  /** False when a packet is earlier than the one before it in the file. */
  timeOrdered: boolean;
  tcp: number;
  udp: number;
  /** IP packets that are neither TCP nor UDP (ICMP, …) and non-first IP fragments. */
  otherIp: number;
  /** Packets that carry no IP (ARP, LLDP, …). */
  nonIp: number;
  /** Packets not decoded down to their transport layer, by reason (`truncated at tcp`, `unsupported link type 242`, …). */
  skipped: Record<string, number>;
  /** Non-packet blocks skipped by the reader (pcapng statistics, custom blocks, …). */
  blocksSkipped: Record<string, number>;
  /** Bytes of the capture stream read (decompressed), and of the file itself. */
  bytes: number;
  fileBytes: number;
  error: { code: string; message: string; offset: number; frame: number } | null;
}

/** Reads and decodes every packet of a capture and counts what it holds. */
export async function captureInfo(file: string, options: ReadOptions = {}): Promise<CaptureInfo> {
  const decoder = new PacketDecoder();
  const counts = { tcp: 0, udp: 0, otherIp: 0, nonIp: 0, captured: 0, original: 0 };
  const skipped = new Map<string, number>();
  let firstMicros = Infinity, firstNanos = 0, lastMicros = -Infinity, lastNanos = 0;
  let prevMicros = -Infinity, prevNanos = 0;
  let ordered = true;

  const bump = (key: string) => skipped.set(key, (skipped.get(key) ?? 0) + 1);
  const sink = (r: CaptureRecord) => {
    counts.captured += r.capturedLength;
    counts.original += r.originalLength;
    if (r.hasTimestamp) {
      const t = r.tsMicros, n = r.tsExtraNanos;
      if (t < firstMicros || (t === firstMicros && n < firstNanos)) { firstMicros = t; firstNanos = n; }
      if (t > lastMicros || (t === lastMicros && n > lastNanos)) { lastMicros = t; lastNanos = n; }
      if (t < prevMicros || (t === prevMicros && n < prevNanos)) ordered = false;
      prevMicros = t; prevNanos = n;
    }
    const p = decoder.decode(r);
    if (p.status === DecodeStatus.UNSUPPORTED_LINK) { bump(`unsupported link type ${linkTypeName(r.linkType)}`); return; }
    if (p.status === DecodeStatus.NOT_IP) { counts.nonIp++; return; }
    if (p.ipVersion === 0) { bump(`${DECODE_STATUS_NAMES[p.status]} at ${p.failedLayer}`); return; }
    if (p.isFragment) { counts.otherIp++; return; }
    if (p.protocol === IpProtocol.TCP) {
      if (p.status === DecodeStatus.OK) counts.tcp++;
      else bump(`${DECODE_STATUS_NAMES[p.status]} at ${p.failedLayer}`);
    } else if (p.protocol === IpProtocol.UDP) {
      if (p.status === DecodeStatus.OK) counts.udp++;
      else bump(`${DECODE_STATUS_NAMES[p.status]} at ${p.failedLayer}`);
    } else if (p.status === DecodeStatus.OK) {
      counts.otherIp++;
    } else {
      bump(`${DECODE_STATUS_NAMES[p.status]} at ${p.failedLayer}`);
    }
  };

  const s: CaptureSummary = await readCapture(file, sink, options);
  const haveTime = firstMicros !== Infinity;
  return {
    file,
    format: s.format,
    gzip: s.gzip,
    packets: s.packets,
    linkTypes: s.linkTypes,
    linkTypeNames: s.linkTypes.map(linkTypeName),
    precision: s.precision,
    capturedBytes: counts.captured,
    originalBytes: counts.original,
    first: haveTime ? isoWithPrecision(firstMicros, firstNanos, s.precision) : null,
    last: haveTime ? isoWithPrecision(lastMicros, lastNanos, s.precision) : null,
    durationSeconds: haveTime ? (lastMicros - firstMicros) / 1e6 + (lastNanos - firstNanos) / 1e9 : null,
    timeOrdered: ordered,
    tcp: counts.tcp,
    udp: counts.udp,
    otherIp: counts.otherIp,
    nonIp: counts.nonIp,
    skipped: Object.fromEntries([...skipped].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
    blocksSkipped: s.skipped,
    bytes: s.bytes,
    fileBytes: s.rawBytes,
    error: s.error ? s.error.toJSON() : null,
  };
}

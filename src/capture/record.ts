/**
 * One captured packet as the readers hand it on.
 *
 * Ownership: a reader owns ONE record object and refills it for every packet (no allocation per
 * packet). `data` points into the reader's current chunk and is valid only until the sink returns;
 * a sink that keeps bytes past the callback must copy them on purpose.
 */
export interface CaptureRecord {
  /** 1-based frame number in file order, as Wireshark numbers frames (`frame.number == N`). */
  frame: number;
  /** Integer microseconds since the Unix epoch (UTC); exact in a double up to year 2255. */
  tsMicros: number;
  /** Nanoseconds beyond `tsMicros` (0–999) when the capture is finer than µs, else 0. */
  tsExtraNanos: number;
  /** Decimal digits of the interface's timestamp resolution (6 = µs, 9 = ns). */
  precision: number;
  /** False for pcapng Simple Packet Blocks, which carry no timestamp (tsMicros is then 0). */
  hasTimestamp: boolean;
  /** LINKTYPE_* value of the interface this packet was captured on. */
  linkType: number;
  /** Interface id (pcapng IDB index within its section; 0 for classic pcap). */
  interfaceId: number;
  /** Buffer that holds the captured bytes; see ownership above. */
  data: Uint8Array;
  /** Offset of the first captured byte in `data`. */
  start: number;
  /** Number of captured bytes (the packet is data[start, start + capturedLength)). */
  capturedLength: number;
  /** Length of the packet on the wire (≥ capturedLength when the snap length cut it). */
  originalLength: number;
  /** Byte offset of the record's header in the (decompressed) capture stream. */
  fileOffset: number;
}

/** A fresh, zeroed record for a reader to own and refill. */
export function newCaptureRecord(): CaptureRecord {
  return {
    frame: 0,
    tsMicros: 0,
    tsExtraNanos: 0,
    precision: 6,
    hasTimestamp: true,
    linkType: 0,
    interfaceId: 0,
    data: new Uint8Array(0),
    start: 0,
    capturedLength: 0,
    originalLength: 0,
    fileOffset: 0,
  };
}

/** Called once per packet, synchronously, in file order. */
export type RecordSink = (record: CaptureRecord) => void;

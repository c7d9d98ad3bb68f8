import { readCapture, type CaptureRecord, type CaptureSummary, type ReadOptions, type RecordSink } from '../capture/index.js';
import { DecodeStatus, IpProtocol, PacketDecoder } from '../decode/index.js';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS, type Connection, type TableOptions, type TableStats } from '../flows/index.js';

/**
 * Where the packets come from when it is not the one file named: reads records into `sink` (in
 * time order, frame numbers increasing) and describes what it read. `flowdoc scan --stitch` passes
 * the rotated files of one node as one source, so a connection spanning two files stays one.
 */
export type CaptureSource = (sink: RecordSink, options: ReadOptions) => Promise<CaptureSummary>;

export interface FlowRunOptions extends ReadOptions {
  table?: Partial<TableOptions>;
  /** Read packets from this source instead of `file` (default: `readCapture(file, …)`). */
  source?: CaptureSource;
}

/** What one pass over a capture produced, besides the connections handed to the callback. */
export interface FlowRunSummary {
  capture: CaptureSummary;
  table: TableStats;
  /** Packets in the capture, TCP segments fed to the table, and packets that were not usable TCP. */
  packets: number;
  tcpSegments: number;
  /** Packets skipped before the table (not IP, not TCP, fragments, damaged headers). */
  notTcp: number;
  damagedTcp: number;
  /** Packets whose timestamps went backwards (the idle gaps of their connections may be off). */
  timeReversals: number;
}

/**
 * One streaming pass: capture → decode → connection table. Every connection is handed to
 * `onConnection` when it finishes (after its linger, on eviction, or at the end of the capture),
 * so memory holds only live connections.
 */
export async function runFlows(file: string, onConnection: (c: Connection) => void, options: FlowRunOptions = {}): Promise<FlowRunSummary> {
  const tableOptions: TableOptions = { ...DEFAULT_TABLE_OPTIONS, ...options.table };
  const table = new ConnectionTable(tableOptions, onConnection);
  const decoder = new PacketDecoder();
  let tcpSegments = 0, notTcp = 0, damagedTcp = 0, timeReversals = 0;
  let lastMicros = -Infinity;
  const sink = (r: CaptureRecord) => {
    const p = decoder.decode(r);
    if (p.protocol !== IpProtocol.TCP || p.isFragment) { notTcp++; return; }
    if (p.status !== DecodeStatus.OK) { damagedTcp++; return; }
    // Simple Packet Blocks have no time: they take the previous packet's, so gaps stay sane.
    const micros = r.hasTimestamp ? r.tsMicros : lastMicros === -Infinity ? 0 : lastMicros;
    if (micros < lastMicros) timeReversals++;
    else lastMicros = micros;
    tcpSegments++;
    table.onPacket(p, r.frame, micros);
  };
  const capture = options.source ? await options.source(sink, options) : await readCapture(file, sink, options);
  table.flush();
  return { capture, table: table.stats, packets: capture.packets, tcpSegments, notTcp, damagedTcp, timeReversals };
}

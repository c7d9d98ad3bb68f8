import { readCapture, type CaptureRecord, type CaptureSummary, type ReadOptions, type RecordSink } from '../capture/index.js';
import { DecodeStatus, IpProtocol, PacketDecoder } from '../decode/index.js';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS, type Connection, type HandedOnAttempt, type LiveConnection, type TableOptions, type TableStats } from '../flows/index.js';

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
  /** Live use (`flowdoc watch`): what the pass lets its caller see while it runs. */
  live?: FlowRunHooks;
  /**
   * Takes connection attempts as data: a connection that never got past one bare IPv4 SYN is
   * handed here, read from the table's typed arrays, instead of as a record to `onConnection`
   * (see ConnectionTable). Default: every connection is a record.
   */
  onAttempt?: (a: HandedOnAttempt) => void;
}

/** The running counts of a pass, up to date after every packet. */
export interface FlowCounts {
  tcpSegments: number;
  notTcp: number;
  damagedTcp: number;
  timeReversals: number;
  /** Capture time of the latest packet (µs; -Infinity before the first). */
  lastMicros: number;
}

export interface FlowRunHooks {
  /** Before the first packet: the table and the counts, to read while the pass runs. */
  onStart?(table: ConnectionTable, counts: Readonly<FlowCounts>): void;
  /** A connection just closed (RST, or FIN both ways); it lingers in the table a while longer. */
  onClosed?(c: LiveConnection): void;
  /** After every TCP segment reached the table, with its capture time (µs). */
  onSegment?(micros: number): void;
  /** Every record as read, before it is decoded (`watch --save` keeps the raw capture); valid only during the call. */
  onRecord?(r: CaptureRecord): void;
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
  const live = options.live;
  const table = new ConnectionTable(tableOptions, onConnection, live?.onClosed, options.onAttempt);
  const decoder = new PacketDecoder();
  const counts: FlowCounts = { tcpSegments: 0, notTcp: 0, damagedTcp: 0, timeReversals: 0, lastMicros: -Infinity };
  live?.onStart?.(table, counts);
  const onSegment = live?.onSegment;
  const onRecord = live?.onRecord;
  const sink = (r: CaptureRecord) => {
    onRecord?.(r);
    const p = decoder.decode(r);
    if (p.protocol !== IpProtocol.TCP || p.isFragment) { counts.notTcp++; return; }
    if (p.status !== DecodeStatus.OK) { counts.damagedTcp++; return; }
    // Simple Packet Blocks have no time: they take the previous packet's, so gaps stay sane.
    const micros = r.hasTimestamp ? r.tsMicros : counts.lastMicros === -Infinity ? 0 : counts.lastMicros;
    if (micros < counts.lastMicros) counts.timeReversals++;
    else counts.lastMicros = micros;
    counts.tcpSegments++;
    table.onPacket(p, r.frame, micros);
    onSegment?.(micros);
  };
  const capture = options.source ? await options.source(sink, options) : await readCapture(file, sink, options);
  table.flush();
  const { tcpSegments, notTcp, damagedTcp, timeReversals } = counts;
  return { capture, table: table.stats, packets: capture.packets, tcpSegments, notTcp, damagedTcp, timeReversals };
}

/**
 * What `flowdoc scan` reports: one row per capture (or per stitched group of rotated files), then
 * a summary over the archive. Every type here is plain JSON: rows cross worker threads by
 * structured clone and shards by ndjson, and `flowdoc merge` rebuilds the summary from the rows.
 */
import type { IncidentKind } from '../detect/index.js';

/** Incident kinds in the one order every count is written in (stable JSON, byte for byte). */
export const INCIDENT_KINDS: readonly IncidentKind[] = ['stale-reuse-rst', 'stale-reuse-timeout', 'keepalive-too-slow', 'reuse-after-fin', 'reuse-after-goaway', 'reset-in-flight'];

export type KindCounts = Partial<Record<IncidentKind, number>>;

/** A frame in one file of a stitched group: what to open in Wireshark (`frame.number == frame`). */
export interface FrameLocation {
  readonly file: string;
  /** 1-based frame number inside that file. */
  readonly frame: number;
}

/** One file of a stitched group, in the order it was read (first packet time). */
export interface StitchPart {
  readonly path: string;
  /** Packets read from this file. */
  readonly packets: number;
  /** Stream frame numbers of its first packet (continuous over the group; frames of this file are firstFrame … firstFrame + packets − 1). */
  readonly firstFrame: number;
  /** Time of its first and last packet (ISO-8601 UTC, µs), null when it held none. */
  readonly first: string | null;
  readonly last: string | null;
  /** This file could not be read to the end (reading went on with the next file). */
  readonly error: CaptureRowError | null;
}

export interface CaptureRowError {
  /** A capture error code (`truncated-record`, `gzip`, `io` …), or `analysis-failed` / `worker-crashed`. */
  readonly code: string;
  readonly message: string;
  /** Byte offset and 1-based frame (of the file named in `file`) where reading stopped; 0 when not applicable. */
  readonly offset: number;
  readonly frame: number;
  /** The file it happened in. */
  readonly file: string;
}

/** The idle-timeout bracket of one destination (see `TimeoutBracket` in detect). */
export interface BracketRow {
  /** Longest idle after which a request still got its answer (null: none seen). */
  readonly survivedSeconds: number | null;
  /** Shortest idle that ended in a stale-reuse incident. */
  readonly failedSeconds: number | null;
  readonly measure: 'packet-gap' | 'data-idle';
  readonly consistent: boolean;
  readonly text: string;
}

/** A destination that had incidents in this capture. */
export interface DestinationRow {
  /** `ip:port` of the server side. */
  readonly server: string;
  readonly connections: number;
  readonly incidents: number;
  readonly incidentsByKind: KindCounts;
  readonly keepalive: string;
  readonly idleTimeout: BracketRow | null;
}

/**
 * The longest idle after which a request to this destination still got its answer, for
 * destinations where that idle reached the idle threshold (or that had incidents here): the
 * evidence that lets the archive bracket use a survival seen in a capture without incidents.
 */
export interface SurvivalRow {
  readonly server: string;
  /** Longest packet gap / data silence survived, seconds (rounded to ms, as the detector does). */
  readonly packetGapSeconds: number;
  readonly idleSeconds: number;
}

/** One incident, compact: enough to find it and to open it in Wireshark. */
export interface IncidentRow {
  readonly kind: IncidentKind;
  readonly client: string;
  readonly server: string;
  readonly idleSeconds: number | null;
  /** `GET /path`, `TLS sni`, `data`, or null. */
  readonly request: string | null;
  readonly rstOrigin: 'server' | 'middlebox' | 'unknown' | null;
  /** Key frames, numbered like `flowdoc analyze` numbers them: in the file, or continuously over a stitched group. */
  readonly frames: { readonly lastBeforeIdle: number | null; readonly request: number | null; readonly rst: number | null };
  /** For a stitched group: the same frames as file + frame-in-that-file (null when the frame is null). */
  readonly locations: { readonly lastBeforeIdle: FrameLocation | null; readonly request: FrameLocation | null; readonly rst: FrameLocation | null } | null;
  /** Wireshark display filters, one per file the evidence lies in (`tshark -r file -Y filter`). */
  readonly wireshark: readonly { readonly file: string; readonly filter: string }[];
  readonly summary: string;
  /** From the paired logs: who is at fault (null when no logs were paired). */
  readonly verdict: { readonly faultyHop: string | null; readonly culprit: string; readonly reason: string } | null;
}

/** Log files paired with a capture, and by which rule. */
export interface PairedLog {
  readonly hop: string;
  readonly file: string;
  readonly rule: 'name' | 'directory' | 'time';
}

/** One capture (or stitched group) of the archive. */
export interface CaptureRow {
  readonly type: 'capture';
  /** The capture as found (for a stitched group: its first file in name order). */
  readonly path: string;
  /** Stitched groups only: the files read as one stream, in time order. */
  readonly files: readonly StitchPart[] | null;
  readonly format: 'pcap' | 'pcapng' | null;
  readonly gzip: boolean;
  /** Bytes on disk (all files of a group). */
  readonly bytes: number;
  readonly packets: number;
  readonly connections: number;
  /** Time of the first and last TCP packet analysed. */
  readonly first: string | null;
  readonly last: string | null;
  readonly incidents: number;
  readonly incidentsByKind: KindCounts;
  /** Destinations with incidents, most incidents first. */
  readonly destinations: readonly DestinationRow[];
  readonly survivals: readonly SurvivalRow[];
  /** The first {@link MAX_INCIDENT_ROWS} incidents in frame order. */
  readonly incidentList: readonly IncidentRow[];
  /** Incidents left out of `incidentList` (run `flowdoc analyze` on the capture for all of them). */
  readonly incidentsNotListed: number;
  /** Connections still open at the end of this capture and idle past what the path allows, and those that will fail on next use. */
  readonly atRisk: number;
  readonly willFail: number;
  readonly logs: readonly PairedLog[] | null;
  /** Reading stopped early (what was read before is analysed), or the analysis failed. */
  readonly error: CaptureRowError | null;
  readonly warnings: readonly string[];
}

/** Incidents listed per row at most; the counts always cover all of them. */
export const MAX_INCIDENT_ROWS = 100;

/** Analysis options that shape the result; every shard of one scan must share them. */
export interface ScanReportOptions {
  readonly inputs: readonly string[];
  readonly idleThresholdSeconds: number;
  readonly maxConnections: number;
  readonly skewSeconds: number;
  readonly stitch: boolean;
  readonly logs: string | null;
  readonly logFormat: string | null;
}

/** Files looked at that were not scanned as captures. */
export interface SkippedCounts {
  /** Readable, but the magic bytes (after gunzip for gzip) are not pcap or pcapng. */
  readonly notCapture: number;
  /** Zero bytes (or a gzip holding none). */
  readonly empty: number;
}

/** The archive bracket of a destination: max of the survived idles, min of the failed ones, over all captures. */
export interface ArchiveBracket extends BracketRow {
  /** Known defaults inside the bracket: hints, never facts. */
  readonly candidates: readonly { readonly name: string; readonly seconds: number }[];
}

/** A destination ranked over the archive. */
export interface RankedDestination {
  readonly server: string;
  /** Captures in which it had incidents (the lead: a destination that fails in many captures). */
  readonly captures: number;
  readonly incidents: number;
  readonly incidentsByKind: KindCounts;
  /** Connections to it in those captures. */
  readonly connections: number;
  readonly idleTimeout: ArchiveBracket | null;
  /** Paths of the captures with its incidents, in path order. */
  readonly capturePaths: readonly string[];
}

export interface ScanTotals {
  readonly captures: number;
  readonly capturesWithIncidents: number;
  /** Captures that could not be read to the end (or whose analysis failed). */
  readonly capturesWithErrors: number;
  readonly skipped: SkippedCounts;
  readonly bytes: number;
  readonly packets: number;
  readonly connections: number;
  readonly incidents: number;
  readonly incidentsByKind: KindCounts;
  /** Connections at risk at the end of their capture, over all captures (and those that will fail). */
  readonly atRisk: number;
  readonly willFail: number;
  readonly capturesWithAtRisk: number;
}

export interface ScanSummary {
  readonly totals: ScanTotals;
  /** Destinations with incidents, ranked: captures with incidents, then incidents, then name. */
  readonly destinations: readonly RankedDestination[];
}

/** The whole report: what `--format json` prints and what `flowdoc merge` rebuilds. */
export interface ScanReport {
  readonly tool: { readonly name: 'flowdoc'; readonly version: string };
  readonly options: ScanReportOptions;
  readonly captures: readonly CaptureRow[];
  readonly summary: ScanSummary;
}

/** Which 1/N of the archive a run scanned (0-based index, as Kubernetes' JOB_COMPLETION_INDEX). */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

/** The last ndjson line of a run: the summary, plus what merge needs to check and combine shards. */
export interface SummaryLine extends ScanSummary {
  readonly type: 'summary';
  readonly tool: ScanReport['tool'];
  readonly options: ScanReportOptions;
  /** Null for a whole-archive run (and for the output of merge). */
  readonly shard: ShardSpec | null;
}

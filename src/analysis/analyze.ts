import { readFileSync } from 'node:fs';
import type { CaptureRecord, CaptureSummary, ReadOptions } from '../capture/index.js';
import type { CaptureParser } from '../capture/parser.js';
import { linkTypeName } from '../decode/index.js';
import { correlate, type CorrelatedIncident, type HopLogs, type LogsSummary, type VantageAlignment } from '../correlate/index.js';
import { Detector, MAX_OPEN_AT_END, type AtRiskConnection, type Destination, type Incident, type IncidentKind, type LbTimeouts } from '../detect/index.js';
import { readLogFile, type LogReadResult } from '../logs/index.js';
import type { Connection, ConnectionTable, HandedOnAttempt, LiveConnection } from '../flows/index.js';
import { isoWithPrecision } from '../shared/time.js';
import { runFlows, type CaptureSource, type FlowCounts, type FlowRunSummary } from './flows.js';

/** The idle threshold's default: a request after 10 s or more of silence can be a stale reuse. */
export const DEFAULT_IDLE_THRESHOLD_SECONDS = 10;

export interface AnalyzeOptions extends ReadOptions {
  /** Seconds of silence before a request that make a stale-reuse incident possible (default 10). */
  idleThresholdSeconds?: number;
  /** Live connections kept at most before the longest-idle are evicted (default 1,000,000). */
  maxConnections?: number;
  /** Seconds a closed connection lingers for late packets before it is handed on (default 10). */
  lingerSeconds?: number;
  /** Called for every finished connection (the `flows` command streams them); see attemptRecords. */
  onConnection?: (c: Connection) => void;
  /**
   * With `onConnection`: whether it is also given the records of connection attempts that never
   * got past one bare IPv4 SYN (default true: `flows` prints every connection). False lets the
   * table hand those on as data, as it does when there is no `onConnection` — no connection
   * object or record for each (a SYN flood's millions); the report is the same either way.
   */
  attemptRecords?: boolean;
  /** Access logs of the hops on the path, in path order (client side first). */
  logs?: readonly { hop: string; file: string }[];
  /** A custom Envoy format string for the logs (default: detected per file). */
  logFormat?: string;
  /** Clock-skew allowance between capture and logs, seconds (default 1). */
  skewSeconds?: number;
  /** Read packets from this source instead of `file` (scan --stitch: several rotated files as one stream). */
  source?: CaptureSource;
  /** Known middlebox idle timeouts (`--lb-timeout`): checked against the bracket, used for verdicts, risk and remedies. */
  lbTimeouts?: LbTimeouts;
  /** Keep a bounded trace of every connection's segments on the records (to align several captures). */
  traceSegments?: boolean;
  /** Live use (`flowdoc watch`): incidents as they complete, and a view of the analysis while it runs. */
  live?: AnalyzeLive;
  /** Hand on connections idle this long (capture time, seconds) instead of keeping them to the end (default: never). */
  idleExpirySeconds?: number;
  /**
   * Hand on a connection attempt (SYN never answered) after this much capture time without a
   * packet (seconds; default DEFAULT_ATTEMPT_TIMEOUT_SECONDS, Zeek's tcp_attempt_delay; 0: never).
   */
  attemptTimeoutSeconds?: number;
}

/** Zeek's `tcp_attempt_delay` (scripts/base/init-bare.zeek): an unanswered SYN is let go after 5 s. */
export const DEFAULT_ATTEMPT_TIMEOUT_SECONDS = 5;

export interface AnalyzeLive {
  /**
   * An incident the moment it completes: when its connection closes (RST, FIN both ways) or, for
   * one that never closes, when it is handed on (evicted, expired, end of capture). The same
   * object the final report holds for it (see Detector.peek for the one caveat).
   */
  onIncident(incident: CorrelatedIncident): void;
  /** Before the first packet: the running analysis, to read while the pass runs. */
  onStart?(view: AnalysisView): void;
  /** After every TCP segment reached the connection table, with its capture time (µs). */
  onSegment?(micros: number): void;
  /** Every record as read (see FlowRunHooks.onRecord). */
  onRecord?(r: CaptureRecord): void;
}

/** The analysis while it runs (a live stream). */
export interface AnalysisView {
  readonly table: ConnectionTable;
  readonly counts: Readonly<FlowCounts>;
  /** The capture parser, once the format is known. */
  readonly parser: CaptureParser | null;
  /**
   * The report of what was seen so far: every incident reported, destinations and at-risk of the
   * connections already handed on (connections still live are in the table's counts only).
   */
  current(): AnalysisResult;
  /** Live connections (no FIN, no RST) that are at risk at capture time `nowMicros`, as `atRisk` judges them at the end. */
  atRiskNow(nowMicros: number): AtRiskConnection[];
}

export interface CaptureDescription {
  file: string;
  format: 'pcap' | 'pcapng' | null;
  gzip: boolean;
  packets: number;
  linkTypes: number[];
  linkTypeNames: string[];
  precision: number;
  first: string | null;
  last: string | null;
  durationSeconds: number | null;
  /** Packets the capturing system dropped (pcapng Interface Statistics Blocks); absent when the capture does not record it. */
  kernelDrops?: number;
  /** Reading stopped here; everything before it is analysed. */
  error: { code: string; message: string; offset: number; frame: number } | null;
}

/** One vantage point's capture (several captures of one path). */
export interface VantageCaptureDescription extends CaptureDescription {
  /** The vantage point's name (`name=file` on the command line, else the file's base name). */
  vantage: string;
  connections: number;
  /** Incidents this capture alone shows (before the same connection's are merged across captures). */
  incidents: number;
}

export interface AnalysisSummary {
  connections: number;
  tcpSegments: number;
  /** Packets that were not TCP (or non-first fragments), and TCP packets with damaged headers. */
  notTcp: number;
  damagedTcp: number;
  /** Connections evicted because the table was full (their later packets start new, partial connections). */
  evicted: number;
  /** Connection attempts (SYN never answered) handed on after the attempt timeout (a SYN retried later starts a new one). */
  attemptsExpired: number;
  peakLiveConnections: number;
  /** Most bytes held at once in the table's own buffers: unfinished HTTP heads / TLS ClientHellos, IPv6 addresses (its own count). */
  peakBufferedBytes: number;
  duplicatesSkipped: number;
  incidents: number;
  incidentsByKind: Partial<Record<IncidentKind, number>>;
  /** Connections still open at the end and already idle past what the path allows (the length of `atRisk`), by level. */
  atRisk: number;
  willFail: number;
}

export interface AnalysisResult {
  tool: { name: 'flowdoc'; version: string };
  /** The (first) capture: with several, the anchor whose clock, connections and destinations the report uses. */
  capture: CaptureDescription;
  /** Several captures of one path only: each vantage point's capture, in path order (the first is `capture`). */
  captures?: VantageCaptureDescription[];
  /** Several captures only: how each lines up with the first (matched connections, clock offset). */
  alignment?: { anchor: string; vantages: VantageAlignment[] };
  options: {
    idleThresholdSeconds: number; maxConnections: number; lingerSeconds: number;
    /** Seconds after which an unanswered SYN is handed on (0: never; --attempt-timeout). */
    attemptTimeoutSeconds: number;
    /** `--lb-timeout` as given: for every destination (null: none), and per `ip:port`. */
    lbTimeout: { seconds: number | null; byServer: Record<string, number> };
  };
  summary: AnalysisSummary;
  /** Incidents, each with the log lines of every hop and a verdict. */
  incidents: CorrelatedIncident[];
  destinations: Destination[];
  /** Connections open at the end of the capture that will fail (or may) on next use, longest idle first. */
  atRisk: AtRiskConnection[];
  /** The logs given with --logs (null when none). */
  logs: LogsSummary | null;
  /** Things the reader should know (evictions, time going backwards, a read error …). */
  warnings: string[];
}

export function flowdocVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * The whole packet-side analysis in one streaming pass: capture → decode → connections →
 * incidents and destinations. Never throws for bad input: a read error is in `capture.error`
 * and everything read before it is analysed.
 */
export async function analyzeCapture(file: string, options: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const idleThresholdSeconds = options.idleThresholdSeconds ?? DEFAULT_IDLE_THRESHOLD_SECONDS;
  const maxConnections = options.maxConnections ?? 1_000_000;
  const lingerSeconds = options.lingerSeconds ?? 10;
  const attemptTimeoutSeconds = options.attemptTimeoutSeconds ?? DEFAULT_ATTEMPT_TIMEOUT_SECONDS;
  const span = { first: Infinity, last: -Infinity, headsCut: 0 };
  const detector = new Detector({ idleThresholdSeconds, precision: 6, ...(options.lbTimeouts && { lbTimeouts: options.lbTimeouts }) });
  const skewMs = (options.skewSeconds ?? 1) * 1000;
  const settings = { idleThresholdSeconds, maxConnections, lingerSeconds, attemptTimeoutSeconds, lbTimeouts: options.lbTimeouts };
  const live = options.live ? new LiveIncidents(detector, options.live, skewMs) : null;
  let view: { table: ConnectionTable; counts: Readonly<FlowCounts>; parser: CaptureParser | null } | null = null;
  const { live: _live, ...readOptions } = options;
  // An attempt has no incident (LiveIncidents would find none in it) and nothing a caller that
  // declined attempt records needs: the detector counts it from the table's arrays.
  const attemptsAsData = options.onConnection === undefined || options.attemptRecords === false;
  const onAttempt = (a: HandedOnAttempt) => {
    if (a.micros < span.first) span.first = a.micros;
    if (a.micros > span.last) span.last = a.micros;
    detector.onAttempt(a);
  };
  const run = await runFlows(file, (c) => {
    if (c.firstMicros < span.first) span.first = c.firstMicros;
    if (c.lastMicros > span.last) span.last = c.lastMicros;
    span.headsCut += c.anomalyCounts['http-head-too-long'] ?? 0;
    detector.onConnection(c);
    live?.onFinished(c);
    options.onConnection?.(c);
  }, {
    ...readOptions,
    ...(attemptsAsData && { onAttempt }),
    ...(options.live && {
      onParser: (p: CaptureParser) => { if (view) view.parser = p; options.onParser?.(p); },
      live: {
        onStart: (table: ConnectionTable, counts: Readonly<FlowCounts>) => {
          const v = { table, counts, parser: null as CaptureParser | null };
          view = v;
          options.live!.onStart?.({
            table, counts,
            get parser() { return v.parser; },
            current: () => currentResult(file, v, detector, span, settings, live!),
            atRiskNow: (now: number) => detector.atRiskNow(openIdle(table, now, riskFloorMicros(idleThresholdSeconds, options.lbTimeouts)), now),
          });
        },
        onClosed: (c) => live!.onClosed(c),
        ...(options.live.onSegment && { onSegment: options.live.onSegment }),
        ...(options.live.onRecord && { onRecord: options.live.onRecord }),
      },
    }),
    table: {
      idleThresholdMicros: idleThresholdSeconds * 1e6, maxConnections, lingerMicros: lingerSeconds * 1e6,
      ...(options.traceSegments ? { traceSegments: true } : {}),
      ...(options.idleExpirySeconds ? { idleExpiryMicros: Math.round(options.idleExpirySeconds * 1e6) } : {}),
      ...(attemptTimeoutSeconds > 0 ? { attemptTimeoutMicros: Math.round(attemptTimeoutSeconds * 1e6) } : {}),
    },
  });
  const found = detector.finish();
  const logResults = await Promise.all((options.logs ?? []).map((l) => readLogFile(l.file, { hop: l.hop, ...(options.logFormat ? { format: options.logFormat } : {}) })));
  return buildResult(run, span, found, logResults, skewMs, settings);
}

interface Span { first: number; last: number; headsCut: number }
interface Settings { idleThresholdSeconds: number; maxConnections: number; lingerSeconds: number; attemptTimeoutSeconds: number; lbTimeouts: LbTimeouts | undefined }

/** The report, from one pass's summary and what the detector found. */
function buildResult(run: FlowRunSummary, span: Span, found: ReturnType<Detector['finish']>, logResults: LogReadResult[], skewMs: number, settings: Settings): AnalysisResult {
  const { destinations, atRisk, atRiskNotChecked } = found;
  const hops: HopLogs[] = logResults.map((r) => ({ hop: r.hop, file: r.file, entries: r.entries }));
  const { incidents, unexplained } = correlate(found.incidents, hops, { skewMs });
  const byKind: Partial<Record<IncidentKind, number>> = {};
  for (const i of incidents) byKind[i.kind] = (byKind[i.kind] ?? 0) + 1;
  const { idleThresholdSeconds, maxConnections, lingerSeconds, attemptTimeoutSeconds, lbTimeouts } = settings;
  return {
    tool: { name: 'flowdoc', version: flowdocVersion() },
    capture: describeCapture(run, span.first, span.last),
    options: {
      idleThresholdSeconds, maxConnections, lingerSeconds, attemptTimeoutSeconds,
      lbTimeout: { seconds: lbTimeouts?.any ?? null, byServer: Object.fromEntries(lbTimeouts?.byServer ?? []) },
    },
    summary: {
      connections: run.table.connections,
      tcpSegments: run.tcpSegments,
      notTcp: run.notTcp,
      damagedTcp: run.damagedTcp,
      evicted: run.table.evicted,
      attemptsExpired: run.table.attemptsExpired,
      peakLiveConnections: run.table.peakLive,
      peakBufferedBytes: run.table.peakBufferedBytes,
      duplicatesSkipped: run.table.duplicatesSkipped,
      incidents: incidents.length,
      incidentsByKind: byKind,
      atRisk: atRisk.length,
      willFail: atRisk.filter((r) => r.level === 'will-fail').length,
    },
    incidents,
    destinations,
    atRisk,
    logs: logResults.length ? logsSummary(logResults, unexplained, skewMs) : null,
    warnings: [
      ...warnings(run, span.headsCut),
      ...(atRiskNotChecked > 0 ? [`${atRiskNotChecked} connections open at the end of the capture were not checked for risk (more than ${MAX_OPEN_AT_END} were open)`] : []),
      ...destinations.flatMap((d) => (d.idleTimeout?.stated && !d.idleTimeout.stated.consistent ? [`${d.server}: ${d.idleTimeout.stated.note}`] : [])),
      ...logResults.filter((r) => r.error).map((r) => `log file ${r.error!.oneLine()}`)],
  };
}

/** The report of a stream so far (AnalysisView.current). */
function currentResult(file: string, v: { table: ConnectionTable; counts: Readonly<FlowCounts>; parser: CaptureParser | null }, detector: Detector, span: Span, settings: Settings, live: LiveIncidents): AnalysisResult {
  const p = v.parser;
  const capture: CaptureSummary = {
    file, format: p?.format ?? null, gzip: false, packets: p?.packets ?? 0, linkTypes: p ? [...p.linkTypes] : [], precision: p?.precision ?? 6,
    bytes: 0, rawBytes: 0, skipped: p ? Object.fromEntries(p.skipped) : {}, kernelDrops: p?.kernelDrops ?? null, error: p?.error ?? null,
  };
  const { tcpSegments, notTcp, damagedTcp, timeReversals } = v.counts;
  const run: FlowRunSummary = {
    capture, table: { ...v.table.stats, peakBufferedBytes: v.table.buffers.peak }, packets: capture.packets, tcpSegments, notTcp, damagedTcp, timeReversals,
  };
  const found = detector.finish();
  // Incidents of connections that closed but still linger are reported already: they belong here too.
  const incidents = [...found.incidents, ...live.lingering()].sort(byEvidenceFrame);
  const first = Math.min(span.first, live.firstLingeringMicros);
  return buildResult(run, { ...span, first, last: Math.max(span.last, v.counts.lastMicros) }, { ...found, incidents }, [], live.skewMs, settings);
}

/**
 * Snapshots of the live connections still open (no FIN, no RST) and idle at least `floorMicros`:
 * the only ones that can be at risk, so the others cost nothing.
 */
function openIdle(table: ConnectionTable, now: number, floorMicros: number): Connection[] {
  const out: Connection[] = [];
  table.forEachLive((c) => {
    if (c.closedAtMicros >= 0 || c.client.firstFin || c.server.firstFin || now - c.lastMicros < floorMicros) return;
    out.push(c.snapshot('capture-end'));
  });
  return out;
}

/** The shortest idle that can put a connection at risk: a stated timeout, or the idle threshold (brackets come from incidents). */
function riskFloorMicros(idleThresholdSeconds: number, lb: LbTimeouts | undefined): number {
  const stated = [lb?.any ?? Infinity, ...(lb?.byServer.values() ?? [])];
  return Math.min(idleThresholdSeconds, ...stated) * 1e6;
}

/** The order of `Detector.finish()`: by the frame of the request (probe, RST), then connection. */
function byEvidenceFrame(a: Incident, b: Incident): number {
  return (a.frames.request ?? a.frames.probe ?? a.frames.rst ?? 0) - (b.frames.request ?? b.frames.probe ?? b.frames.rst ?? 0) || a.connection - b.connection;
}

/**
 * Reports each incident once, the moment it completes: at its connection's close (looked at
 * while it lingers), or when the connection is handed on (evicted, expired, end of capture).
 * Holds only the incidents of connections that closed and still linger.
 */
class LiveIncidents {
  /** Connection id → the incidents already reported for it (it has closed; not yet handed on). */
  private readonly reported = new Map<number, { firstMicros: number; incidents: Incident[] }>();

  constructor(private readonly detector: Detector, private readonly live: AnalyzeLive, readonly skewMs: number) {}

  onClosed(c: LiveConnection): void {
    const snap = c.snapshot(c.client.firstRst || c.server.firstRst ? 'reset' : 'closed');
    this.report(snap, this.detector.peek(snap));
  }

  onFinished(c: Connection): void {
    const found = this.detector.peek(c);
    this.report(c, found);
    this.reported.delete(c.id);
  }

  /** Incidents reported for connections that closed but are still in the table. */
  lingering(): Incident[] {
    return [...this.reported.values()].flatMap((r) => r.incidents);
  }

  /** The earliest packet of those connections (µs; Infinity when none). */
  get firstLingeringMicros(): number {
    let first = Infinity;
    for (const r of this.reported.values()) first = Math.min(first, r.firstMicros);
    return first;
  }

  private report(c: Connection, found: Incident[]): void {
    if (found.length === 0) return;
    const before = this.reported.get(c.id)?.incidents ?? [];
    const fresh = found.filter((i) => !before.some((b) => sameIncident(b, i)));
    if (fresh.length === 0) return;
    this.reported.set(c.id, { firstMicros: c.firstMicros, incidents: [...before, ...fresh] });
    for (const i of correlate(fresh, [], { skewMs: this.skewMs }).incidents) this.live.onIncident(i);
  }
}

/** One incident, however often it is looked at: the same kind on the same evidence frames. */
function sameIncident(a: Incident, b: Incident): boolean {
  return a.kind === b.kind && a.frames.request === b.frames.request && a.frames.rst === b.frames.rst && a.frames.probe === b.frames.probe;
}

/** The logs part of a report: what each hop's file held, and the signature lines no incident explains. */
export function logsSummary(results: LogReadResult[], unexplained: LogsSummary['unexplained'], skewMs: number): LogsSummary {
  return {
    hops: results.map((r) => ({
      hop: r.hop, file: r.file, format: r.format, lines: r.lines, entries: r.entries.length,
      rejected: r.rejected, rejectedSamples: r.rejectedSamples, error: r.error ? r.error.oneLine() : null,
    })),
    unexplained,
    skewMs,
  };
}

function describeCapture(run: FlowRunSummary, first: number, last: number): CaptureDescription {
  const c = run.capture;
  const have = first !== Infinity;
  return {
    file: c.file,
    format: c.format,
    gzip: c.gzip,
    packets: c.packets,
    linkTypes: c.linkTypes,
    linkTypeNames: c.linkTypes.map(linkTypeName),
    precision: c.precision,
    // Times of the TCP connections (what the analysis covers), at µs: evidence times are µs.
    first: have ? isoWithPrecision(first, 0, 6) : null,
    last: have ? isoWithPrecision(last, 0, 6) : null,
    durationSeconds: have ? (last - first) / 1e6 : null,
    ...(c.kernelDrops !== null ? { kernelDrops: c.kernelDrops } : {}),
    error: c.error ? c.error.toJSON() : null,
  };
}

function warnings(run: FlowRunSummary, headsCut: number): string[] {
  const w: string[] = [];
  if (run.capture.error) {
    const e = run.capture.error;
    w.push(`the capture could not be read to the end: ${e.detail} (byte offset ${e.offset}, frame ${e.frame}); the ${run.packets} packets before it are analysed`);
  }
  const drops = run.capture.kernelDrops;
  if (drops) w.push(`the capturing system dropped ${drops} packet${drops === 1 ? '' : 's'} (pcapng interface statistics): evidence may be missing from this capture`);
  if (run.table.expired > 0) w.push(`${run.table.expired} connections idle past the idle expiry were let go (a connection reused after longer starts a new, partial one)`);
  if (run.table.evicted > 0) w.push(`${run.table.evicted} connections were evicted because more than the maximum were open at once (--max-connections); their later packets start new, partial connections`);
  if (run.timeReversals > 0) w.push(`${run.timeReversals} packets are earlier than the packet before them; idle gaps around them may be off`);
  if (run.damagedTcp > 0) w.push(`${run.damagedTcp} TCP packets had damaged or truncated headers and were skipped`);
  if (headsCut > 0) w.push(`${headsCut} HTTP head${headsCut === 1 ? ' was' : 's were'} longer than 16 KiB without ending (headers that never end?): only ${headsCut === 1 ? 'its' : 'their'} first 16 KiB were read`);
  if (run.table.duplicatesSkipped > 0) w.push(`${run.table.duplicatesSkipped} duplicate packets (the same packet seen on two interfaces of an -i any capture) were skipped`);
  return w;
}

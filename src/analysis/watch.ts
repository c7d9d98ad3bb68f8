import type { CaptureRecord } from '../capture/index.js';
import type { CorrelatedIncident } from '../correlate/index.js';
import type { AtRiskConnection, Destination, LbTimeouts } from '../detect/index.js';
import { isoWithPrecision } from '../shared/time.js';
import { analyzeCapture, type AnalysisResult, type AnalysisView, type AnalyzeOptions } from './analyze.js';
import { DEFAULT_LOG_WAIT_SECONDS, LiveLogJoin } from './watch-logs.js';

/** The default of `--stats-interval`: a line a minute says the watch is alive without flooding a log. */
export const DEFAULT_STATS_INTERVAL_SECONDS = 60;

/**
 * How long a connection may sit without a packet before `watch` lets it go, unless told
 * (`--idle-expiry`): past Linux's default keepalive (7200 s, then 9 probes 75 s apart — the last
 * moment a default keepalive can still meet a forgotten connection), and well past every cloud
 * load balancer's default idle timeout (the longest, 3600 s; see detect/middleboxes.ts). A
 * connection reused after longer than this starts a new, partial connection.
 */
export const DEFAULT_IDLE_EXPIRY_SECONDS = 7200 + 9 * 75;

/** The idle expiry for these options: the default, or past the longest stated --lb-timeout (×1.5) if that is longer. */
export function idleExpiryFor(lbTimeouts: LbTimeouts | undefined, given?: number): number {
  if (given !== undefined) return given;
  const longest = Math.max(lbTimeouts?.any ?? 0, ...(lbTimeouts?.byServer.values() ?? []));
  return Math.max(DEFAULT_IDLE_EXPIRY_SECONDS, longest * 1.5);
}

/** The running counts of a watch, as the `stats` event carries them. */
export interface WatchStats {
  /** Packets read from the stream (every link type), TCP segments among them. */
  packets: number;
  tcpSegments: number;
  /** Connections seen since the start, and live in the table now. */
  connections: number;
  connectionsLive: number;
  /** Connections evicted because the table was full (--max-connections). */
  evicted: number;
  /** Connections let go because they were idle past the idle expiry. */
  expired: number;
  /** Packets the capturing system dropped (pcapng Interface Statistics Blocks; null: not recorded). */
  kernelDrops: number | null;
  /** `--interface`: packets tcpdump last said the kernel dropped (null until it said); absent when watch did not start tcpdump. */
  tcpdumpDrops?: number | null;
  incidents: number;
  /** `--logs`: access-log lines held now to be joined (bounded by the join window, at most MAX_HELD_LINES_PER_HOP a hop). */
  logLinesHeld?: number;
  /** `--logs`: incidents complete but waiting for their log lines (each at most `--log-wait`). */
  incidentsWaitingForLogs?: number;
}

/** One line of `flowdoc watch`'s ndjson output. `time` is capture time (ISO, µs) unless said otherwise. */
/** `--save`: where one key frame of an incident is kept (a file of the ring, its frame number there; null: not kept). */
export type SavedFrames = Record<string, { file: string; frame: number } | null>;

/** The raw capture kept beside the reports (`--save`). */
export interface SavedCapture {
  write(r: CaptureRecord): void;
  /** Where these stream frames are kept (the files named are kept from now on). */
  locate(frames: readonly number[]): ({ file: string; frame: number } | null)[];
}

export type WatchEvent =
  | { event: 'incident'; time: string | null; incident: CorrelatedIncident; saved?: SavedFrames }
  | { event: 'destination'; time: string | null; server: string; changed: ('keepalive' | 'idle-timeout')[]; destination: Destination }
  /** `--interface`: tcpdump runs and captures (the exact command it ran). */
  | { event: 'listening'; time: string | null; command: string }
  | { event: 'stats'; time: string | null; stats: WatchStats }
  /** A live connection idle past what its destination allows (stated --lb-timeout, or the bracket so far); told once per idle stretch. */
  | { event: 'at-risk'; time: string | null; atRisk: AtRiskConnection }
  /** The stream could not be read on (a corrupt record, a read error): everything before it is in the summary that follows. */
  | { event: 'error'; time: string | null; error: { code: string; message: string; offset: number; frame: number } }
  /** `final`: the stream ended (or the watch was stopped); else a summary asked for while it runs (SIGHUP/SIGUSR1). */
  | { event: 'summary'; time: string | null; final: boolean; report: AnalysisResult };

export interface WatchOptions extends AnalyzeOptions {
  /** Awaited before the final summary: warnings only the caller knows (what tcpdump dropped). */
  finalWarnings?: () => Promise<string[]>;
  /** Capture-time seconds between `stats` events (0: none). */
  statsIntervalSeconds?: number;
  /** `--save`: every record is written here; incident events name where their key frames are kept. */
  save?: SavedCapture;
  /** `--interface`: what tcpdump last said the kernel dropped (for `stats`). */
  tcpdumpDrops?: () => number | null;
  /** `--logs`: the files are followed as they grow; each incident waits this long for its lines (`--log-wait`, seconds). */
  logWaitSeconds?: number;
  /** The wall clock (ms), for the one wait that capture and log time cannot end (both stand still); tests pass their own. */
  wallClock?: () => number;
}

/**
 * `flowdoc watch`: the analysis of `analyze`, on a stream that may never end, told as events the
 * moment they happen. Incidents come when their connection closes; `stats` every interval of
 * capture time (the packets' own clock, so a replay and a live capture say the same thing) and,
 * when the stream is quiet, on the caller's `tick()` (a wall-clock heartbeat); `destination`
 * when a destination's keepalive verdict or idle-timeout bracket changes. The final summary is
 * the report `analyze` gives for the same bytes.
 */
export class Watch {
  private view: AnalysisView | null = null;
  private incidents = 0;
  private nextStatsMicros = -Infinity;
  /** Connection id → its last frame when told at risk (only connections at risk at the last check). */
  private toldAtRisk = new Map<number, number>();
  /** Per destination: what its verdict and bracket said when last told. */
  private readonly told = new Map<string, { keepalive: string; bracket: string }>();
  private readonly intervalMicros: number;
  /** `--logs`: incidents wait here for their log lines. */
  private readonly logJoin: LiveLogJoin | null;
  /** With --logs: the incidents as told (with their lines), which the summaries report instead of the packet-only ones. */
  private readonly toldIncidents = new Map<string, CorrelatedIncident>();
  private readonly wall: () => number;

  constructor(private readonly emit: (e: WatchEvent) => void, private readonly options: WatchOptions = {}) {
    this.intervalMicros = Math.round((options.statsIntervalSeconds ?? DEFAULT_STATS_INTERVAL_SECONDS) * 1e6);
    this.wall = options.wallClock ?? Date.now;
    this.logJoin = options.logs?.length
      ? new LiveLogJoin(options.logs, {
        waitSeconds: options.logWaitSeconds ?? DEFAULT_LOG_WAIT_SECONDS,
        skewMs: (options.skewSeconds ?? 1) * 1000,
        ...(options.logFormat !== undefined && { format: options.logFormat }),
        tell: (i) => this.tellIncident(i),
      })
      : null;
  }

  /** Reads what the followed logs gained and tells the incidents whose wait is over (the caller's timer). */
  async pollLogs(): Promise<void> {
    await this.logJoin?.poll(this.captureMs(), this.wall());
  }

  /** Reads the stream to its end (or to the abort of `options.signal`) and emits the final summary. */
  async run(file: string): Promise<AnalysisResult> {
    const { logs: _followed, ...options } = this.options;
    const result = await analyzeCapture(file, {
      ...options,
      idleExpirySeconds: idleExpiryFor(this.options.lbTimeouts, this.options.idleExpirySeconds),
      live: {
        onStart: (view) => { this.view = view; },
        onIncident: (incident) => {
          if (this.logJoin) this.logJoin.hold(incident, this.captureMs(), this.wall());
          else this.tellIncident(incident);
        },
        onSegment: (micros) => this.onSegment(micros),
        ...(this.options.save && { onRecord: (r: CaptureRecord) => this.options.save!.write(r) }),
      },
    });
    if (this.logJoin) {
      result.logs = await this.logJoin.finish(this.captureMs(), this.wall());
      result.incidents = this.withLogs(result.incidents);
      result.warnings.push(...result.logs.hops.filter((h) => h.error).map((h) => `log file ${h.error}`));
    }
    if (this.options.finalWarnings) result.warnings.push(...await this.options.finalWarnings());
    if (result.capture.error) this.emit({ event: 'error', time: this.captureTime(), error: result.capture.error });
    this.tellDestinations(result.destinations);
    this.emit({ event: 'summary', time: this.captureTime(), final: true, report: result });
    return result;
  }

  /** The report of what was seen so far, as a `summary` event (SIGHUP/SIGUSR1); the watch goes on. */
  summaryNow(): void {
    if (!this.view) return;
    const report = this.view.current();
    if (this.logJoin) report.incidents = this.withLogs(report.incidents);
    this.emit({ event: 'summary', time: this.captureTime(), final: false, report });
  }

  private tellIncident(incident: CorrelatedIncident): void {
    this.incidents++;
    if (this.logJoin) this.toldIncidents.set(incidentKey(incident), incident);
    this.emit({ event: 'incident', time: this.captureTime(), incident, ...(this.options.save && { saved: this.savedFrames(incident) }) });
  }

  /** Each key frame of the incident (request, RST, …): the ring file and frame number that hold it. */
  private savedFrames(incident: CorrelatedIncident): SavedFrames {
    const named = Object.entries(incident.frames).filter((e): e is [string, number] => typeof e[1] === 'number');
    const where = this.options.save!.locate(named.map(([, n]) => n));
    return Object.fromEntries(named.map(([k], n) => [k, where[n]!]));
  }

  /** The report's incidents as they were told, with their log lines (one still waiting for its lines is reported without them). */
  private withLogs(incidents: CorrelatedIncident[]): CorrelatedIncident[] {
    return incidents.map((i) => this.toldIncidents.get(incidentKey(i)) ?? i);
  }

  /** Any event the caller has to tell in the watch's stream (`listening`). */
  tell(e: WatchEvent): void {
    this.emit(e);
  }

  /** The counts now, as a `stats` event (the wall-clock heartbeat while no packets come). */
  statsNow(): void {
    if (!this.view) return;
    this.emit({ event: 'stats', time: this.captureTime(), stats: this.stats() });
  }

  private onSegment(micros: number): void {
    if (this.logJoin?.waiting) this.logJoin.release(micros / 1000, this.wall(), false);
    if (this.intervalMicros <= 0) return;
    if (this.nextStatsMicros === -Infinity) {
      this.nextStatsMicros = micros + this.intervalMicros;
      return;
    }
    if (micros < this.nextStatsMicros) return;
    // One event per interval boundary crossed, however long the stream was quiet (no burst after a gap).
    while (this.nextStatsMicros <= micros) this.nextStatsMicros += this.intervalMicros;
    this.statsNow();
    this.tellDestinations(this.view!.current().destinations);
    this.tellAtRisk(micros);
  }

  /** `at-risk` events for live connections newly at risk (again, if they were used in between). */
  private tellAtRisk(now: number): void {
    const told = new Map<number, number>();
    for (const r of this.view!.atRiskNow(now)) {
      told.set(r.connection, r.lastFrame);
      if (this.toldAtRisk.get(r.connection) !== r.lastFrame) this.emit({ event: 'at-risk', time: this.captureTime(), atRisk: r });
    }
    this.toldAtRisk = told;
  }

  private stats(): WatchStats {
    const v = this.view!;
    return {
      packets: v.parser?.packets ?? 0,
      tcpSegments: v.counts.tcpSegments,
      connections: v.table.stats.connections,
      connectionsLive: v.table.liveConnections,
      evicted: v.table.stats.evicted,
      expired: v.table.stats.expired,
      kernelDrops: v.parser?.kernelDrops ?? null,
      ...(this.options.tcpdumpDrops && { tcpdumpDrops: this.options.tcpdumpDrops() }),
      incidents: this.incidents,
      ...(this.logJoin && { logLinesHeld: this.logJoin.heldLines, incidentsWaitingForLogs: this.logJoin.heldIncidents }),
    };
  }

  /** `destination` events for every verdict or bracket that changed since last told. */
  private tellDestinations(destinations: readonly Destination[]): void {
    for (const d of destinations) {
      const now = { keepalive: d.keepalive.verdict, bracket: d.idleTimeout?.text ?? '' };
      const before = this.told.get(d.server);
      this.told.set(d.server, now);
      const changed: ('keepalive' | 'idle-timeout')[] = [];
      // The first verdict is news only when it says something ('unknown' is the absence of one).
      if (before ? before.keepalive !== now.keepalive : now.keepalive !== 'unknown') changed.push('keepalive');
      if ((before?.bracket ?? '') !== now.bracket) changed.push('idle-timeout');
      if (changed.length) this.emit({ event: 'destination', time: this.captureTime(), server: d.server, changed, destination: d });
    }
  }

  private captureMs(): number {
    return (this.view?.counts.lastMicros ?? -Infinity) / 1000;
  }

  private captureTime(): string | null {
    const m = this.view?.counts.lastMicros ?? -Infinity;
    return m === -Infinity ? null : isoWithPrecision(m, 0, 6);
  }
}

/** One incident however often it is looked at: its connection, kind and evidence frames. */
function incidentKey(i: CorrelatedIncident): string {
  return `${i.connection}/${i.kind}/${i.frames.request ?? ''}/${i.frames.rst ?? ''}/${i.frames.probe ?? ''}`;
}

import { correlate, type CorrelatedIncident, type HopLogs, type LogsSummary, type UnexplainedSignatures } from '../correlate/index.js';
import { LogFollower, type LogEntry } from '../logs/index.js';

/** The default of `--log-wait`: Envoy writes a line when the response (the 503) is sent, and its log pipeline may lag by seconds. */
export const DEFAULT_LOG_WAIT_SECONDS = 5;

/** How long past the wait a log line is kept to be joined (capture time, beyond its request's end). */
const KEEP_BEYOND_WAIT_MS = 60_000;
const MAX_UNEXPLAINED_SAMPLES = 5;
/** Lines held per hop at most, whatever the window says (a huge log read before the first packet gives capture time). */
export const MAX_HELD_LINES_PER_HOP = 200_000;
/**
 * The wall-clock bound on the wait: a live capture's clock runs with the wall clock, so this only
 * ends a wait when packets and log lines both stopped coming; then an incident is told after this
 * long (or the --log-wait, if longer) instead of never.
 */
export const QUIET_WAIT_SECONDS = 30;

interface HeldIncident { incident: CorrelatedIncident; dueMs: number; heldSinceWallMs: number }
interface Hop { follower: LogFollower; entries: LogEntry[]; entriesSeen: number; latestMs: number }

/**
 * `flowdoc watch --logs`: joins each incident to the access-log lines of every hop while the logs
 * are still being written. An incident is held until `wait` past its RST (or request) — by capture
 * time, by the time of every hop's latest log line, or, when both stand still (a quiet capture, a
 * quiet log), by the wall clock after QUIET_WAIT_SECONDS — so a line Envoy writes a few seconds after the RST is still
 * joined; then it is correlated as `analyze --logs` would and told. A line that comes later still
 * is not joined to it (the incident was told); it counts among the unexplained signatures.
 *
 * Memory: log lines only while they can still be joined — until their request ended `wait` + 60 s
 * of capture time ago — and the incidents waiting, at most `wait` each.
 */
export class LiveLogJoin {
  private readonly hops: Hop[];
  private held: HeldIncident[] = [];
  private readonly used = new WeakSet<LogEntry>();
  private readonly unexplained = new Map<string, UnexplainedSignatures>();
  private readonly waitMs: number;
  private readonly quietWaitMs: number;

  constructor(logs: readonly { hop: string; file: string }[], private readonly options: { waitSeconds: number; skewMs: number; format?: string; tell: (i: CorrelatedIncident) => void }) {
    this.hops = logs.map((l) => ({ follower: new LogFollower(l.file, { hop: l.hop, ...(options.format !== undefined && { format: options.format }) }), entries: [], entriesSeen: 0, latestMs: -Infinity }));
    this.waitMs = options.waitSeconds * 1000;
    this.quietWaitMs = Math.max(this.waitMs, QUIET_WAIT_SECONDS * 1000);
  }

  /** An incident just completed (capture time now: `captureMs`): held until its lines had time to come. */
  hold(incident: CorrelatedIncident, captureMs: number, wallMs: number): void {
    const micros = incident.micros.rst ?? incident.micros.request;
    const at = micros !== null ? Math.floor(micros / 1000) : captureMs;
    this.held.push({ incident, dueMs: at + this.waitMs, heldSinceWallMs: wallMs });
    this.release(captureMs, wallMs, false);
  }

  /** Reads what the logs gained, then tells the incidents whose wait is over. */
  async poll(captureMs: number, wallMs: number): Promise<void> {
    await Promise.all(this.hops.map((h) => h.follower.poll()));
    for (const h of this.hops) {
      for (const e of h.follower.take()) {
        if (h.entries.length >= MAX_HELD_LINES_PER_HOP) this.countUnexplained(h, h.entries.splice(0, h.entries.length >> 1).filter((x) => !this.used.has(x)));
        h.entries.push(e);
        h.entriesSeen++;
        if (e.startMs !== null && e.startMs + (e.durationMs ?? 0) > h.latestMs) h.latestMs = e.startMs + (e.durationMs ?? 0);
      }
    }
    this.release(captureMs, wallMs, false);
    this.forget(captureMs);
  }

  /** Tells the incidents whose wait is over (all of them with `all`: the stream ended). */
  release(captureMs: number, wallMs: number, all: boolean): void {
    if (this.held.length === 0) return;
    // Log time: the latest line of the slowest hop (every hop must have moved past the incident).
    const logMs = this.hops.length ? Math.min(...this.hops.map((h) => h.latestMs)) : -Infinity;
    const due: HeldIncident[] = [];
    this.held = this.held.filter((x) => {
      const over = all || captureMs >= x.dueMs || logMs >= x.dueMs || wallMs - x.heldSinceWallMs >= this.quietWaitMs;
      if (over) due.push(x);
      return !over;
    });
    if (due.length === 0) return;
    const hops: HopLogs[] = this.hops.map((h) => ({ hop: h.follower.hop, file: h.follower.file, entries: h.entries }));
    const { incidents } = correlate(due.map((d) => d.incident), hops, { skewMs: this.options.skewMs });
    for (const i of incidents) {
      for (const m of i.logs) this.used.add(m.entry);
      this.options.tell(i);
    }
  }

  /** The end: the logs read one last time, every held incident told, and the logs part of the report. */
  async finish(captureMs: number, wallMs: number): Promise<LogsSummary> {
    await this.poll(captureMs, wallMs);
    this.release(captureMs, wallMs, true);
    const results = await Promise.all(this.hops.map((h) => h.follower.close()));
    this.hops.forEach((h, n) => { h.entries.push(...results[n]!.entries); h.entriesSeen += results[n]!.entries.length; });
    this.forget(Infinity);
    return {
      hops: results.map((r, n) => ({
        hop: r.hop, file: r.file, format: r.format, lines: r.lines, entries: this.hops[n]!.entriesSeen,
        rejected: r.rejected, rejectedSamples: r.rejectedSamples, error: r.error ? r.error.oneLine() : null,
      })),
      unexplained: [...this.unexplained.values()].sort((a, b) => b.count - a.count),
      skewMs: this.options.skewMs,
    };
  }

  /** Incidents are waiting for their lines. */
  get waiting(): boolean {
    return this.held.length > 0;
  }

  /** Incidents waiting for their lines now (for stats). */
  get heldIncidents(): number {
    return this.held.length;
  }

  /** Lines held now (for tests and stats: the bound). */
  get heldLines(): number {
    return this.hops.reduce((n, h) => n + h.entries.length, 0);
  }

  /** Lines that can no longer be joined leave; the signature lines among them no incident used are counted as unexplained. */
  private forget(captureMs: number): void {
    const before = captureMs - this.waitMs - this.options.skewMs - KEEP_BEYOND_WAIT_MS;
    for (const h of this.hops) {
      const gone: LogEntry[] = [];
      h.entries = h.entries.filter((e) => {
        const keep = e.startMs !== null && e.startMs + (e.durationMs ?? 0) >= before;
        if (!keep && !this.used.has(e)) gone.push(e);
        return keep;
      });
      if (gone.length) this.countUnexplained(h, gone);
    }
  }

  private countUnexplained(h: Hop, entries: LogEntry[]): void {
    const { unexplained } = correlate([], [{ hop: h.follower.hop, file: h.follower.file, entries }], { skewMs: this.options.skewMs });
    for (const u of unexplained) {
      const had = this.unexplained.get(u.upstreamHost);
      this.unexplained.set(u.upstreamHost, had
        ? { upstreamHost: u.upstreamHost, count: had.count + u.count, samples: [...had.samples, ...u.samples].slice(0, MAX_UNEXPLAINED_SAMPLES) }
        : { ...u, samples: u.samples.slice(0, MAX_UNEXPLAINED_SAMPLES) });
    }
  }
}

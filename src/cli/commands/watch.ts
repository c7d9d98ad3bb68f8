import type { Command } from 'commander';
import { DEFAULT_IDLE_THRESHOLD_SECONDS } from '../../analysis/analyze.js';
import { DEFAULT_IDLE_EXPIRY_SECONDS, DEFAULT_STATS_INTERVAL_SECONDS, Watch, type WatchEvent } from '../../analysis/watch.js';
import { WATCH_FORMATS, renderWatchEvent } from '../../report/watch.js';
import { type Io, UsageError, useColour } from '../io.js';
import { captureErrorLine, collect, parseFormat, parseLbTimeouts, parseNumber, readStdinGuard } from './common.js';

interface WatchCliOptions {
  format: string;
  idleThreshold: string;
  maxConnections: string;
  lbTimeout: string[];
  statsInterval: string;
  idleExpiry?: string;
  failOn: string;
}

/** Signals that end the watch (final summary) and that ask for the summary so far. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const SUMMARY_SIGNALS = ['SIGHUP', 'SIGUSR1'] as const;

export function registerWatch(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('watch')
    .description('read a live capture stream and report each incident the moment it completes (ndjson events), with a final summary as analyze gives it')
    .argument('<capture>', '- for standard input (e.g. tcpdump -i any -U -w - tcp | flowdoc watch -), or a pcap / pcapng file')
    .option('-f, --format <format>', 'ndjson (one event a line) | table (one block per event)', 'ndjson')
    .option('--stats-interval <seconds>', 'capture-time seconds between stats events (0: none); while no packets come, one stats event per interval of wall-clock time says the watch is alive', String(DEFAULT_STATS_INTERVAL_SECONDS))
    .option('--idle-threshold <seconds>', 'silence before a request that makes a stale-reuse incident possible', String(DEFAULT_IDLE_THRESHOLD_SECONDS))
    .option('--idle-expiry <seconds>', `let a connection go after this much capture time without a packet (default ${DEFAULT_IDLE_EXPIRY_SECONDS}, or 1.5 × the longest --lb-timeout if longer)`)
    .option('--max-connections <n>', 'live connections kept at most (the longest-idle are evicted past it)', '1000000')
    .option('--lb-timeout <[ip:port=]seconds>', 'a middlebox idle timeout you know (repeat per destination)', collect, [])
    .option('--fail-on <what>', 'exit 1 on incidents or connections that will fail on next use (findings), on incidents only (incidents), or never (none)', 'findings')
    .action(async (file: string, opts: WatchCliOptions) => {
      const format = parseFormat(opts.format, WATCH_FORMATS);
      const failOn = parseFormat(opts.failOn, ['findings', 'incidents', 'none']);
      const statsIntervalSeconds = parseNumber(opts.statsInterval, '--stats-interval', { min: 0 });
      const idleThresholdSeconds = parseNumber(opts.idleThreshold, '--idle-threshold', { min: 0 });
      const maxConnections = parseNumber(opts.maxConnections, '--max-connections', { min: 1, integer: true });
      const lbTimeouts = parseLbTimeouts(opts.lbTimeout);
      const idleExpirySeconds = opts.idleExpiry === undefined ? undefined : parseNumber(opts.idleExpiry, '--idle-expiry', { min: 1 });
      if (!file) throw new UsageError('name the capture stream: - for standard input');
      readStdinGuard(file, io);
      const colour = useColour(io);
      let events = 0;
      const emit = (e: WatchEvent) => {
        events++;
        io.stdout(renderWatchEvent(e, format, { colour, captureLabel: file }));
      };
      const stop = new AbortController();
      const watch = new Watch(emit, {
        stdin: io.stdin, signal: stop.signal, statsIntervalSeconds, idleThresholdSeconds, maxConnections, lbTimeouts,
        ...(idleExpirySeconds !== undefined && { idleExpirySeconds }),
      });
      const onStop = () => stop.abort();
      const onSummary = () => watch.summaryNow();
      for (const s of STOP_SIGNALS) io.signals?.on(s, onStop);
      for (const s of SUMMARY_SIGNALS) io.signals?.on(s, onSummary);
      // The wall-clock heartbeat: a stats event when an interval passed with none (no packets came).
      let seen = -1;
      const heartbeat = statsIntervalSeconds > 0
        ? setInterval(() => { if (events === seen) watch.statsNow(); seen = events; }, statsIntervalSeconds * 1000)
        : null;
      heartbeat?.unref();
      let result;
      try {
        result = await watch.run(file);
      } finally {
        if (heartbeat) clearInterval(heartbeat);
        for (const s of STOP_SIGNALS) io.signals?.off(s, onStop);
        for (const s of SUMMARY_SIGNALS) io.signals?.off(s, onSummary);
      }
      const c = result.capture;
      if (c.error) {
        io.stderr(captureErrorLine(c.error, c.file, c.packets));
        setExit(2);
      } else if ((result.incidents.length > 0 && failOn !== 'none') || (result.summary.willFail > 0 && failOn === 'findings')) setExit(1);
    });
}

import type { Command } from 'commander';
import { DEFAULT_IDLE_THRESHOLD_SECONDS } from '../../analysis/analyze.js';
import { DEFAULT_LOG_WAIT_SECONDS } from '../../analysis/watch-logs.js';
import { DEFAULT_IDLE_EXPIRY_SECONDS, DEFAULT_STATS_INTERVAL_SECONDS, Watch, type WatchEvent } from '../../analysis/watch.js';
import { WATCH_FORMATS, renderWatchEvent } from '../../report/watch.js';
import { type Io, UsageError, useColour } from '../io.js';
import { CaptureRing, parseRotate } from '../save-ring.js';
import { startTcpdump, type TcpdumpChild } from '../tcpdump.js';
import { captureErrorLine, collect, parseFormat, parseHopFile, parseIdleThreshold, parseLbTimeouts, parseNumber, readStdinGuard } from './common.js';
import { statSync } from 'node:fs';

interface WatchCliOptions {
  format: string;
  idleThreshold: string;
  maxConnections: string;
  lbTimeout: string[];
  statsInterval: string;
  idleExpiry?: string;
  failOn: string;
  interface?: string;
  filter?: string;
  tcpdump: string;
  logs: string[];
  logFormat?: string;
  skew: string;
  logWait: string;
  save?: string;
  rotate: string;
}

/** How often (wall clock, ms) followed logs are read for new lines. */
const LOG_POLL_MS = 200;

/** Signals that end the watch (final summary) and that ask for the summary so far. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const SUMMARY_SIGNALS = ['SIGHUP', 'SIGUSR1'] as const;

export function registerWatch(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('watch')
    .description('read a live capture stream and report each incident the moment it completes (ndjson events), with a final summary as analyze gives it')
    .argument('[capture]', '- for standard input (e.g. tcpdump -i any -U -w - tcp | flowdoc watch -), or a pcap / pcapng file; none with --interface')
    .option('-i, --interface <if>', 'capture on this interface: starts tcpdump -i IF -U -w - [FILTER] as a child')
    .option('--filter <bpf>', 'with --interface: tcpdump\'s capture filter (BPF), e.g. \'tcp port 80\'')
    .option('--tcpdump <path>', 'with --interface: the tcpdump binary', 'tcpdump')
    .option('-f, --format <format>', 'ndjson (one event a line) | table (one block per event)', 'ndjson')
    .option('--stats-interval <seconds>', 'capture-time seconds between stats events (0: none); while no packets come, one stats event per interval of wall-clock time says the watch is alive', String(DEFAULT_STATS_INTERVAL_SECONDS))
    .option('--idle-threshold <seconds>', 'silence before a request that makes a stale-reuse incident possible', String(DEFAULT_IDLE_THRESHOLD_SECONDS))
    .option('--idle-expiry <seconds>', `let a connection go after this much capture time without a packet (default ${DEFAULT_IDLE_EXPIRY_SECONDS}, or 1.5 × the longest --lb-timeout if longer)`)
    .option('--max-connections <n>', 'live connections kept at most (the longest-idle are evicted past it)', '1000000')
    .option('--lb-timeout <[ip:port=]seconds>', 'a middlebox idle timeout you know (repeat per destination)', collect, [])
    .option('-l, --logs <[hop=]file>', 'Envoy/Istio access log of a hop, followed as it grows (tail -F: rotation and truncation handled); repeat in path order', collect, [])
    .option('--log-format <format>', 'Envoy format string of the logs (default: detected per file)')
    .option('--skew <seconds>', 'clock-skew allowance between capture and logs', '1')
    .option('--log-wait <seconds>', 'with --logs: how long past its RST an incident waits for its log lines (capture time, log time, or wall clock when both stand still)', String(DEFAULT_LOG_WAIT_SECONDS))
    .option('--save <dir>', 'keep the raw capture in DIR as a ring of pcap files (see --rotate); incident events name the file and frame that hold each key frame, and those files are kept')
    .option('--rotate <files:size>', 'with --save: FILES files of SIZE bytes each (K, M, G: powers of 1024), the oldest deleted past it, like tcpdump -W FILES -C SIZE', '10:100M')
    .option('--fail-on <what>', 'exit 1 on incidents or connections that will fail on next use (findings), on incidents only (incidents), or never (none)', 'findings')
    .action(async (fileArg: string | undefined, opts: WatchCliOptions) => {
      const format = parseFormat(opts.format, WATCH_FORMATS);
      const failOn = parseFormat(opts.failOn, ['findings', 'incidents', 'none']);
      const statsIntervalSeconds = parseNumber(opts.statsInterval, '--stats-interval', { min: 0 });
      const idleThresholdSeconds = parseIdleThreshold(opts.idleThreshold);
      const maxConnections = parseNumber(opts.maxConnections, '--max-connections', { min: 1, integer: true });
      const lbTimeouts = parseLbTimeouts(opts.lbTimeout);
      const rotate = parseRotate(opts.rotate);
      if (opts.save === undefined && opts.rotate !== '10:100M') throw new UsageError('--rotate needs --save DIR (where the ring of files goes)');
      const logs = opts.logs.map(parseHopFile);
      for (const l of logs) checkFollowable(l.file);
      const skewSeconds = parseNumber(opts.skew, '--skew', { min: 0 });
      const logWaitSeconds = parseNumber(opts.logWait, '--log-wait', { min: 0 });
      const idleExpirySeconds = opts.idleExpiry === undefined ? undefined : parseNumber(opts.idleExpiry, '--idle-expiry', { min: 1 });
      if (opts.interface !== undefined && fileArg !== undefined) throw new UsageError(`either a capture (${fileArg}) or --interface ${opts.interface}, not both`);
      if (opts.interface === undefined && fileArg === undefined) throw new UsageError('name the capture stream (- for standard input) or an interface (--interface IF)');
      if (opts.filter !== undefined && opts.interface === undefined) throw new UsageError('--filter needs --interface (filter a piped capture in the tcpdump that writes it)');
      const file = fileArg ?? '-';
      if (fileArg !== undefined) readStdinGuard(file, io);
      const colour = useColour(io);
      let events = 0;
      let askTcpdump: (() => void) | null = null;
      const emit = (e: WatchEvent) => {
        events++;
        // Each stats event asks tcpdump for its counts: the next one carries its answer.
        if (e.event === 'stats') askTcpdump?.();
        io.stdout(renderWatchEvent(e, format, { colour, captureLabel: file }));
      };
      const stop = new AbortController();
      let tcpdump: TcpdumpChild | null = null;
      let tellListening: (() => void) | null = null;
      const ring = opts.save !== undefined ? new CaptureRing(opts.save, rotate.files, rotate.bytes) : null;
      if (opts.interface !== undefined) {
        tcpdump = await startTcpdump(opts.interface, opts.filter, () => tellListening?.(), opts.tcpdump);
      }
      const child = tcpdump;
      if (child) askTcpdump = () => child.requestCounts();
      const watch = new Watch(emit, {
        stdin: child ? child.stdout : io.stdin, statsIntervalSeconds, idleThresholdSeconds, maxConnections, lbTimeouts,
        ...(idleExpirySeconds !== undefined && { idleExpirySeconds }),
        ...(ring && { save: ring }),
        ...(logs.length > 0 && { logs, skewSeconds, logWaitSeconds, ...(opts.logFormat !== undefined && { logFormat: opts.logFormat }) }),
        // With tcpdump, a stop stops tcpdump: it flushes what it holds, and its stream ends like a file.
        ...(child ? { finalWarnings: async () => dropWarning((await child.exited).dropped), tcpdumpDrops: () => child.dropped } : { signal: stop.signal }),
      });
      tellListening = () => watch.tell({ event: 'listening', time: null, command: child!.command });
      const onStop = () => (child ? child.stop() : stop.abort());
      const onSummary = () => watch.summaryNow();
      for (const s of STOP_SIGNALS) io.signals?.on(s, onStop);
      for (const s of SUMMARY_SIGNALS) io.signals?.on(s, onSummary);
      // The wall-clock heartbeat: a stats event when an interval passed with none (no packets came).
      let seen = -1;
      const heartbeat = statsIntervalSeconds > 0
        ? setInterval(() => { if (events === seen) watch.statsNow(); seen = events; }, statsIntervalSeconds * 1000)
        : null;
      heartbeat?.unref();
      const logPoll = logs.length ? setInterval(() => void watch.pollLogs(), LOG_POLL_MS) : null;
      logPoll?.unref();
      let result;
      try {
        // The logs as they are now, before the first packet: what the path named at the start is what is followed.
        if (logs.length) await watch.pollLogs();
        result = await watch.run(file);
      } finally {
        // Stopped while the writer still holds the pipe open: let go of it, or the process would
        // wait for the writer's end after printing the final summary.
        if (stop.signal.aborted) (io.stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        if (heartbeat) clearInterval(heartbeat);
        if (logPoll) clearInterval(logPoll);
        ring?.close();
        for (const s of STOP_SIGNALS) io.signals?.off(s, onStop);
        for (const s of SUMMARY_SIGNALS) io.signals?.off(s, onSummary);
      }
      const c = result.capture;
      if (child) {
        const end = await child.exited;
        if (!end.stoppedByUs && end.code !== 0) {
          io.stderr(`flowdoc: tcpdump failed${end.code !== null ? ` (exit ${end.code})` : ''}: ${end.message || 'no message'}; command: ${child.command}\n`);
          setExit(2);
          return;
        }
      }
      if (c.error) {
        io.stderr(captureErrorLine(c.error, c.file, c.packets));
        setExit(2);
      } else if ((result.incidents.length > 0 && failOn !== 'none') || (result.summary.willFail > 0 && failOn === 'findings')) setExit(1);
    });
}

function dropWarning(dropped: number | null): string[] {
  return dropped ? [`tcpdump reported ${dropped} packet${dropped === 1 ? '' : 's'} dropped by the kernel: evidence may be missing`] : [];
}

/** A followed log may not exist yet (tail -F waits for it); a directory or an unreadable path is refused. */
function checkFollowable(file: string): void {
  if (file === '-') throw new UsageError('--logs -: standard input carries the capture here; name the log file');
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`--logs ${file}: cannot follow the log file: is a directory`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new UsageError(`--logs ${file}: cannot follow the log file: ${(e as Error).message}`);
  }
}

import type { Command } from 'commander';
import { analyzeCapture, DEFAULT_ATTEMPT_TIMEOUT_SECONDS } from '../../analysis/analyze.js';
import type { Connection, ConnState } from '../../flows/index.js';
import { renderFlowsTable } from '../../report/index.js';
import { isoWithPrecision } from '../../shared/time.js';
import { type Io, openResult, UsageError, useColour, writeResult } from '../io.js';
import { Progress } from '../progress.js';
import { captureErrorLine, fileSize, parseFormat, parseNumber, parsePort, readStdinGuard } from './common.js';

const STATES: readonly ConnState[] = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'];

interface FlowsOptions {
  format: string;
  host?: string;
  port?: string;
  state?: string;
  minIdle?: string;
  idleThreshold: string;
  attemptTimeout: string;
  out?: string;
  force?: boolean;
}

export function registerFlows(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('flows')
    .description('one row per TCP connection, like Zeek\'s conn.log: state, history, packets, bytes, idle, keepalive, RST/FIN')
    .argument('<capture>', 'pcap / pcapng file (gzip too); - for standard input')
    .option('-f, --format <format>', 'table | json | ndjson', 'table')
    .option('--host <ip>', 'only connections with this address on either side')
    .option('--port <port>', 'only connections with this port on either side')
    .option('--state <states>', `only these states, comma-separated (${STATES.join(' ')})`)
    .option('--min-idle <seconds>', 'only connections whose longest idle gap is at least this long')
    .option('--idle-threshold <seconds>', 'record idle gaps at least this long', '10')
    .option('--attempt-timeout <seconds>', 'let a connection attempt (SYN never answered) go after this much capture time without a packet (0: never)', String(DEFAULT_ATTEMPT_TIMEOUT_SECONDS))
    .option('-o, --out <file>', 'write the result to FILE instead of standard output')
    .option('--force', 'overwrite --out FILE if it exists')
    .action(async (file: string, opts: FlowsOptions) => {
      const format = parseFormat(opts.format, ['table', 'json', 'ndjson']);
      const keep = connectionFilter(opts);
      readStdinGuard(file, io);
      const idleThresholdSeconds = parseNumber(opts.idleThreshold, '--idle-threshold', { min: 0 });
      const attemptTimeoutSeconds = parseNumber(opts.attemptTimeout, '--attempt-timeout', { min: 0 });
      const progress = new Progress(io, file, await fileSize(file));
      // json and ndjson are written as connections end (Zeek's conn.log order), so memory stays
      // bounded by live connections however long the capture; only the table needs every row at once.
      const table: Connection[] = [];
      const sink = format === 'table' ? null : openResult(io, opts.out, Boolean(opts.force));
      const json = format === 'json' ? new JsonConnections() : null;
      let pending = json ? json.open() : '';
      let result;
      try {
        result = await analyzeCapture(file, {
          stdin: io.stdin,
          idleThresholdSeconds,
          attemptTimeoutSeconds,
          onProgress: (n) => progress.update(n),
          onConnection: (c) => {
            if (!keep(c)) return;
            if (!sink) { table.push(c); return; }
            pending += json ? json.item(withTimes(c)) : JSON.stringify(withTimes(c)) + '\n';
            // Batched: one write per connection costs more than the analysis on short-connection captures.
            if (pending.length >= 1 << 16) { sink.write(pending); pending = ''; }
          },
        });
        progress.done();
        if (json) pending += json.close({ capture: result.capture, summary: result.summary, warnings: result.warnings });
        if (pending) sink?.write(pending);
      } finally {
        sink?.close();
      }
      if (!sink) {
        table.sort((a, b) => a.id - b.id);
        writeResult(io, renderFlowsTable(table, useColour(io) && !opts.out), opts.out, Boolean(opts.force));
      }
      if (result.capture.error) {
        io.stderr(captureErrorLine(result.capture.error, file, result.capture.packets));
        setExit(2);
      }
    });
}

/**
 * `{ "connections": [ … ], "capture": …, "summary": …, "warnings": … }`, pretty-printed like the
 * other JSON reports, written one connection at a time: the array comes first because the
 * capture's summary is known only at its end.
 */
class JsonConnections {
  private count = 0;

  open(): string {
    return '{\n  "connections": [';
  }

  item(c: object): string {
    const text = JSON.stringify(c, null, 2).replace(/\n/g, '\n    ');
    return `${this.count++ === 0 ? '' : ','}\n    ${text}`;
  }

  close(rest: object): string {
    const tail = JSON.stringify(rest, null, 2); // "{\n  "capture": …\n}"
    return `${this.count ? '\n  ' : ''}],\n${tail.slice(2)}\n`;
  }
}

/** The record with its first/last packet times as ISO-8601 UTC (µs) up front, for people and tools. */
function withTimes(c: Connection): Connection & { first: string; last: string } {
  return { first: isoWithPrecision(c.firstMicros, 0, 6), last: isoWithPrecision(c.lastMicros, 0, 6), ...c };
}

function connectionFilter(opts: FlowsOptions): (c: Connection) => boolean {
  const host = opts.host;
  const port = opts.port !== undefined ? parsePort(opts.port, '--port') : null;
  const states = opts.state ? opts.state.split(',').map((s) => s.trim().toUpperCase()) : null;
  if (states) for (const s of states) if (!STATES.includes(s as ConnState)) throw new UsageError(`unknown --state '${s}' (choose from ${STATES.join(' ')})`);
  const minIdle = opts.minIdle !== undefined ? parseNumber(opts.minIdle, '--min-idle', { min: 0 }) : null;
  return (c) =>
    (host === undefined || c.endpoints.client.host === host || c.endpoints.server.host === host) &&
    (port === null || c.endpoints.client.port === port || c.endpoints.server.port === port) &&
    (states === null || states.includes(c.state)) &&
    (minIdle === null || c.maxIdleSeconds >= minIdle);
}

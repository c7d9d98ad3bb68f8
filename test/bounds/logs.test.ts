/**
 * Access logs built to hurt: a 10 MB line, JSON nested 10,000 deep, and lines built to make a
 * backtracking matcher explode against custom format strings. Each is read in bounded memory and
 * time, and a line that cannot be read is counted and quoted (rejectedSamples), never dropped
 * silently.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import { randomFormat } from '../../src/fuzz/mutate-log.js';
import { Rng } from '../../src/fuzz/random.js';
import { BUILTIN_FORMATS, compileFormat, matchFormat, MAX_LINE_BYTES, parseLogText, readLogFile, type MatchStats } from '../../src/logs/index.js';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';
import { LineBuffer } from '../../src/logs/read.js';
import { LogLineProcessor } from '../../src/logs/parse.js';
import { MIB, tempDir } from './support.js';

const UC_LINE = '[2024-05-01T10:00:12.345Z] "GET /api/items/4 HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 12 - "-" "curl/8.4.0" "6d67d674-2122-4a2d-b172-0be70c674371" "api.internal" "10.200.9.9:80" outbound|80||api.internal 10.200.1.2:45720 10.200.9.9:80 10.200.1.1:51000 - default';
const CAPTURE = join(REPO_ROOT, 'captures/rst-after-idle/client-any.pcap');

describe('a log line of 10 MB', () => {
  const huge = 'x'.repeat(10 * MIB);

  it('is skipped by the file reader holding at most its 1 MiB limit, and quoted as rejected', async () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, 'huge-line.log');
      writeFileSync(file, `${UC_LINE}\n${huge}\n${UC_LINE}\n`);
      const r = await readLogFile(file, { hop: 'client' });
      expect(r.entries).toHaveLength(2);
      expect(r.rejected).toBe(1);
      expect(r.rejectedSamples).toEqual([{ line: 2, text: `${'x'.repeat(200)}…`, reason: `line is ${10 * MIB} bytes, longer than the ${MAX_LINE_BYTES}-byte limit` }]);
    } finally {
      remove();
    }
  });

  it('never holds more than the limit of it: the line buffer counts what it keeps, chunk by chunk', () => {
    const buf = new LineBuffer();
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    let most = 0;
    for (let at = 0; at < 10 * MIB; at += chunk.length) {
      buf.append(chunk);
      most = Math.max(most, buf.heldBytes);
    }
    expect(most).toBeLessThanOrEqual(MAX_LINE_BYTES);
    // Past the limit only the head for the rejected-line sample stays.
    expect(buf.heldBytes).toBeLessThanOrEqual(1000);
    const p = new LogLineProcessor('x.log', { hop: 'x' });
    buf.flush(p, 1);
    expect(buf.heldBytes).toBe(0);
    expect(p.finish().rejectedSamples[0]?.reason).toBe(`line is ${10 * MIB} bytes, longer than the ${MAX_LINE_BYTES}-byte limit`);
  });

  it('is rejected the same way from text in memory', () => {
    const r = parseLogText(`${UC_LINE}\n${huge}\n${UC_LINE}`);
    expect(r.entries).toHaveLength(2);
    expect(r.rejectedSamples[0]?.reason).toBe(`line is ${10 * MIB} bytes, longer than the ${MAX_LINE_BYTES}-byte limit`);
  });

  it('shows up in the analysis: the logs summary quotes it and the CLI says a line was skipped', async () => {
    const { dir, remove } = tempDir();
    try {
      const file = join(dir, 'client.log');
      writeFileSync(file, `${UC_LINE}\n${huge}\n`);
      const result = await analyzeCapture(CAPTURE, { logs: [{ hop: 'client', file }], idleThresholdSeconds: 5 });
      expect(result.logs?.hops[0]).toMatchObject({ lines: 2, entries: 1, rejected: 1 });
      expect(result.logs?.hops[0]?.rejectedSamples[0]?.reason).toMatch(/longer than the \d+-byte limit/);
      const cli = await runCli(['analyze', '--idle-threshold', '5', '--logs', `client=${file}`, CAPTURE]);
      expect(cli.stderr).toBe(`flowdoc: ${file}: 1 of 2 lines are not access-log entries and were skipped (first: line 2: line is ${10 * MIB} bytes, longer than the ${MAX_LINE_BYTES}-byte limit)\n`);
    } finally {
      remove();
    }
  });
});

describe('a JSON log line nested 10,000 deep', () => {
  const deep = (open: string, close: string, n = 10_000) => open.repeat(n) + '1' + close.repeat(n);

  it('parses when the nesting sits under a key flowdoc ignores', () => {
    const r = parseLogText(`{"response_code":503,"response_flags":"UC","extra":${deep('[', ']')}}`);
    expect(r.entries).toEqual([expect.objectContaining({ responseCode: 503, flags: ['UC'] })]);
  });

  it('is rejected and quoted when it is nothing but nesting, arrays or objects', () => {
    const r = parseLogText([deep('[', ']'), deep('{"a":', '}'), UC_LINE].join('\n'));
    expect(r.entries).toHaveLength(1);
    expect(r.rejected).toBe(2);
    // A line starting with `[` is tried as text (the built-in formats open with `[%START_TIME%]`).
    expect(r.rejectedSamples.map((s) => [s.line, s.reason])).toEqual([
      [1, 'does not match istio-1.23: expected a timestamp for %START_TIME% at column 2'],
      [2, 'JSON object has none of the Istio access-log keys'],
    ]);
    expect(r.rejectedSamples[0]!.text).toBe(`${'['.repeat(200)}…`);
  });

  it('inside a Docker wrapper, unwrapped and read', () => {
    const inner = JSON.stringify({ log: `${UC_LINE}\n`, stream: 'stdout', time: '2024-05-01T10:00:12.400Z' }).replace(/}$/, `,"attrs":${deep('{"a":', '}')}}`);
    const r = parseLogText(inner);
    expect(r.entries).toEqual([expect.objectContaining({ responseCode: 503 })]);
  });
});

describe('custom format strings against lines built for catastrophic backtracking', () => {
  /** Lines made of the format's own literal pieces, repeated: every way to split them is "almost" a match. */
  function hostileLines(format: string): string[] {
    const pieces = format.split(/%[A-Z_]+(?:\([^)]*\))?(?::\d+)?%/).filter((p) => p.length > 0);
    const out = [' '.repeat(40_000), '"'.repeat(40_000), '" '.repeat(20_000), '[' + '1'.repeat(40_000)];
    for (const p of pieces.slice(0, 4)) out.push(p.repeat(Math.ceil(40_000 / p.length)), (p + 'a').repeat(Math.ceil(40_000 / (p.length + 1))), (p + '-' + p).repeat(Math.ceil(20_000 / (2 * p.length + 1))));
    return out;
  }

  it('look at each character a bounded number of times, for 300 random formats', () => {
    const rng = new Rng(42);
    let compiled = 0;
    for (let i = 0; i < 300; i++) {
      const source = randomFormat(rng);
      const r = compileFormat(source);
      if (!r.ok) continue;
      compiled++;
      for (const line of hostileLines(source)) {
        const stats: MatchStats = { steps: 0 };
        matchFormat(r.format, line, { file: 'x', line: 1, hop: 'x' }, stats);
        expect(stats.steps, `${JSON.stringify(source)} on ${JSON.stringify(line.slice(0, 40))}…`).toBeLessThanOrEqual(2 * line.length + 2 * source.length + 64);
      }
    }
    expect(compiled).toBeGreaterThan(100);
  });

  it('keep the built-in formats linear too', () => {
    for (const f of BUILTIN_FORMATS) {
      for (const line of hostileLines(f.source)) {
        const stats: MatchStats = { steps: 0 };
        matchFormat(f, line, { file: 'x', line: 1, hop: 'x' }, stats);
        expect(stats.steps).toBeLessThanOrEqual(2 * line.length + 2 * f.source.length + 64);
      }
    }
  });

  it('read a whole file of such lines with a custom format, each line in linear work', () => {
    const format = '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" %RESPONSE_CODE% %START_TIME(%Y/%m/%d %H:%M:%S)% [%ROUTE_NAME%]';
    const lines = hostileLines(format);
    const text = [...lines, '"curl" "id-1" 503 2024/05/01 10:00:12 [r1]'].join('\n');
    // The work is counted (steps), not timed: a clock says as much about the machine's load as about the matcher.
    const custom = compileFormat(format);
    if (!custom.ok) throw new Error(custom.message);
    for (const line of lines) {
      const stats: MatchStats = { steps: 0 };
      matchFormat(custom.format, line, { file: 'x', line: 1, hop: 'x' }, stats);
      expect(stats.steps).toBeLessThanOrEqual(2 * line.length + 2 * format.length + 64);
    }
    const r = parseLogText(text, { format });
    expect(r.entries).toEqual([expect.objectContaining({ userAgent: 'curl', requestId: 'id-1', responseCode: 503, routeName: 'r1' })]);
  });
});

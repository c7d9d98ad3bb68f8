import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gzip, healthyCapture, put, splitStale, staleCapture, tempDir } from '../support/scan-fixtures.js';
import { runScanCli, testWorker } from '../support/scan.js';

/** A valid capture followed by a record header claiming 4 GiB: reading stops there with bad-length. */
function corruptCapture(): Uint8Array {
  const good = staleCapture({ client: '10.0.0.5:40500', idle: 500 });
  const bad = new Uint8Array(good.length + 16);
  bad.set(good);
  new DataView(bad.buffer).setUint32(good.length + 8, 0xffffffff, true);
  new DataView(bad.buffer).setUint32(good.length + 12, 0xffffffff, true);
  return bad;
}

/**
 * An archive as SREs keep them: incidents in nested folders, healthy captures, a gzip capture, a
 * corrupt one, a truncated one, and files that are no captures at all.
 */
function mixedArchive(): string {
  const d = tempDir();
  put(d, 'node-a/2024-05-01/stale.pcap', staleCapture({ idle: 900 }));
  put(d, 'node-a/2024-05-01/healthy.pcap', healthyCapture());
  put(d, 'node-b/stale.pcapng.gz', gzip(staleCapture({ format: 'pcapng', client: '10.0.0.3:40300', idle: 400, survived: 120 })));
  put(d, 'node-b/deep/er/healthy.pcapng', healthyCapture({ seed: 9 }));
  put(d, 'node-c/corrupt.pcap', corruptCapture());
  const whole = staleCapture({ client: '10.0.0.4:40400', idle: 600 });
  put(d, 'node-c/truncated.pcap', whole.subarray(0, whole.length - 10));
  put(d, 'node-c/other-server.pcap', staleCapture({ server: '10.0.7.7:8080', client: '10.0.0.6:40600', idle: 90 }));
  put(d, 'README.txt', 'these are captures\n');
  put(d, 'node-a/app.log.gz', gzip(new TextEncoder().encode('2024-05-01 a log line\n'.repeat(50))));
  put(d, 'node-b/notes.pcap', 'renamed text, not a capture\n');
  put(d, 'node-c/empty.pcap', '');
  return d;
}

const json = (stdout: string) => JSON.parse(stdout) as import('../../src/scan/index.js').ScanReport;

describe('flowdoc scan on a mixed archive', () => {
  it('gives one row per capture in path order, reports damaged captures in their rows and skips what is not a capture', async () => {
    const d = mixedArchive();
    const r = await runScanCli(['scan', d, '--format', 'json', '--jobs', '2']);
    expect(r.code).toBe(1);
    const report = json(r.stdout);
    expect(report.captures.map((c) => c.path.slice(d.length + 1))).toEqual([
      'node-a/2024-05-01/healthy.pcap', 'node-a/2024-05-01/stale.pcap', 'node-b/deep/er/healthy.pcapng', 'node-b/stale.pcapng.gz',
      'node-c/corrupt.pcap', 'node-c/other-server.pcap', 'node-c/truncated.pcap',
    ]);
    const by = (p: string) => report.captures.find((c) => c.path.endsWith(p))!;
    expect(by('node-a/2024-05-01/stale.pcap')).toMatchObject({ incidents: 1, incidentsByKind: { 'stale-reuse-rst': 1 }, error: null, packets: 9, connections: 1 });
    expect(by('node-b/stale.pcapng.gz')).toMatchObject({ format: 'pcapng', gzip: true, incidents: 1 });
    expect(by('node-b/stale.pcapng.gz').destinations[0]!.idleTimeout).toMatchObject({ survivedSeconds: 120, failedSeconds: 400 });
    expect(by('healthy.pcap')).toMatchObject({ incidents: 0, connections: 3, destinations: [], error: null });
    // Damaged captures: the error in the row, what was read before it analysed.
    expect(by('corrupt.pcap').error).toMatchObject({ code: 'bad-length', frame: 10 });
    expect(by('corrupt.pcap')).toMatchObject({ packets: 9, incidents: 1 });
    expect(by('truncated.pcap').error).toMatchObject({ code: 'truncated-record', frame: 9 });
    expect(by('truncated.pcap').packets).toBe(8);
    expect(report.summary.totals).toMatchObject({
      captures: 7, capturesWithIncidents: 4, capturesWithErrors: 2, skipped: { notCapture: 3, empty: 1 }, incidents: 4,
    });
    // The lead: the destination that fails in most captures.
    expect(report.summary.destinations.map((x) => [x.server, x.captures])).toEqual([['10.0.9.9:80', 3], ['10.0.7.7:8080', 1]]);
    expect(report.summary.destinations[0]!.idleTimeout).toMatchObject({ survivedSeconds: 120, failedSeconds: 400, consistent: true });
    // Damage is told on stderr too, one line each, and never as exit code 2.
    expect(r.stderr).toMatch(/corrupt\.pcap: .*\(byte offset \d+, frame 10\); the 9 packets before it are analysed/);
    expect(r.stderr).toMatch(/truncated\.pcap: file ends inside a record/);
  });

  it('gives the same report with one worker or two', async () => {
    const d = mixedArchive();
    const one = await runScanCli(['scan', d, '--format', 'json', '--jobs', '1']);
    const two = await runScanCli(['scan', d, '--format', 'json', '--jobs', '2']);
    expect(two.stdout).toBe(one.stdout);
    const ndOne = await runScanCli(['scan', d, '--format', 'ndjson', '--jobs', '1']);
    const ndTwo = await runScanCli(['scan', d, '--format', 'ndjson', '--jobs', '2']);
    expect(ndTwo.stdout).toBe(ndOne.stdout);
  });

  it('prints ndjson: one capture per line, then one summary line', async () => {
    const d = mixedArchive();
    const r = await runScanCli(['scan', d, '--format', 'ndjson']);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; path?: string });
    expect(lines.map((l) => l.type)).toEqual([...Array(7).fill('capture'), 'summary']);
    expect(lines.slice(0, 7).map((l) => l.path)).toEqual(json((await runScanCli(['scan', d, '--format', 'json'])).stdout).captures.map((c) => c.path));
    expect(lines[7]).toMatchObject({ type: 'summary', shard: null, totals: { captures: 7 } });
  });

  it('never cuts an escape code in two when it wraps a cell (no literal `[39m` on a terminal)', async () => {
    const d = mixedArchive();
    const r = await runScanCli(['scan', d], { tty: true, env: { TERM: 'xterm' } });
    expect(r.stdout).toMatch(/\x1b\[33m\d+ captures? could not be read/);
    expect(r.stdout).toMatch(/error: .*file ends inside a record/);
    const bad = r.stdout.match(/.{0,20}(?:\x1b(?!\[\d+m)|(?<!\x1b)\[\d+m).{0,20}/);
    expect(bad?.[0] ?? null).toBeNull();
  });

  it('prints a table that fits 100 columns, long paths and all', async () => {
    const d = mixedArchive();
    put(d, 'a-rather-long-directory-name-for-one-node/and-another-long-one/capture-with-a-long-name.pcap', staleCapture({ idle: 50 }));
    const r = await runScanCli(['scan', d]);
    // Everything fits 100 columns but the commands to paste, which are never wrapped: each is one
    // whole line, its filter inside one pair of quotes.
    const lines = r.stdout.split('\n');
    const commands = lines.filter((l) => l.trimStart().startsWith('tshark '));
    expect(commands.length).toBeGreaterThan(0);
    for (const c of commands) expect(c).toMatch(/^ {3}tshark -r \S+ -Y '[^']+'$/);
    expect(Math.max(...lines.filter((l) => !commands.includes(l)).map((l) => [...l].length))).toBeLessThanOrEqual(100);
    expect(r.stdout).toMatch(/^flowdoc scan: 8 captures, [\s\S]*; 4 files skipped \(3 not captures,\s1\sempty\)/);
    expect(r.stdout).toContain(`Captures under ${d}/:`);
    expect(r.stdout).toMatch(/Destinations by captures with incidents/);
    expect(r.stdout).toMatch(/│ 10\.0\.9\.9:80 +│ 4 of 8 +│ 4 +│/);
  });

  it('draws progress on stderr only when it is a terminal', async () => {
    const d = mixedArchive();
    const quiet = await runScanCli(['scan', d, '--format', 'json', '--fail-on', 'none']);
    expect(quiet.stderr).not.toMatch(/captures,|ETA/);
    // A TTY: files done/total, bytes, rate (the last draw is erased at the end).
    const tty = await runScanCli(['scan', d, '--format', 'json', '--fail-on', 'none', '--jobs', '1'], { tty: true });
    expect(tty.stderr).toMatch(/\r\x1b\[2Kscan: [\d.]+ (B|KiB)( \/ [\d.]+ (B|KiB) \(\d+%\), [\d.]+ (B|KiB)\/s, ETA \d+ s)?, \d\/7 captures/);
  });
});

describe('flowdoc scan --stitch', () => {
  it('finds a connection idle across a rotation as ONE incident with the whole idle, citing the file and frame', async () => {
    const d = tempDir();
    const s = splitStale({ idle: 900 });
    const first = put(d, 'node-a/x.pcap', s.first);
    const second = put(d, 'node-a/x.pcap1', s.second);
    put(d, 'node-a/y.pcap', healthyCapture());

    const plain = json((await runScanCli(['scan', d, '--format', 'json'])).stdout);
    expect(plain.captures).toHaveLength(3);
    expect(plain.captures.flatMap((c) => c.incidentList).filter((i) => i.kind === 'stale-reuse-rst')).toEqual([]);

    const r = await runScanCli(['scan', d, '--stitch', '--format', 'json']);
    expect(r.code).toBe(1);
    const report = json(r.stdout);
    expect(report.captures.map((c) => c.path)).toEqual([first, `${d}/node-a/y.pcap`]);
    const row = report.captures[0]!;
    expect(row.files!.map((f) => [f.path, f.packets, f.firstFrame])).toEqual([[first, s.frames - 2, 1], [second, 2, s.frames - 1]]);
    // The files' first and last packet times are worded by the row from the µs the stitched source kept.
    expect(row.files!.map((f) => [f.first, f.last].every((t) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(t ?? '')))).toEqual([true, true]);
    expect(row.incidents).toBe(1);
    const i = row.incidentList[0]!;
    expect(i.kind).toBe('stale-reuse-rst');
    expect(i.idleSeconds).toBeCloseTo(900, 2);
    expect(i.frames).toEqual({ lastBeforeIdle: s.frames - 2, request: s.frames - 1, rst: s.frames });
    expect(i.locations).toEqual({
      lastBeforeIdle: { file: first, frame: s.frames - 2 },
      request: { file: second, frame: 1 },
      rst: { file: second, frame: 2 },
    });
    expect(i.wireshark).toEqual([
      { file: first, filter: expect.stringMatching(/frame\.number >= 7 && frame\.number <= 7$/) },
      { file: second, filter: expect.stringMatching(/frame\.number >= 1 && frame\.number <= 2$/) },
    ]);
    expect(i.summary).toContain(`(${second} frame 2)`);
    expect(row.warnings.some((w) => w.startsWith('no packet for 900.0 s between'))).toBe(true);
  });
});

describe('flowdoc scan --shard and flowdoc merge', () => {
  it('splits an archive into shards whose merge is the single run, byte for byte', async () => {
    const d = mixedArchive();
    put(d, 'node-d/x.pcap', staleCapture({ client: '10.0.0.8:40800' }));
    put(d, 'node-d/y.pcap', healthyCapture({ seed: 4 }));
    const single = await runScanCli(['scan', d, '--format', 'json']);
    const singleNd = await runScanCli(['scan', d, '--format', 'ndjson']);
    const singleTable = await runScanCli(['scan', d]);
    const out = tempDir();
    const shards: string[] = [];
    let rows = 0;
    for (let i = 0; i < 3; i++) {
      const r = await runScanCli(['scan', d, '--shards', '3', '--format', 'ndjson'], { env: { JOB_COMPLETION_INDEX: String(i) } });
      const f = join(out, `shard-${i}.ndjson`);
      writeFileSync(f, r.stdout);
      shards.push(f);
      rows += r.stdout.trimEnd().split('\n').length - 1;
      expect(JSON.parse(r.stdout.trimEnd().split('\n').pop()!).shard).toEqual({ index: i, count: 3 });
    }
    expect(rows).toBe(9);
    const merged = await runScanCli(['merge', '--format', 'json', ...shards.reverse()]);
    expect(merged.code).toBe(single.code);
    expect(merged.stdout).toBe(single.stdout);
    expect((await runScanCli(['merge', '--format', 'ndjson', ...shards])).stdout).toBe(singleNd.stdout);
    expect((await runScanCli(['merge', ...shards])).stdout).toBe(singleTable.stdout);
    // `cat shard-*.ndjson | flowdoc merge -`: the shards one after another in one stream.
    const piped = await runScanCli(['merge', '--format', 'json', '-'], { stdin: shards.map((f) => readFileSync(f, 'utf8')).join('') });
    expect(piped.stderr).toBe(merged.stderr);
    expect(piped.stdout).toBe(single.stdout);
    const twice = await runScanCli(['merge', '-'], { stdin: readFileSync(shards[0]!, 'utf8').repeat(2) });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/- \(shard 2 in it\): shard \d\/3 is also in -/);
    // --shard I/N picks the same share as JOB_COMPLETION_INDEX with --shards N.
    expect((await runScanCli(['scan', d, '--shard', '1/3', '--format', 'ndjson'])).stdout).toBe(readFileSync(join(out, 'shard-1.ndjson'), 'utf8'));
  });

  it('keeps the files of one rotation in one shard when stitching', async () => {
    const d = tempDir();
    for (let n = 0; n < 6; n++) {
      const s = splitStale({ client: `10.0.1.${n}:40000` });
      put(d, `node-${n}/x.pcap`, s.first);
      put(d, `node-${n}/x.pcap1`, s.second);
    }
    const single = await runScanCli(['scan', d, '--stitch', '--format', 'json']);
    const out = tempDir();
    const files = [];
    for (let i = 0; i < 2; i++) {
      const r = await runScanCli(['scan', d, '--stitch', '--shard', `${i}/2`, '--format', 'ndjson']);
      for (const line of r.stdout.trimEnd().split('\n').slice(0, -1)) expect(JSON.parse(line).files).toHaveLength(2);
      files.push(put(out, `s${i}.ndjson`, r.stdout));
    }
    expect((await runScanCli(['merge', '--format', 'json', ...files])).stdout).toBe(single.stdout);
  });

  it('refuses to merge an incomplete set of shards, with exit code 2', async () => {
    const d = mixedArchive();
    const r = await runScanCli(['scan', d, '--shard', '0/2', '--format', 'ndjson']);
    const f = put(tempDir(), 'shard-0.ndjson', r.stdout);
    const m = await runScanCli(['merge', f]);
    expect(m.code).toBe(2);
    expect(m.stderr).toContain('flowdoc: missing shard 1/2: the report would leave part of the archive out\n');
    expect(m.stderr).toContain('use --partial');
    const partial = await runScanCli(['merge', '--partial', '--format', 'json', f]);
    expect(json(partial.stdout).captures.length).toBe(r.stdout.trimEnd().split('\n').length - 1);
  });
});

describe('flowdoc scan exit codes', () => {
  it('exits 0 without incidents, 1 with them, 0 with --fail-on none', async () => {
    const d = tempDir();
    put(d, 'ok.pcap', healthyCapture());
    expect((await runScanCli(['scan', d])).code).toBe(0);
    put(d, 'bad.pcap', staleCapture());
    expect((await runScanCli(['scan', d])).code).toBe(1);
    expect((await runScanCli(['scan', d, '--fail-on', 'none'])).code).toBe(0);
  });

  it('does not let a damaged capture alone change the exit code, unless --fail-on errors', async () => {
    const d = tempDir();
    put(d, 'ok.pcap', healthyCapture());
    const whole = healthyCapture({ seed: 3 });
    put(d, 'cut.pcap', whole.subarray(0, whole.length - 5));
    const r = await runScanCli(['scan', d]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/cut\.pcap: file ends inside a record/);
    expect((await runScanCli(['scan', d, '--fail-on', 'errors'])).code).toBe(1);
  });

  it('exits 2 when there is no capture to scan (a wrong or empty folder must not pass a cron job), 0 for a shard that got none', async () => {
    const d = tempDir();
    put(d, 'notes.txt', 'nothing');
    const r = await runScanCli(['scan', d]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`flowdoc: no captures found in ${d}`);
    expect((await runScanCli(['scan', tempDir()])).code).toBe(2);
    // One capture, two shards: one shard has it, the other scanned its (empty) share correctly.
    put(d, 'one.pcap', healthyCapture({ seed: 1 }));
    const codes = [(await runScanCli(['scan', d, '--shard', '0/2'])).code, (await runScanCli(['scan', d, '--shard', '1/2'])).code];
    expect(codes).toEqual([0, 0]);
  });

  it('exits 2 on usage mistakes: a missing path, bad --jobs, --shard or --format, --shards without an index', async () => {
    const d = tempDir();
    const cases: [string[], RegExp][] = [
      [['scan', join(d, 'nope')], /nope: no such file or directory/],
      [['scan', d, '--jobs', '0'], /--jobs must be a whole number ≥ 1/],
      [['scan', d, '--shard', '2/2'], /counts from 0/],
      [['scan', d, '--shards', '2'], /JOB_COMPLETION_INDEX/],
      [['scan', d, '--format', 'xml'], /unknown --format 'xml' \(choose table, json, ndjson\)/],
      [['scan', d, '--logs', join(d, 'no-logs')], /no such directory \(--logs\)/],
      [['merge', join(d, 'missing.ndjson')], /missing\.ndjson: no such file/],
    ];
    for (const [args, message] of cases) {
      const r = await runScanCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('flowdoc scan keeps going when the analysis fails', () => {
  it('reports a capture whose analysis throws, and one whose worker dies, in their rows and scans the rest', async () => {
    const d = tempDir();
    put(d, 'a-throws.pcap', staleCapture());
    put(d, 'b-crashes.pcap', staleCapture());
    put(d, 'c.pcap', staleCapture());
    put(d, 'd.pcap', healthyCapture());
    const r = await runScanCli(['scan', d, '--format', 'json', '--jobs', '2'], { worker: testWorker('faulty') });
    const report = json(r.stdout);
    expect(report.captures.map((c) => [c.path.slice(d.length + 1), c.error?.code ?? null, c.incidents])).toEqual([
      ['a-throws.pcap', 'analysis-failed', 0], ['b-crashes.pcap', 'worker-crashed', 0], ['c.pcap', null, 1], ['d.pcap', null, 0],
    ]);
    expect(report.captures[0]!.error!.message).toBe('the analysis failed: offset is out of bounds (injected by the test)');
    expect(report.captures[1]!.error!.message).toMatch(/^the worker analysing it died: worker crash injected by the test/);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('a-throws.pcap: the analysis failed');
  });
});

describe('flowdoc scan --logs', () => {
  const logLine = '[2024-05-01T10:15:00.000Z] "GET /c HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 2 - "-" "curl/8" "req-1" "api" "10.0.9.9:80" outbound|80||api 10.0.0.1:40000 10.0.9.9:80 - - default\n';

  it('pairs captures with logs by name, directory or time and analyses them together', async () => {
    const d = tempDir();
    put(d, 'caps/podA.pcap', staleCapture({ idle: 900 }));
    put(d, 'caps/incident-7/client-any.pcap', staleCapture({ idle: 900 }));
    put(d, 'caps/loose.pcap', staleCapture({ idle: 900 }));
    put(d, 'caps/elsewhen.pcap', staleCapture({ idle: 900, start: '2024-06-01T00:00:00Z' }));
    put(d, 'logs/podA.sidecar.log', logLine);
    put(d, 'logs/incident-7/1-client.log', logLine);
    put(d, 'logs/by-time/gateway.log', logLine);
    const r = await runScanCli(['scan', join(d, 'caps'), '--logs', join(d, 'logs'), '--format', 'json']);
    const rows = Object.fromEntries(json(r.stdout).captures.map((c) => [c.path.slice(d.length + 6), c]));
    expect(rows['podA.pcap']!.logs).toEqual([{ hop: 'sidecar', file: join(d, 'logs/podA.sidecar.log'), rule: 'name' }]);
    expect(rows['incident-7/client-any.pcap']!.logs).toEqual([{ hop: 'client', file: join(d, 'logs/incident-7/1-client.log'), rule: 'directory' }]);
    expect(rows['loose.pcap']!.logs!.map((l) => [l.hop, l.rule])).toEqual([['client', 'time'], ['gateway', 'time'], ['podA.sidecar', 'time']]);
    expect(rows['elsewhen.pcap']!.logs).toBeNull();
    const verdict = rows['podA.pcap']!.incidentList[0]!.verdict!;
    expect(verdict.culprit).toBe('middlebox');
    expect(verdict.reason).toMatch(/sidecar/);
    expect(rows['elsewhen.pcap']!.incidentList[0]!.verdict).toBeNull();
  });
});

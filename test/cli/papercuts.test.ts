/**
 * What a new user tripped over (issue 20): each case failed before its fix.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';

const LAB = join(REPO_ROOT, 'captures/rst-after-idle');
const CAPTURE = join(LAB, 'client-any.pcap');

describe('option values', () => {
  it('names --fail-on, not --format, when its value is unknown', async () => {
    const r = await runCli(['analyze', CAPTURE, '--fail-on', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("flowdoc: unknown --fail-on 'bogus' (choose findings, incidents, none)\n");
  });

  it('refuses an --idle-threshold below 1 s, which would cut every idle gap short and find nothing', async () => {
    for (const v of ['0', '0.5']) {
      const r = await runCli(['analyze', CAPTURE, '--idle-threshold', v]);
      expect(r.code, v).toBe(2);
      expect(r.stderr, v).toMatch(new RegExp(`^flowdoc: --idle-threshold must be at least 1 s, not '${v.replace('.', '\\.')}': shorter silences are the ordinary pauses`));
      expect(r.stdout, v).toBe('');
    }
    for (const cmd of [['scan', LAB], ['watch', '-']]) {
      const r = await runCli([...cmd, '--idle-threshold', '0']);
      expect(r.code, cmd[0]).toBe(2);
      expect(r.stderr, cmd[0]).toMatch(/^flowdoc: --idle-threshold must be at least 1 s, not '0'/);
    }
    const ok = await runCli(['analyze', CAPTURE, '--idle-threshold', '1', '--format', 'json']);
    expect(JSON.parse(ok.stdout).incidents.map((i: { kind: string }) => i.kind)).toEqual(['stale-reuse-rst']);
  });

  it('refuses a --port outside 0-65535', async () => {
    const r = await runCli(['flows', CAPTURE, '--port', '99999']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("flowdoc: --port must be a TCP port (0-65535), not '99999'\n");
    expect((await runCli(['flows', CAPTURE, '--port', '80', '--format', 'ndjson'])).code).toBe(0);
  });
});

describe('--logs paths', () => {
  it('are checked before the capture is read: a typo is told at once, with exit 2 and nothing on stdout', async () => {
    // The capture does not exist either: the log's message comes first because nothing was read.
    const r = await runCli(['analyze', join(LAB, 'no-such.pcap'), '--logs', 'client=/nonexistent/envoy.log']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('flowdoc: --logs /nonexistent/envoy.log: cannot read the log file: no such file\n');
    expect(r.stdout).toBe('');
    const dir = await runCli(['analyze', CAPTURE, '--logs', `client=${LAB}`]);
    expect(dir.stderr).toBe(`flowdoc: --logs ${LAB}: cannot read the log file: is a directory\n`);
  });
});

describe('flowdoc logs -', () => {
  it('reads the log from standard input (kubectl logs … | flowdoc logs -)', async () => {
    const text = readFileSync(join(LAB, 'client.log'));
    const r = await runCli(['logs', '-', '--format', 'json'], { stdin: text });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.files).toEqual([expect.objectContaining({ file: 'stdin', hop: 'stdin', entries: 5, error: null })]);
    expect(j.triage.signatures.idleDrop).toBe(1);
    const named = await runCli(['logs', 'client-sidecar=-', '--format', 'json'], { stdin: text });
    expect(JSON.parse(named.stdout).files[0].hop).toBe('client-sidecar');
    const twice = await runCli(['logs', '-', 'b=-']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe('flowdoc: only one log can be read from standard input (-)\n');
  });
});

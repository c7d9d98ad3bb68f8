import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';

const CAPTURE = join(REPO_ROOT, 'captures/rst-after-idle/client-any.pcap');
const tmp = () => mkdtempSync(join(tmpdir(), 'flowdoc-cli-'));

describe('the CLI on bad input and usage mistakes', () => {
  it('says "no such file" in one line with exit code 2, no stack trace', async () => {
    const r = await runCli(['info', '/nonexistent/capture.pcap']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('flowdoc: /nonexistent/capture.pcap: no such file; 0 packets read before it are reported\n');
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it('names a text file as not a capture, with what it looks like', async () => {
    const dir = tmp();
    const f = join(dir, 'notes.txt');
    writeFileSync(f, 'hello, this is not a capture\n');
    const r = await runCli(['analyze', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/notes\.txt: not a pcap or pcapng capture: starts with 68 65 6c 6c .*a text file/);
    expect(r.stdout).toBe('');
  });

  it('keeps the packets before a cut in the middle of a record and reports file, offset and frame', async () => {
    const dir = tmp();
    const whole = readFileSync(CAPTURE);
    const f = join(dir, 'cut.pcap');
    writeFileSync(f, whole.subarray(0, whole.length - 10));
    const r = await runCli(['info', '--format', 'json', f]);
    expect(r.code).toBe(2);
    const info = JSON.parse(r.stdout);
    expect(info.packets).toBe(24);
    expect(info.error.code).toBe('truncated-record');
    expect(info.error.frame).toBe(25);
    expect(r.stderr).toMatch(/cut\.pcap: file ends inside a record: .* \(byte offset \d+, frame 25\); 24 packets read before it are reported/);
  });

  it('refuses an unknown --format with exit code 2', async () => {
    const r = await runCli(['analyze', '--format', 'xml', CAPTURE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("flowdoc: unknown --format 'xml' (choose table, json, markdown, html)\n");
  });

  it('refuses a non-number threshold with exit code 2', async () => {
    const r = await runCli(['analyze', '--idle-threshold', 'soon', CAPTURE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--idle-threshold must be a number/);
  });

  it('refuses an unknown command with exit code 2', async () => {
    const r = await runCli(['analyse-this']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });

  it('does not overwrite an existing --out file without --force', async () => {
    const dir = tmp();
    const out = join(dir, 'report.json');
    writeFileSync(out, 'keep me');
    const r = await runCli(['analyze', '-f', 'json', '--out', out, CAPTURE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/report\.json already exists \(use --force to overwrite it\)/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    const forced = await runCli(['analyze', '-f', 'json', '--out', out, '--force', '--idle-threshold', '5', CAPTURE]);
    expect(forced.code).toBe(1);
    expect(JSON.parse(readFileSync(out, 'utf8')).incidents).toHaveLength(1);
  });

  it('reads a capture from standard input', async () => {
    const r = await runCli(['info', '-f', 'json', '-'], { stdin: readFileSync(CAPTURE) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ file: '-', format: 'pcap', packets: 25, linkTypes: [276] });
  });

  it('refuses to read a capture from an interactive terminal', async () => {
    const r = await runCli(['info', '-'], { tty: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/standard input is a terminal/);
  });

  it('reports an unreadable log file in one line before reading the capture (test/cli/papercuts.test.ts has the details)', async () => {
    const r = await runCli(['analyze', '-f', 'json', '--idle-threshold', '5', '--logs', 'client=/nonexistent/envoy.log', CAPTURE]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/\/nonexistent\/envoy\.log/);
    expect(r.stdout).toBe('');
  });
});

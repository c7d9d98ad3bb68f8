import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';

// Real ss / /proc/net/tcp output from lab/sockets/run.sh (test/fixtures/sockets/README.md).
const FIX = join(REPO_ROOT, 'test/fixtures/sockets');
const SNAPSHOTS = join(FIX, 'ss-tnoi-snapshots.txt');
const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'schema/sockets-v1.schema.json'), 'utf8')) as Record<string, unknown>;
const validate = new Ajv2020({ allErrors: true, strict: true }).compile(schema);

describe('flowdoc sockets', () => {
  it('exits 1 with connections at risk against --lb-timeout, and its JSON follows schema/sockets-v1', async () => {
    const r = await runCli(['sockets', '-f', 'json', SNAPSHOTS, '--lb-timeout', '20']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(validate(j), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    expect(j.summary).toMatchObject({ connections: 7, keepaliveOff: 3, failing: 1, willFail: 5, atRisk: 1, vanished: 1 });
    // Remedies sized from the stated timeout: keepalive at half of it, given up within 90 %.
    const rem = j.remedies.find((x: { destination: string }) => x.destination === '10.215.0.2:8080');
    expect(rem.keepalive).toMatchObject({ idleSeconds: 10, probes: 3 });
    expect(rem.snippets.map((s: { title: string }) => s.title).join(' | ')).toMatch(/DestinationRule/);
  });

  it('validates every fixture\'s JSON against the schema, with and without --lb-timeout', async () => {
    for (const f of ['ss-tnoi.txt', 'ss-tnoie.txt', 'ss-tan-o.txt', 'ss-tnoi-server.txt', 'proc-net-tcp.txt']) {
      for (const extra of [[], ['--lb-timeout', '10']]) {
        const r = await runCli(['sockets', '-f', 'json', join(FIX, f), ...extra]);
        expect(r.stderr).toBe('');
        expect(validate(JSON.parse(r.stdout)), `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
      }
    }
  });

  it('exits 0 when nothing is at risk: an hour of load-balancer timeout with only idle-but-fresh connections and no retransmission', async () => {
    const r = await runCli(['sockets', join(FIX, 'ss-tnoi-server.txt'), '--lb-timeout', '3600']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/7 established connections in the latest snapshot/);
  });

  it('reads standard input (kubectl exec … ss -tnoi | flowdoc sockets -)', async () => {
    const r = await runCli(['sockets', '-', '--lb-timeout', '10.215.0.2:8081=20'], { stdin: readFileSync(join(FIX, 'ss-tnoi.txt')) });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/10\.215\.0\.2:8081/);
    expect(r.stdout).toMatch(/will-fail: 10\.215\.0\.1:56724 → 10\.215\.0\.2:8081 has been idle 31\.3 s/);
  });

  it('renders Markdown and HTML with the remedies\' snippets', async () => {
    const md = await runCli(['sockets', '-f', 'markdown', SNAPSHOTS, '--lb-timeout', '20']);
    expect(md.stdout).toMatch(/^# flowdoc sockets: /);
    expect(md.stdout).toMatch(/## Vanished between snapshots/);
    expect(md.stdout).toMatch(/```yaml/);
    const html = await runCli(['sockets', '-f', 'html', SNAPSHOTS, '--lb-timeout', '20']);
    expect(html.stdout).toMatch(/^<!doctype html>/i);
    expect(html.stdout).toMatch(/Connections at risk/);
  });

  it('names the file and line of input that is not socket output, and exits 2', async () => {
    const r = await runCli(['sockets', join(REPO_ROOT, 'package.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flowdoc: .*package\.json: line 1: no ss or \/proc\/net\/tcp output found/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('reports skipped lines on stderr in one line and still judges the rest', async () => {
    const text = `${readFileSync(join(FIX, 'ss-tnoi.txt'), 'utf8')}ESTAB 0 0 10.215.0.1:1234\n`;
    const r = await runCli(['sockets', '-', '--lb-timeout', '20'], { stdin: Buffer.from(text) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('flowdoc: standard input: 1 of 16 lines were not understood and were skipped (first: line 16: a socket line cut short)\n');
  });

  it('rejects a bad --lb-timeout as a usage error', async () => {
    const r = await runCli(['sockets', SNAPSHOTS, '--lb-timeout', 'gateway=20']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--lb-timeout: 'gateway' is not IP:PORT/);
  });
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';

const DIR = join(REPO_ROOT, 'captures/rst-after-idle');

describe('the commands as a user runs them', () => {
  it('analyze exits 1 with an incident, 0 with --fail-on none, and prints JSON with the verdict', async () => {
    const args = ['analyze', '-f', 'json', join(DIR, 'client-any.pcap'), '--logs', `client=${join(DIR, 'client.log')}`, '--logs', `server=${join(DIR, 'server.log')}`];
    const r = await runCli(args);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout);
    expect(j.incidents.map((i: { kind: string }) => i.kind)).toEqual(['stale-reuse-rst']);
    expect(j.incidents[0].verdict.culprit).toBe('middlebox');
    expect((await runCli([...args, '--fail-on', 'none'])).code).toBe(0);
  });

  it('analyze exits 0 on a capture without incidents', async () => {
    const r = await runCli(['analyze', join(REPO_ROOT, 'captures/keepalive-on/client-any.pcap')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/No incidents/);
  });

  it('flows prints one JSON object per connection in ndjson, with ISO times, filtered by state', async () => {
    const r = await runCli(['flows', '-f', 'ndjson', '--state', 'RSTR', join(DIR, 'client-any.pcap')]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'RSTR', server: '10.200.9.9:80' });
    expect(rows[0].first).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('flows --min-idle keeps only connections that idled that long', async () => {
    const r = await runCli(['flows', '-f', 'json', '--min-idle', '10', join(DIR, 'client-any.pcap')]);
    const j = JSON.parse(r.stdout);
    expect(j.connections).toHaveLength(1);
    expect(j.connections[0].maxIdleSeconds).toBeGreaterThan(10);
  });

  it('info reads the nanosecond pcapng written by the lab', async () => {
    const r = await runCli(['info', '-f', 'json', join(DIR, 'server.pcapng')]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'pcapng', precision: 9, linkTypes: [1], error: null });
    expect(JSON.parse(r.stdout).first).toMatch(/\.\d{9}Z$/);
  });

  it('logs triages the client log: one 503 with the idle-drop signature', async () => {
    const r = await runCli(['logs', '-f', 'json', join(DIR, 'client.log')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.triage.signatures.idleDrop).toBe(1);
    expect(j.triage.signatures.idleDropLocalReply).toBe(1);
  });
});

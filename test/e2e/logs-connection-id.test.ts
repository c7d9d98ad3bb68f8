import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';

/**
 * Stale reuse from the access log alone, on a log the lab's client sidecar wrote with
 * %UPSTREAM_CONNECTION_ID% (lab/scenarios.mjs, issue 15 block: `busy-connection-id`), checked
 * against what the capture of the same run shows (truth.json, computed by lab/verify.mjs from the
 * pcaps): the same requests, the same idle gaps, the same idle-timeout bracket.
 */
const DIR = join(REPO_ROOT, 'captures/busy-connection-id');
const LOG = join(DIR, 'client.log');

interface TruthIncident { kind: string; client: string; server: string; idleSeconds: number; requestId: string }
interface Truth {
  lbIdleTimeoutSeconds: number;
  captures: { file: string; incidents: TruthIncident[] }[];
  idleTimeoutBracket: { server: string; minSeconds: number; maxSeconds: number };
}
interface LogIncident { kind: string; keyedBy: string; upstreamConnectionId: string; upstreamLocalAddress: string; upstreamHost: string; requestId: string; idleSeconds: number; flags: string[] }

describe.skipIf(!existsSync(LOG))('flowdoc logs on the lab proxy\'s log with %UPSTREAM_CONNECTION_ID%', () => {
  const truth = JSON.parse(readFileSync(join(DIR, 'truth.json'), 'utf8')) as Truth;
  const captured = truth.captures.find((c) => c.file === 'client-any.pcap')!.incidents;

  it('ties every line by its connection id and finds exactly the requests the capture shows failing after an idle', async () => {
    const r = await runCli(['logs', '-f', 'json', LOG]);
    expect(r.stderr).toBe('');
    const sr = JSON.parse(r.stdout).staleReuse as { keyedByConnectionId: number; keyedByLocalAddress: number; connections: number; incidents: LogIncident[]; notStale: unknown[] };
    const lines = readFileSync(LOG, 'utf8').split('\n').filter(Boolean).length;
    expect(sr).toMatchObject({ keyedByConnectionId: lines, keyedByLocalAddress: 0, connections: 17, notStale: [] });
    expect(sr.incidents.map((i) => i.requestId).sort()).toEqual(captured.map((i) => i.requestId).sort());
    for (const i of sr.incidents) {
      const c = captured.find((x) => x.requestId === i.requestId)!;
      expect(i).toMatchObject({ kind: 'stale-reuse-log', keyedBy: 'connection-id', upstreamLocalAddress: c.client, upstreamHost: c.server, flags: ['UC'] });
      // The log's gap is START_TIME + DURATION to START_TIME (whole ms each); the capture's is packet to packet.
      expect(Math.abs(i.idleSeconds - c.idleSeconds)).toBeLessThan(0.01);
      expect(i.idleSeconds).toBeGreaterThan(truth.lbIdleTimeoutSeconds);
    }
    // One connection id per socket: no two ids share a local address.
    const ids = new Map(sr.incidents.map((i) => [i.upstreamLocalAddress, i.upstreamConnectionId]));
    expect(new Set(ids.values()).size).toBe(ids.size);
  });

  it('brackets the LB idle timeout from the log as the capture does', async () => {
    const r = await runCli(['logs', '-f', 'json', LOG]);
    const hosts = JSON.parse(r.stdout).staleReuse.byUpstreamHost as { upstreamHost: string; bracket: { survivedSeconds: number; failedSeconds: number; consistent: boolean } }[];
    const b = hosts.find((h) => h.upstreamHost === truth.idleTimeoutBracket.server)!.bracket;
    expect(b.consistent).toBe(true);
    expect(b.survivedSeconds).toBeLessThan(truth.lbIdleTimeoutSeconds);
    expect(b.failedSeconds).toBeGreaterThan(truth.lbIdleTimeoutSeconds);
    expect(Math.abs(b.survivedSeconds - truth.idleTimeoutBracket.minSeconds)).toBeLessThan(0.01);
    expect(Math.abs(b.failedSeconds - truth.idleTimeoutBracket.maxSeconds)).toBeLessThan(0.01);
  });
});

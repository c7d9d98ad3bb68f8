import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import { HAVE_SHARED, REAL } from './shared.js';

// nDPI's avast.pcap (a Windows client and avast's servers, captured one hop from the client):
// Windows keepalive probes carry one garbage byte; the servers probe too, after ~370 s, and the
// client never answers before a server resets. flowdoc once took the client's probe byte for a
// request waiting for its answer and reported `reset-in-flight`; then, once probes were known,
// took the server's unanswered probes for a forgotten connection. Neither is evidence: the
// probes reached the capture point next to the client, so no middlebox dropped them.
describe.skipIf(!HAVE_SHARED)('keepalive probes on real captures (../shared)', () => {
  it('nDPI avast.pcap: Windows one-byte probes are not requests, and far-side probes to a silent client are no incident', async () => {
    const r = await analyzeCapture(resolve(REAL, 'nDPI/tests/cfgs/default/pcap/avast.pcap'));
    expect(r.capture.error).toBeNull();
    expect(r.incidents).toEqual([]);
    const d = r.destinations.find((x) => x.server === '5.62.54.29:80')!;
    expect(d.keepalive).toMatchObject({ verdict: 'on', connectionsWithProbes: 3 });
    expect(d.keepalive.probesFrom).toEqual(['client', 'server']);
    expect(d.keepalive.probeIdleSeconds).toBeCloseTo(187.14, 1);
  });
});

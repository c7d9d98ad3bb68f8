import { describe, expect, it } from 'vitest';
import { mergeShards } from './merge.js';
import { renderScanNdjson } from './render.js';
import { summarize } from './summary.js';
import type { CaptureRow, DestinationRow, ScanReport, SurvivalRow } from './types.js';

function dest(server: string, incidents: number, failed: number | null, survived: number | null = null, measure: 'packet-gap' | 'data-idle' = 'packet-gap'): DestinationRow {
  return {
    server, connections: incidents + 1, incidents, incidentsByKind: { 'stale-reuse-rst': incidents }, keepalive: '',
    idleTimeout: failed === null ? null : { survivedSeconds: survived, failedSeconds: failed, measure, consistent: true, text: '' },
  };
}

function row(path: string, destinations: DestinationRow[], survivals: SurvivalRow[] = [], error = false): CaptureRow {
  const incidents = destinations.reduce((n, d) => n + d.incidents, 0);
  return {
    type: 'capture', path, files: null, format: 'pcap', gzip: false, bytes: 100, packets: 10, connections: 2, first: null, last: null,
    incidents, incidentsByKind: incidents ? { 'stale-reuse-rst': incidents } : {}, destinations, survivals,
    incidentList: [], incidentsNotListed: 0, atRisk: 0, willFail: 0, logs: null,
    error: error ? { code: 'truncated-record', message: 'cut', offset: 5, frame: 3, file: path } : null, warnings: [],
  };
}

describe('the archive summary', () => {
  it('ranks a destination that fails in many captures above one with more incidents in one', () => {
    const s = summarize([
      row('a.pcap', [dest('10.0.0.9:80', 1, 350)]),
      row('b.pcap', [dest('10.0.0.9:80', 1, 400), dest('10.0.0.7:443', 9, 60)]),
      row('c.pcap', [dest('10.0.0.9:80', 2, 360)]),
    ], { notCapture: 0, empty: 0 });
    expect(s.destinations.map((d) => [d.server, d.captures, d.incidents])).toEqual([['10.0.0.9:80', 3, 4], ['10.0.0.7:443', 1, 9]]);
    expect(s.destinations[0]!.capturePaths).toEqual(['a.pcap', 'b.pcap', 'c.pcap']);
  });

  it('combines idle-timeout brackets: the longest survived idle, the shortest failed one', () => {
    const s = summarize([
      row('a.pcap', [dest('10.0.0.9:80', 1, 400, 100)], [{ server: '10.0.0.9:80', packetGapSeconds: 100, idleSeconds: 100 }]),
      row('b.pcap', [dest('10.0.0.9:80', 1, 352, 30)], [{ server: '10.0.0.9:80', packetGapSeconds: 30, idleSeconds: 30 }]),
      // No incident here, but a 340 s idle that still worked: it raises the lower bound.
      row('c.pcap', [], [{ server: '10.0.0.9:80', packetGapSeconds: 340, idleSeconds: 340 }]),
    ], { notCapture: 0, empty: 0 });
    const b = s.destinations[0]!.idleTimeout!;
    expect([b.survivedSeconds, b.failedSeconds, b.consistent]).toEqual([340, 352, true]);
    expect(b.candidates.map((c) => c.seconds)).toEqual([350, 350]);
    expect(b.text).toMatch(/^idle timeout between 340 s and 352 s \(over 2 captures\); known defaults in range: AWS NLB/);
  });

  it('calls brackets that contradict each other inconsistent', () => {
    const s = summarize([
      row('a.pcap', [dest('10.0.0.9:80', 1, 60)]),
      row('b.pcap', [], [{ server: '10.0.0.9:80', packetGapSeconds: 900, idleSeconds: 900 }]),
    ], { notCapture: 0, empty: 0 });
    expect(s.destinations[0]!.idleTimeout).toMatchObject({ consistent: false, survivedSeconds: 900, failedSeconds: 60 });
  });

  it('counts totals, captures with incidents and captures with errors', () => {
    const s = summarize([row('a.pcap', [dest('x:1', 2, 20)]), row('b.pcap', [], [], true), row('c.pcap', [])], { notCapture: 4, empty: 1 });
    expect(s.totals).toEqual({
      captures: 3, capturesWithIncidents: 1, capturesWithErrors: 1, skipped: { notCapture: 4, empty: 1 },
      bytes: 300, packets: 30, connections: 6, incidents: 2, incidentsByKind: { 'stale-reuse-rst': 2 },
      atRisk: 0, willFail: 0, capturesWithAtRisk: 0,
    });
  });

  it('counts connections at risk over the captures', () => {
    const s = summarize([{ ...row('a.pcap', []), atRisk: 3, willFail: 1 }, row('b.pcap', []), { ...row('c.pcap', []), atRisk: 1, willFail: 1 }], { notCapture: 0, empty: 0 });
    expect(s.totals).toMatchObject({ atRisk: 4, willFail: 2, capturesWithAtRisk: 2 });
  });
});

describe('merging shards', () => {
  const options = { inputs: ['/data'], idleThresholdSeconds: 10, maxConnections: 1e6, skewSeconds: 1, stitch: false, logs: null, logFormat: null };
  const tool = { name: 'flowdoc' as const, version: '0.1.0' };
  const shard = (rows: CaptureRow[], index: number, count: number, skipped = { notCapture: 1, empty: 0 }) => {
    const report: ScanReport = { tool, options, captures: rows, summary: summarize(rows, skipped) };
    return renderScanNdjson(report, { index, count });
  };
  const a = row('/data/a.pcap', [dest('x:1', 1, 20)]);
  const b = row('/data/b.pcap', []);
  const c = row('/data/c.pcap', [dest('x:1', 3, 30)]);

  it('rebuilds the single run\'s report from the shards, in path order, skipped files added up', () => {
    const m = mergeShards([{ file: 's1', text: shard([b], 1, 2) }, { file: 's0', text: shard([a, c], 0, 2) }]);
    expect(m.problems).toEqual([]);
    const single: ScanReport = { tool, options, captures: [a, b, c], summary: summarize([a, b, c], { notCapture: 2, empty: 0 }) };
    expect(JSON.stringify(m.report)).toBe(JSON.stringify(single));
  });

  it('refuses a missing shard, a shard twice, an unfinished shard and other options, unless told to merge what is there', () => {
    expect(mergeShards([{ file: 's0', text: shard([a], 0, 3) }, { file: 's2', text: shard([c], 2, 3) }]).problems)
      .toEqual(['missing shard 1/3: the report would leave part of the archive out']);
    expect(mergeShards([{ file: 's0', text: shard([a], 0, 2) }, { file: 'again', text: shard([a], 0, 2) }]).problems)
      .toEqual(['again: shard 0/2 is also in s0', 'missing shard 1/2: the report would leave part of the archive out', '/data/a.pcap appears in more than one input']);
    const unfinished = shard([b], 1, 2).split('\n')[0] + '\n';
    const m = mergeShards([{ file: 's0', text: shard([a], 0, 2) }, { file: 's1', text: unfinished }]);
    expect(m.report).toBeNull();
    expect(m.problems[0]).toMatch(/s1: no summary line: the shard did not finish/);
    const partial = mergeShards([{ file: 's0', text: shard([a], 0, 2) }, { file: 's1', text: unfinished }], { partial: true });
    expect(partial.report!.captures.map((r) => r.path)).toEqual(['/data/a.pcap', '/data/b.pcap']);
    const other = shard([b], 1, 2).replace('"idleThresholdSeconds":10', '"idleThresholdSeconds":30');
    expect(mergeShards([{ file: 's0', text: shard([a], 0, 2) }, { file: 's1', text: other }]).problems[0]).toMatch(/s1: scanned with other options than s0/);
  });

  it('names a line that is not JSON', () => {
    const m = mergeShards([{ file: 's0', text: '{"type":"capture"\n' + shard([], 0, 1) }]);
    expect(m.problems).toEqual(['s0: line 1 is not JSON (a shard cut short?)']);
  });
});

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../analysis/analyze.js';
import { REPO_ROOT } from '../../test/corpus/shared.js';
import { renderJson } from './json.js';

/**
 * Lab captures with every kind of timed evidence: a server FIN (reuse-after-fin), a GOAWAY and a
 * killed stream (h2), a keepalive probe, killed streams after idle, and retransmissions (blackhole).
 */
const CAPTURES = ['server-fin', 'h2-goaway-race', 'keepalive-too-slow', 'h2-rst-after-idle', 'blackhole']
  .map((name) => join(REPO_ROOT, 'captures', name, 'client-eth.pcap'));

/** What looks like an ISO-8601 time: the text detect no longer makes. */
const ISO_TEXT = /^[+-]?\d{4,6}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** Paths of the ISO-looking strings anywhere in `v`. */
function isoStrings(v: unknown, path = ''): string[] {
  if (typeof v === 'string') return ISO_TEXT.test(v) ? [path] : [];
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => isoStrings(x, `${path}.${k}`));
}

/** µs since the epoch as ISO with six digits, worked out here apart from the report's formatter. */
const iso = (micros: number) => `${new Date(Math.floor(micros / 1e6) * 1000).toISOString().slice(0, 19)}.${String(micros % 1e6).padStart(6, '0')}Z`;

describe('incident times as data: µs from detect, ISO from the report', () => {
  it('hands on incidents whose key-frame times are µs only (no `times` text to parse back)', async () => {
    for (const file of CAPTURES) {
      const r = await analyzeCapture(file);
      expect(r.incidents.length, file).toBeGreaterThan(0);
      for (const i of r.incidents) {
        expect('times' in i, file).toBe(false);
        expect(isoStrings(i.micros), file).toEqual([]);
      }
    }
  });

  it('writes the JSON `times` from `micros`, just before it, as schema v2 has them', async () => {
    for (const file of CAPTURES) {
      const r = await analyzeCapture(file);
      const doc = JSON.parse(renderJson(r)) as { incidents: Record<string, unknown>[] };
      doc.incidents.forEach((j, n) => {
        const m = r.incidents[n]!.micros;
        const keys = Object.keys(j);
        expect(keys[keys.indexOf('times') + 1], file).toBe('micros');
        expect(j.times, file).toEqual({
          lastBeforeIdle: m.lastBeforeIdle === null ? null : iso(m.lastBeforeIdle),
          request: m.request === null ? null : iso(m.request),
          rst: m.rst === null ? null : iso(m.rst),
          ...(m.serverFin !== undefined && { serverFin: iso(m.serverFin) }),
        });
      });
    }
  });
});

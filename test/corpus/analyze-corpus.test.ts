import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import { renderJson } from '../../src/report/index.js';
import { HAVE_SHARED, loadOracles } from './shared.js';

/**
 * `flowdoc analyze` reads every public capture to its end and reports. Four of them (nDPI
 * ocs.pcap, sites.pcapng, http_asymmetric.pcapng, chrissanders http_espn_fail.pcapng) once sent
 * the attempt expiry into an endless loop that grew an array until the process died.
 */
describe.skipIf(!HAVE_SHARED)('analyze on every capture of the public corpus', () => {
  for (const { file, oracle } of loadOracles()) {
    it(`reads ${oracle.corpus_path} to the end and renders its report`, async () => {
      const r = await analyzeCapture(file);
      const json = JSON.parse(renderJson(r)) as { summary: { connections: number }; incidents: unknown[] };
      expect(json.summary.connections).toBe(r.summary.connections);
      expect(json.incidents).toHaveLength(r.incidents.length);
    });
  }
});

/**
 * A scan worker whose analysis misbehaves on purpose, to prove a scan survives it: on a capture
 * named `*throws*` the analysis throws; on one named `*crashes*` the whole worker thread dies.
 * Every other capture gets the real `analyzeCapture`.
 */
import { parentPort } from 'node:worker_threads';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import { serveTasks } from '../../src/scan/serve.js';

if (parentPort) {
  serveTasks(parentPort, {
    analyze: async (file, options) => {
      if (file.includes('throws')) throw new RangeError('offset is out of bounds (injected by the test)');
      if (file.includes('crashes')) setImmediate(() => { throw new Error('worker crash injected by the test'); });
      if (file.includes('crashes')) await new Promise(() => {});
      return analyzeCapture(file, options);
    },
  });
}

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../src/analysis/analyze.js';
import { HAVE_SHARED, REAL } from './shared.js';

// nDPI's selfsigned.pcap: one TLS 1.2 session on loopback. The server answers, closes (FIN, frame
// 17), the client acknowledges and sends its close_notify alert (frame 19, an Alert record of 31
// bytes), and the server's closed socket answers it with RST (frame 20) — the ordinary end of a
// TLS session. flowdoc once read that alert as a request sent on a closed connection and reported
// `reuse-after-fin` "confidence high" with a fix of "close after ? s".
describe.skipIf(!HAVE_SHARED)('TLS close alerts on real captures (../shared)', () => {
  it('nDPI selfsigned.pcap: a close_notify after the server\'s FIN is no incident', async () => {
    const r = await analyzeCapture(resolve(REAL, 'nDPI/tests/cfgs/default/pcap/selfsigned.pcap'));
    expect(r.capture.error).toBeNull();
    expect(r.summary.connections).toBe(1);
    expect(r.incidents).toEqual([]);
  });
});

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runFlows } from '../analysis/flows.js';
import { CaptureScript } from '../writer/index.js';
import { BYTES_PER_ATTEMPT } from './attempts.js';
import type { Connection } from './connection.js';
import type { TableOptions } from './table.js';

const START = '2024-05-01T10:00:00Z';
const GET = 'GET /a HTTP/1.1\r\nHost: api\r\n\r\n';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** Every connection of `bytes` in the order the table hands them on, and the table's counts. */
async function run(bytes: Uint8Array, table: Partial<TableOptions>) {
  const out: Connection[] = [];
  const r = await runFlows('-', (c) => out.push(c), { stdin: Readable.from([Buffer.from(bytes)]), table });
  return { connections: out, stats: r.table };
}

/** A SYN flood with ordinary traffic through it: answered, refused, retried, reused, tagged and IPv6 attempts. */
function mixed(): Uint8Array {
  const cap = new CaptureScript({ start: START, stepMicros: 500 });
  for (let i = 0; i < 3000; i++) {
    cap.tcp({ client: `100.64.${i >> 8}.${i & 0xff}:${1024 + i}`, server: '10.0.0.9:443' }).syn();
    if (i % 100 === 0) {
      const c = cap.tcp({ client: `10.1.0.${i / 100}:40000`, server: '10.0.0.2:80' });
      c.handshake();
      c.clientSends(GET);
      c.serverSends(OK);
      c.fin('client');
      c.fin('server');
    }
    if (i % 250 === 0) {
      const refused = cap.tcp({ client: `10.2.0.${i / 250}:40001`, server: '10.0.0.2:81' });
      refused.syn();
      refused.rst('server', { ack: true });
      const retried = cap.tcp({ client: `10.3.0.${i / 250}:40002`, server: '10.0.0.2:82' });
      retried.syn();
      retried.syn(); // the same ISN again
      const tagged = cap.tcp({ client: `10.4.0.${i / 250}:40003`, server: '10.0.0.2:83', link: { vlans: [{ id: 100 + i / 250 }] } });
      tagged.syn();
      const v6 = cap.tcp({ client: `[2001:db8::${i}]:40004`, server: '[2001:db8::2]:443' });
      v6.syn();
    }
    if (i === 1500) {
      // The flood's first tuple again, with a new ISN: port reuse of an attempt held as data.
      cap.tcp({ client: '100.64.0.0:1024', server: '10.0.0.9:443' }).syn();
    }
  }
  return cap.toPcap();
}

describe('connection attempts held as data (a bare IPv4 SYN is a slot in typed arrays until a second packet)', () => {
  it('gives the same records, in the same order, as connection objects from the first packet', async () => {
    const bytes = mixed();
    for (const table of [{}, { attemptTimeoutMicros: 500_000 }, { maxConnections: 400 }, { maxConnections: 400, attemptTimeoutMicros: 300_000 }, { idleExpiryMicros: 1_000_000 }]) {
      const data = await run(bytes, table);
      const objects = await run(bytes, { ...table, attemptsAsData: false });
      expect(data.connections.length).toBeGreaterThan(3000);
      expect(data.connections).toEqual(objects.connections);
      expect({ ...data.stats, peakAttemptBytes: 0 }).toEqual({ ...objects.stats, peakAttemptBytes: 0 });
      expect(objects.stats.peakAttemptBytes).toBe(0);
    }
  });

  it('costs at most 256 bytes a live attempt by the table\'s own count (BYTES_PER_ATTEMPT a slot, arrays doubled as they fill)', async () => {
    const cap = new CaptureScript({ start: START, stepMicros: 2 });
    for (let i = 0; i < 20_000; i++) cap.tcp({ client: `100.64.${i >> 8}.${i & 0xff}:${1024 + (i % 50_000)}`, server: '10.0.0.9:443' }).syn();
    const { connections, stats } = await run(cap.toPcap(), {});
    expect(connections).toHaveLength(20_000);
    expect(stats.peakLive).toBe(20_000);
    expect(BYTES_PER_ATTEMPT).toBe(92);
    // 20,000 slots in arrays of 32,768: 151 bytes a live attempt.
    expect(stats.peakAttemptBytes).toBe(32_768 * BYTES_PER_ATTEMPT);
    expect(stats.peakAttemptBytes / stats.peakLive).toBeLessThanOrEqual(256);
  });
});

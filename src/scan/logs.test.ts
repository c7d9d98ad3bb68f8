import { describe, expect, it } from 'vitest';
import { put, staleCapture, tempDir } from '../../test/support/scan-fixtures.js';
import { captureSpan, captureStems, hopName, indexLogDir, loadLogTimes, pairByNameOrDirectory, pairByTime } from './logs.js';

const line = (time: string) => `[${time}] "GET /c HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 2 - "-" "curl/8" "req-1" "api" "10.0.9.9:80" outbound|80||api 10.0.0.1:40000 10.0.9.9:80 - - default\n`;

describe('pairing captures with logs', () => {
  it('strips capture extensions, gzip and rotation marks from the name to pair by', () => {
    expect(captureStems('podA.pcap')).toEqual(['podA']);
    expect(captureStems('podA.pcapng.gz')).toEqual(['podA']);
    expect(captureStems('podA.pcap3')).toEqual(['podA']);
    expect(captureStems('podA-2024-05-01_10:00:00.pcap')).toEqual(['podA-2024-05-01_10:00:00', 'podA']);
  });

  it('names hops by file, without a leading order number', () => {
    expect(hopName('2-gateway-b')).toBe('gateway-b');
    expect(hopName('podA-sidecar')).toBe('podA-sidecar');
    expect(hopName('42')).toBe('42');
  });

  it('pairs by name first: <stem>.log and <stem>.<hop>.log, those in the mirrored directory winning', async () => {
    const d = tempDir();
    put(d, 'day1/podA.log', 'x');
    put(d, 'day1/podA.2-server.log', 'x');
    put(d, 'day1/podA.1-client.log', 'x');
    put(d, 'day2/podA.log', 'x');
    put(d, 'day1/other.log', 'x');
    const index = (await indexLogDir(d))!;
    expect(pairByNameOrDirectory('day1/podA.pcap', index)).toEqual([
      { hop: 'podA', file: `${d}/day1/podA.log`, rule: 'name' },
      { hop: 'client', file: `${d}/day1/podA.1-client.log`, rule: 'name' },
      { hop: 'server', file: `${d}/day1/podA.2-server.log`, rule: 'name' },
    ]);
    // No podA log in the capture's own folder: every podA log under DIR (same hop twice gets a #2).
    expect(pairByNameOrDirectory('day3/podA.pcap', index)).toEqual([
      { hop: 'podA', file: `${d}/day1/podA.log`, rule: 'name' },
      { hop: 'podA#2', file: `${d}/day2/podA.log`, rule: 'name' },
      { hop: 'client', file: `${d}/day1/podA.1-client.log`, rule: 'name' },
      { hop: 'server', file: `${d}/day1/podA.2-server.log`, rule: 'name' },
    ]);
  });

  it('pairs by directory next: DIR/<stem>/ or the folder the capture sits in', async () => {
    const d = tempDir();
    put(d, 'incident-7/1-client.log', 'x');
    put(d, 'incident-7/2-server.log', 'x');
    put(d, 'node-b/sidecar.log', 'x');
    const index = (await indexLogDir(d))!;
    expect(pairByNameOrDirectory('incident-7/client-any.pcap', index)).toEqual([
      { hop: 'client', file: `${d}/incident-7/1-client.log`, rule: 'directory' },
      { hop: 'server', file: `${d}/incident-7/2-server.log`, rule: 'directory' },
    ]);
    expect(pairByNameOrDirectory('node-b.pcap', index)).toEqual([{ hop: 'sidecar', file: `${d}/node-b/sidecar.log`, rule: 'directory' }]);
    expect(pairByNameOrDirectory('loose.pcap', index)).toEqual([]);
  });

  it('pairs by time last: a log with a START_TIME inside the capture\'s first..last packet', async () => {
    const d = tempDir();
    put(d, 'logs/gw.log', line('2024-05-01T10:15:00.000Z'));
    put(d, 'logs/yesterday.log', line('2024-04-30T10:15:00.000Z'));
    put(d, 'logs/notes.txt', 'no access log here\n');
    const cap = put(d, 'caps/x.pcap', staleCapture({ idle: 900 }));
    const index = (await indexLogDir(`${d}/logs`))!;
    const times = await loadLogTimes(index, null);
    expect(times.map((t) => t.stem)).toEqual(['gw', 'yesterday']);
    const span = (await captureSpan([cap]))!;
    expect(pairByTime(span.first / 1000, span.last / 1000, 1000, times)).toEqual([{ hop: 'gw', file: `${d}/logs/gw.log`, rule: 'time' }]);
    // The skew allowance widens the window on both sides.
    expect(pairByTime(span.first / 1000, span.first / 1000 + 1, 1000, times)).toEqual([]);
  });
});

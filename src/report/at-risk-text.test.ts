import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../analysis/analyze.js';
import { analyzeBytes } from '../../test/support/analyze.js';
import { REPO_ROOT } from '../../test/corpus/shared.js';
import { CaptureScript } from '../writer/index.js';
import { atRiskText, renderJson, renderMarkdown, renderTable, toJsonReport } from './index.js';

const AT_RISK = join(REPO_ROOT, 'captures', 'at-risk', 'client-any.pcap');
const DATA_KEYS = ['connection', 'endpoints', 'lastFrame', 'lastMicros', 'checkedMicros', 'idleSeconds', 'level', 'timeoutSeconds', 'basis', 'failSeconds', 'probes'];
const V2_KEYS = ['connection', 'client', 'server', 'lastFrame', 'lastTime', 'idleSeconds', 'keepalive', 'level', 'timeoutSeconds', 'basis', 'text'];

describe('connections at risk handed on as data', () => {
  it('a real capture: detect gives ends, µs and probes as data; the report words them, in the JSON where v2 has them', async () => {
    const failed = await analyzeCapture(AT_RISK);
    const stated = await analyzeCapture(AT_RISK, { lbTimeouts: { any: 30, byServer: new Map() } });
    for (const r of [failed, stated]) {
      expect(r.atRisk).toHaveLength(1);
      const a = r.atRisk[0]!;
      expect(Object.keys(a)).toEqual(DATA_KEYS);
      expect(a).toMatchObject({ endpoints: { client: { host: '10.200.1.2', port: 45092 }, server: { host: '10.200.9.9', port: 80 }, ipVersion: 4 }, lastFrame: 17, lastMicros: 1796585556683081, probes: null });
      expect(JSON.parse(renderJson(r)).atRisk.map((x: object) => Object.keys(x))).toEqual([V2_KEYS]);
    }
    // The words base f86e559 wrote (detect made them then), now from the data.
    expect(toJsonReport(failed).atRisk).toEqual([{
      connection: 2, client: '10.200.1.2:45092', server: '10.200.9.9:80', lastFrame: 17, lastTime: '2026-12-06T19:32:36.683081Z', idleSeconds: 11.922,
      keepalive: 'no keepalive probes seen', level: 'will-fail', timeoutSeconds: 11.007, basis: 'failed-idle',
      text: '10.200.1.2:45092 → 10.200.9.9:80 has been idle 11.9 s (since frame 17), at or past the 11.0 s after which a connection to it was forgotten; no keepalive probes seen: it will fail on next use',
    }]);
    expect(atRiskText(stated.atRisk[0]!)).toBe('10.200.1.2:45092 → 10.200.9.9:80 has been idle 11.9 s (since frame 17), longer than any idle known to survive to it (4.003 s); connections failed after 30.0 s; no keepalive probes seen: at risk on next use');
    expect(renderTable(stated)).toContain('at risk: 10.200.1.2:45092 → 10.200.9.9:80 has been idle 11.9 s');
    expect(renderMarkdown(failed)).toContain('| `10.200.1.2:45092 → 10.200.9.9:80` |');
    expect(renderMarkdown(failed)).toContain('17 at 2026-12-06T19:32:36.683081Z');
  });

  it('late probes, IPv6: the keepalive words come from the probes\' figures', async () => {
    const cap = new CaptureScript({ start: '2024-05-01T10:00:00Z' });
    const c = cap.tcp({ client: '10.0.0.1:42000', server: '10.9.9.9:80', serverTtl: 61 });
    c.handshake(); c.clientSends('GET / HTTP/1.1\r\nHost: x\r\n\r\n'); c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const v6 = cap.tcp({ client: '[2001:db8::1]:42001', server: '[2001:db8::9]:443', serverTtl: 61 });
    v6.handshake(); v6.clientSends('GET / HTTP/1.1\r\nHost: x\r\n\r\n'); v6.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    cap.idle(300); c.keepalive('client'); v6.keepalive('server');
    cap.idle(300); c.keepalive('client');
    cap.idle(250.0005);
    cap.tcp({ client: '10.0.0.1:42002', server: '10.8.8.8:80' }).handshake(); // the capture goes on
    const r = await analyzeBytes(cap.toPcap(), { lbTimeouts: { any: 240, byServer: new Map() } });
    expect(r.atRisk.map((a) => [a.probes!.idleSeconds.toFixed(2), a.probes!.intervalSeconds?.toFixed(2) ?? null])).toEqual([['300.00', null], ['300.00', '300.00']]);
    expect(toJsonReport(r).atRisk!.map((a) => [a.client, a.keepalive, a.text])).toEqual([
      ['[2001:db8::1]:42001', 'keepalive probes after 300 s idle', '[2001:db8::1]:42001 → [2001:db8::9]:443 has been idle 550 s (since frame 18), at or past the stated load-balancer timeout of 240 s; keepalive probes after 300 s idle: it will fail on next use'],
      ['10.0.0.1:42000', 'keepalive probes after 300 s idle, every 300 s', '10.0.0.1:42000 → 10.9.9.9:80 has been idle 250 s (since frame 20), at or past the stated load-balancer timeout of 240 s; keepalive probes after 300 s idle, every 300 s: it will fail on next use'],
    ]);
  });
});

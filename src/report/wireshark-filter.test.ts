import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../analysis/analyze.js';
import { REPO_ROOT } from '../../test/corpus/shared.js';
import { checkCommands } from './facts.js';
import { renderJson } from './json.js';
import { connectionFilter, displayFilter } from './wireshark-filter.js';

const capture = (p: string) => join(REPO_ROOT, 'captures', p);

function haveTshark(): boolean {
  try { execFileSync('tshark', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}
const TSHARK = haveTshark();

/** The frame numbers tshark selects with a display filter. */
function tsharkFrames(file: string, filter: string): number[] {
  return execFileSync('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' })
    .trim().split('\n').filter(Boolean).map(Number);
}

describe('the report makes the Wireshark filters from the incident\'s endpoints and frames', () => {
  it('an IPv6 incident gets ipv6.addr from its endpoints, and the TTL check reads ipv6.hlim', async () => {
    const file = capture('rst-after-idle-v6/client-any.pcap');
    const [i] = (await analyzeCapture(file)).incidents;
    // captures/rst-after-idle-v6/truth.json: the LB's RST at frame 15 after the request at 14.
    expect(displayFilter(i!)).toBe('ipv6.addr == fd00:200:1::2 && ipv6.addr == fd00:200:9::9 && tcp.port == 60826 && tcp.port == 80 && frame.number >= 13 && frame.number <= 15');
    expect(connectionFilter(i!.endpoints)).toBe('ipv6.addr == fd00:200:1::2 && ipv6.addr == fd00:200:9::9 && tcp.port == 60826 && tcp.port == 80');
    const [show, ttls] = checkCommands(i!, 'c.pcap');
    expect(show).toBe(`tshark -r c.pcap -Y '${displayFilter(i!)}'`);
    expect(ttls).toContain('-e ipv6.src -e ipv6.hlim');
    if (TSHARK) expect(tsharkFrames(file, displayFilter(i!))).toEqual([13, 14, 15]);
  });

  it('an IPv4 incident gets ip.addr, and the TTL check reads ip.ttl', async () => {
    const file = capture('rst-after-idle/client-any.pcap');
    const [i] = (await analyzeCapture(file)).incidents;
    expect(displayFilter(i!)).toMatch(/^ip\.addr == \S+ && ip\.addr == \S+ && tcp\.port == \d+ && tcp\.port == 80 && frame\.number >= \d+ && frame\.number <= \d+$/);
    expect(checkCommands(i!, 'c.pcap')[1]).toContain('-e ip.src -e ip.ttl');
    const { lastBeforeIdle, request, rst } = i!.frames;
    if (TSHARK) expect(tsharkFrames(file, displayFilter(i!))).toEqual([lastBeforeIdle, request, rst]);
  });

  it('spans every key frame: a reuse-after-fin filter starts at the server\'s FIN, before the last packet before the idle', async () => {
    const file = capture('server-fin/server.pcapng');
    const i = (await analyzeCapture(file)).incidents.find((x) => x.kind === 'reuse-after-fin')!;
    expect(i.frames).toMatchObject({ serverFin: 14, lastBeforeIdle: 15, request: 16, rst: 17 });
    expect(displayFilter(i)).toBe(`${connectionFilter(i.endpoints)} && frame.number >= 14 && frame.number <= 17`);
  });

  it('JSON carries the same text as displayFilter / connectionFilter, just before history, and a re-rendered report keeps them once', async () => {
    const r = await analyzeCapture(capture('rst-after-idle-v6/client-any.pcap'));
    const text = renderJson(r);
    const [j] = JSON.parse(text).incidents;
    expect(j.displayFilter).toBe(displayFilter(r.incidents[0]!));
    expect(j.connectionFilter).toBe(connectionFilter(r.incidents[0]!.endpoints));
    const keys = Object.keys(j);
    expect(keys.slice(keys.indexOf('rst'), keys.indexOf('history') + 1)).toEqual(['rst', 'displayFilter', 'connectionFilter', 'history']);
    expect(renderJson(JSON.parse(text))).toBe(text);
  });
});

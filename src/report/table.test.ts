import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCapture, type AnalysisResult } from '../analysis/analyze.js';
import { renderTable, TABLE_WIDTH } from './index.js';
import { wrap } from './analysis-table.js';
import { HAVE_RTSP, labScenarios, RTSP, skipNote } from './testing/real.js';
import { allKinds, analyse, rawIpv6, ScenarioDir, staleRst, removeScenarioDirs } from './testing/scenarios.js';

const ANSI = /\x1b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI, '');

let results: { name: string; r: AnalysisResult }[] = [];
let withLogs: AnalysisResult;
let hostile: AnalysisResult;
afterAll(removeScenarioDirs);
beforeAll(async () => {
  const d = new ScenarioDir();
  withLogs = await analyse(staleRst(d, { withLogs: true }));
  hostile = await analyse(staleRst(d, { hostile: true }));
  results = [
    { name: 'every kind', r: await analyse(allKinds(d)) },
    { name: 'with logs', r: withLogs },
    { name: 'hostile', r: hostile },
    { name: 'IPv6', r: await analyse(rawIpv6(d)) },
  ];
  if (HAVE_RTSP) results.push({ name: 'rtsp.pcap', r: await analyzeCapture(RTSP) });
  else skipNote('rtsp.pcap in the table tests', `${RTSP} is not on this machine`);
  for (const s of labScenarios()) results.push({ name: s.name, r: await analyzeCapture(s.pcap, { logs: s.logs }) });
});

describe('the table report', () => {
  it('fits a 100-column terminal: no line longer than 100 characters, with or without colour', () => {
    for (const { name, r } of results) {
      for (const colour of [false, true]) {
        const long = renderTable(r, { colour }).split('\n').filter((l) => [...visible(l)].length > TABLE_WIDTH);
        expect.soft(long, `${name}, colour ${colour}`).toEqual([]);
      }
    }
  });

  it('writes no escape sequence unless colour is asked for, and colours when it is', () => {
    const r = results[0].r;
    expect(renderTable(r, { colour: false })).not.toMatch(ANSI);
    expect(renderTable(r, { colour: true })).toMatch(ANSI);
    expect(visible(renderTable(r, { colour: true }))).toBe(renderTable(r, { colour: false }));
  });

  it('shows incidents, then destinations, then hops, then the fix', () => {
    const t = renderTable(withLogs);
    const at = (s: string) => t.indexOf(s);
    expect(at('│ kind')).toBeGreaterThan(-1);
    expect(at('│ destination')).toBeGreaterThan(at('│ kind'));
    expect(at('│ hop')).toBeGreaterThan(at('│ destination'));
    expect(at('\nFix\n')).toBeGreaterThan(at('│ hop'));
  });

  it('keeps cells short and puts the request, the RST reason, log lines and the filter in lines below', () => {
    const t = renderTable(withLogs);
    const tableLines = t.split('\n').filter((l) => l.startsWith('│'));
    // Nothing long is broken inside a cell: the request path, the reason and the filter are not in the tables.
    expect(tableLines.join('\n')).not.toMatch(/GET \/orders|forged|frame\.number/);
    expect(t).toMatch(/^ {3}request: GET \/orders\/7 Host orders\.shop\.svc\.cluster\.local x-request-id req-3$/m);
    expect(t).toMatch(/^ {3}RST: RST TTL 64 vs server TTL 61/m);
    expect(t).toMatch(/^ {3}log: orders-client-sidecar .*client\.log:3: 503 UC/m);
    expect(t).toMatch(/^ {3}log: orders-sidecar has no line for this request/m);
    expect(t).toMatch(/^ {3}verdict: /m);
    expect(t).toMatch(/^ {3}Wireshark: ip\.addr == 10\.10\.0\.5/m);
    // No word is cut in the middle in the narrative: every wrapped line ends at a word boundary.
    expect(t).not.toMatch(/stale-reu\n/);
  });

  it('shows the computed fix with the numbers and how they were chosen', () => {
    const t = renderTable(withLogs).replace(/\n\s+/g, ' ');
    expect(t).toMatch(/TCP keepalive time 390 s, interval 120 s, 3 probes; close connections idle over 390 s/);
    expect(t).toMatch(/the longest idle that still worked \(400 s, frame \d+\)/);
  });

  it('shows control characters from the capture as \\x escapes instead of sending them to the terminal', async () => {
    const r = await analyse(staleRst(new ScenarioDir(), { terminalEscapes: true }), { withLogs: false });
    expect(r.incidents[0].request?.path).toContain('\x1b');
    const t = renderTable(r, { colour: false });
    expect(t).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(t).toContain('/orders/\\x1b]0;owned\\x07\\x1b[2J');
  });

  it('prints hostile text from captures and file names as plain text', () => {
    const t = renderTable(hostile);
    expect(t).toContain("it's <script>alert(3)&amp;.pcap");
    expect(t).toContain('GET /orders/<script>alert(1)</script>');
  });
});

describe('wrap', () => {
  it('breaks at spaces with a hanging indent and cuts only words longer than a line', () => {
    expect(wrap('aaa bbb ccc', 9, '1. ')).toEqual(['1. aaa', '   bbb', '   ccc']);
    expect(wrap('x'.repeat(12), 8, '- ')).toEqual(['- xxxxxx', '  xxxxxx']);
    expect(wrap('', 10, 'x: ')).toEqual(['x: ']);
  });
});

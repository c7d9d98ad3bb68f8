import { afterAll, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../analysis/watch.js';
import { incidentSummary } from './incident-summary.js';
import { jsonIncident, toJsonReport } from './json.js';
import { analyse, rawIpv6, resetInFlight, reuseAfterFin, ScenarioDir, removeScenarioDirs } from './testing/scenarios.js';
import { renderWatchEvent } from './watch.js';

afterAll(removeScenarioDirs);

describe('the incident sentence, worded by the report from the evidence', () => {
  const d = new ScenarioDir();

  it('detect hands on the evidence as data, without a sentence; the JSON report words it', async () => {
    const s = reuseAfterFin(d);
    const r = await analyse(s);
    const [i] = r.incidents;
    expect(i).not.toHaveProperty('summary');
    const sentence = 'the server closed 10.10.0.5:43000 → 10.40.0.3:3000 (FIN, frame '
      + `${s.facts.fin}) but the client sent GET /users/2 on it anyway; reset by the server (frame ${s.facts.rst})`;
    expect(incidentSummary(i!)).toBe(sentence);
    expect(toJsonReport(r).incidents[0]!.summary).toBe(sentence);
  });

  it('cites every frame through the citation it is given, and nothing else', async () => {
    const s = reuseAfterFin(d);
    const [i] = (await analyse(s)).incidents;
    const cited: number[] = [];
    const text = incidentSummary(i!, (n) => { cited.push(n); return `part-${n % 2}.pcap frame ${n - 1}`; });
    expect(cited).toEqual([s.facts.fin, s.facts.rst]);
    expect(text).toContain(`(FIN, part-${Number(s.facts.fin) % 2}.pcap frame ${Number(s.facts.fin) - 1})`);
    expect(text).toContain(`(part-${Number(s.facts.rst) % 2}.pcap frame ${Number(s.facts.rst) - 1})`);
    expect(text).not.toMatch(/\(frame \d/);
  });

  it('words a reset in flight with the RST and the request it cut', async () => {
    const s = resetInFlight(d);
    const [i] = (await analyse(s)).incidents;
    expect(incidentSummary(i!)).toBe(`The server reset 10.10.0.5:44000 → 10.50.0.2:9000 (frame ${s.facts.rst}) while GET /upload (frame ${i!.frames.request}) was unanswered`);
  });

  it('writes IPv6 endpoints in brackets', async () => {
    const [i] = (await analyse(rawIpv6(d))).incidents;
    expect(incidentSummary(i!)).toMatch(/^a request on \[2001:db8:1::5\]:46000 → \[2001:db8:9::9\]:5432 after 1800 s idle \(no keepalive probes\) was reset by a middlebox 6 hops closer than the server \(frame \d+\); no FIN had been seen$/);
  });

  it('gives flowdoc watch the same sentence, in the ndjson event and in the table', async () => {
    const r = await analyse(reuseAfterFin(d));
    const incident = r.incidents[0]!;
    const event: WatchEvent = { event: 'incident', time: jsonIncident(incident).times.rst, incident };
    const line = JSON.parse(renderWatchEvent(event, 'ndjson')) as { incident: { summary: string } };
    expect(line.incident.summary).toBe(incidentSummary(incident));
    expect(renderWatchEvent(event, 'table').replace(/\s+/g, ' ')).toContain(incidentSummary(incident).replace(/\s+/g, ' '));
  });
});

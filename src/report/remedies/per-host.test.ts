import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AnalysisResult } from '../../analysis/analyze.js';
import { renderMarkdown } from '../index.js';
import { analyse, oneHostManyAddresses, removeScenarioDirs, ScenarioDir } from '../testing/scenarios.js';
import { computeRemedies } from './index.js';

// Parsed YAML is untyped; the test walks it by the paths Istio documents.
type Doc = Record<string, any>;

let r: AnalysisResult;
afterAll(removeScenarioDirs);
beforeAll(async () => { r = await analyse(oneHostManyAddresses(new ScenarioDir())); });

describe('one host behind several addresses', () => {
  it('gets one DestinationRule and one ServiceEntry, with the smallest values of all its destinations', () => {
    expect(r.incidents.map((i) => i.kind)).toEqual(['stale-reuse-rst', 'stale-reuse-rst', 'stale-reuse-rst']);
    const remedies = computeRemedies(r);
    expect(remedies.map((m) => m.host)).toEqual(['catalog.example.com', 'catalog.example.com', 'catalog.example.com']);
    const rules = remedies.flatMap((m) => m.snippets.filter((s) => s.code.includes('kind: DestinationRule')));
    const entries = remedies.flatMap((m) => m.snippets.filter((s) => s.code.includes('kind: ServiceEntry')));
    expect(rules).toHaveLength(1);
    expect(entries).toHaveLength(1);
    // Every destination's own keepalive is at most what its measurement allows; the rule takes the smallest.
    const smallest = remedies.map((m) => m.keepalive!).reduce((a, b) => (b.idleSeconds < a.idleSeconds ? b : a));
    expect(smallest.idleSeconds).toBe(Math.min(...remedies.map((m) => m.keepalive!.idleSeconds)));
    const dr = parse(rules[0]!.code) as Doc;
    expect(dr.metadata.name).toBe('flowdoc-catalog-example-com');
    expect(dr.spec.host).toBe('catalog.example.com');
    expect(dr.spec.trafficPolicy.connectionPool.tcp.tcpKeepalive).toEqual({ time: `${smallest.idleSeconds}s`, interval: `${smallest.intervalSeconds}s`, probes: smallest.probes });
    const idle = Math.min(...remedies.map((m) => m.idleTimeoutSeconds!));
    expect(dr.spec.trafficPolicy.connectionPool.http.idleTimeout).toBe(`${idle}s`);
    expect(rules[0]!.code.replace(/\n# /g, ' ')).toContain('One rule for catalog.example.com, which 3 destinations carry (10.60.0.1:8080, 10.60.0.2:8080, 10.60.0.3:8443): the smallest values');
    // The host's ports, both of them, in its one ServiceEntry.
    const se = parse(entries[0]!.code) as Doc;
    expect(se.spec.ports.map((p: Doc) => p.number)).toEqual([8080, 8443]);
    // The other remedies point to it.
    const owner = remedies.find((m) => m.snippets.includes(rules[0]!))!;
    for (const m of remedies.filter((x) => x !== owner)) expect(m.notes.at(-1)).toBe(`The DestinationRule for catalog.example.com is under ${owner.destination}: Istio takes one rule per host, and that one has the smallest values of every destination with this host, this one included.`);
  });

  it('prints one rule in the Markdown report, not one per destination', () => {
    const md = renderMarkdown(r);
    expect(md.match(/kind: DestinationRule/g)).toHaveLength(1);
    expect(md.match(/name: flowdoc-catalog-example-com/g)).toHaveLength(2); // the rule and the entry
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeCaptures } from '../analysis/analyze-many.js';
import { analyzeCapture, type AnalysisResult } from '../analysis/analyze.js';
import { renderJson, SCHEMA_VERSION } from './index.js';
import { HAVE_RTSP, labScenarios, REPO_ROOT, RTSP, skipNote } from './testing/real.js';
import { allKinds, analyse, probesIgnored, rawIpv6, resetInFlight, reuseAfterFin, ScenarioDir, staleRst, staleTimeout, removeScenarioDirs } from './testing/scenarios.js';

type Json = Record<string, unknown>;
const SCHEMA_FILE = resolve(REPO_ROOT, 'schema/analysis-v2.schema.json');
const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Json;

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(schema);

function check(text: string): void {
  const doc = JSON.parse(text) as unknown;
  const ok = validate(doc);
  expect(ok, JSON.stringify(validate.errors?.slice(0, 5), null, 2)).toBe(true);
}

/** Every `properties` entry anywhere in the schema, with its path. */
function allProperties(node: unknown, path: string, out: { path: string; value: Json }[]): void {
  if (Array.isArray(node)) { node.forEach((n, i) => allProperties(n, `${path}[${i}]`, out)); return; }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Json;
  if (o.properties && typeof o.properties === 'object') {
    for (const [k, v] of Object.entries(o.properties as Json)) out.push({ path: `${path}.${k}`, value: v as Json });
  }
  for (const [k, v] of Object.entries(o)) allProperties(v, `${path}/${k}`, out);
}

describe('the JSON schema', () => {
  it('is draft 2020-12 with a versioned $id', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.$id).toMatch(/v1$/);
    expect((schema.properties as Json).schemaVersion).toMatchObject({ const: SCHEMA_VERSION });
  });

  it('documents every property with a description', () => {
    const props: { path: string; value: Json }[] = [];
    allProperties(schema, '#', props);
    expect(props.length).toBeGreaterThan(150);
    const undocumented = props.filter((p) => typeof p.value.description !== 'string' || (p.value.description as string).length < 3).map((p) => p.path);
    expect(undocumented).toEqual([]);
  });

  it('rejects a field it does not document', () => {
    const ok = validate({ ...JSON.parse(renderJson(minimal)), surprise: 1 });
    expect(ok).toBe(false);
  });
});

let minimal: AnalysisResult;
const writerMade: Record<string, AnalysisResult> = {};
afterAll(removeScenarioDirs);
beforeAll(async () => {
  const d = new ScenarioDir();
  writerMade['stale-reuse-rst, with both sidecars\' logs'] = await analyse(staleRst(d, { withLogs: true }));
  writerMade['stale-reuse-rst, packets only'] = await analyse(staleRst(d), { withLogs: false });
  writerMade['hostile text in the path, the user agent and the file name'] = await analyse(staleRst(d, { hostile: true }));
  writerMade['stale-reuse-timeout'] = await analyse(staleTimeout(d));
  writerMade['reuse-after-fin'] = await analyse(reuseAfterFin(d));
  writerMade['reset-in-flight'] = await analyse(resetInFlight(d));
  writerMade['keepalive probes ignored by an L7 box'] = await analyse(probesIgnored(d));
  writerMade['non-HTTP over IPv6'] = await analyse(rawIpv6(d));
  writerMade['every kind in one capture'] = await analyse(allKinds(d));
  minimal = writerMade['reset-in-flight'];
});

describe('JSON output validates against the schema', () => {
  it('puts schemaVersion first and the remedies last', () => {
    const doc = JSON.parse(renderJson(writerMade['every kind in one capture'])) as Json;
    const keys = Object.keys(doc);
    expect(keys[0]).toBe('schemaVersion');
    expect(keys[keys.length - 1]).toBe('remedies');
    expect(doc.schemaVersion).toBe(2);
  });

  it('validates every writer-made analysis (each incident kind, with and without logs)', () => {
    for (const [name, r] of Object.entries(writerMade)) {
      expect.soft(validate(JSON.parse(renderJson(r))), `${name}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
    }
  });

  it('keeps the correlation fields when logs were given', () => {
    const doc = JSON.parse(renderJson(writerMade['stale-reuse-rst, with both sidecars\' logs'])) as { incidents: Json[]; logs: Json | null };
    expect(doc.logs).not.toBeNull();
    expect(doc.incidents[0].logs).toHaveLength(1);
    expect(doc.incidents[0].hops).toHaveLength(2);
    expect((doc.incidents[0].verdict as Json).culprit).toBe('middlebox');
  });

  it.skipIf(!HAVE_RTSP)('validates the analysis of the real rtsp.pcap', async () => {
    check(renderJson(await analyzeCapture(RTSP)));
  });

  const lab = labScenarios();
  if (!lab.length) skipNote('lab captures in the JSON schema test', 'no captures/<scenario>/ with client-any.pcap and logs');
  it.skipIf(!lab.length)('validates every lab capture analysed with its Istio logs', async () => {
    for (const s of lab) {
      const r = await analyzeCapture(s.pcap, { logs: s.logs });
      expect.soft(validate(JSON.parse(renderJson(r))), `${s.name}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
    }
  });

  it('validates the analyses of the headers-only (snap length) captures in captures/snaplen, truncated requests and streams included', async () => {
    const dir = resolve(REPO_ROOT, 'captures/snaplen');
    let truncated = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.pcap'))) {
      const text = renderJson(await analyzeCapture(join(dir, f)));
      truncated += (text.match(/"truncated":/g) ?? []).length;
      expect.soft(validate(JSON.parse(text)), `${f}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
    }
    expect(truncated).toBeGreaterThan(0);
  });

  it.skipIf(!lab.length)('validates every lab scenario analysed from three vantage points (client, LB, server) with the logs', async () => {
    for (const s of lab) {
      const dir = dirname(s.pcap);
      const r = await analyzeCaptures([
        { vantage: 'client', file: s.pcap }, { vantage: 'lb', file: join(dir, 'lb-any.pcap') }, { vantage: 'server', file: join(dir, 'server.pcapng') },
      ], { logs: s.logs });
      expect(r.alignment.vantages).toHaveLength(2);
      expect.soft(validate(JSON.parse(renderJson(r))), `${s.name}: ${JSON.stringify(validate.errors?.slice(0, 3))}`).toBe(true);
    }
  });
});

if (!HAVE_RTSP) skipNote('rtsp.pcap in the JSON schema test', `${RTSP} is not on this machine`);

describe('the schema is strict enough to catch mistakes', () => {
  it('rejects an unknown incident kind, a malformed time and a missing verdict field', () => {
    const doc = JSON.parse(renderJson(writerMade['stale-reuse-rst, with both sidecars\' logs'])) as { incidents: Json[] };
    const mutate = (f: (i: Json) => void) => {
      const copy = structuredClone(doc) as { incidents: Json[] };
      f(copy.incidents[0]);
      return validate(copy);
    };
    expect(mutate((i) => { i.kind = 'stale-reuse-maybe'; })).toBe(false);
    expect(mutate((i) => { (i.times as Json).request = '2024-05-01 10:00:00'; })).toBe(false);
    expect(mutate((i) => { delete (i.verdict as Json).confidence; })).toBe(false);
    expect(mutate(() => undefined)).toBe(true);
  });
});

/**
 * The package as a user gets it: what `npm pack` ships (the product, not the test tooling) and
 * what the package entry exports (the pipeline the CLI runs, usable as a library).
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as flowdoc from '../../src/index.js';
import { REPO_ROOT } from '../corpus/shared.js';
import { testWorker } from '../support/scan.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  main: string; types: string; files: string[]; scripts: Record<string, string>;
};

/** Every source file the shipped build compiles (its own files and everything they import). */
function shippedSources(): string[] {
  const configPath = join(REPO_ROOT, 'tsconfig.build.json');
  const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('tsconfig.build.json does not parse');
  expect(config.options.outDir).toBe(join(REPO_ROOT, 'dist'));
  expect(config.options.rootDir).toBe(join(REPO_ROOT, 'src'));
  const program = ts.createProgram(config.fileNames, config.options);
  return program.getSourceFiles()
    .map((f) => relative(REPO_ROOT, f.fileName))
    .filter((f) => !f.startsWith('node_modules') && !f.startsWith('..'));
}

describe('what the package ships', () => {
  it('builds dist/ from the product sources only: no fuzzer, benchmark, capture writer or test fixtures', () => {
    const sources = shippedSources();
    expect(sources).toContain('src/index.ts');
    expect(sources).toContain('src/cli/main.ts');
    expect(sources).toContain('src/scan/worker.ts');
    const tooling = sources.filter((f) => /^src\/(fuzz|bench|writer)\/|\/testing\/|\.test\.ts$|^test\//.test(f));
    expect(tooling).toEqual([]);
  });

  it('packs bin, dist and schema, and points main/types at the built entry src/index.ts', () => {
    expect([...pkg.files].sort()).toEqual(['bin', 'dist', 'schema']);
    // rootDir src → outDir dist: src/index.ts is built to exactly these two files.
    expect(pkg.main).toBe('dist/index.js');
    expect(pkg.types).toBe('dist/index.d.ts');
  });

  it('builds the fuzzer and the benchmark with their own config, outside dist/', () => {
    expect(pkg.scripts.fuzz).toContain('dist-tools/fuzz/main.js');
    expect(pkg.scripts.bench).toContain('dist-tools/bench/main.js');
    const tools = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.tools.json'), 'utf8')) as { compilerOptions: { outDir: string } };
    expect(tools.compilerOptions.outDir).toBe('dist-tools');
  });
});

describe('the package entry', () => {
  it('exports the pipeline, the renderers and the archive scan', () => {
    for (const name of [
      'analyzeCapture', 'analyzeCaptures', 'runFlows', 'captureInfo', 'readCapture', 'PacketDecoder', 'ConnectionTable',
      'Detector', 'readLogFile', 'correlate', 'renderAnalysis', 'renderTable', 'renderJson', 'renderMarkdown', 'renderHtml',
      'renderFlowsTable', 'incidentSummary', 'rstReason', 'probeImplies', 'retryText', 'computeRemedies', 'scanArchive', 'mergeShards', 'renderScanTable', 'renderScanJson', 'analyzeSockets',
    ] as const) {
      expect(typeof flowdoc[name], name).toBe('function');
    }
  });

  it('analyses a lab capture with its access log and renders every format, as flowdoc analyze does', async () => {
    const dir = join(REPO_ROOT, 'captures/rst-after-idle');
    const result = await flowdoc.analyzeCapture(join(dir, 'client-eth.pcap'), { logs: [{ hop: 'client', file: join(dir, 'client.log') }] });
    expect(result.capture.error).toBeNull();
    expect(result.incidents.map((i) => i.kind)).toEqual(['stale-reuse-rst']);
    const json = JSON.parse(flowdoc.renderAnalysis(result, 'json')) as { schemaVersion: number; incidents: unknown[] };
    expect(json.schemaVersion).toBe(flowdoc.SCHEMA_VERSION);
    expect(json.incidents).toHaveLength(1);
    expect(flowdoc.renderMarkdown(result)).toContain('stale-reuse-rst');
    expect(flowdoc.renderHtml(result)).toMatch(/^<!doctype html>/i);
    expect(flowdoc.renderTable(result)).toContain('10.200.9.9');
  });

  it('scans a folder of captures with scanArchive', async () => {
    const report = await flowdoc.scanArchive({
      inputs: [join(REPO_ROOT, 'captures/rst-after-idle')], jobs: 1, stitch: false, shard: null,
      idleThresholdSeconds: flowdoc.DEFAULT_IDLE_THRESHOLD_SECONDS, maxConnections: 100_000, skewSeconds: 1,
      logs: null, logFormat: null, worker: testWorker(),
    });
    expect(report.captures.length).toBeGreaterThanOrEqual(4);
    expect(report.captures.every((r) => r.error === null)).toBe(true);
    expect(report.captures.some((r) => r.incidents > 0)).toBe(true);
  });
});

/**
 * `npm run bench [-- options]`: generates synthetic captures with the project's writer into a
 * temporary directory and times flowdoc on them next to the floor (a plain Node read of the file)
 * and, when installed, tshark and tcpdump — each command a child process, several runs, medians.
 *
 *   --size 200MB,400MB    HTTP keep-alive mix sizes, each as pcap (the first also as pcapng); the
 *                         smallest and largest are compared for flat peak RSS. The 2 GB case by
 *                         hand: `npm run bench -- --size 200MB,2GB --connections 0 --runs 1`.
 *   --connections 200k    short connections in the connection-table stress capture (0 = none)
 *   --synflood 1.5M       unique tuples in the SYN-flood capture, one unanswered SYN each (0 = none)
 *   --runs 3              measured runs per command (medians are reported)
 *   --dir DIR             where captures and results go (default $TMPDIR/flowdoc-bench); captures
 *                         made earlier with the same parameters are reused
 *   --fresh               regenerate the captures
 *   --only NAMES          only these captures (comma-separated names, e.g. http-200MB.pcap)
 *   --commands NAMES      only these commands (floor,info,flows,analyze,tshark,tcpdump,scan)
 *   --scan-files 24       captures in the folder for the `flowdoc scan` comparison
 *   --profile             also write a CPU profile of one `flowdoc analyze` per capture (DIR/profiles)
 *   --out FILE            results JSON (default DIR/results.json; the Markdown table goes beside it)
 *
 * Targets (reported, never asserted; issue 17): on the HTTP captures analyze ≥ 10× faster than
 * `tshark -q -z conv,tcp` and within 5× of the floor, `flows --format ndjson` within 1.5× of
 * analyze, peak RSS within 20% from the smallest to the largest HTTP capture; on the SYN flood
 * peak RSS ≤ 512 MiB and ≥ 1 M packets/s; `scan --jobs 2` ≥ 1.6× faster than `--jobs 1`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateChurn, generateHttpMix, generateSynFlood, type GeneratedCapture } from './generate.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../..');
const FLOWDOC = join(REPO, 'bin/flowdoc.js');
const FLOOR = join(HERE, 'floor.js');
const RSS_PROBE = join(HERE, 'rss-probe.js');
const GNU_TIME = '/usr/bin/time';

// ---- options ---------------------------------------------------------------------------------

const USAGE = `npm run bench [-- options]   (node dist-tools/bench/main.js after npm run build && npm run build:tools)

  --size 200MB,400MB    HTTP keep-alive capture sizes (pcap each; pcapng too for the first)
  --connections 200k    short connections in the connection-table capture (0: none)
  --synflood 1.5M       unique tuples in the SYN-flood capture (0: none)
  --runs 3              runs per command; medians are reported
  --dir DIR             captures and results (default $TMPDIR/flowdoc-bench; captures are reused)
  --fresh               regenerate the captures
  --only NAMES          only these captures, e.g. http-200MB.pcap,churn-200k.pcap,synflood-1.5M.pcap
  --commands NAMES      floor,info,flows,analyze,tshark,tcpdump,scan
  --scan-files 24       captures in the folder for flowdoc scan --jobs 1 / 2
  --profile             also write a CPU profile of one analyze per capture
  --out FILE            results JSON (default DIR/results.json; Markdown beside it)

See docs/performance.md.
`;

interface BenchOptions {
  sizes: number[];
  connections: number;
  synflood: number;
  runs: number;
  dir: string;
  fresh: boolean;
  only: string[] | null;
  commands: string[] | null;
  scanFiles: number;
  profile: boolean;
  out: string;
}

/** `200MB`, `2GB`, `1.5GiB`, `500k` → bytes (decimal units; GiB/MiB binary). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (!m) throw new Error(`not a size: ${JSON.stringify(text)} (e.g. 200MB, 2GB)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const mult: Record<string, number> = { '': 1, k: 1e3, kb: 1e3, kib: 1024, m: 1e6, mb: 1e6, mib: 1 << 20, g: 1e9, gb: 1e9, gib: 2 ** 30 };
  return Math.round(n * mult[unit]!);
}

/** `200k`, `1M`, `1000000` → count. */
export function parseCount(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|m)?$/i.exec(text.trim());
  if (!m) throw new Error(`not a count: ${JSON.stringify(text)} (e.g. 200k, 1M)`);
  return Math.round(Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1e3 : 1e6) : 1));
}

function sizeLabel(bytes: number): string {
  if (bytes >= 1e9 && bytes % 1e8 === 0) return `${bytes / 1e9}GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)}MB`;
  return `${Math.round(bytes / 1e3)}kB`;
}

function countLabel(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

function options(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: '200MB,400MB' },
      connections: { type: 'string', default: '200k' },
      synflood: { type: 'string', default: '1.5M' },
      runs: { type: 'string', default: '3' },
      dir: { type: 'string', default: join(tmpdir(), 'flowdoc-bench') },
      fresh: { type: 'boolean', default: false },
      only: { type: 'string' },
      commands: { type: 'string' },
      'scan-files': { type: 'string', default: '24' },
      profile: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const dir = resolve(values.dir!);
  const sizes = values.size!.split(',').map(parseSize).sort((a, b) => a - b);
  return {
    sizes,
    connections: parseCount(values.connections!),
    synflood: parseCount(values.synflood!),
    runs: Math.max(1, Number(values.runs)),
    dir,
    fresh: values.fresh!,
    only: values.only ? values.only.split(',').map((s) => s.trim()) : null,
    commands: values.commands ? values.commands.split(',').map((s) => s.trim()) : null,
    scanFiles: Math.max(2, Number(values['scan-files'])),
    profile: values.profile!,
    out: values.out ? resolve(values.out) : join(dir, 'results.json'),
  };
}

// ---- captures --------------------------------------------------------------------------------

interface CaptureSpec {
  name: string;
  kind: 'http' | 'churn' | 'synflood';
  format: 'pcap' | 'pcapng';
  /** Target bytes (http) or connections (churn, synflood). */
  amount: number;
}

interface CaptureFile extends GeneratedCapture {
  name: string;
  kind: 'http' | 'churn' | 'synflood';
  format: 'pcap' | 'pcapng';
  amount: number;
}

/** Bump when the generator's output changes, so captures made by an older one are not reused. */
const GENERATOR_VERSION = 2;

function captureSpecs(o: BenchOptions): CaptureSpec[] {
  const specs: CaptureSpec[] = [];
  o.sizes.forEach((size, i) => {
    // pcap for every size; pcapng (the other reader) for the first.
    for (const format of i === 0 ? (['pcap', 'pcapng'] as const) : (['pcap'] as const)) {
      specs.push({ name: `http-${sizeLabel(size)}.${format}`, kind: 'http', format, amount: size });
    }
  });
  if (o.connections > 0) specs.push({ name: `churn-${countLabel(o.connections)}.pcap`, kind: 'churn', format: 'pcap', amount: o.connections });
  if (o.synflood > 0) specs.push({ name: `synflood-${countLabel(o.synflood)}.pcap`, kind: 'synflood', format: 'pcap', amount: o.synflood });
  return o.only ? specs.filter((s) => o.only!.includes(s.name)) : specs;
}

/** Generates a capture, or reuses the one made earlier with the same parameters. */
function ensureCapture(dir: string, spec: CaptureSpec, fresh: boolean, seed = 1): CaptureFile {
  const path = join(dir, spec.name);
  const manifest = `${path}.json`;
  const key = { generator: GENERATOR_VERSION, kind: spec.kind, format: spec.format, amount: spec.amount, seed };
  if (!fresh && existsSync(path) && existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { key: typeof key; capture: CaptureFile };
    if (JSON.stringify(m.key) === JSON.stringify(key) && statSync(path).size === m.capture.bytes) return m.capture;
  }
  log(`generating ${spec.name} …`);
  const g = spec.kind === 'http'
    ? generateHttpMix({ path, format: spec.format, targetBytes: spec.amount, seed })
    : spec.kind === 'churn'
      ? generateChurn({ path, format: spec.format, connections: spec.amount, seed })
      : generateSynFlood({ path, format: spec.format, tuples: spec.amount, seed });
  const capture: CaptureFile = { ...g, name: spec.name, kind: spec.kind, format: spec.format, amount: spec.amount };
  writeFileSync(manifest, JSON.stringify({ key, capture }, null, 2));
  log(`  ${(g.bytes / 1e6).toFixed(0)} MB, ${g.packets} packets, ${g.connections} connections in ${g.generateSeconds.toFixed(1)} s`);
  return capture;
}

// ---- measuring -------------------------------------------------------------------------------

interface Command {
  name: string;
  /** What it is, as a user would type it (FILE for the capture). */
  shown: string;
  argv: (file: string) => string[];
  node: boolean;
  /** Exit codes that mean success. */
  ok: number[];
}

interface Sample {
  /** Wall-clock time. */
  seconds: number;
  /** User + system CPU time (GNU time only; null otherwise): far less disturbed by other load than wall time. */
  cpuSeconds: number | null;
  /** Peak RSS, KiB; null when it could not be measured. */
  rssKiB: number | null;
}

interface Measurement {
  capture: string;
  command: string;
  shown: string;
  samples: Sample[];
  medianSeconds: number | null;
  medianCpuSeconds: number | null;
  minSeconds: number | null;
  maxSeconds: number | null;
  /** (max − min) / median: how noisy the runs were. */
  spread: number | null;
  medianRssMiB: number | null;
  maxRssMiB: number | null;
  mbPerSecond: number | null;
  packetsPerSecond: number | null;
  error: string | null;
}

function have(cmd: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
  return r.status === 0;
}

function toolVersion(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0 && !r.stdout) return null;
  return (r.stdout || r.stderr).split('\n').find((l) => l.trim() !== '')?.trim() ?? null;
}

function commands(): Command[] {
  const node = process.execPath;
  const list: Command[] = [
    { name: 'floor', shown: 'node dist-tools/bench/floor.js FILE', argv: (f) => [node, FLOOR, f], node: true, ok: [0] },
    { name: 'info', shown: 'flowdoc info FILE', argv: (f) => [node, FLOWDOC, 'info', f], node: true, ok: [0] },
    { name: 'flows', shown: 'flowdoc flows --format ndjson FILE > /dev/null', argv: (f) => [node, FLOWDOC, 'flows', '--format', 'ndjson', f], node: true, ok: [0] },
    { name: 'analyze', shown: 'flowdoc analyze FILE', argv: (f) => [node, FLOWDOC, 'analyze', '--fail-on', 'none', f], node: true, ok: [0] },
  ];
  if (have('tshark')) list.push({ name: 'tshark', shown: 'tshark -q -z conv,tcp -r FILE', argv: (f) => ['tshark', '-q', '-z', 'conv,tcp', '-r', f], node: false, ok: [0] });
  if (have('tcpdump')) list.push({ name: 'tcpdump', shown: 'tcpdump -nn -r FILE -w /dev/null', argv: (f) => ['tcpdump', '-nn', '-r', f, '-w', '/dev/null'], node: false, ok: [0] });
  return list;
}

/** Runs one command as a child (stdout to /dev/null), timing it and reading its peak RSS. */
function measure(argv: string[], isNode: boolean, ok: number[], gnuTime: boolean, scratch: string, env: NodeJS.ProcessEnv = {}): Promise<Sample & { error: string | null }> {
  const rssFile = join(scratch, `rss-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  let cmd: string[];
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, NO_COLOR: '1' };
  if (gnuTime) {
    cmd = [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, ...argv];
  } else if (isNode) {
    cmd = [argv[0]!, '--import', `file://${RSS_PROBE}`, ...argv.slice(1)];
    childEnv.FLOWDOC_BENCH_RSS_FILE = rssFile;
  } else {
    cmd = argv;
  }
  return new Promise((done) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < 4096) stderr += d.toString(); });
    child.on('error', (err) => done({ seconds: NaN, cpuSeconds: null, rssKiB: null, error: err.message }));
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      let rssKiB: number | null = null;
      let cpuSeconds: number | null = null;
      try {
        // GNU time: "maxrss user system" on its last line (a line before it may report the exit status).
        const fields = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.trim().split(/\s+/).map(Number);
        rssKiB = Number.isFinite(fields[0]) ? fields[0]! : null;
        if (fields.length >= 3 && fields.every(Number.isFinite)) cpuSeconds = fields[1]! + fields[2]!;
        rmSync(rssFile, { force: true });
      } catch {
        rssKiB = null;
      }
      const error = code !== null && ok.includes(code) ? null : `exit ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`;
      done({ seconds, cpuSeconds, rssKiB, error });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function summarise(bytes: number, packets: number, c: { name: string; shown: string }, samples: Sample[], error: string | null, captureName: string): Measurement {
  const secs = samples.map((s) => s.seconds).filter((s) => Number.isFinite(s));
  const cpu = samples.map((s) => s.cpuSeconds).filter((c): c is number => c !== null);
  const rss = samples.map((s) => s.rssKiB).filter((r): r is number => r !== null);
  const med = secs.length ? median(secs) : null;
  return {
    capture: captureName,
    command: c.name,
    shown: c.shown,
    samples,
    medianSeconds: med,
    medianCpuSeconds: cpu.length ? median(cpu) : null,
    minSeconds: secs.length ? Math.min(...secs) : null,
    maxSeconds: secs.length ? Math.max(...secs) : null,
    spread: med ? (Math.max(...secs) - Math.min(...secs)) / med : null,
    medianRssMiB: rss.length ? median(rss) / 1024 : null,
    maxRssMiB: rss.length ? Math.max(...rss) / 1024 : null,
    mbPerSecond: med ? bytes / 1e6 / med : null,
    packetsPerSecond: med ? packets / med : null,
    error,
  };
}

// ---- scan (hook) -----------------------------------------------------------------------------

/** Whether this build's CLI has a `scan` command (being built separately; see runScan). */
function scanAvailable(): boolean {
  const r = spawnSync(process.execPath, [FLOWDOC, 'scan', '--help'], { encoding: 'utf8' });
  return r.status === 0 && /scan/.test(r.stdout);
}

// ---- report ----------------------------------------------------------------------------------

interface Machine {
  cpus: number;
  cpuModel: string;
  ramGiB: number;
  freeRamGiB: number;
  node: string;
  os: string;
  date: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  tshark: string | null;
  tcpdump: string | null;
  rssSource: string;
}

interface Target {
  what: string;
  /** On median wall time (what the target is about). */
  value: number | null;
  /** The same ratio on median CPU time, which other load on the machine disturbs far less. */
  cpuValue: number | null;
  target: string;
  met: boolean | null;
}

interface Results {
  machine: Machine;
  options: Omit<BenchOptions, 'dir' | 'out'> & { dir: string };
  captures: CaptureFile[];
  measurements: Measurement[];
  scan: { status: string; files?: number; bytes?: number; jobs1?: Measurement; jobs2?: Measurement; speedup?: number | null };
  targets: Target[];
}

function find(ms: Measurement[], capture: string, command: string): Measurement | undefined {
  return ms.find((m) => m.capture === capture && m.command === command);
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a && b ? a / b : null;
}

function targets(captures: CaptureFile[], ms: Measurement[], scan: Results['scan']): Target[] {
  const out: Target[] = [];
  for (const c of captures) {
    const analyze = find(ms, c.name, 'analyze');
    if (c.kind === 'synflood') {
      const rss = analyze?.maxRssMiB ?? null;
      out.push({ what: `${c.name}: analyze peak RSS MiB`, value: rss, cpuValue: null, target: '≤ 512', met: rss === null ? null : rss <= 512 });
      const pps = analyze?.packetsPerSecond ?? null;
      const cpuPps = analyze?.medianCpuSeconds ? c.packets / analyze.medianCpuSeconds : null;
      out.push({ what: `${c.name}: analyze M packets/s`, value: pps === null ? null : pps / 1e6, cpuValue: cpuPps === null ? null : cpuPps / 1e6, target: '≥ 1', met: pps === null ? null : pps >= 1e6 });
      continue;
    }
    if (c.kind !== 'http') continue;
    const tshark = find(ms, c.name, 'tshark');
    const floor = find(ms, c.name, 'floor');
    const flows = find(ms, c.name, 'flows');
    const vsTshark = ratio(tshark?.medianSeconds, analyze?.medianSeconds);
    const vsFloor = ratio(analyze?.medianSeconds, floor?.medianSeconds);
    const flowsVsAnalyze = ratio(flows?.medianSeconds, analyze?.medianSeconds);
    if (tshark) {
      out.push({
        what: `${c.name}: tshark time / analyze time`, value: vsTshark, cpuValue: ratio(tshark.medianCpuSeconds, analyze?.medianCpuSeconds),
        target: '≥ 10', met: vsTshark === null ? null : vsTshark >= 10,
      });
    }
    out.push({
      what: `${c.name}: analyze time / floor time`, value: vsFloor, cpuValue: ratio(analyze?.medianCpuSeconds, floor?.medianCpuSeconds),
      target: '≤ 5', met: vsFloor === null ? null : vsFloor <= 5,
    });
    if (flows) {
      out.push({
        what: `${c.name}: flows ndjson time / analyze time`, value: flowsVsAnalyze, cpuValue: ratio(flows.medianCpuSeconds, analyze?.medianCpuSeconds),
        target: '≤ 1.5', met: flowsVsAnalyze === null ? null : flowsVsAnalyze <= 1.5,
      });
    }
  }
  const http = captures.filter((c) => c.kind === 'http' && c.format === 'pcap').sort((a, b) => a.bytes - b.bytes);
  if (http.length >= 2) {
    for (const cmd of ['info', 'flows', 'analyze']) {
      const small = find(ms, http[0]!.name, cmd)?.maxRssMiB;
      const large = find(ms, http[http.length - 1]!.name, cmd)?.maxRssMiB;
      const r = ratio(large, small);
      out.push({ what: `${cmd} peak RSS ${http[http.length - 1]!.name} / ${http[0]!.name}`, value: r, cpuValue: null, target: '≤ 1.2', met: r === null ? null : r <= 1.2 });
    }
  }
  if (scan.status === 'measured') {
    const sp = scan.speedup ?? null;
    out.push({
      what: 'scan --jobs 1 time / --jobs 2 time', value: sp, cpuValue: null, target: '≥ 1.6', met: sp === null ? null : sp >= 1.6,
    });
  }
  return out;
}

function fmt(n: number | null | undefined, digits = 2): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
}

function markdown(r: Results): string {
  const m = r.machine;
  const lines: string[] = [];
  lines.push(`Machine: ${m.cpus} × ${m.cpuModel}, ${m.ramGiB.toFixed(0)} GiB RAM, Node ${m.node}, ${m.os}; ${m.date}.`);
  lines.push(`Load average before/after: ${m.loadAverageBefore.map((x) => x.toFixed(2)).join(' ')} / ${m.loadAverageAfter.map((x) => x.toFixed(2)).join(' ')}. ` +
    `${r.options.runs} runs per command, medians; peak RSS from ${m.rssSource}. tshark: ${m.tshark ?? 'not installed'}; tcpdump: ${m.tcpdump ?? 'not installed'}.`);
  lines.push('');
  lines.push('| capture | packets | command | median s | spread | CPU s | MB/s | packets/s | peak RSS MiB | × floor | tshark × |');
  lines.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const c of r.captures) {
    const floor = find(r.measurements, c.name, 'floor');
    const tshark = find(r.measurements, c.name, 'tshark');
    for (const x of r.measurements.filter((y) => y.capture === c.name)) {
      const isFlowdoc = ['info', 'flows', 'analyze'].includes(x.command);
      lines.push(`| ${c.name} (${(c.bytes / 1e6).toFixed(0)} MB) | ${c.packets} | ${x.command}${x.error ? ` (error: ${x.error})` : ''} | ${fmt(x.medianSeconds)} | ${x.spread === null ? '–' : `${(x.spread * 100).toFixed(0)}%`} | ${fmt(x.medianCpuSeconds)} | ` +
        `${fmt(x.mbPerSecond, 0)} | ${x.packetsPerSecond === null ? '–' : Math.round(x.packetsPerSecond).toLocaleString('en-US')} | ${fmt(x.maxRssMiB, 0)} | ` +
        `${x.command === 'floor' ? '1' : fmt(ratio(x.medianSeconds, floor?.medianSeconds), 1)} | ${isFlowdoc ? fmt(ratio(tshark?.medianSeconds, x.medianSeconds), 1) : ''} |`);
    }
  }
  lines.push('');
  lines.push('| target | value | on CPU time | wanted | met |');
  lines.push('|---|---:|---:|---:|---|');
  for (const t of r.targets) lines.push(`| ${t.what} | ${fmt(t.value)} | ${fmt(t.cpuValue)} | ${t.target} | ${t.met === null ? '–' : t.met ? 'yes' : '**no**'} |`);
  lines.push('');
  if (r.scan.status === 'measured') {
    lines.push(`Scan: ${r.scan.files} captures (${((r.scan.bytes ?? 0) / 1e6).toFixed(0)} MB): --jobs 1 ${fmt(r.scan.jobs1?.medianSeconds)} s, --jobs 2 ${fmt(r.scan.jobs2?.medianSeconds)} s, speed-up ${fmt(r.scan.speedup)}×; peak RSS ${fmt(r.scan.jobs1?.maxRssMiB, 0)} / ${fmt(r.scan.jobs2?.maxRssMiB, 0)} MiB.`);
  } else {
    lines.push(`Scan: ${r.scan.status}.`);
  }
  return lines.join('\n') + '\n';
}

// ---- main ------------------------------------------------------------------------------------

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

async function main(argv: string[]): Promise<void> {
  const o = options(argv);
  mkdirSync(o.dir, { recursive: true });
  const scratch = join(o.dir, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const gnuTime = existsSync(GNU_TIME);
  const loadBefore = loadavg();
  const captures = captureSpecs(o).map((s) => ensureCapture(o.dir, s, o.fresh));
  const want = (name: string) => o.commands === null || o.commands.includes(name);
  const cmds = commands().filter((c) => want(c.name));

  // Warm the page cache, so the first measured run reads from memory like the others.
  for (const c of captures) await measure([process.execPath, FLOOR, c.path], true, [0], false, scratch);

  const samples = new Map<string, { samples: Sample[]; error: string | null }>();
  for (let run = 1; run <= o.runs; run++) {
    for (const c of captures) {
      for (const cmd of cmds) {
        const key = `${c.name}\0${cmd.name}`;
        const s = await measure(cmd.argv(c.path), cmd.node, cmd.ok, gnuTime, scratch);
        const entry = samples.get(key) ?? { samples: [], error: null };
        if (s.error) entry.error = s.error;
        else entry.samples.push({ seconds: s.seconds, cpuSeconds: s.cpuSeconds, rssKiB: s.rssKiB });
        samples.set(key, entry);
        log(`run ${run}/${o.runs} ${c.name} ${cmd.name}: ${s.error ? `ERROR ${s.error}` : `${s.seconds.toFixed(2)} s, ${s.rssKiB === null ? '?' : (s.rssKiB / 1024).toFixed(0)} MiB`}`);
      }
    }
  }
  const measurements: Measurement[] = [];
  for (const c of captures) {
    for (const cmd of cmds) {
      const e = samples.get(`${c.name}\0${cmd.name}`)!;
      measurements.push(summarise(c.bytes, c.packets, cmd, e.samples, e.error, c.name));
    }
  }

  if (o.profile) {
    const profDir = join(o.dir, 'profiles');
    mkdirSync(profDir, { recursive: true });
    for (const c of captures) {
      await measure([process.execPath, '--cpu-prof', '--cpu-prof-interval', '200', '--cpu-prof-dir', profDir, '--cpu-prof-name', `${c.name}.cpuprofile`, FLOWDOC, 'analyze', '--fail-on', 'none', c.path], true, [0], false, scratch);
      log(`profile: ${join(profDir, `${c.name}.cpuprofile`)} (summarise with: node dist-tools/bench/cpuprofile.js FILE)`);
    }
  }

  const scan = await runScan(o, gnuTime, scratch, want('scan'));

  const machine: Machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    ramGiB: totalmem() / 2 ** 30,
    freeRamGiB: freemem() / 2 ** 30,
    node: process.versions.node,
    os: `${platform()} ${release()}`,
    date: new Date().toISOString(),
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg(),
    tshark: have('tshark') ? toolVersion('tshark', ['--version']) : null,
    tcpdump: have('tcpdump') ? toolVersion('tcpdump', ['--version']) : null,
    rssSource: gnuTime ? '/usr/bin/time (%M)' : 'process.resourceUsage().maxRSS of the Node children (tshark/tcpdump RSS not measured)',
  };
  const results: Results = {
    machine,
    options: { sizes: o.sizes, connections: o.connections, synflood: o.synflood, runs: o.runs, dir: o.dir, fresh: o.fresh, only: o.only, commands: o.commands, scanFiles: o.scanFiles, profile: o.profile },
    captures,
    measurements,
    scan,
    targets: targets(captures, measurements, scan),
  };
  const md = markdown(results);
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, JSON.stringify(results, null, 2) + '\n');
  const mdPath = o.out.replace(/\.json$/, '') + '.md';
  writeFileSync(mdPath, md);
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(md);
  log(`results: ${o.out} and ${mdPath}`);
}

async function runScan(o: BenchOptions, gnuTime: boolean, scratch: string, wanted: boolean): Promise<Results['scan']> {
  if (!wanted) return { status: 'not requested' };
  // Builds without a `scan` command (older ones) skip this comparison and the report says so.
  if (!scanAvailable()) return { status: 'skipped: this build has no `flowdoc scan` command' };
  const folder = join(o.dir, `scan-${o.scanFiles}`);
  mkdirSync(folder, { recursive: true });
  let bytes = 0;
  for (let i = 0; i < o.scanFiles; i++) {
    const c = ensureCapture(folder, { name: `http-${i + 1}.pcap`, kind: 'http', format: 'pcap', amount: 8e6 }, o.fresh, i + 1);
    bytes += c.bytes;
  }
  const ms: Measurement[] = [];
  for (const jobs of [1, 2]) {
    const argv = [process.execPath, FLOWDOC, 'scan', '--jobs', String(jobs), folder];
    const samples: Sample[] = [];
    let error: string | null = null;
    for (let run = 1; run <= o.runs; run++) {
      const s = await measure(argv, true, [0, 1], gnuTime, scratch);
      if (s.error) error = s.error;
      else samples.push(s);
      log(`run ${run}/${o.runs} scan --jobs ${jobs}: ${s.error ? `ERROR ${s.error}` : `${s.seconds.toFixed(2)} s`}`);
    }
    ms.push(summarise(bytes, 0, { name: `scan --jobs ${jobs}`, shown: `flowdoc scan --jobs ${jobs} FOLDER` }, samples, error, basename(folder)));
  }
  return { status: 'measured', files: o.scanFiles, bytes, jobs1: ms[0], jobs2: ms[1], speedup: ratio(ms[0]!.medianSeconds, ms[1]!.medianSeconds) };
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});

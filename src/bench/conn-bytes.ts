/**
 * Bytes of JavaScript heap per live connection in the connection table, by what holds them:
 *
 *   node dist-tools/bench/conn-bytes.js [CAPTURE] [--connections 20000] [--attempt-timeout 5] [--detail] [--json]
 *
 * Runs the table over the capture in this process (capture → decode → ConnectionTable, as `flowdoc
 * analyze` does, with its default table settings), finds the last packet at which the most
 * connections were live, runs it again up to that packet, and takes a V8 heap snapshot there. The heap it holds
 * then, minus a snapshot taken before the table was made (after a warm-up pass, so compiled code
 * and the reader's buffers are in both), divided by the live connections, is reported by node
 * kind: objects by constructor (LiveConnection, Endpoint, AppSniffer, …), closures, strings, heap
 * numbers, arrays' element stores, the Map's hash table, typed arrays' backing stores.
 *
 * A heap snapshot collects garbage first and counts object sizes, not process memory, so the
 * figure does not depend on machine load or GC timing: the same build gives the same bytes on
 * the same capture (± a few bytes of compiled code). It is a benchmark figure, never a test
 * assertion. `--detail` also lists the strings, heap numbers, closures, plain objects and arrays
 * by the field that holds them (an edge counted at the size of what it points to; a shared target
 * is counted once per holder). Without CAPTURE it uses (and makes, once) the `held` capture of the benchmark's
 * generator: N connections established and none closed — every one live at the end.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeHeapSnapshot } from 'node:v8';
import { readCapture } from '../capture/index.js';
import { DecodeStatus, IpProtocol, PacketDecoder } from '../decode/index.js';
import { ConnectionTable, DEFAULT_TABLE_OPTIONS, type TableOptions } from '../flows/index.js';
import { generateHeld } from './generate.js';

interface Kind {
  count: number;
  bytes: number;
}

/** Feeds the capture to `table` up to frame `stopFrame` (inclusive; Infinity: all); calls `after` after each packet. */
async function feed(file: string, table: ConnectionTable, stopFrame: number, after?: (frame: number) => void): Promise<void> {
  const decoder = new PacketDecoder();
  let last = -Infinity;
  await readCapture(file, (r) => {
    if (r.frame > stopFrame) return;
    const p = decoder.decode(r);
    if (p.protocol !== IpProtocol.TCP || p.isFragment || p.status !== DecodeStatus.OK) return;
    const micros = r.hasTimestamp ? r.tsMicros : last === -Infinity ? 0 : last;
    if (micros >= last) last = micros;
    table.onPacket(p, r.frame, micros);
    after?.(r.frame);
  });
}

/**
 * Self sizes of every node in a heap snapshot file, summed by kind (see kindName). With `detail`,
 * strings, heap numbers, closures and element stores are also counted by what holds them
 * (`LiveConnection.lastMicros → (heap numbers)`): which field to shrink.
 */
function kinds(file: string, detail: boolean): Map<string, Kind> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const width = fields.length;
  const TYPE = fields.indexOf('type'), NAME = fields.indexOf('name'), SIZE = fields.indexOf('self_size'), EDGES = fields.indexOf('edge_count');
  const out = new Map<string, Kind>();
  const add = (key: string, bytes: number) => {
    const k = out.get(key) ?? { count: 0, bytes: 0 };
    k.count++;
    k.bytes += bytes;
    out.set(key, k);
  };
  const nodes = snap.nodes;
  const kindOf = (i: number) => kindName(types[nodes[i + TYPE]!]!, snap.strings[nodes[i + NAME]!]!);
  for (let i = 0; i < nodes.length; i += width) {
    const key = kindOf(i);
    if (key !== null) add(key, nodes[i + SIZE]!);
  }
  if (detail) {
    const ew = meta.edge_fields.length;
    const ETYPE = meta.edge_fields.indexOf('type'), ENAME = meta.edge_fields.indexOf('name_or_index'), ETO = meta.edge_fields.indexOf('to_node');
    const etypes = meta.edge_types[0];
    const leaf = new Set(['(strings)', '(heap numbers)', '(closures)', '(array: (object elements))', '(hidden: system / PropertyArray)', 'Object', 'Array']);
    let e = 0;
    for (let i = 0; i < nodes.length; i += width) {
      const owner = kindOf(i) ?? '(synthetic)';
      const n = nodes[i + EDGES]!;
      for (let k = 0; k < n; k++, e += ew) {
        const et = etypes[snap.edges[e + ETYPE]!]!;
        if (et === 'weak' || et === 'shortcut') continue;
        const to = snap.edges[e + ETO]!;
        const target = kindOf(to);
        if (target === null || !leaf.has(target) || owner === target) continue;
        const name = et === 'element' || et === 'hidden' ? `[${et}]` : snap.strings[snap.edges[e + ENAME]!]!;
        add(`  ${owner}.${name} → ${target}`, nodes[to + SIZE]!);
      }
    }
  }
  return out;
}

/** What a snapshot node is counted as: its constructor for objects, its type for the rest (null: not heap). */
function kindName(type: string, name: string): string | null {
  switch (type) {
    case 'object': return name;
    case 'closure': return '(closures)';
    case 'string': case 'concatenated string': case 'sliced string': return '(strings)';
    case 'number': return '(heap numbers)';
    case 'array': return `(array: ${name})`;
    case 'code': return '(compiled code)';
    case 'native': return name.includes('ArrayBufferData') ? '(typed array bytes)' : `(native: ${name})`;
    case 'hidden': case 'object shape': return `(${type}: ${name})`;
    case 'synthetic': return null;
    default: return `(${type})`;
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      connections: { type: 'string', default: '20000' },
      'attempt-timeout': { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
      detail: { type: 'boolean', default: false },
    },
  });
  let file = positionals[0];
  if (!file) {
    const n = Number(values.connections);
    const dir = join(tmpdir(), 'flowdoc-bench');
    mkdirSync(dir, { recursive: true });
    file = join(dir, `held-${n}.pcap`);
    if (!existsSync(file)) generateHeld({ path: file, format: 'pcap', connections: n });
  }
  const attemptTimeout = Number(values['attempt-timeout']);
  const options: TableOptions = {
    ...DEFAULT_TABLE_OPTIONS,
    ...(attemptTimeout > 0 ? { attemptTimeoutMicros: Math.round(attemptTimeout * 1e6) } : {}),
  };

  // Pass 1: where the most connections are live (and warm-up: the code is compiled for pass 2).
  let finished = 0;
  let peak = 0, peakFrame = 0;
  {
    const t = new ConnectionTable(options, () => { finished++; });
    await feed(file, t, Infinity, (frame) => {
      // The last packet at the peak: the connections live then have carried the most traffic.
      if (t.liveConnections >= peak) { peak = t.liveConnections; peakFrame = frame; }
    });
    t.flush();
  }
  const dir = join(tmpdir(), `flowdoc-conn-bytes-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    const before = writeHeapSnapshot(join(dir, 'before.heapsnapshot'));
    const table = new ConnectionTable(options, () => { finished++; });
    await feed(file, table, peakFrame);
    const live = table.liveConnections;
    const after = writeHeapSnapshot(join(dir, 'after.heapsnapshot'));
    const buffered = table.buffers.held;
    void table.stats; // the table is alive up to here, in the snapshot
    const a = kinds(before, values.detail!), b = kinds(after, values.detail!);
    const rows: { kind: string; count: number; bytes: number }[] = [];
    for (const [key, kb] of b) {
      const ka = a.get(key) ?? { count: 0, bytes: 0 };
      if (kb.bytes !== ka.bytes) rows.push({ kind: key, count: kb.count - ka.count, bytes: kb.bytes - ka.bytes });
    }
    for (const [key, ka] of a) if (!b.has(key)) rows.push({ kind: key, count: -ka.count, bytes: -ka.bytes });
    rows.sort((x, y) => y.bytes - x.bytes || x.kind.localeCompare(y.kind));
    const total = rows.reduce((s, r) => s + (r.kind.startsWith(' ') ? 0 : r.bytes), 0);
    const result = {
      capture: file, liveConnections: live, peakFrame, bufferedBytes: buffered,
      bytesPerConnection: live > 0 ? total / live : 0,
      kinds: rows.map((r) => ({ ...r, perConnection: live > 0 ? r.bytes / live : 0, objectsPerConnection: live > 0 ? r.count / live : 0 })),
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${file}: ${live} live connections at frame ${peakFrame}; ${total} bytes of heap more than before the table: ${result.bytesPerConnection.toFixed(1)} bytes per live connection\n`);
    process.stdout.write(`${'kind'.padEnd(44)} ${'bytes/conn'.padStart(10)} ${'objects/conn'.padStart(12)}\n`);
    for (const r of result.kinds) {
      if (Math.abs(r.perConnection) < 0.5) continue;
      process.stdout.write(`${r.kind.slice(0, 44).padEnd(44)} ${r.perConnection.toFixed(1).padStart(10)} ${r.objectsPerConnection.toFixed(2).padStart(12)}\n`);
    }
    process.stdout.write(`(kinds under 0.5 bytes per connection not shown; the table's own count of its buffers: ${buffered} bytes)\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

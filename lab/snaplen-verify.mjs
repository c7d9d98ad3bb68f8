// Headers-only captures (issue 19): a scenario with `snaplens` has each vantage captured twice more
// by tcpdump itself, `tcpdump -s N`, at the same time as the full capture of the same interface.
// This checks that every cut capture holds exactly the full capture's packets (same count, order,
// timestamps and lengths on the wire; each record's bytes the first min(N, length) bytes of the
// full record's), that tshark's TCP analysis of the cut file finds no lost segment or
// retransmission the full file does not have, and adds to truth.json, per cut file, what tcpdump
// wrote in its header and what the captured prefix of every request the lab client sent holds
// (captured and wire payload bytes, the captured text). The incidents of a cut file are the full
// file's (truth.json `captures` / `h2`): same packets. Any disagreement fails the lab run.
//
//   node lab/snaplen-verify.mjs SCENARIO DIR

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { scenario } from './scenarios.mjs';

const [name, dir] = process.argv.slice(2);
const S = scenario(name);
const problems = [];
const check = (ok, msg) => { if (!ok) problems.push(msg); return ok; };
const VANTAGES = ['client-any', 'client-eth', 'lb-any'];

/** The records of a pcap file as tcpdump writes it (either byte order, µs or ns magic). */
function readPcap(file) {
  const b = fs.readFileSync(file);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error(`${file}: not a pcap file (magic ${magic.toString(16)})`);
  const u32 = (o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const header = { nanos, magic: magic.toString(16).padStart(8, '0'), version: `${le ? b.readUInt16LE(4) : b.readUInt16BE(4)}.${le ? b.readUInt16LE(6) : b.readUInt16BE(6)}`, snaplen: u32(16), linkType: u32(20) & 0xffff };
  const records = [];
  for (let o = 24; o + 16 <= b.length;) {
    const caplen = u32(o + 8);
    records.push({ sec: u32(o), frac: u32(o + 4), caplen, len: u32(o + 12), bytes: b.subarray(o + 16, o + 16 + caplen) });
    o += 16 + caplen;
  }
  return { header, records };
}

const TSHARK_FIELDS = ['frame.number', 'tcp.stream', 'tcp.srcport', 'tcp.flags.reset', 'tcp.flags.fin', 'ip.ttl', 'tcp.len', 'frame.len', 'frame.cap_len', 'tcp.analysis.lost_segment', 'tcp.analysis.retransmission', 'tcp.analysis.out_of_order', 'tcp.analysis.ack_lost_segment'];
function tshark(file) {
  const out = execFileSync('tshark', ['-r', file, '-n', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f', ...TSHARK_FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean).map((line) => {
    const v = line.split('\t');
    const g = (k) => v[TSHARK_FIELDS.indexOf(k)] ?? '';
    return { frame: Number(g('frame.number')), stream: Number(g('tcp.stream')), srcPort: Number(g('tcp.srcport')), rst: ['1', 'True'].includes(g('tcp.flags.reset')), fin: ['1', 'True'].includes(g('tcp.flags.fin')), ttl: Number(g('ip.ttl')), tcpLen: Number(g('tcp.len')), frameLen: Number(g('frame.len')), capLen: Number(g('frame.cap_len')), lost: g('tcp.analysis.lost_segment') !== '', retrans: g('tcp.analysis.retransmission') !== '', ooo: g('tcp.analysis.out_of_order') !== '', ackLost: g('tcp.analysis.ack_lost_segment') !== '' };
  });
}
const analysisCounts = (pkts) => ({ lostSegment: pkts.filter((p) => p.lost).length, retransmission: pkts.filter((p) => p.retrans).length, outOfOrder: pkts.filter((p) => p.ooo).length, ackLostSegment: pkts.filter((p) => p.ackLost).length });

const truthFile = path.join(dir, 'truth.json');
const truth = JSON.parse(fs.readFileSync(truthFile, 'utf8'));
const run = JSON.parse(fs.readFileSync(path.join(dir, 'client-run.json'), 'utf8'));

/** Frames of the lab client's requests in a full capture, by request id (from the full capture's truth). */
function requestFrames(full) {
  if (truth.h2) return (truth.h2[full]?.requests ?? []).map((r) => ({ frame: r.frame, requestId: r.requestId, streamId: r.streamId }));
  const cap = truth.captures.find((c) => c.file === full);
  return cap.incidents.filter((i) => i.frames.request !== null).map((i) => ({ frame: i.frames.request, requestId: i.requestId }));
}

const micros = (r) => r.sec * 1e6 + r.frac;
/** The full capture's incidents with the idle gap measured between the same two frames of the cut file. */
function incidentsOn(full, records) {
  const cap = truth.captures.find((c) => c.file === full);
  return cap.incidents.map((i) => {
    const after = i.frames.request ?? i.frames.probe;
    const idle = Math.round((micros(records[after - 1]) - micros(records[i.frames.lastBeforeIdle - 1])) / 1000) / 1000;
    check(Math.abs(idle - i.idleSeconds) <= 0.05, `${full}: idle ${i.idleSeconds} s, ${idle} s on the cut file`);
    return { ...i, idleSeconds: idle };
  });
}

/**
 * HTTP/2 scenarios (h2-verify's truth has tshark's frames, not incidents): the reference incident
 * of each segment that carried requests the client saw fail — the previous packet of its TCP
 * stream, the idle gap between them (this file's timestamps), the first RST after it, who sent the
 * RST by TTL, and the failed requests' streams (tshark's stream ids, method and path).
 */
function h2IncidentsOn(full, pkts, records, vantage) {
  const failed = new Set(run.requests.filter((r) => r.outcome !== 'ok').map((r) => r.id));
  const byFrame = new Map();
  for (const q of truth.h2[full].requests) {
    if (!failed.has(q.requestId)) continue;
    if (!byFrame.has(q.frame)) byFrame.set(q.frame, []);
    byFrame.get(q.frame).push({ streamId: q.streamId, method: q.method, path: q.path, requestId: q.requestId });
  }
  const incidents = [...byFrame].map(([frame, streams]) => {
    const req = pkts[frame - 1];
    const same = pkts.filter((p) => p.stream === req.stream);
    const prev = same.filter((p) => p.frame < frame).at(-1);
    const rst = same.find((p) => p.frame > frame && p.rst && p.srcPort !== req.srcPort) ?? null;
    const serverTtl = same.find((p) => p.srcPort !== req.srcPort && !p.rst)?.ttl ?? null;
    const finBefore = same.some((p) => p.frame < frame && p.fin);
    const kind = finBefore ? 'reuse-after-fin' : rst ? 'stale-reuse-rst' : 'stale-reuse-timeout';
    const idle = Math.round((micros(records[frame - 1]) - micros(records[prev.frame - 1])) / 1000) / 1000;
    return { kind, idleSeconds: idle, frames: { lastBeforeIdle: prev.frame, request: frame, rst: rst?.frame ?? null }, rst: rst && { ttl: rst.ttl, serverTtl, origin: rst.ttl === serverTtl ? 'server' : 'middlebox' }, streams };
  });
  const want = S.expect[vantage.startsWith('lb') ? 'lb' : 'client'];
  check(JSON.stringify(incidents.map((i) => i.kind)) === JSON.stringify(want), `${full}: reference incidents ${JSON.stringify(incidents.map((i) => i.kind))}, expected ${JSON.stringify(want)}`);
  for (const i of incidents) {
    check(i.idleSeconds > S.lbIdleTimeoutSeconds, `${full}: idle ${i.idleSeconds} s not past the LB's ${S.lbIdleTimeoutSeconds} s`);
    check(i.rst?.origin === S.verdict.rstOrigin, `${full}: RST origin ${i.rst?.origin}, expected ${S.verdict.rstOrigin}`);
  }
  return incidents;
}

const cuts = [];
for (const snap of S.snaplens) {
  for (const v of VANTAGES) {
    const file = `${v}-s${snap}.pcap`;
    const from = `${v}.pcap`;
    const cut = readPcap(path.join(dir, file));
    const full = readPcap(path.join(dir, from));
    check(cut.header.linkType === full.header.linkType, `${file}: link type ${cut.header.linkType}, ${from} ${full.header.linkType}`);
    check(cut.records.length === full.records.length, `${file}: ${cut.records.length} packets, ${from} ${full.records.length}`);
    let cutRecords = 0;
    let maxCaptured = 0;
    let maxDt = 0;
    const fracPerMicro = cut.header.nanos ? 1000 : 1;
    cut.records.forEach((r, k) => {
      const f = full.records[k];
      if (!f) return;
      const at = `${file} frame ${k + 1}`;
      // Each capture socket stamps a packet when it is handed the packet: the two tcpdumps of one
      // interface see the same packet µs apart (~2 ms on a loaded 2-CPU machine). The packet is
      // identified by its bytes (TCP sequence, ack and timestamp option included), checked below;
      // this only bounds the skew.
      const dt = Math.abs((r.sec - f.sec) * 1e6 + (r.frac - f.frac) / fracPerMicro);
      check(dt <= 50_000, `${at}: timestamp ${dt} µs from ${from}'s`);
      maxDt = Math.max(maxDt, dt);
      check(r.len === f.len, `${at}: length on the wire ${r.len}, ${from} ${f.len}`);
      check(f.caplen === f.len, `${from} frame ${k + 1} is itself cut (${f.caplen} of ${f.len})`);
      check(r.caplen === Math.min(f.len, snap), `${at}: ${r.caplen} bytes captured, want min(${f.len}, ${snap})`);
      check(r.bytes.equals(f.bytes.subarray(0, r.caplen)), `${at}: captured bytes are not the first ${r.caplen} of ${from}'s`);
      if (r.caplen < r.len) cutRecords++;
      maxCaptured = Math.max(maxCaptured, r.caplen);
    });
    const cutPkts = tshark(path.join(dir, file));
    const fullPkts = tshark(path.join(dir, from));
    const analysis = analysisCounts(cutPkts);
    check(JSON.stringify(analysis) === JSON.stringify(analysisCounts(fullPkts)), `${file}: tshark's TCP analysis ${JSON.stringify(analysis)}, ${from} ${JSON.stringify(analysisCounts(fullPkts))}`);
    const requests = requestFrames(from).map((q) => {
      const p = cutPkts[q.frame - 1];
      // headers = frame length − payload on the wire; what was captured of the payload = cap_len − headers
      const captured = Math.max(0, p.capLen - (p.frameLen - p.tcpLen));
      const rec = cut.records[q.frame - 1];
      const payload = rec.bytes.subarray(rec.bytes.length - captured);
      return { ...q, capturedPayloadBytes: captured, wirePayloadBytes: p.tcpLen, capturedPayloadHex: payload.toString('hex') };
    });
    cuts.push({
      file, from, vantage: v.startsWith('lb') ? 'lb' : 'client', snaplen: snap,
      // what tcpdump itself wrote (pcap, never pcapng; the header's snaplen field)
      fileHeader: { format: 'pcap', ...cut.header },
      packets: cut.records.length, cutRecords, maxCapturedBytes: maxCaptured, maxTimestampDeltaMicros: maxDt,
      // HTTP/1 scenarios: the full file's incidents, their idle measured on this file's own timestamps
      ...(truth.captures ? { incidents: incidentsOn(from, cut.records) } : { incidents: h2IncidentsOn(from, cutPkts, cut.records, v) }),
      tsharkTcpAnalysis: analysis,
      requests,
    });
  }
}
check(run.requests.length > 0, 'client-run.json has no requests');

truth.snaplen = cuts;
if (problems.length) {
  console.error(`[lab] snaplen-verify ${name}: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
fs.writeFileSync(truthFile, JSON.stringify(truth, null, 2) + '\n');

const readme = ['', '## Headers-only captures (`tcpdump -s`)', '',
  'Each vantage was captured three times at once: in full (the files above, from which the truth is computed) and by',
  `tcpdump itself with ${S.snaplens.map((s) => `\`-s ${s}\``).join(' and ')} (\`FILE-sN.pcap\`). lab/snaplen-verify.mjs checked that every cut file holds`,
  'the full file\'s packets — same count, order, timestamps and lengths on the wire, each record the first min(N, length)',
  'bytes of the full one — and that tshark\'s TCP analysis finds no lost segment or retransmission the full file does not.',
  'So the incidents of a cut file are the full file\'s; `truth.json` `snaplen` lists, per cut file, its pcap header and',
  'the captured prefix of every request (captured / wire payload bytes).', '',
  '| file | of | header snaplen | packets | records cut | request frames: captured of wire payload bytes |', '|---|---|---|---|---|---|',
  ...cuts.map((c) => `| \`${c.file}\` | \`${c.from}\` | ${c.fileHeader.snaplen} | ${c.packets} | ${c.cutRecords} | ${c.requests.map((q) => `${q.frame}${q.streamId ? ` (stream ${q.streamId})` : ''}: ${q.capturedPayloadBytes}/${q.wirePayloadBytes}`).join(', ') || '—'} |`),
  ''];
// Idempotent: the section replaces one an earlier run of this script appended.
const readmeFile = path.join(dir, 'README.md');
const before = fs.readFileSync(readmeFile, 'utf8').split('\n## Headers-only captures (`tcpdump -s`)')[0].replace(/\n+$/, '\n');
fs.writeFileSync(readmeFile, before + readme.join('\n'));
console.error(`[lab] snaplen-verify ${name}: ok — ${cuts.map((c) => `${c.file} ${c.packets} pkts (${c.cutRecords} cut, header snaplen ${c.fileHeader.snaplen})`).join('; ')}`);

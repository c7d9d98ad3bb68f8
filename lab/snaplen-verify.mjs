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

const TSHARK_FIELDS = ['frame.number', 'tcp.stream', 'tcp.len', 'frame.len', 'frame.cap_len', 'tcp.analysis.lost_segment', 'tcp.analysis.retransmission', 'tcp.analysis.out_of_order', 'tcp.analysis.ack_lost_segment'];
function tshark(file) {
  const out = execFileSync('tshark', ['-r', file, '-n', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f', ...TSHARK_FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter(Boolean).map((line) => {
    const v = line.split('\t');
    const g = (k) => v[TSHARK_FIELDS.indexOf(k)] ?? '';
    return { frame: Number(g('frame.number')), tcpLen: Number(g('tcp.len')), frameLen: Number(g('frame.len')), capLen: Number(g('frame.cap_len')), lost: g('tcp.analysis.lost_segment') !== '', retrans: g('tcp.analysis.retransmission') !== '', ooo: g('tcp.analysis.out_of_order') !== '', ackLost: g('tcp.analysis.ack_lost_segment') !== '' };
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
      ...(truth.captures && { incidents: incidentsOn(from, cut.records) }),
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
fs.appendFileSync(path.join(dir, 'README.md'), readme.join('\n'));
console.error(`[lab] snaplen-verify ${name}: ok — ${cuts.map((c) => `${c.file} ${c.packets} pkts (${c.cutRecords} cut, header snaplen ${c.fileHeader.snaplen})`).join('; ')}`);

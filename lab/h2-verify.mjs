// The HTTP/2 scenarios' reference analysis (issue 19): tshark's HTTP/2 dissector reads every
// capture of captures/<scenario>/ (forced on the VIP and server ports with -d), and the answers
// are checked against what the client did (client-run.json: each request's stream id, method,
// path, request id and outcome) and the scenario's expectations. They are written to truth.json
// (`h2`: per capture, every HTTP/2 frame tshark saw with its stream, type and request headers)
// for the project's tests to compare flowdoc's decoding with; any disagreement fails the run.
//
//   node lab/h2-verify.mjs SCENARIO DIR

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { scenario } from './scenarios.mjs';

const [name, dir] = process.argv.slice(2);
const S = scenario(name);
// A variant (e.g. h2-rst-after-idle-snaplen: the same traffic, more captures) is checked as the scenario it varies.
const BASE = S.variantOf ?? S.name;
const problems = [];
const check = (ok, msg) => { if (!ok) problems.push(msg); return ok; };
const FILES = ['client-any.pcap', 'client-eth.pcap', 'server.pcap', 'server.pcapng', 'lb-any.pcap'];
const TYPES = ['DATA', 'HEADERS', 'PRIORITY', 'RST_STREAM', 'SETTINGS', 'PUSH_PROMISE', 'PING', 'GOAWAY', 'WINDOW_UPDATE', 'CONTINUATION'];
const FIELDS = ['frame.number', 'tcp.stream', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.reset', 'tcp.flags.fin', 'http2.streamid', 'http2.type', 'http2.flags.ack.ping',
  'http2.headers.method', 'http2.headers.path', 'http2.headers.authority', 'http2.headers.status', 'http2.goaway.last_stream_id', 'http2.goaway.error', 'http2.rst_stream.error', 'http2.header.name', 'http2.header.value'];

function tshark(file) {
  const out = execFileSync('tshark', ['-r', file, '-n', '-d', 'tcp.port==80,http2', '-d', 'tcp.port==8080,http2', '-Y', 'http2 || tcp.flags.reset == 1 || tcp.flags.fin == 1',
    '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=|', ...FIELDS.flatMap((f) => ['-e', f])], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.trim().split('\n').filter(Boolean).map((line) => {
    const v = line.split('\t');
    const f = Object.fromEntries(FIELDS.map((k, i) => [k, v[i] ?? '']));
    const list = (k) => (f[k] === '' ? [] : f[k].split('|'));
    const ids = list('http2.streamid').map(Number);
    const types = list('http2.type').map((t) => TYPES[Number(t)] ?? `type-${t}`);
    const names = list('http2.header.name'), values = list('http2.header.value');
    const requestIds = names.map((n, i) => (n === 'x-request-id' ? values[i] : null)).filter(Boolean);
    return {
      frame: Number(f['frame.number']), tcpStream: Number(f['tcp.stream']), srcPort: Number(f['tcp.srcport']), dstPort: Number(f['tcp.dstport']),
      rst: f['tcp.flags.reset'] === '1' || f['tcp.flags.reset'] === 'True', fin: f['tcp.flags.fin'] === '1' || f['tcp.flags.fin'] === 'True',
      h2: types.map((type, i) => ({ type, streamId: ids[i] })),
      methods: list('http2.headers.method'), paths: list('http2.headers.path'), authorities: list('http2.headers.authority'), statuses: list('http2.headers.status').map(Number),
      requestIds,
      goaway: f['http2.goaway.last_stream_id'] === '' ? null : { lastStreamId: Number(list('http2.goaway.last_stream_id')[0]), error: Number(list('http2.goaway.error')[0]) },
      rstStreamErrors: list('http2.rst_stream.error').map(Number),
    };
  });
}

const run = JSON.parse(fs.readFileSync(path.join(dir, 'client-run.json'), 'utf8'));
const truth = { scenario: S.name, description: S.description, protocol: 'h2c', lbIdleTimeoutSeconds: S.lbIdleTimeoutSeconds, lbAction: S.lbAction, expect: S.expect, verdict: S.verdict, requests: run.requests, sockets: run.sockets, pings: run.pings, h2: {} };

for (const file of FILES) {
  const pkts = tshark(path.join(dir, file));
  const requests = [];
  for (const p of pkts) {
    // tshark lists one method/path per request HEADERS in the packet, in frame order
    const hs = p.h2.filter((x) => x.type === 'HEADERS');
    p.methods.forEach((m, i) => requests.push({ frame: p.frame, tcpStream: p.tcpStream, streamId: hs[i]?.streamId ?? null, method: m, path: p.paths[i], authority: p.authorities[i], requestId: p.requestIds[i] ?? null }));
  }
  const pings = pkts.filter((p) => p.h2.some((x) => x.type === 'PING')).length;
  const goaways = pkts.filter((p) => p.goaway).map((p) => ({ frame: p.frame, ...p.goaway }));
  const rsts = pkts.filter((p) => p.rst).map((p) => ({ frame: p.frame, tcpStream: p.tcpStream, srcPort: p.srcPort }));
  truth.h2[file] = { requests, pingPackets: pings, goaways, tcpRsts: rsts };
  // Every request the client sent is in the capture (the LB leg: twice, before and after DNAT) with the stream id the client used.
  // A request the LB itself reset (its conntrack entry forgotten) never reaches the server leg.
  const lbForgot = (r) => BASE === 'h2-rst-after-idle' && r.outcome !== 'ok';
  const sent = run.requests.filter((r) => !(file.startsWith('server') && lbForgot(r)));
  for (const r of sent) {
    const legs = file === 'lb-any.pcap' && !lbForgot(r) ? 2 : 1;
    const seen = requests.filter((x) => x.requestId === r.id);
    check(seen.length === legs, `${file}: request ${r.id} seen ${seen.length} times, want ${legs}`);
    for (const x of seen) check(x.method === r.method && x.path === r.path && x.streamId === r.streamId, `${file}: ${r.id} is ${x.method} ${x.path} stream ${x.streamId}, client sent ${r.method} ${r.path} stream ${r.streamId}`);
  }
  if (BASE === 'h2-ping-keepalive') check(pings >= 8, `${file}: only ${pings} packets with PING frames`);
  if (BASE === 'h2-goaway-race') check(goaways.length >= (file === 'lb-any.pcap' ? 2 : 1) && goaways.every((g) => g.lastStreamId === 1), `${file}: GOAWAYs ${JSON.stringify(goaways)}`);
  if (BASE === 'h2-rst-after-idle' && !file.startsWith('server')) check(rsts.length >= 1, `${file}: no RST`);
  if (BASE !== 'h2-goaway-race' && file.startsWith('server')) check(rsts.length === 0, `${file}: the server saw an RST`);
}

const failed = run.requests.filter((r) => r.outcome !== 'ok');
if (BASE === 'h2-rst-after-idle') check(failed.length === 2 && failed.every((r) => r.outcome === 'reset'), `client: failed requests ${JSON.stringify(failed.map((r) => [r.id, r.outcome]))}, want 2 resets`);
if (BASE === 'h2-ping-keepalive') check(failed.length === 0 && run.pings.length >= 4 && run.pings.every((p) => p.ok), `client: ${failed.length} failed, pings ${JSON.stringify(run.pings)}`);
if (BASE === 'h2-goaway-race') check(failed.length === 1 && failed[0].streamId === 3, `client: failed ${JSON.stringify(failed)}`);

fs.writeFileSync(path.join(dir, 'truth.json'), JSON.stringify(truth, null, 2) + '\n');
const readme = [
  `# ${S.name}`, '', S.description, '',
  'Made by `lab/run.sh` (HTTP/2 block of lab/scenarios.mjs); `truth.json` holds the client\'s requests (stream ids, outcomes) and, per capture,',
  'what tshark\'s HTTP/2 dissector read (`tshark -d tcp.port==80,http2 -d tcp.port==8080,http2`): every request HEADERS (stream, method, path, x-request-id),',
  'packets with PING frames, GOAWAYs and TCP RSTs. Checked against client-run.json by lab/h2-verify.mjs.', '',
  '```sh', `tshark -r ${S.name}/client-any.pcap -d tcp.port==80,http2 -Y http2 -T fields -e frame.number -e http2.streamid -e http2.type -e http2.headers.method -e http2.headers.path`, '```', '',
];
fs.writeFileSync(path.join(dir, 'README.md'), readme.join('\n'));
if (problems.length) {
  console.error(`[lab] ${S.name}: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.error(`[lab] ${S.name}: verified (${run.requests.length} requests, ${failed.length} failed)`);

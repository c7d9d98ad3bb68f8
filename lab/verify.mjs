// Fills captures/<scenario>/truth.json and README.md from the capture files themselves
// (tshark fields + the files' own headers), and checks them against what the client and
// server did (client-run.json, client.log, server.log) and against the scenario's
// expectations. Any disagreement is an error: the lab run fails instead of writing a
// truth that the captures do not support.
//
//   node lab/verify.mjs SCENARIO DIR

import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { compile, CONNECTION_ID_TEXT_FORMAT } from './accesslog.mjs';
import { scenario, REQUEST_TIMEOUT_MS } from './scenarios.mjs';

const [name, dir] = process.argv.slice(2);
const S = scenario(name);
const problems = [];
const check = (ok, msg) => { if (!ok) problems.push(msg); return ok; };
const note = [];

const CAPTURES = [
  { file: 'client-any.pcap', vantage: 'client', what: 'client namespace, `tcpdump -i any` (Linux cooked v2)' },
  { file: 'client-eth.pcap', vantage: 'client', what: 'client namespace, `tcpdump -i c0` (Ethernet)' },
  { file: 'server.pcap', vantage: 'server', what: 'server namespace, `tcpdump -i s0 --time-stamp-precision=nano` (pcap, nanosecond magic)' },
  { file: 'server.pcapng', vantage: 'server', what: 'the same server capture converted by `editcap -F pcapng` (nanosecond if_tsresol)' },
  { file: 'lb-any.pcap', vantage: 'lb', what: 'LB namespace, `tcpdump -i any`: both legs (client<->VIP and client<->server after DNAT)' },
];

// ------------------------------------------------------------------ file headers
function fileFormat(file) {
  const b = fs.readFileSync(file);
  const m = b.readUInt32LE(0);
  if (m === 0x0a0d0d0a) {
    const le = b.readUInt32LE(8) === 0x1a2b3c4d;
    const u32 = (o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u16 = (o) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    let off = u32(4); // skip the SHB
    while (off < b.length) {
      const type = u32(off);
      const len = u32(off + 4);
      if (type === 1) {
        const linkType = u16(off + 8);
        let precision = 6;
        let o = off + 16;
        while (o < off + len - 4) {
          const code = u16(o);
          const olen = u16(o + 2);
          if (code === 0) break;
          if (code === 9) {
            const r = b[o + 4];
            precision = r & 0x80 ? `2^-${r & 0x7f}` : r;
          }
          o += 4 + Math.ceil(olen / 4) * 4;
        }
        return { format: 'pcapng', linkType, precision };
      }
      off += len;
    }
    throw new Error(`${file}: pcapng without an interface description block`);
  }
  const magics = { 0xa1b2c3d4: ['LE', 6], 0xd4c3b2a1: ['BE', 6], 0xa1b23c4d: ['LE', 9], 0x4d3cb2a1: ['BE', 9] };
  const [endian, precision] = magics[m] ?? [];
  if (!endian) throw new Error(`${file}: unknown magic ${m.toString(16)}`);
  const linkType = (endian === 'LE' ? b.readUInt32LE(20) : b.readUInt32BE(20)) & 0xffff;
  return { format: 'pcap', linkType, precision };
}

// ------------------------------------------------------------------ packets via tshark
const FIELDS = ['frame.number', 'frame.time_epoch', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport',
  'ip.ttl', 'ipv6.hlim', 'tcp.stream', 'tcp.flags', 'tcp.len', 'tcp.seq_raw', 'tcp.analysis.keep_alive', 'tcp.checksum.status', 'tcp.payload'];

function tshark(file, args) {
  return execFileSync('tshark', ['-r', file, ...args], { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** epoch "s.fraction" -> integer nanoseconds (BigInt), exact for µs and ns files */
function ns(epoch) {
  const [s, f = ''] = epoch.split('.');
  return BigInt(s) * 1_000_000_000n + BigInt((f + '000000000').slice(0, 9));
}
const ep = (ip, port) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

function packets(file) {
  const out = tshark(file, ['-o', 'tcp.check_checksum:TRUE', '-o', 'tcp.relative_sequence_numbers:FALSE',
    '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f', ...FIELDS.flatMap((f) => ['-e', f])]);
  return out.split('\n').filter(Boolean).map((line) => {
    const v = line.split('\t');
    const g = (k) => v[FIELDS.indexOf(k)] ?? '';
    const flags = parseInt(g('tcp.flags'), 16);
    const src = g('ip.src') || g('ipv6.src');
    const dst = g('ip.dst') || g('ipv6.dst');
    const payload = g('tcp.payload') ? Buffer.from(g('tcp.payload').replace(/:/g, ''), 'hex').toString('latin1') : '';
    return {
      frame: Number(g('frame.number')),
      t: ns(g('frame.time_epoch')),
      src: ep(src, g('tcp.srcport')),
      dst: ep(dst, g('tcp.dstport')),
      ttl: Number(g('ip.ttl') || g('ipv6.hlim')),
      stream: Number(g('tcp.stream')),
      syn: !!(flags & 0x02), ack: !!(flags & 0x10), fin: !!(flags & 0x01), rst: !!(flags & 0x04),
      len: Number(g('tcp.len')),
      seq: g('tcp.seq_raw'),
      keepAlive: g('tcp.analysis.keep_alive') !== '',
      checksumOk: g('tcp.checksum.status') === '1',
      payload,
    };
  });
}

const secs = (dns) => Math.round(Number(dns) / 1e6) / 1000; // ns -> s, to 1 ms
const reqId = (payload) => /\r\nx-request-id: *([^\r\n]+)/i.exec(payload)?.[1] ?? null;
const isRequest = (payload) => /^(GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS) \S+ HTTP\/1\.[01]\r\n/.test(payload);

/** Reference detector over one capture: every HTTP request on a connection that did not get a
 * response, classified the way flowdoc must classify it. Also returns normal exchanges with
 * the idle gap before them (for the timeout bracket) and per-connection facts. */
function analyze(pkts) {
  const streams = new Map();
  for (const p of pkts) {
    if (!streams.has(p.stream)) streams.set(p.stream, []);
    streams.get(p.stream).push(p);
  }
  const incidents = [];
  const exchanges = [];
  const conns = [];
  for (const [, ps] of streams) {
    const syn = ps.find((p) => p.syn && !p.ack);
    if (!check(syn, `stream of ${ps[0].src}<->${ps[0].dst} has no SYN in the capture`)) continue;
    const client = syn.src;
    const server = syn.dst;
    const fromServer = ps.filter((p) => p.src === server);
    const serverTtls = [...new Set(fromServer.filter((p) => !p.rst).map((p) => p.ttl))];
    const clientTtls = [...new Set(ps.filter((p) => p.src === client).map((p) => p.ttl))];
    check(serverTtls.length <= 1, `${client}->${server}: server-side TTLs vary: ${serverTtls}`);
    conns.push({ client, server, serverTtl: serverTtls[0], clientTtl: clientTtls[0], keepAlives: ps.filter((p) => p.keepAlive), last: ps.at(-1), closed: ps.some((p) => p.fin || p.rst) });
    // keepalive-too-slow: a keep-alive probe whose next packet is an RST from the server's
    // address (no FIN before it): the probe came after the path had forgotten the connection.
    ps.forEach((p, i) => {
      if (!p.keepAlive || p.src !== client) return;
      const next = ps[i + 1];
      if (!next || !next.rst || next.src !== server || ps.slice(0, i).some((q) => q.fin)) return;
      const lastReal = ps.slice(0, i).filter((q) => !q.keepAlive).at(-1);
      incidents.push({
        kind: 'keepalive-too-slow', client, server, idleSeconds: secs(p.t - lastReal.t),
        frames: { lastBeforeIdle: lastReal.frame, request: null, rst: next.frame, probe: p.frame },
        requestId: null,
        rst: { from: next.src, ttl: next.ttl, serverTtl: serverTtls[0] ?? null, origin: next.ttl === serverTtls[0] ? 'server' : 'middlebox' },
        _probeGap: secs(p.t - ps[i - 1].t), _t: p.t,
      });
    });
    const seen = new Set();
    ps.forEach((p, i) => {
      if (p.src !== client || p.len === 0 || !isRequest(p.payload)) return;
      const key = `${p.seq}/${p.len}`;
      if (seen.has(key)) return; // a retransmission of a request already seen
      seen.add(key);
      const prev = ps[i - 1];
      const gapNs = p.t - prev.t;
      const later = ps.slice(i + 1);
      const firstServerReply = later.find((q) => q.src === server && (q.rst || (q.len > 0 && q.payload.startsWith('HTTP/1.'))));
      const base = { client, server, frame: p.frame, prevFrame: prev.frame, gapNs, requestId: reqId(p.payload) };
      if (firstServerReply && !firstServerReply.rst) {
        exchanges.push(base);
        return;
      }
      const rst = firstServerReply ?? null;
      const serverFin = ps.slice(0, i).filter((q) => q.src === server && q.fin).at(-1) ?? null;
      const kind = serverFin ? 'reuse-after-fin' : rst ? 'stale-reuse-rst' : 'stale-reuse-timeout';
      const frames = { lastBeforeIdle: prev.frame, request: p.frame, rst: rst ? rst.frame : null };
      if (serverFin) frames.serverFin = serverFin.frame;
      const afterReq = later.filter((q) => q.src === client);
      incidents.push({
        kind,
        client,
        server,
        idleSeconds: secs(gapNs),
        frames,
        requestId: base.requestId,
        rst: rst ? { from: rst.src, ttl: rst.ttl, serverTtl: serverTtls[0] ?? null, origin: rst.ttl === serverTtls[0] ? 'server' : 'middlebox' } : null,
        _retransmissions: afterReq.filter((q) => q.seq === p.seq && q.len === p.len).length,
        _retransFrames: afterReq.filter((q) => q.seq === p.seq && q.len === p.len).map((q, k, arr) => `${q.frame} (+${secs(q.t - (k ? arr[k - 1].t : p.t))} s)`),
        _clientFin: afterReq.find((q) => q.fin)?.frame ?? null,
        _finGap: serverFin ? secs(serverFin.t - ps[ps.indexOf(serverFin) - 1].t) : null,
        _clientRst: afterReq.find((q) => q.rst)?.frame ?? null,
        _t: p.t,
      });
    });
  }
  return { incidents, exchanges, conns };
}

// ------------------------------------------------------------------ run it
const run = JSON.parse(fs.readFileSync(path.join(dir, 'client-run.json'), 'utf8'));
const parseServer = compile();
// The client sidecar's log carries %UPSTREAM_CONNECTION_ID% in scenarios that ask for it (issue 15).
const parseClient = S.connectionIds ? compile(CONNECTION_ID_TEXT_FORMAT) : parseServer;
const readLog = (f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((line, i) => {
  const e = (f === 'client.log' ? parseClient : parseServer)(line);
  check(e, `${f}:${i + 1} does not match the Istio 1.9+ format: ${line}`);
  return { line: i + 1, e: e ?? {} };
});
const clientLog = readLog('client.log');
const serverLog = readLog('server.log');
const failed = run.requests.filter((r) => r.outcome !== 'ok');

const truthCaptures = [];
const perFile = {};
for (const c of CAPTURES) {
  const file = path.join(dir, c.file);
  const hdr = fileFormat(file);
  const pkts = packets(file);
  const streams = new Set(pkts.map((p) => p.stream));
  const ci = execFileSync('capinfos', ['-T', '-r', '-t', '-c', file], { encoding: 'utf8' }).trim().split('\t');
  check(Number(ci[2]) === pkts.length, `${c.file}: capinfos counts ${ci[2]} packets, tshark ${pkts.length}`);
  check(ci[1] === { pcap: 'pcap', pcapng: 'pcapng' }[hdr.format] || (ci[1] === 'nsecpcap' && hdr.precision === 9), `${c.file}: capinfos type ${ci[1]} vs header ${hdr.format}/${hdr.precision}`);
  const bad = pkts.filter((p) => !p.checksumOk).length;
  check(bad === 0, `${c.file}: ${bad} packets with a bad/unverified TCP checksum`);
  const a = analyze(pkts);
  perFile[c.file] = { ...a, pkts, hdr };
  const kinds = a.incidents.map((i) => i.kind).sort();
  check(JSON.stringify(kinds) === JSON.stringify([...S.expect[c.vantage]].sort()),
    `${c.file}: incidents ${JSON.stringify(kinds)}, expected ${JSON.stringify(S.expect[c.vantage])}`);
  truthCaptures.push({
    file: c.file,
    vantage: c.vantage,
    format: hdr.format,
    linkType: hdr.linkType,
    precision: hdr.precision,
    packets: pkts.length,
    tcpConnections: streams.size,
    incidents: a.incidents.sort((x, y) => (x._t < y._t ? -1 : x._t > y._t ? 1 : 0)).map(({ _t, _retransmissions, _retransFrames, _clientFin, _clientRst, _finGap, _probeGap, ...i }) => i),
  });
}

// --- cross-checks: captures vs. what the apps did
const clientAny = perFile['client-any.pcap'];
for (const f of ['client-any.pcap', 'client-eth.pcap']) {
  // Incidents about a request (a keepalive-too-slow incident has none: no request failed on it).
  const inc = perFile[f].incidents.filter((i) => i.requestId !== null);
  check(inc.length === failed.length, `${f}: ${inc.length} incidents but the client saw ${failed.length} failed requests`);
  for (const r of failed) {
    const i = inc.find((x) => x.requestId === r.id);
    if (!check(i, `${f}: failed request ${r.id} not found as an incident`)) continue;
    check(i.client === r.local && i.server === r.remote, `${f}: ${r.id} is ${i.client}->${i.server} in the capture, ${r.local}->${r.remote} in the client`);
    check((r.outcome === 'timeout') === (i.kind === 'stale-reuse-timeout'), `${f}: ${r.id} outcome ${r.outcome} vs kind ${i.kind}`);
  }
  for (const r of run.requests.filter((x) => x.outcome === 'ok')) {
    check(perFile[f].exchanges.some((x) => x.requestId === r.id), `${f}: ok request ${r.id} has no response in the capture`);
  }
  for (const cn of perFile[f].conns) {
    check(cn.clientTtl === 64 && cn.serverTtl === 63, `${f}: ${cn.client}->${cn.server} TTLs client ${cn.clientTtl}, server ${cn.serverTtl} (want 64/63)`);
  }
}
for (const f of ['server.pcap', 'server.pcapng']) {
  for (const cn of perFile[f].conns) check(cn.clientTtl === 63 && cn.serverTtl === 64, `${f}: TTLs client ${cn.clientTtl}, server ${cn.serverTtl} (want 63/64)`);
}
for (const f of Object.keys(perFile)) {
  for (const i of perFile[f].incidents) {
    check(idleOk(i), `${f}: ${i.requestId} idle ${i.idleSeconds}s is not longer than the timeout that caused it`);
    if (i.rst) check(i.rst.origin === S.verdict.rstOrigin, `${f}: ${i.requestId ?? `probe ${i.frames.probe}`} RST origin ${i.rst.origin}, expected ${S.verdict.rstOrigin}`);
  }
}
function idleOk(i) {
  if (i.kind === 'reuse-after-fin') return i.idleSeconds >= 0.5;
  if (i.kind === 'keepalive-too-slow') return i.idleSeconds > S.lbIdleTimeoutSeconds && i.idleSeconds >= S.clientKeepalive.idleSeconds - 0.05;
  return i.idleSeconds > S.lbIdleTimeoutSeconds;
}
// Same connection seen from several vantages: same request ids.
const ids = (f) => perFile[f].incidents.map((i) => i.requestId ?? `${i.kind}@${i.client}`).sort().join();
check(ids('client-any.pcap') === ids('client-eth.pcap'), 'client-any and client-eth disagree');
check(ids('server.pcap') === ids('server.pcapng'), 'server.pcap and server.pcapng disagree');
check(perFile['server.pcap'].pkts.length === perFile['server.pcapng'].pkts.length, 'pcapng conversion changed the packet count');

// --- logs
const logLine = (log, id) => log.find((l) => l.e['REQ(X-REQUEST-ID)'] === id) ?? null;
check(clientLog.length === run.requests.length, `client.log has ${clientLog.length} lines for ${run.requests.length} requests`);
for (const r of run.requests) {
  const c = logLine(clientLog, r.id);
  if (!check(c, `client.log has no line for ${r.id}`)) continue;
  check(c.e.UPSTREAM_LOCAL_ADDRESS === r.local, `client.log ${r.id}: UPSTREAM_LOCAL_ADDRESS ${c.e.UPSTREAM_LOCAL_ADDRESS} != socket ${r.local}`);
  if (S.connectionIds) {
    // issue 15: the id logged is the one of the socket the request went out on, one id per socket.
    const sock = run.sockets.find((x) => x.name === r.conn);
    check(sock && c.e.UPSTREAM_CONNECTION_ID === String(sock.connectionId), `client.log ${r.id}: UPSTREAM_CONNECTION_ID ${c.e.UPSTREAM_CONNECTION_ID} != socket ${r.conn} (${sock?.connectionId})`);
  }
  const s = logLine(serverLog, r.id);
  if (r.outcome === 'ok') {
    if (check(s, `server.log has no line for ok request ${r.id}`)) {
      // No SNAT on the LB: the server's socket sees the client's own address.
      check(s.e.DOWNSTREAM_REMOTE_ADDRESS === r.local, `server.log ${r.id}: DOWNSTREAM_REMOTE_ADDRESS ${s.e.DOWNSTREAM_REMOTE_ADDRESS} != client socket ${r.local}`);
    }
  } else {
    check(!s, `server.log has a line for failed request ${r.id}`);
    const want = r.outcome === 'timeout' ? ['504', 'UT', 'response_timeout', '24'] : ['503', 'UC', 'upstream_reset_before_response_started{connection_termination}', '95'];
    check(JSON.stringify([c.e.RESPONSE_CODE, c.e.RESPONSE_FLAGS, c.e.RESPONSE_CODE_DETAILS, c.e.BYTES_SENT]) === JSON.stringify(want), `client.log ${r.id}: ${c.e.RESPONSE_CODE} ${c.e.RESPONSE_FLAGS} ${c.e.RESPONSE_CODE_DETAILS} ${c.e.BYTES_SENT}`);
    // START_TIME <= request packet time <= START_TIME + DURATION, give or take the two ms
    // truncations (START_TIME and DURATION are each truncated to whole ms, as in Envoy).
    const inc = clientAny.incidents.find((x) => x.requestId === r.id);
    if (inc) {
      const startNs = BigInt(Date.parse(c.e.START_TIME)) * 1_000_000n;
      const endNs = startNs + BigInt(Number(c.e.DURATION) + 2) * 1_000_000n;
      check(startNs <= inc._t && inc._t <= endNs, `${r.id}: request packet outside [START_TIME, START_TIME+DURATION]`);
    }
  }
}
const incidentIds = [...new Set(truthCaptures.flatMap((c) => c.incidents.map((i) => i.requestId)).filter((id) => id !== null))];
const flagsOf = (e) => (e.RESPONSE_FLAGS === '-' ? [] : e.RESPONSE_FLAGS.split(','));
const expectedLogs = incidentIds.map((id) => {
  const c = logLine(clientLog, id);
  const s = logLine(serverLog, id);
  return {
    requestId: id,
    client: c ? { line: c.line, responseCode: Number(c.e.RESPONSE_CODE), flags: flagsOf(c.e) } : null,
    server: s ? { line: s.line, responseCode: Number(s.e.RESPONSE_CODE), flags: flagsOf(s.e) } : null,
  };
});
const verdict = incidentIds.map((id) => {
  const i = clientAny.incidents.find((x) => x.requestId === id);
  return { requestId: id, faultyHop: S.verdict.faultyHop, rstOrigin: i?.rst?.origin ?? null };
});

// --- keepalive: probes really sent at the configured idle time, and they kept the LB entry
if (S.clientKeepalive && S.name === 'keepalive-on') {
  for (const cn of clientAny.conns) {
    const ka = cn.keepAlives.filter((p) => p.src === cn.client);
    const ts = ka.map((p) => p.t);
    const gaps = ts.slice(1).map((t, k) => secs(t - ts[k]));
    note.push(`${cn.client}: ${ka.length} keep-alive probes (frames ${ka.map((p) => p.frame).join(', ') || 'none'}), spaced ${gaps.join(' s, ') || '-'} s`);
    if (cn === clientAny.conns[0]) {
      check(ka.length >= 2, `keepalive-on: only ${ka.length} keep-alive probes on ${cn.client}`);
      check(gaps.every((g) => Math.abs(g - S.clientKeepalive.idleSeconds) < 0.35), `keep-alive probe spacing ${gaps} != ${S.clientKeepalive.idleSeconds}s`);
    }
  }
}
if (S.name === 'keepalive-too-slow') {
  const ka = clientAny.incidents.filter((i) => i.kind === 'keepalive-too-slow');
  check(ka.length === 1, `keepalive-too-slow: ${ka.length} probes met an RST in client-any.pcap, want 1`);
  for (const i of ka) {
    check(Math.abs(i._probeGap - S.clientKeepalive.idleSeconds) < 0.35, `keepalive-too-slow: the probe came ${i._probeGap} s after the last packet, not ${S.clientKeepalive.idleSeconds} s`);
    note.push(`${i.client}: its first keep-alive probe (frame ${i.frames.probe}) left ${i._probeGap} s after the last packet (TCP_KEEPIDLE ${S.clientKeepalive.idleSeconds} s) and was answered by the RST in frame ${i.frames.rst} (TTL ${i.rst.ttl}, the server's is ${i.rst.serverTtl}): the LB had forgotten the connection after ${S.lbIdleTimeoutSeconds} s.`);
  }
}
// --- connections still open when the capture ended (at-risk): idle at the end, from the client capture
let openAtEnd = null;
if (S.holdOpen) {
  const end = clientAny.pkts.at(-1).t;
  openAtEnd = clientAny.conns.filter((cn) => !cn.closed).map((cn) => ({ client: cn.client, server: cn.server, lastFrame: cn.last.frame, idleSeconds: secs(end - cn.last.t) }));
  const failedIdle = Math.min(...clientAny.incidents.map((i) => i.idleSeconds));
  check(openAtEnd.some((o) => o.idleSeconds > failedIdle), `at-risk: no open connection idle past the ${failedIdle} s that failed: ${JSON.stringify(openAtEnd)}`);
  for (const o of openAtEnd) note.push(`${o.client} was still open when the capture ended, idle ${o.idleSeconds} s since frame ${o.lastFrame} (a connection to the same VIP failed after ${failedIdle} s).`);
}
// --- the idle-timeout bracket (busy): from the client capture
let idleTimeoutBracket = null;
if (S.bracketServer) {
  const ok = clientAny.exchanges.filter((x) => x.server === S.bracketServer).map((x) => secs(x.gapNs));
  const bad = clientAny.incidents.filter((x) => x.server === S.bracketServer).map((x) => x.idleSeconds);
  idleTimeoutBracket = { server: S.bracketServer, minSeconds: Math.max(...ok), maxSeconds: Math.min(...bad) };
  check(idleTimeoutBracket.minSeconds < S.lbIdleTimeoutSeconds && S.lbIdleTimeoutSeconds < idleTimeoutBracket.maxSeconds, `bracket ${JSON.stringify(idleTimeoutBracket)} does not contain ${S.lbIdleTimeoutSeconds}`);
}

// --- the LB's own view: conntrack events (if `conntrack -E` ran) and socket states (ss)
const ctFile = path.join(dir, 'lb-conntrack-events.txt');
const ctEvents = fs.existsSync(ctFile)
  ? fs.readFileSync(ctFile, 'utf8').split('\n').map((l) => /^\[(\d+)\.(\d+)\]\s+\[(\w+)\]\s+tcp\s+\d+\s+(?:\d+\s+)?(\w+)\s+src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)/.exec(l)).filter(Boolean)
    .map((m) => ({ t: BigInt(m[1]) * 1_000_000_000n + BigInt(m[2].padEnd(9, '0')), type: m[3], state: m[4], src: m[5], dst: m[6], sport: m[7], dport: m[8] }))
  : [];
const ctNotes = [];
if (ctEvents.length) {
  const rawInc = clientAny.incidents.filter((i) => i.kind !== 'reuse-after-fin');
  for (const i of rawInc) {
    const port = /:(\d+)$/.exec(i.client)[1];
    const d = ctEvents.find((e) => e.type === 'DESTROY' && e.state === 'ESTABLISHED' && e.sport === port);
    if (!check(d, `lb-conntrack-events.txt: no DESTROY of the ESTABLISHED entry for ${i.client}`)) continue;
    const lastT = clientAny.pkts.find((p) => p.frame === i.frames.lastBeforeIdle).t;
    ctNotes.push(`\`lb-conntrack-events.txt\`: the LB's ESTABLISHED entry for ${i.client} was destroyed (event time as logged by \`conntrack -E\`) ${secs(d.t - lastT)} s after the last packet before the idle gap and ${Math.round(Number(d.t - i._t) / 1e4) / 100} ms after the late request left the client — the entry had expired (timeout ${S.lbIdleTimeoutSeconds} s) and was reaped when that packet looked it up (or by the conntrack GC, whichever came first).`);
  }
  if (S.clientKeepalive && S.name === 'keepalive-on') {
    const early = ctEvents.filter((e) => e.type === 'DESTROY' && e.state === 'ESTABLISHED');
    check(early.length === 0, `keepalive-on: conntrack destroyed an ESTABLISHED entry: ${early.length}`);
    ctNotes.push('`lb-conntrack-events.txt`: no ESTABLISHED entry was ever destroyed — the keep-alive probes refreshed it; it ends FIN_WAIT → TIME_WAIT with the client\'s final close.');
  }
}
const sockets = fs.existsSync(path.join(dir, 'lab-run.txt')) ? fs.readFileSync(path.join(dir, 'lab-run.txt'), 'utf8') : '';

const truth = {
  scenario: S.name,
  description: S.description,
  lbIdleTimeoutSeconds: S.lbIdleTimeoutSeconds,
  clientKeepalive: S.clientKeepalive,
  captures: truthCaptures,
  logs: { client: 'client.log', server: 'server.log' },
  expectedLogs,
  verdict,
  idleTimeoutBracket,
  ...(openAtEnd && { openAtEnd }),
};

if (problems.length) {
  console.error(`verify ${name}: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
fs.writeFileSync(path.join(dir, 'truth.json'), JSON.stringify(truth, null, 2) + '\n');
fs.writeFileSync(path.join(dir, 'README.md'), readme());
console.error(`verify ${name}: ok — ${truthCaptures.map((c) => `${c.file} ${c.packets} pkts/${c.tcpConnections} conns/${c.incidents.length} incidents`).join('; ')}`);
for (const n of note) console.error(`  ${n}`);

// ------------------------------------------------------------------ README
function readme() {
  const ca = truthCaptures[0];
  const L = [];
  L.push(`# ${S.name}`, '', S.description, '');
  L.push('Generated by `sudo bash lab/run.sh ' + S.name + '` (flowdoc lab); every number below and in `truth.json` was computed from the capture files by `lab/verify.mjs`.', '');
  L.push('## What happened (client capture `client-any.pcap`)', '');
  const rawClient = perFile['client-any.pcap'].incidents;
  if (!ca.incidents.length) {
    L.push(`No incident: ${run.requests.length} requests, all answered 200.`);
  }
  for (const i of ca.incidents) {
    const raw = rawClient.find((x) => x.requestId === i.requestId);
    const what = {
      'stale-reuse-rst': `after ${i.idleSeconds} s of silence the client sent request \`${i.requestId}\` (frame ${i.frames.request}); frame ${i.frames.rst} is an RST from ${i.rst?.from} with TTL ${i.rst?.ttl} while the server's own packets arrive with TTL ${i.rst?.serverTtl}: forged by the ${i.rst?.origin}. No FIN was ever seen on this connection.`,
      'stale-reuse-timeout': `after ${i.idleSeconds} s of silence the client sent request \`${i.requestId}\` (frame ${i.frames.request}); nothing ever came back, only the client's retransmissions of it: frames ${(raw?._retransFrames ?? []).join(', ')} — a tail-loss probe, then the RTO backing off. The client gave up after ${REQUEST_TIMEOUT_MS / 1000} s (504 UT) and destroy()ed the socket: ${raw?._clientFin ? `its kernel sent a FIN (frame ${raw._clientFin})` : raw?._clientRst ? `its kernel sent an RST (frame ${raw._clientRst})` : `its kernel sent neither FIN nor RST — close() without unread data queues a FIN, but after the timeouts the congestion window (1 segment) is taken by the unacknowledged request, so the FIN waits behind it and the wire only shows more retransmissions of the request${finWait1(i.client) ? ' (the socket is in FIN-WAIT-1 in `lab-run.txt`)' : ''}`}.`,
      'keepalive-too-slow': `keepalive was on (TCP_KEEPIDLE ${S.clientKeepalive?.idleSeconds} s), but after ${i.idleSeconds} s of silence its first probe (frame ${i.frames.probe}) met frame ${i.frames.rst}, an RST from ${i.rst?.from} with TTL ${i.rst?.ttl} while the server's own packets arrive with TTL ${i.rst?.serverTtl}: forged by the ${i.rst?.origin}, which had forgotten the connection after ${S.lbIdleTimeoutSeconds} s. No request was lost on it; the next one went on a new connection.`,
      'reuse-after-fin': `the server sent FIN (frame ${i.frames.serverFin}) ${raw?._finGap} s after the connection's previous packet (its keep-alive timeout); the client ignored it and ${i.idleSeconds} s after the last packet sent request \`${i.requestId}\` (frame ${i.frames.request}); frame ${i.frames.rst} is the RST from ${i.rst?.from}, TTL ${i.rst?.ttl} = the server's TTL ${i.rst?.serverTtl}: the server's own kernel.`,
    }[i.kind];
    L.push(`- **${i.kind}** on ${i.client} → ${i.server}: last packet before the idle gap frame ${i.frames.lastBeforeIdle}; ${what}`);
  }
  if (ctNotes.length) L.push('', ...ctNotes.map((n) => `- ${n}`));
  if (openAtEnd) L.push('', 'Still open when the capture ended (the client held its connections while the captures stopped):', '', ...note.filter((n) => n.includes('still open')).map((n) => `- ${n}`));
  if (S.clientKeepalive) L.push('', 'Keep-alive probes seen (client socket: SO_KEEPALIVE, TCP_KEEPIDLE ' + S.clientKeepalive.idleSeconds + ' s, TCP_KEEPINTVL ' + S.clientKeepalive.intervalSeconds + ' s via Node `setKeepAlive`):', '', ...note.map((n) => `- ${n}`));
  if (idleTimeoutBracket) L.push('', `Idle-timeout bracket for ${idleTimeoutBracket.server} from the client capture: the longest idle followed by a normal exchange is ${idleTimeoutBracket.minSeconds} s, the shortest idle that ended in an incident is ${idleTimeoutBracket.maxSeconds} s; the LB's real timeout (${S.lbIdleTimeoutSeconds} s) lies in between.`);
  L.push('', '## Logs', '');
  if (!expectedLogs.length) L.push('`client.log` and `server.log` (Istio 1.9+ default text format) have one 200 line per request on both sides.');
  for (const x of expectedLogs) {
    L.push(`- \`${x.requestId}\`: client.log line ${x.client?.line} (${x.client?.responseCode} ${x.client?.flags.join(',')}); server.log: ${x.server ? `line ${x.server.line}` : 'no line — the request never reached the server application'}.`);
  }
  L.push('', '## Per capture', '', '| file | vantage | format | link type | ts precision | packets | TCP connections | incidents |', '|---|---|---|---|---|---|---|---|');
  for (const c of truthCaptures) {
    L.push(`| \`${c.file}\` | ${c.vantage} | ${c.format} | ${c.linkType} | 1e-${c.precision} | ${c.packets} | ${c.tcpConnections} | ${c.incidents.map((i) => `${i.kind} (${i.client} → ${i.server}, frames ${i.frames.request}/${i.frames.rst ?? '-'})`).join('; ') || '—'} |`);
  }
  L.push('');
  for (const c of CAPTURES) L.push(`- \`${c.file}\`: ${c.what}.`);
  L.push('', vantageNotes(), '');
  L.push('## Look at it (from `captures/`)', '', '```sh');
  const inc = ca.incidents[0];
  if (inc) {
    const [cip, cport] = splitEp(inc.client);
    L.push(`# the broken connection, from the client`);
    L.push(`tshark -r ${S.name}/client-any.pcap -Y '${cip.includes(':') ? 'ipv6' : 'ip'}.addr == ${cip} && tcp.port == ${cport}' -o tcp.relative_sequence_numbers:FALSE`);
    L.push(`# just the request after the idle gap and what answered it (TTL shows who)`);
    const fr = [inc.frames.lastBeforeIdle, inc.frames.serverFin, inc.frames.request, inc.frames.rst].filter((x) => x != null).sort((a, b) => a - b);
    const ttl = cip.includes(':') ? '-e ipv6.src -e ipv6.hlim' : '-e ip.src -e ip.ttl';
    L.push(`tshark -r ${S.name}/client-any.pcap -Y '${fr.map((f) => `frame.number == ${f}`).join(' || ')}' -T fields -e frame.number -e frame.time_delta_displayed ${ttl} -e tcp.flags.str`);
  } else {
    L.push(`tshark -r ${S.name}/client-any.pcap -Y 'tcp.analysis.keep_alive || tcp.analysis.keep_alive_ack || http'`);
  }
  L.push(`# all resets and FINs in every capture of this scenario`);
  L.push(`for f in ${S.name}/*.pcap ${S.name}/*.pcapng; do echo "== $f"; tshark -r "$f" -Y 'tcp.flags.reset == 1 || tcp.flags.fin == 1'; done`);
  L.push('```', '');
  return L.join('\n');
}

function finWait1(client) {
  const port = /:(\d+)$/.exec(client)[1];
  return sockets.split('\n').some((l) => l.includes('FIN-WAIT-1') && l.includes(`:${port} `));
}

function splitEp(s) {
  const m = /^\[?(.+?)\]?:(\d+)$/.exec(s);
  return [m[1], m[2]];
}

function vantageNotes() {
  const notes = {
    'rst-after-idle': 'Vantages: the server never sees the late request (the LB did not forward it): its captures show the connection going quiet and nothing else, so no incident there; its socket is still ESTABLISHED when the lab ends. The LB capture sees both legs as two different 4-tuples (client→VIP before DNAT, client→server after); the late request and the forged RST exist only on the client leg (the RST is captured leaving the LB with TTL 64, the forwarded server packets with TTL 63), so exactly one incident there.',
    'rst-after-idle-v6': 'Vantages: as in rst-after-idle, with hop limits instead of TTLs: the server never sees the late request; the LB capture has the incident only on the client→VIP leg.',
    'keepalive-on': 'Vantages: the probes cross the LB (both legs in `lb-any.pcap`) and reach the server, which ACKs them; the conntrack entry is refreshed by every probe (see `lb-conntrack-events.txt`: no DESTROY before the final close).',
    blackhole: 'Vantages: the server never sees the late request or its retransmissions; the LB capture sees them arrive on the client leg (tcpdump taps the packet before netfilter drops it) and nothing on the server leg: one stale-reuse-timeout there, none at the server.',
    'server-fin': 'Vantages: the RST comes from the server kernel, so the server captures show the incident too (server TTL 64 = its own packets, origin server). The LB capture contains the same TCP connection twice — client→VIP and client→server after DNAT — and both legs carry FIN, late request and RST, so it has two incidents (one per leg, TTL 63/63 on the client leg, 64/64 on the server leg).',
    'keepalive-too-slow': 'Vantages: the probe and the forged RST exist only on the client leg (the LB rejects the probe of a connection it forgot; the server never sees it): one keepalive-too-slow at the client and in the LB capture, none at the server, whose socket stays ESTABLISHED. The request after 11 s idle is reset the same way (stale-reuse-rst).',
    'at-risk': 'Vantages: the server never sees the late request; the LB capture has the incident on its client leg. The connection left idle is open at every vantage when the captures stop.',
    busy: 'Vantages: the server sees none of the late requests; the LB capture has each incident once, on its client→VIP leg. The second VIP (10.200.9.10:80, `orders`) has its own connections; `idleTimeoutBracket` describes 10.200.9.9:80.',
  };
  return notes[S.variantOf ?? S.name] ?? '';
}

/**
 * The valid inputs the fuzzer starts from: the real-kernel lab captures in `captures/`, the
 * public corpus in `../shared/corpus/real` (when present), and captures made by the project's
 * writer (every link type it can build, pcap in both byte orders and resolutions, pcapng with
 * several sections, interfaces, resolutions and block kinds); real access-log lines and lines
 * built for every built-in format, wrapped in Docker / CRI / kubectl / compose layers and JSON.
 *
 * Seeds are built once per process and are the same on every run for the same corpus choice.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  CaptureScript, LINKTYPE, PcapngWriter, TLS_EXTENSION, frameBytes, sniExtension, tlsClientHello, type LinkOptions, type RenderOptions, type ScriptFrame,
} from '../writer/index.js';
import { scanLayout } from './layout.js';

/** Where to take seeds from: the repository only (reproducible anywhere), or the shared corpus too. */
export type CorpusChoice = 'bundled' | 'all';

export interface CaptureSeed {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface LogSeed {
  readonly name: string;
  readonly lines: readonly string[];
}

/** The repository root: this file is src/fuzz/seeds.ts or dist-tools/fuzz/seeds.js (same depth). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_CORPUS = resolve(REPO_ROOT, '../shared/corpus');

/** Seeds larger than this are cut at a record/block boundary: mutation cost grows with size. */
const MAX_SEED_BYTES = 48 * 1024;

/** A prefix of a valid capture that ends at a record/block boundary, at most `max` bytes. */
export function trimCapture(bytes: Uint8Array, max = MAX_SEED_BYTES): Uint8Array {
  if (bytes.length <= max) return bytes;
  const layout = scanLayout(bytes);
  let end = layout.bodyStart;
  for (const u of layout.units) {
    if (u.end > max) break;
    end = u.end;
  }
  return bytes.slice(0, Math.max(end, Math.min(bytes.length, layout.bodyStart)));
}

/**
 * A plain Uint8Array copy. Seeds must not be Buffers: `Buffer#slice` returns a view, so a
 * mutation operator's "copy" would write into the shared seed and change every later case.
 */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) walk(p, out);
    else out.push(p);
  }
}

function bundledCaptures(): CaptureSeed[] {
  const root = join(REPO_ROOT, 'captures');
  if (!existsSync(root)) return [];
  const files: string[] = [];
  walk(root, files);
  return files
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .map((f) => ({ name: relative(REPO_ROOT, f), bytes: trimCapture(plain(readFileSync(f))) }));
}

function sharedCaptures(): CaptureSeed[] {
  const root = join(SHARED_CORPUS, 'real');
  if (!existsSync(root)) return [];
  const files: string[] = [];
  walk(root, files);
  const out: CaptureSeed[] = [];
  for (const f of files) {
    if (f.includes(`${'/'}oracle${'/'}`) || !/\.(pcap|pcapng|cap|gz)$/.test(f)) continue;
    let bytes = plain(readFileSync(f));
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try { bytes = plain(gunzipSync(bytes)); } catch { continue; }
    }
    out.push({ name: relative(SHARED_CORPUS, f), bytes: trimCapture(bytes) });
  }
  return out;
}

// ---- captures made by the writer ------------------------------------------------------------

/** A TLS 1.2 ClientHello record naming `sni` (RFC 8446 §4.1.2, RFC 6066 §3), offering x25519. */
export function clientHello(sni: string): Uint8Array {
  return tlsClientHello({ extensions: [sniExtension(sni), { type: TLS_EXTENSION.SUPPORTED_GROUPS, body: [0, 2, 0, 0x1d] }] });
}

const REQUEST = 'GET /api/items/1 HTTP/1.1\r\nHost: api.internal\r\nUser-Agent: fuzz/1.0\r\nX-Request-Id: 6d67d674-2122-4a2d-b172-0be70c674371\r\n\r\n';
const RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world';

/** The incident: a request after a long idle gap, reset by a middlebox (TTL 1 hop closer). */
function staleReuse(cap: CaptureScript, v6: boolean): void {
  const c = cap.tcp(v6
    ? { client: '[2001:db8::1]:45720', server: '[2001:db8::9]:80', serverTtl: 63 }
    : { client: '10.200.1.2:45720', server: '10.200.9.9:80', serverTtl: 63 });
  c.handshake();
  c.clientSends(REQUEST);
  c.serverSends(RESPONSE);
  cap.idle(12);
  c.clientSends(REQUEST.replace('/1 ', '/4 '), { ack: false });
  c.rst('server', { ttl: 64 });
}

/** Keepalive probes, pipelining, chunked and 204 responses, a 2-segment head, FIN close. */
function keepaliveAndFin(cap: CaptureScript): void {
  const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:8080', clientTtl: 64, serverTtl: 62 });
  c.handshake();
  c.clientSends(REQUEST + 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc');
  c.serverSends('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n');
  cap.idle(20);
  c.keepalive('client');
  cap.idle(20);
  c.keepalive('client', { withByte: true });
  c.clientSends('GET /split HTTP/1.1\r\nHost: a', { push: false });
  c.clientSends('pi\r\nX-Request-Id: abc\r\n\r\n');
  c.serverSends('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
  c.fin('server');
  c.fin('client');
}

/** TLS with SNI over IPv6 with extension headers, and a zero window. */
function tlsOverV6(cap: CaptureScript): void {
  const ext = { extensions: [{ type: 'hop-by-hop' as const }, { type: 'destination' as const, options: Uint8Array.of(1, 2, 0, 0) }] };
  const c = cap.tcp({ client: '[2001:db8::a]:50000', server: '[2001:db8::b]:443' });
  c.handshake({ ipv6: ext });
  c.clientSends(clientHello('api.example.com'), { ipv6: ext });
  c.serverSends(Uint8Array.from([22, 3, 3, 0, 4, 2, 0, 0, 0]));
  c.clientSends(Uint8Array.from([23, 3, 3, 0, 3, 1, 2, 3]));
  c.setWindow('server', 0);
  c.ack('server');
  c.setWindow('server', 65535);
  c.serverSends(Uint8Array.from([23, 3, 3, 0, 2, 9, 9]));
  c.rst('client');
}

/** Retransmissions of a request that is never answered, an out-of-order segment, port reuse. */
function timeoutAndReuse(cap: CaptureScript): void {
  const c = cap.tcp({ client: '192.168.1.5:33000', server: '192.168.1.9:443' });
  c.handshake();
  c.clientSends('x'.repeat(300));
  cap.idle(30);
  c.clientSends(REQUEST, { ack: false });
  c.retransmit('client');
  cap.idle(1);
  c.retransmit('client');
  c.segment('client', { flags: 'PA', seq: (c.nextSeq('client') + 1000) >>> 0, payload: 'ahead' });
  c.rst('client');
  const again = cap.tcp({ client: '192.168.1.5:33000', server: '192.168.1.9:443', clientIsn: 12345 });
  again.handshake();
  again.clientSends(REQUEST);
  again.serverSends(RESPONSE);
  // The server closes an idle connection; the client sends anyway and is reset.
  cap.idle(5);
  again.fin('server');
  again.clientSends(REQUEST, { ack: false });
  again.rst('server');
}

/** Things that are not TCP: UDP, ICMP, IPv4 fragments, options, ARP. */
function notTcp(cap: CaptureScript, withArp: boolean): void {
  cap.udp({ src: '10.0.0.1:5353', dst: '10.0.0.2:53', payload: 'dns?' });
  cap.ip({ src: '10.0.0.1', dst: '10.0.0.2', transport: { protocol: 1, payload: Uint8Array.of(8, 0, 0, 0, 0, 1, 0, 1) } });
  cap.ip({ src: '10.0.0.1', dst: '10.0.0.2', ipv4: { mf: true, id: 7 }, transport: { protocol: 'tcp', srcPort: 1000, dstPort: 80, seq: 1, ack: 0, flags: 2, window: 1000, payload: 'frag' } });
  cap.ip({ src: '10.0.0.1', dst: '10.0.0.2', ipv4: { fragmentOffset: 16, id: 7 }, transport: { protocol: 6, payload: 'rest of it' } });
  cap.ip({ src: '10.0.0.1', dst: '10.0.0.2', ipv4: { options: Uint8Array.of(1, 1, 1, 0) }, transport: { protocol: 'tcp', srcPort: 1001, dstPort: 80, seq: 5, ack: 0, flags: 2, window: 1000, options: [{ kind: 'mss', value: 1400 }, { kind: 'sack', blocks: [[1, 2]] }] } });
  cap.ip({ src: '2001:db8::1', dst: '2001:db8::2', ipv6: { extensions: [{ type: 'fragment', more: true, id: 9 }] }, transport: { protocol: 'tcp', srcPort: 1002, dstPort: 443, seq: 9, ack: 0, flags: 2, window: 10 } });
  if (withArp) cap.nonIp(0x0806, new Uint8Array(28));
}

function scenarioScript(which: number, seed: number): CaptureScript {
  const cap = new CaptureScript({ start: '2024-05-01T10:00:00Z', seed });
  switch (which) {
    case 0: staleReuse(cap, false); break;
    case 1: staleReuse(cap, true); break;
    case 2: keepaliveAndFin(cap); break;
    case 3: tlsOverV6(cap); break;
    case 4: timeoutAndReuse(cap); break;
    default: {
      staleReuse(cap, false);
      notTcp(cap, false);
      keepaliveAndFin(cap);
    }
  }
  return cap;
}

const RENDERINGS: ReadonlyArray<readonly [string, RenderOptions]> = [
  ['eth', { linkType: LINKTYPE.ETHERNET }],
  ['eth-vlan', { linkType: LINKTYPE.ETHERNET, vlans: [{ id: 100, tpid: 0x88a8 }, { id: 7 }], padToMinimum: true }],
  ['sll', { linkType: LINKTYPE.LINUX_SLL, pkttype: 4 }],
  ['sll2', { linkType: LINKTYPE.LINUX_SLL2, ifIndex: 3 }],
  ['raw', { linkType: LINKTYPE.RAW }],
  ['null-be', { linkType: LINKTYPE.NULL, nullByteOrder: 'be' }],
  ['loop', { linkType: LINKTYPE.LOOP }],
];

function writerCaptures(): CaptureSeed[] {
  const out: CaptureSeed[] = [];
  for (let which = 0; which < 6; which++) {
    const cap = scenarioScript(which, 1 + which);
    RENDERINGS.forEach(([name, r], i) => {
      // Vary container details with the rendering so every combination shows up somewhere.
      if ((which + i) % 2 === 0) out.push({ name: `writer/s${which}-${name}.pcap`, bytes: cap.toPcap({ ...r, endian: i % 3 === 0 ? 'be' : 'le', nanos: i % 2 === 1 }) });
      else out.push({ name: `writer/s${which}-${name}.pcapng`, bytes: cap.toPcapng({ ...r, endian: i % 3 === 0 ? 'be' : 'le', nanos: i % 2 === 0, packetBlock: i === 5 ? 'pb' : 'epb' }) });
    });
  }
  out.push({ name: 'writer/s5-misc-eth.pcap', bytes: (() => { const c = new CaptureScript({ seed: 9 }); notTcp(c, true); staleReuse(c, false); return c.toPcap({ linkType: 1 }); })() });
  out.push({ name: 'writer/multi-section.pcapng', bytes: multiSection() });
  return out;
}

/**
 * One pcapng file with two sections in opposite byte orders, several interfaces of different
 * link types and resolutions (µs, ns, 2^-10, ms, an offset), EPB/SPB/PB, name resolution,
 * statistics, custom and decryption-secrets blocks, and comments.
 */
function multiSection(): Uint8Array {
  const a = scenarioScript(0, 11).frames;
  const b = scenarioScript(2, 12).frames;
  const w = new PcapngWriter();
  const link = (linkType: number, extra: Partial<LinkOptions> = {}): LinkOptions => ({ linkType, ...extra });
  const put = (frames: readonly ScriptFrame[], ifId: number, l: LinkOptions, block: 'epb' | 'spb' | 'pb' = 'epb', every = 1): void => {
    frames.forEach((f, i) => {
      if (i % every !== 0) return;
      w.packet({ tsMicros: f.tsMicros, tsExtraNanos: f.tsExtraNanos, data: frameBytes(f, l), interfaceId: ifId, block, ...(i === 0 ? { comment: 'first', flags: 1 } : {}) });
    });
  };
  w.section({ endian: 'le', userappl: 'flowdoc fuzz', hardware: 'x86_64', os: 'Linux' });
  w.interface({ linkType: LINKTYPE.ETHERNET, name: 'eth0' });
  w.interface({ linkType: LINKTYPE.LINUX_SLL2, name: 'any', tsresol: { base: 10, exp: 9 } });
  w.nameResolution([{ ip: '10.200.9.9', names: ['api.internal'] }, { ip: '2001:db8::9', names: ['api6'] }]);
  put(a, 0, link(LINKTYPE.ETHERNET));
  put(b, 1, link(LINKTYPE.LINUX_SLL2, { ifIndex: 2 }));
  w.interfaceStatistics(0, { tsMicros: a[a.length - 1]!.tsMicros, received: 100n, dropped: 1n });
  w.custom(32473, Uint8Array.of(1, 2, 3));
  w.decryptionSecrets(0x544c534b, new TextEncoder().encode('CLIENT_RANDOM 00 11\n'));
  w.section({ endian: 'be' });
  w.interface({ linkType: LINKTYPE.RAW, snaplen: 96, tsresol: { base: 2, exp: 10 }, tsoffset: 3600 });
  w.interface({ linkType: LINKTYPE.NULL, tsresol: { base: 10, exp: 3 } });
  put(a, 0, link(LINKTYPE.RAW), 'epb', 2);
  put(b, 1, link(LINKTYPE.NULL), 'pb', 3);
  put(a.slice(0, 4), 0, link(LINKTYPE.RAW), 'spb');
  return w.toBytes();
}

// ---- logs --------------------------------------------------------------------------------------

/** Access-log lines of every built-in layout, written the way Envoy writes them. */
function builtLogLines(): string[] {
  const head = (t: string, code: string, flags: string) => `[${t}] "GET /api/items/4 HTTP/1.1" ${code} ${flags}`;
  const mid = '0 95 12 - "-" "curl/8.4.0" "6d67d674-2122-4a2d-b172-0be70c674371" "api.internal" "10.200.9.9:80"';
  const tail = ' 10.200.1.2:45720 10.200.9.9:80 10.200.1.1:51000 -';
  const t = '2024-05-01T10:00:12.345Z';
  return [
    `${head(t, '503', 'UC')} upstream_reset_before_response_started{connection_termination} - "-" ${mid} outbound|80||api.internal${tail} default`,
    `${head(t, '200', '-')} via_upstream - "-" ${mid} outbound|80||api.internal${tail} default`,
    `${head(t, '503', 'UC')} "-" "-" ${mid} outbound|80||api.internal${tail} -`,
    `${head(t, '504', 'UT')} "-" ${mid} outbound|80||api.internal${tail}`,
    `${head(t, '503', 'UF,URX')} ${mid} outbound|80||api.internal${tail}`,
    `${head(t, '200', '-')} ${mid}`,
    '{"start_time":"2024-05-01T10:00:12.345Z","method":"GET","path":"/api/items/4","protocol":"HTTP/1.1","response_code":503,"response_flags":"UC","response_code_details":"upstream_reset_before_response_started{connection_termination}","bytes_received":0,"bytes_sent":95,"duration":12,"upstream_host":"10.200.9.9:80","upstream_local_address":"10.200.1.2:45720","downstream_remote_address":"10.200.1.1:51000","request_id":"6d67d674-2122-4a2d-b172-0be70c674371","authority":"api.internal"}',
    '{"response_code":"503","response_flags":"UC","start_time":"2024-05-01T10:00:12.345Z","upstream_host":"-","duration":"12"}',
    `{"log":"${head(t, '503', 'UC').replace(/"/g, '\\"')} ${mid.replace(/"/g, '\\"')}\\n","stream":"stdout","time":"2024-05-01T10:00:12.400Z"}`,
    `2024-05-01T10:00:12.400000000Z stdout F ${head(t, '503', 'UC')} ${mid}`,
    `2024-05-01T10:00:12.400000000Z stdout P ${head(t, '503', 'UC')} `,
    `2024-05-01T10:00:12.400000001Z stdout F ${mid}`,
    `2024-05-01T10:00:12.400Z ${head(t, '200', '-')} ${mid}`,
    `envoy-1         | 2024-05-01T10:00:12.400Z ${head(t, '503', 'UC')} ${mid}`,
  ];
}

function logFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  walk(dir, files);
  return files.filter((f) => f.endsWith('.log'));
}

function logSeedsOf(files: string[], base: string): LogSeed[] {
  return files.map((f) => ({ name: relative(base, f), lines: readFileSync(f, 'utf8').split('\n').filter((l) => l.length > 0).slice(0, 64) }));
}

// ---- the corpus -------------------------------------------------------------------------------

export interface SeedCorpus {
  readonly captures: readonly CaptureSeed[];
  readonly logs: readonly LogSeed[];
}

const cache = new Map<CorpusChoice, SeedCorpus>();

export function seedCorpus(choice: CorpusChoice = 'bundled'): SeedCorpus {
  let c = cache.get(choice);
  if (c) return c;
  const captures = [...bundledCaptures(), ...writerCaptures(), ...(choice === 'all' ? sharedCaptures() : [])];
  const logs = [
    { name: 'built-in-formats', lines: builtLogLines() },
    ...logSeedsOf(logFilesUnder(join(REPO_ROOT, 'captures')), REPO_ROOT),
    ...(choice === 'all' ? logSeedsOf(logFilesUnder(join(SHARED_CORPUS, 'envoy-logs')), SHARED_CORPUS) : []),
  ];
  c = { captures, logs };
  cache.set(choice, c);
  return c;
}

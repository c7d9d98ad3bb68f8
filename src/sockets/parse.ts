/**
 * Reads socket snapshots from text: `ss -t` output with any of `-n -o -i -e -a` (one or many runs,
 * each starting at its header line, optionally after a `date` line), and /proc/net/tcp or
 * /proc/net/tcp6 dumps. One pass over the lines, constant work per line. Lines that fit none of
 * these are counted and sampled, never fatal; the caller decides whether nothing at all was read.
 */
import { parseDateLine } from './date.js';
import { parseProcRow, PROC_HEADER } from './proc.js';
import { parseSsTimer } from './timer.js';
import { endpointText } from '../decode/index.js';
import type { SkippedLine, SocketDump, SocketEndpoint, SocketRow, Snapshot, SocketSource } from './types.js';

const SS_HEADER = /^(?:Netid\s+)?State\s+Recv-Q\s+Send-Q\s+Local\s+Address:Port\s+Peer\s+Address:Port/;
const SS_STATES = new Set(['ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN', 'CLOSE-WAIT', 'LAST-ACK', 'LISTEN', 'CLOSING', 'UNKNOWN']);
const MAX_SAMPLES = 5;

type MutableRow = { -readonly [K in keyof SocketRow]: SocketRow[K] };
/** A clock time and a year on one line: a `date` line in a locale parseDateLine does not read. */
const LOCALE_DATE_TIME = /(?:^|\s)\d{1,2}:\d{2}:\d{2}(?:\s|$)/;
const LOCALE_DATE_YEAR = /(?:^|\s)(?:19|20)\d{2}(?:\s|$)/;

interface OpenSnapshot { source: SocketSource; micros: number | null; dateText: string | null; line: number; rows: MutableRow[] }

/** `10.0.0.1:443`, `[fd00::1]:443`, `[::ffff:10.0.0.1]:443`, older ss's unbracketed `fd00::1:443`, `fe80::1%eth0:22` → host (no brackets, no zone), port and IP version; an error for `*` ports or service names. */
export function normaliseEndpoint(text: string): { endpoint: SocketEndpoint } | { error: string } {
  let host: string;
  let port: string;
  const b = /^\[([^\]]+)\]:(.+)$/.exec(text);
  if (b) {
    host = b[1]!;
    port = b[2]!;
  } else {
    const i = text.lastIndexOf(':');
    if (i <= 0) return { error: `'${text}' is not address:port` };
    host = text.slice(0, i);
    port = text.slice(i + 1);
  }
  host = host.replace(/%.*$/, '');
  if (port === '*') return { error: 'no port (a listening socket)' };
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return { error: `port '${port}' is a service name: run ss with -n` };
  const v6 = host.includes(':');
  return { endpoint: v6 ? { host: host.toLowerCase(), port: Number(port), ipVersion: 6 } : { host, port: Number(port), ipVersion: 4 } };
}

const text = (e: SocketEndpoint) => endpointText(e.host, e.port, e.ipVersion);

/** The key:value facts of ss -i's detail line that matter here. */
function applyDetails(row: MutableRow, text: string): void {
  for (const tok of text.trim().split(/\s+/)) {
    const c = tok.indexOf(':');
    if (c <= 0) continue;
    const key = tok.slice(0, c);
    const value = tok.slice(c + 1);
    switch (key) {
      case 'lastsnd': row.lastsndMs = Number(value); break;
      case 'lastrcv': row.lastrcvMs = Number(value); break;
      case 'lastack': row.lastackMs = Number(value); break;
      case 'unacked': row.unacked = Number(value); break;
      case 'retrans': {
        const [cur, total] = value.split('/');
        row.retransCurrent = Number(cur);
        row.retransTotal = total !== undefined ? Number(total) : null;
        break;
      }
    }
  }
  // ss -i prints `unacked:` and `retrans:` only when non-zero.
  row.unacked ??= 0;
  row.retransCurrent ??= 0;
  row.retransTotal ??= 0;
}

type SsRowResult = { row: MutableRow } | { skip: string } | null;

/** One `ss` socket line (state first, or netid then state). null when it does not start like one. */
function parseSsRow(line: string, n: number): SsRowResult {
  const toks = line.trim().split(/\s+/);
  let i = 0;
  if (toks[0] === 'tcp') i = 1;
  const state = toks[i];
  if (!state || !SS_STATES.has(state)) return null;
  if (toks.length < i + 5) return { skip: 'a socket line cut short' };
  const recvQ = Number(toks[i + 1]);
  const sendQ = Number(toks[i + 2]);
  if (!Number.isInteger(recvQ) || !Number.isInteger(sendQ)) return { skip: 'Recv-Q/Send-Q are not numbers' };
  const local = normaliseEndpoint(toks[i + 3]!);
  if ('error' in local) return { skip: `local address: ${local.error}` };
  const peer = normaliseEndpoint(toks[i + 4]!);
  if ('error' in peer) return { skip: `peer address: ${peer.error}` };
  const row: MutableRow = {
    state, local: text(local.endpoint), peer: text(peer.endpoint), endpoints: { local: local.endpoint, peer: peer.endpoint }, recvQ, sendQ, timer: null,
    lastsndMs: null, lastrcvMs: null, lastackMs: null, retransCurrent: null, retransTotal: null, unacked: null, inode: null, uid: null, line: n,
  };
  for (const tok of toks.slice(i + 5)) {
    if (tok.startsWith('timer:(')) {
      if (!tok.endsWith(')')) return { skip: `timer field '${tok}' is cut short` };
      const t = parseSsTimer(tok.slice(7, -1));
      if (!t) return { skip: `timer field '${tok}' is not ss's` };
      row.timer = t;
    } else if (tok.startsWith('ino:')) row.inode = Number(tok.slice(4));
    else if (tok.startsWith('uid:')) row.uid = Number(tok.slice(4));
  }
  return { row };
}

export function parseSocketDump(text: string, file: string): SocketDump {
  const snapshots: Snapshot[] = [];
  const samples: SkippedLine[] = [];
  let skipped = 0;
  let current: OpenSnapshot | null = null;
  let last: MutableRow | null = null;
  let pendingDate: { micros: number | null; text: string } | null = null;
  const skip = (line: number, reason: string, t: string) => {
    skipped++;
    if (samples.length < MAX_SAMPLES) samples.push({ line, reason, text: t.length > 120 ? `${t.slice(0, 117)}...` : t });
  };
  const close = () => {
    if (current) snapshots.push({ source: current.source, micros: current.micros, dateText: current.dateText, line: current.line, rows: current.rows });
    current = null;
    last = null;
  };
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (let k = 0; k < lines.length; k++) {
    const n = k + 1;
    const raw = lines[k]!.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    if (SS_HEADER.test(raw) || PROC_HEADER.test(raw)) {
      close();
      current = { source: SS_HEADER.test(raw) ? 'ss' : 'proc-net-tcp', micros: pendingDate?.micros ?? null, dateText: pendingDate?.text ?? null, line: n, rows: [] };
      pendingDate = null;
      continue;
    }
    const d = parseDateLine(raw);
    if (d !== undefined) {
      close();
      pendingDate = { micros: d, text: raw.trim() };
      continue;
    }
    // `date` in another locale (`Mo 7. Dez 09:00:05 CET 2026`): still a line between snapshots, but without an instant.
    if (!/^\s/.test(raw) && !/^(?:tcp\s+)?[A-Z][A-Z0-9-]+\s+\d/.test(raw) && LOCALE_DATE_TIME.test(raw) && LOCALE_DATE_YEAR.test(raw)) {
      close();
      pendingDate = null;
      skip(n, 'a date line flowdoc cannot read (another locale?): print it with LC_ALL=C date, or date -Is', raw);
      continue;
    }
    if (!current) {
      skip(n, 'not ss or /proc/net/tcp output (no header line before it)', raw);
      continue;
    }
    const cur: OpenSnapshot = current;
    if (cur.source === 'proc-net-tcp') {
      const r = parseProcRow(raw, n);
      if ('skip' in r) skip(n, r.skip, raw);
      else cur.rows.push(r.row);
      continue;
    }
    // ss -i's detail line is indented and belongs to the socket line above it.
    if (/^\s/.test(raw) && last && !/^\s*(?:tcp\s+)?[A-Z][A-Z0-9-]+\s+\d/.test(raw)) {
      applyDetails(last, raw);
      continue;
    }
    const r = parseSsRow(raw, n);
    if (r === null) {
      skip(n, /^\s/.test(raw) ? 'a detail line with no socket line before it' : 'not a socket line', raw);
      last = null;
    } else if ('skip' in r) {
      skip(n, r.skip, raw);
      last = null;
    } else {
      cur.rows.push(r.row);
      last = r.row;
    }
  }
  close();
  return { file, snapshots, lines: lines.length, skipped, skippedSamples: samples };
}

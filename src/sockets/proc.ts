/**
 * /proc/net/tcp and /proc/net/tcp6 (net/ipv4/tcp_ipv4.c get_tcp4_sock, net/ipv6/tcp_ipv6.c
 * get_tcp6_sock): addresses are the kernel's 32-bit words printed in hex in host byte order
 * (little-endian on x86 and arm64), ports in plain hex; `tr:tm->when` is the pending timer
 * (0 none, 1 retransmission, 2 keepalive, 3 TIME-WAIT, 4 zero-window probe) and the time left in
 * clock ticks (USER_HZ = 100 on Linux); `retrnsmt` the retransmissions of the current segment;
 * `timeout` the unanswered probes. No lastsnd/lastrcv here: idle time is unknown.
 */
import { endpointText } from '../decode/index.js';
import type { SocketEndpoint, SocketRow, SocketTimer } from './types.js';

export const PROC_HEADER = /^\s*sl\s+local_address\s+rem(?:ote)?_address\s+st\s+tx_queue\s+rx_queue\s+tr\s+tm->when\s+retrnsmt\s+uid\s+timeout\s+inode/;
const USER_HZ = 100;
const STATES = ['', 'ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN', 'CLOSE-WAIT', 'LAST-ACK', 'LISTEN', 'CLOSING', 'SYN-RECV'];
const TIMERS: readonly SocketTimer['kind'][] = ['off', 'on', 'keepalive', 'timewait', 'persist'];

/** A host-order 32-bit word of /proc/net/tcp as the 4 bytes it stands for (little-endian host). */
function wordBytes(hex: string): number[] {
  const v = parseInt(hex, 16);
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

function address(hex: string): SocketEndpoint | null {
  const [a, p] = hex.split(':');
  if (!a || !p || !/^[0-9A-Fa-f]{4}$/.test(p)) return null;
  const port = parseInt(p, 16);
  if (/^[0-9A-Fa-f]{8}$/.test(a)) return { host: wordBytes(a).join('.'), port, ipVersion: 4 };
  if (!/^[0-9A-Fa-f]{32}$/.test(a)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) bytes.push(...wordBytes(a.slice(i, i + 8)));
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return { host: compressV6(groups), port, ipVersion: 6 };
}

/** RFC 5952 text: the longest run (≥ 2) of zero groups becomes `::`; IPv4-mapped addresses keep their dotted tail. */
function compressV6(groups: string[]): string {
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const lo = parseInt(groups[6]!, 16);
    const hi = parseInt(groups[7]!, 16);
    return `::ffff:${lo >> 8}.${lo & 0xff}.${hi >> 8}.${hi & 0xff}`;
  }
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function parseProcRow(raw: string, n: number): { row: SocketRow } | { skip: string } {
  const t = raw.trim().split(/\s+/);
  if (t.length < 10 || !/^\d+:$/.test(t[0]!)) return { skip: t.length < 10 && /^\d+:$/.test(t[0] ?? '') ? 'a /proc/net/tcp line cut short' : 'not a /proc/net/tcp line' };
  const local = address(t[1]!);
  const peer = address(t[2]!);
  if (!local || !peer) return { skip: 'addresses are not /proc/net/tcp hex' };
  const st = parseInt(t[3]!, 16);
  const [tx, rx] = t[4]!.split(':');
  const [tr, when] = t[5]!.split(':');
  if (!STATES[st] || !tx || !rx || tr === undefined || when === undefined || !/^[0-9A-Fa-f]+$/.test(when)) return { skip: 'state, queue or timer fields are not /proc/net/tcp\'s' };
  const kind = TIMERS[parseInt(tr, 16)] ?? 'unknown';
  const ticks = parseInt(when, 16);
  const timer: SocketTimer | null = kind === 'off' ? null : {
    kind,
    remainingSeconds: { min: ticks / USER_HZ, max: (ticks + 1) / USER_HZ },
    text: `${ticks / USER_HZ}s`,
    // The retransmission timer's count is retrnsmt; the keepalive timer's, the unanswered probes (`timeout`).
    count: kind === 'on' ? parseInt(t[6]!, 16) : Number(t[8]),
  };
  return {
    row: {
      state: STATES[st]!, local: endpointText(local.host, local.port, local.ipVersion), peer: endpointText(peer.host, peer.port, peer.ipVersion), endpoints: { local, peer }, sendQ: parseInt(tx, 16), recvQ: parseInt(rx, 16), timer,
      lastsndMs: null, lastrcvMs: null, lastackMs: null,
      retransCurrent: parseInt(t[6]!, 16), retransTotal: null, unacked: null,
      uid: Number(t[7]), inode: Number(t[9]), line: n,
    },
  };
}

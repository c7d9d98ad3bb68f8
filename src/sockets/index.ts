/**
 * Socket snapshots (`ss -tnoi`, /proc/net/tcp): evidence without a capture. Parse with
 * `parseSocketDump`, judge with `analyzeSockets`.
 */
export { parseSocketDump, normaliseEndpoint } from './parse.js';
export { parseTimerText, parseSsTimer } from './timer.js';
export { parseDateLine } from './date.js';
export { analyzeSockets, AT_RISK_SHARE, KERNEL_KEEPALIVE_SECONDS, type SocketsOptions, type SocketsReport, type SocketConnection, type SocketDestination, type SocketKeepalive, type VanishedConnection } from './analyze.js';
export type { SocketDump, Snapshot, SocketRow, SocketTimer, SkippedLine, SocketSource } from './types.js';

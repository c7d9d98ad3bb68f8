export type {
  Connection, ConnState, EndpointStats, IdleGap, GapAftermath, AfterFin, RstContext, AppMessage, Truncation, Anomaly, CloseEvent, EndReason, RoleSource, HostPort,
} from './connection.js';
export { CONN_STATE_MEANINGS, HISTORY_LETTERS } from './connection.js';
export { LiveConnection } from './live.js';
export type { HandedOnAttempt } from './attempts.js';
export { ConnectionTable, DEFAULT_TABLE_OPTIONS, type TableOptions, type TableStats } from './table.js';
export { seqLt, seqLe, seqGt, seqAdd, seqDiff } from './seq.js';
export { SegmentTrace, TraceFlag, TRACE_HEAD, TRACE_TAIL, type TracedSegment } from './trace.js';
export { type AppKeepalive, type PingKind } from './app-ping.js';

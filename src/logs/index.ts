/**
 * Envoy / Istio access logs: format strings compiled into line matchers, built-in formats with
 * per-file detection, Istio JSON lines, container-log wrappers, a streaming file reader and a
 * triage summary of failures. Nothing here knows about packets.
 */
export type { LogEntry } from './entry.js';
export { LogError, type LogErrorCode } from './errors.js';
export {
  BUILTIN_FORMATS,
  BUILTIN_FORMAT_STRINGS,
  builtinFormat,
  compileFormat,
  matchFormat,
  type CompiledFormat,
  type CompileResult,
  type EntryOrigin,
  type LiteralSegment,
  type MatchResult,
  type MatchStats,
  type OperatorSegment,
  type Segment,
} from './format.js';
export {
  MAX_LINE_BYTES,
  MAX_REJECTED_SAMPLES,
  parseLogText,
  type LogReadOptions,
  type LogReadResult,
  type ParseTextOptions,
  type RejectedLine,
} from './parse.js';
export { readLogFile } from './read.js';
export { LogFollower, type FollowCounts } from './follow.js';
export {
  hasIdleDropSignature,
  isFailure,
  triageLogs,
  type LogTriage,
  type TriageCount,
  type TriageSignatures,
} from './triage.js';
export {
  DEFAULT_LOG_IDLE_THRESHOLD_SECONDS,
  findStaleReuseInLogs,
  type ConnectionKeyKind,
  type LogHostReuse,
  type LogIdleDropNotStale,
  type LogPlace,
  type LogStaleReuse,
  type LogStaleReuseIncident,
  type ReuseOptions,
} from './reuse.js';

export type { CorrelatedIncident, CorrelatedStream, HopEvidence, LogMatch, LogsSummary, MatchKey, UnexplainedSignatures, Verdict } from './types.js';
export { MATCH_KEY_STRENGTH } from './types.js';
export { correlate, sameEndpoint, type HopLogs, type CorrelateOptions } from './correlate.js';
export { describeEntry, isSignature, UC_LOCAL_REPLY_BYTES } from './meaning.js';
export { decideVerdict } from './verdict.js';
export * from './vantage/index.js';

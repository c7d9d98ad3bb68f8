export type { CorrelatedIncident, HopEvidence, LogMatch, LogsSummary, MatchKey, UnexplainedSignatures, Verdict } from './types.js';
export { MATCH_KEY_STRENGTH } from './types.js';

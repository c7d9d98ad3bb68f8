export { Detector, type DetectOptions, type LbTimeouts, MAX_OPEN_AT_END, MAX_INCIDENT_STREAMS, hopsCloser } from './detector.js';
export { fmtSeconds, makeBracket, SURVIVED_MIN_SHARE, type Bracket, type BracketEvidence, type BracketMeasure } from './bracket.js';
export type { Incident, IncidentKind, Destination, RstEvidence, RequestEvidence, RstOrigin, TimeoutBracket, KeepaliveVerdict, AtRiskConnection, ProbeEvidence, RetrySafety, StreamEvidence, GoawayEvidence, HostPort } from './incident.js';
export { INCIDENT_KIND_MEANINGS, sameHostPort } from './incident.js';
export { KNOWN_IDLE_TIMEOUTS, candidatesIn, type KnownTimeout } from './middleboxes.js';
export { rstOrigin, hopsFromTtl, initialTtl } from './ttl.js';

export { Detector, type DetectOptions, displayFilter, splitEndpoint, fmtSeconds, hopsCloser } from './detector.js';
export type { Incident, IncidentKind, Destination, RstEvidence, RequestEvidence, RstOrigin, TimeoutBracket, KeepaliveVerdict } from './incident.js';
export { INCIDENT_KIND_MEANINGS } from './incident.js';
export { KNOWN_IDLE_TIMEOUTS, candidatesIn } from './middleboxes.js';
export { rstOrigin, hopsFromTtl } from './ttl.js';

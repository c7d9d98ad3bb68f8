export type * from './types.js';
export { alignCaptures, type AlignedIncident, type Alignment } from './align.js';
export { decideVantageVerdict } from './verdict.js';
export { estimateClock, fmtSeconds as fmtSignedSeconds } from './clock.js';
export { pairConnections } from './match.js';

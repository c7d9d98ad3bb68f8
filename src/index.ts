/** flowdoc as a library: the same functions the CLI calls. */
export { readCapture, CaptureError, type CaptureRecord, type CaptureSummary } from './capture/index.js';
export { PacketDecoder, DecodedPacket, DecodeStatus, describePacket } from './decode/index.js';
export { captureInfo, type CaptureInfo } from './analysis/info.js';
export type { LogEntry } from './logs/index.js';

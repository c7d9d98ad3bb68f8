export { readCapture, type CaptureSummary, type ReadOptions } from './read.js';
export { CaptureError, type CaptureErrorCode } from './errors.js';
export type { CaptureRecord, RecordSink } from './record.js';
export type { CaptureFormat } from './parser.js';
export { MAX_RECORD_BYTES } from './parser.js';
export { sniffFormat } from './sniff.js';

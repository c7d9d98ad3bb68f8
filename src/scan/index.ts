/**
 * Batch scans of capture archives: find the captures under directories (by magic bytes), analyse
 * each with `analyzeCapture` on worker threads (rotated files of one node stitched into one
 * stream on request), and summarise the archive: which destination fails in most captures, and
 * its idle timeout bracketed over all of them. Shards of one scan merge into the same report.
 */
export { scanArchive, reportOptions, ScanInputError, type ScanHooks, type ScanOptions, type ScanPlan } from './scan.js';
export { mergeShards, type MergeOptions, type MergeResult, type ShardInput } from './merge.js';
export { renderScanJson, renderScanNdjson, renderScanTable, ndjsonRow, ndjsonSummary, formatBytes, TABLE_WIDTH } from './render.js';
export { parseShard, resolveShard, shardOf } from './shard.js';
export { summarize, rankDestinations } from './summary.js';
export { defaultWorkerSpec, runPool, type WorkerSpec } from './pool.js';
export { runTask, type ScanTask, type RunTaskOptions, type Analyze } from './task.js';
export { serveTasks } from './serve.js';
export { groupRotations, rotationTemplate, orderByFirstPacket, stitchedSource, locateFrame, naturalCompare } from './stitch.js';
export { captureStems, hopName, indexLogDir, pairByNameOrDirectory, pairByTime, LOG_FILE } from './logs.js';
export { findFiles, peekFile, type FoundFile, type Peek } from './discover.js';
export * from './types.js';

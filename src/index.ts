/**
 * flowdoc as a library: the same functions the CLI calls, stage by stage (capture → decode →
 * flows → detect → logs → correlate → report), plus the one-call pipeline (`analyzeCapture`,
 * `analyzeCaptures`), the renderers, and the archive scan (`scanArchive`, `mergeShards`).
 * Nothing here touches stdout or exits; the CLI in src/cli/ is a thin shell over these.
 */

// The whole pipeline in one call.
export {
  analyzeCapture,
  flowdocVersion,
  DEFAULT_IDLE_THRESHOLD_SECONDS,
  type AnalysisResult,
  type AnalysisSummary,
  type AnalyzeOptions,
  type CaptureDescription,
} from './analysis/analyze.js';
export { analyzeCaptures, type MultiAnalysisResult, type MultiAnalyzeOptions, type NamedCapture } from './analysis/analyze-many.js';
export { runFlows, type CaptureSource, type FlowRunOptions, type FlowRunSummary } from './analysis/flows.js';
export { captureInfo, type CaptureInfo } from './analysis/info.js';

// Stages.
export { readCapture, CaptureError, type CaptureRecord, type CaptureSummary } from './capture/index.js';
export { PacketDecoder, DecodedPacket, DecodeStatus, describePacket } from './decode/index.js';
export { ConnectionTable, DEFAULT_TABLE_OPTIONS, type Connection, type TableOptions } from './flows/index.js';
export { Detector, INCIDENT_KIND_MEANINGS, sameHostPort, type DetectOptions, type Incident, type IncidentKind, type Destination, type HostPort } from './detect/index.js';
export { readLogFile, parseLogText, LogError, type LogEntry } from './logs/index.js';
export { correlate, type CorrelatedIncident, type HopLogs, type CorrelateOptions, type Verdict } from './correlate/index.js';

// Reports.
export {
  renderAnalysis,
  renderTable,
  renderJson,
  renderMarkdown,
  renderHtml,
  renderFlowsTable,
  toJsonReport,
  incidentSummary,
  rstReason,
  probeImplies,
  retryText,
  atRiskText,
  atRiskKeepalive,
  atRiskLastTime,
  displayFilter,
  connectionFilter,
  formatHostPort,
  formatEnds,
  formatPath,
  computeRemedies,
  REPORT_FORMATS,
  SCHEMA_VERSION,
  type ReportFormat,
  type RenderOptions,
  type JsonReport,
  type FrameCitation,
  type Remedy,
} from './report/index.js';

// Archives.
export {
  scanArchive,
  mergeShards,
  renderScanTable,
  renderScanJson,
  renderScanNdjson,
  ScanInputError,
  type ScanOptions,
  type ScanHooks,
  type ScanReport,
  type MergeOptions,
  type MergeResult,
} from './scan/index.js';

// Socket snapshots (ss / /proc/net/tcp).
export { analyzeSockets, parseSocketDump, type SocketsOptions, type SocketsReport } from './sockets/index.js';

/**
 * One parsed Envoy / Istio access-log line. Every field is optional in the wild: a value the
 * format does not carry, or that Envoy wrote as `-` / `null` / `""`, is `null` here.
 * Plain, readonly, JSON-serializable: it outlives the parser.
 */
export interface LogEntry {
  /** The file as the user named it. */
  readonly file: string;
  /** 1-based line number in that file. */
  readonly line: number;
  /** The hop this file belongs to (`--logs hop=file`; the file's base name when no hop was named). */
  readonly hop: string;
  /** Which format parsed it: 'envoy-default', 'istio-1.0', 'istio-1.1', 'istio-1.2', 'istio-1.3', 'istio-1.3-nomixer', 'istio-1.9', 'istio-1.23' (1.9–1.22 lines are identical and read as this), 'custom', 'json'. */
  readonly format: string;
  /** %START_TIME% as milliseconds since the epoch, UTC (null when absent or unparseable). */
  readonly startMs: number | null;
  readonly method: string | null;
  readonly path: string | null;
  readonly protocol: string | null;
  /** %RESPONSE_CODE%; 0 is a real value (Envoy logs 0 when no response was sent downstream). */
  readonly responseCode: number | null;
  /** %RESPONSE_FLAGS% split on commas, e.g. ['UF', 'URX']; empty when `-`. */
  readonly flags: readonly string[];
  /** %RESPONSE_CODE_DETAILS%, e.g. 'upstream_reset_before_response_started{connection_termination}'. */
  readonly responseCodeDetails: string | null;
  /** %CONNECTION_TERMINATION_DETAILS%. */
  readonly connectionTerminationDetails: string | null;
  /** %UPSTREAM_TRANSPORT_FAILURE_REASON%. */
  readonly upstreamTransportFailureReason: string | null;
  readonly bytesReceived: number | null;
  readonly bytesSent: number | null;
  /** %DURATION% in ms. */
  readonly durationMs: number | null;
  /** %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% in ms. */
  readonly upstreamServiceTimeMs: number | null;
  readonly xForwardedFor: string | null;
  readonly userAgent: string | null;
  /** %REQ(X-REQUEST-ID)%. */
  readonly requestId: string | null;
  /** %REQ(:AUTHORITY)%. */
  readonly authority: string | null;
  /** %UPSTREAM_HOST% normalised to `ip:port` / `[v6]:port` (a `tcp://` prefix is removed). */
  readonly upstreamHost: string | null;
  /** %UPSTREAM_CLUSTER% or %UPSTREAM_CLUSTER_RAW%. */
  readonly upstreamCluster: string | null;
  /** %UPSTREAM_LOCAL_ADDRESS%: Envoy's source socket toward the upstream — the join key into a capture. */
  readonly upstreamLocalAddress: string | null;
  /**
   * %UPSTREAM_CONNECTION_ID% (Envoy ≥ 1.30): Envoy's own number for the pooled upstream connection,
   * unique within one Envoy process. Kept as text (a uint64 may not fit a double).
   */
  readonly upstreamConnectionId: string | null;
  readonly downstreamLocalAddress: string | null;
  readonly downstreamRemoteAddress: string | null;
  readonly requestedServerName: string | null;
  readonly routeName: string | null;
  /** Istio ≤1.8 mixer status (%DYNAMIC_METADATA(istio.mixer:status)%). */
  readonly mixerStatus: string | null;
}

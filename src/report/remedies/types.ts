import type { IncidentKind } from '../../detect/index.js';

/** What went wrong with a destination's connections, as far as the fix is concerned. */
export type RemedyProblem =
  /** Something on the path forgot idle connections (stale-reuse-rst / -timeout); TCP keepalive keeps it from forgetting. */
  | 'idle-drop'
  /** The same, but keepalive probes were sent and did not help: the box counts only payload (an L7 proxy). */
  | 'idle-drop-ignores-keepalive'
  /** The server closed the idle connection first and the client reused it anyway (reuse-after-fin). */
  | 'server-closed-first'
  /** HTTP/2: the client opened streams after the server's GOAWAY (reuse-after-goaway). */
  | 'goaway-race'
  /** The server reset requests in flight, not after idle (reset-in-flight): not a keepalive problem. */
  | 'server-reset'
  /** No incident yet, but connections are idle past a known timeout at the end of the capture (at-risk). */
  | 'idle-at-risk';

export type RemedyLayer = 'application' | 'client-sidecar' | 'server-side';

/** TCP keepalive timing, in whole seconds (TCP_KEEPIDLE/TCP_KEEPINTVL take seconds). */
export interface KeepaliveSettings {
  /** Idle time before the first probe (TCP_KEEPIDLE, Istio `tcpKeepalive.time`). */
  readonly idleSeconds: number;
  /** Time between unanswered probes (TCP_KEEPINTVL, `tcpKeepalive.interval`). */
  readonly intervalSeconds: number;
  /** Unanswered probes before the connection is dropped (TCP_KEEPCNT, `tcpKeepalive.probes`). */
  readonly probes: number;
  /** idle + interval × probes: when a connection whose probes go unanswered is given up. */
  readonly giveUpSeconds: number;
}

/** One ready-to-use configuration or code fragment. */
export interface RemedySnippet {
  readonly layer: RemedyLayer;
  /** What it is, e.g. `Go net/http`, `Istio DestinationRule`. */
  readonly title: string;
  /** Code-fence language: `go`, `javascript`, `java`, `python`, `yaml`. */
  readonly language: string;
  readonly code: string;
  /** When it applies, and its caveats. */
  readonly note: string;
}

/** The fix for one destination, with every number computed from the evidence. */
export interface Remedy {
  /** `ip:port` of the server side, as in `destinations`. */
  readonly destination: string;
  /** Service name for the destination, when the evidence names one (else null: the IP is used). */
  readonly host: string | null;
  /** Where the name came from. */
  readonly hostSource: 'upstream-cluster' | 'authority' | 'http-host' | 'sni' | null;
  /** Whether the host looks like a mesh service (`*.svc…`, short name); outside the mesh a ServiceEntry is needed. */
  readonly inMesh: boolean;
  readonly port: number;
  /** What the requests were: HTTP/1.x, TLS, or unrecognised payload. */
  readonly protocol: 'http' | 'tls' | 'data';
  readonly incidents: number;
  readonly incidentsByKind: Readonly<Partial<Record<IncidentKind, number>>>;
  readonly problems: readonly RemedyProblem[];
  /** One sentence: the fix. */
  readonly headline: string;
  /** TCP keepalive timing to use, or null when keepalive is not the fix (or cannot be, the timeout being too short). */
  readonly keepalive: KeepaliveSettings | null;
  /** Close pooled connections idle longer than this (seconds): the client's HTTP (or TCP) idle timeout; null when not part of the fix. */
  readonly idleTimeoutSeconds: number | null;
  /** The server's keep-alive timeout as measured (reuse-after-fin), when the evidence has it. */
  readonly serverKeepAliveSeconds: number | null;
  /** The layer that owns the connection seen in the capture (the client sidecar when its log names the capture's client socket). */
  readonly primaryLayer: RemedyLayer;
  /** How each number was chosen, from which measurement (frames cited). */
  readonly rationale: readonly string[];
  /** Caveats and related advice (retries, request timeouts, what not to do). */
  readonly notes: readonly string[];
  readonly snippets: readonly RemedySnippet[];
}

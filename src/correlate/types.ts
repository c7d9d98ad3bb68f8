import type { Incident, StreamEvidence } from '../detect/index.js';
import type { LogEntry } from '../logs/index.js';

/** Which key joined a log entry to an incident, strongest first. */
export type MatchKey =
  | 'upstream-4-tuple'       // UPSTREAM_LOCAL_ADDRESS = the connection's client and UPSTREAM_HOST = its server
  | 'upstream-local-address' // UPSTREAM_LOCAL_ADDRESS = the client endpoint (server side a VIP), times fit
  | 'downstream-4-tuple'     // DOWNSTREAM_REMOTE_ADDRESS = client and DOWNSTREAM_LOCAL_ADDRESS = server (a hop that received it)
  | 'request-id'             // x-request-id of the HTTP request in the capture
  | 'time';                  // the request packet inside [START_TIME, START_TIME + DURATION] ± skew, method/path/authority agreeing

export const MATCH_KEY_STRENGTH: readonly MatchKey[] = ['upstream-4-tuple', 'downstream-4-tuple', 'upstream-local-address', 'request-id', 'time'];

/** One log line tied to an incident. */
export interface LogMatch {
  readonly hop: string;
  readonly file: string;
  readonly line: number;
  /** The strongest key that matched, and every key that did. */
  readonly key: MatchKey;
  readonly keys: readonly MatchKey[];
  /** Request packet time minus the entry's START_TIME, in ms (null when the entry has no time). */
  readonly offsetMs: number | null;
  /** What the line says, read as Envoy means it (flags, details, 95-byte local reply …). */
  readonly meaning: string;
  readonly entry: LogEntry;
}

/** What one hop's logs say about an incident's request. */
export interface HopEvidence {
  readonly hop: string;
  /** Whether this hop logged the request at all. */
  readonly sawRequest: boolean;
  /** How it relates to the capture's connection: it sent it upstream (client side), received it (server side), or only the request id ties it. */
  readonly role: 'client-side' | 'server-side' | 'related' | 'none';
  /** Line numbers of its matching entries (the entries are in the incident's `logs`). */
  readonly lines: readonly number[];
}

/** Where the fault lies, per incident. */
export interface Verdict {
  /** The hop at fault when one named hop is (e.g. a server that closed first), else null. */
  readonly faultyHop: string | null;
  /** The fault lies after `after` and before `before` (hop names; null = the capture's client / server end). */
  readonly segment: { readonly after: string | null; readonly before: string | null } | null;
  /** Who broke the connection, from the packets: 'middlebox' (forged RST or silent drop), 'server', or unknown. */
  readonly culprit: 'middlebox' | 'server' | 'unknown';
  /** One plain sentence, e.g. "the load balancer between podA-sidecar and gateway-b reset a connection idle for 912 s; gateway-b never received the request". */
  readonly reason: string;
  readonly confidence: 'high' | 'medium' | 'low';
}

/** Log lines that look like the idle-drop (or blackhole) signature but that no incident in the capture explains. */
export interface UnexplainedSignatures {
  /** Upstream host as logged (`ip:port`), or '-' when the line has none. */
  readonly upstreamHost: string;
  readonly count: number;
  /** The first few lines (hop, file, line, time, code, flags). */
  readonly samples: readonly { readonly hop: string; readonly file: string; readonly line: number; readonly startMs: number | null; readonly responseCode: number | null; readonly flags: readonly string[]; readonly details: string | null }[];
}

/** The logs part of an analysis: what each hop's file held and how it was read. */
export interface LogsSummary {
  readonly hops: readonly {
    readonly hop: string;
    readonly file: string;
    readonly format: string | null;
    readonly lines: number;
    readonly entries: number;
    readonly rejected: number;
    readonly rejectedSamples: readonly { readonly line: number; readonly text: string; readonly reason: string }[];
    readonly error: string | null;
  }[];
  readonly unexplained: readonly UnexplainedSignatures[];
  /** Skew allowance used for time matching, ms. */
  readonly skewMs: number;
}

/** An incident with what the logs of every hop say about it. */
export interface CorrelatedIncident extends Incident {
  /** Matched log entries of every hop, strongest key first. Empty when no logs were given or none matched. */
  readonly logs: readonly LogMatch[];
  /** Per hop: did it log the request? In the order the hops were given. */
  readonly hops: readonly HopEvidence[];
  /** Where the fault lies (from the packets alone when no logs were given). */
  readonly verdict: Verdict;
  /** HTTP/2: each killed stream with the lines (of `logs`) that are its own — one per hop that logged it. */
  readonly streams?: readonly CorrelatedStream[];
}

export interface CorrelatedStream extends StreamEvidence {
  readonly logs: readonly { readonly hop: string; readonly line: number }[];
}

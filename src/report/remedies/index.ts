/**
 * Remedies: for each destination with incidents, the fix at each layer (application, client
 * sidecar, server side) with every number computed from the evidence — the measured idle-timeout
 * bracket, the shortest failed idle, the server's FIN timing — and only the fixes that fit the
 * kind of incident.
 */
import type { Destination, IncidentKind } from '../../detect/index.js';
import { rstReason } from '../evidence-text.js';
import { fmtDuration } from '../time.js';
import { isStale, minOf, serverIdleBeforeFin, type ReportIncident, type ReportInput } from '../input.js';
import { grpcKeepalive, h2ConnectionKeepalive, h2Notes } from './h2.js';
import { appSnippets } from './app.js';
import { destinationRule, drHost, gatewayKeepalive, serviceEntry, type MeshTarget } from './istio.js';
import { oneRulePerHost, type RemedyAt } from './per-host.js';
import { belowServerKeepAlive, chooseIdleTimeout, chooseKeepalive, type Measurement } from './numbers.js';
import type { KeepaliveSettings, Remedy, RemedyLayer, RemedyProblem, RemedySnippet } from './types.js';
import { connectionFilter } from '../wireshark-filter.js';
import { endpointText } from '../../decode/index.js';
import { sameHostPort } from '../../detect/index.js';

export type { KeepaliveSettings, Remedy, RemedyLayer, RemedyProblem, RemedySnippet } from './types.js';
export { cleanDown, chooseKeepalive, chooseIdleTimeout, belowServerKeepAlive, type Measurement } from './numbers.js';
export { toYaml, commented, type YamlValue } from './yaml.js';
export { SOCKET_OPTIONS } from './istio.js';

/** One remedy per destination with incidents, in the order of `destinations` (most incidents first). */
export function computeRemedies(result: ReportInput): Remedy[] {
  const out: RemedyAt[] = [];
  for (const d of result.destinations) {
    if (d.incidents === 0) {
      // Before the first 503: connections idle past a timeout the user stated will fail on next use.
      const stated = result.options.lbTimeout ? result.options.lbTimeout.byServer[d.server] ?? result.options.lbTimeout.seconds : null;
      const risky = (result.atRisk ?? []).filter((a) => sameHostPort(a.endpoints.server, d.endpoint));
      if (risky.length && stated !== null && stated !== undefined) out.push({ remedy: remedyForRisk(d, stated, risky.length), endpoint: d.endpoint });
      continue;
    }
    const incidents = result.incidents.filter((i) => sameHostPort(i.endpoints.server, d.endpoint));
    if (incidents.length === 0) continue;
    out.push({ remedy: remedyFor(d, incidents), endpoint: d.endpoint });
  }
  return oneRulePerHost(out);
}

/** Keepalive and idle timeout below a stated load-balancer timeout, for a destination with connections at risk and no incident yet. */
function remedyForRisk(d: Destination, stated: number, risky: number): Remedy {
  const { host: ip, port, ipVersion } = d.endpoint;
  const target: MeshTarget = { host: null, inMesh: false, ip, ipVersion, port, protocol: 'data', destination: d.server };
  const m: Measurement = { failedSeconds: stated, failedFrame: null, survivedSeconds: null, survivedFrame: null, survivedIgnored: null, measure: 'packet-gap' };
  const k = chooseKeepalive(m);
  const h = chooseIdleTimeout(m);
  const why = [`${cap(k.text)} (the stated load-balancer timeout, --lb-timeout ${stated} s).`, `${cap(h.text)}.`];
  const snippets: RemedySnippet[] = [];
  const dr = destinationRule(target, { keepalive: k.settings, idleTimeoutSeconds: h.seconds, why: why.map((r) => r.replace(/\.$/, '')) });
  snippets.push(...appSnippets({ target: d.server, keepalive: k.settings, idleTimeoutSeconds: h.seconds, http: false }));
  if (dr) snippets.push(serviceEntry(target), dr);
  if (k.settings) snippets.push(gatewayKeepalive(target, k.settings));
  const headline: string[] = [`${risky} connection${risky === 1 ? ' is' : 's are'} idle past the ${stated} s load-balancer timeout and will fail on next use`];
  if (k.settings) headline.push(`TCP keepalive time ${k.settings.idleSeconds} s, interval ${k.settings.intervalSeconds} s, ${k.settings.probes} probes`);
  if (h.seconds !== null) headline.push(`close connections idle over ${h.seconds} s`);
  return {
    destination: d.server, host: null, hostSource: null, inMesh: false, port, protocol: 'data',
    incidents: 0, incidentsByKind: {}, problems: ['idle-at-risk'],
    headline: `${d.server}: ${headline.join('; ')}.`,
    keepalive: k.settings, idleTimeoutSeconds: h.seconds, serverKeepAliveSeconds: null, primaryLayer: 'application',
    rationale: [...why, `Keepalive on this destination: ${d.keepalive.text}. With only SO_KEEPALIVE set, Linux and Envoy wait 7200 s before the first probe.`],
    notes: ['No request has failed in this capture yet: the numbers come from the timeout you stated, not from a measurement.'],
    snippets,
  };
}

function remedyFor(d: Destination, incidents: readonly ReportIncident[]): Remedy {
  const { host: ip, port, ipVersion } = d.endpoint;
  const named = hostName(incidents);
  const protocol = incidents.some((i) => i.request?.protocol === 'http') ? 'http' : incidents.some((i) => i.request?.protocol === 'tls') ? 'tls' : 'data';
  const target: MeshTarget = { host: named?.host ?? null, inMesh: named ? inMesh(named.host) : false, ip, ipVersion, port, protocol, destination: d.server };
  const label = named ? `${named.host} (${d.server})` : d.server;
  const stale = incidents.filter(isStale);
  const fin = incidents.filter((i) => i.kind === 'reuse-after-fin');
  const inflight = incidents.filter((i) => i.kind === 'reset-in-flight');
  const goaway = incidents.filter((i) => i.kind === 'reuse-after-goaway');
  const h2 = incidents.some((i) => i.streams !== undefined || i.request?.streamId !== undefined);
  const grpc = incidents.some((i) => i.request?.grpc !== undefined || (i.streams ?? []).some((s) => s.grpc !== undefined));
  // Probes inside a failed request's gap that did not save it: the box ignores them. A keepalive-too-slow
  // incident's probes came after the box had already forgotten — keepalive works there, only too late.
  const ignoredProbes = stale.length > 0 && (d.idleTimeout?.measure === 'data-idle' || stale.some((i) => i.kind !== 'keepalive-too-slow' && i.keepaliveProbes.client + i.keepaliveProbes.server > 0));
  const tooSlow = incidents.filter((i) => i.kind === 'keepalive-too-slow');

  const problems: RemedyProblem[] = [];
  const rationale: string[] = [];
  /** The rationale lines behind the numbers, repeated in the YAML's header comment. */
  const why: string[] = [];
  const notes: string[] = [];
  let keepalive: KeepaliveSettings | null = null;
  let idleTimeout: number | null = null;
  let serverKeepAlive: number | null = null;
  const headline: string[] = [];

  if (stale.length) {
    problems.push(ignoredProbes ? 'idle-drop-ignores-keepalive' : 'idle-drop');
    const gap = measurement(d, stale, ignoredProbes ? 'data-idle' : 'packet-gap');
    if (gap.survivedIgnored) rationale.push(gap.survivedIgnored);
    if (ignoredProbes) {
      const probes = stale.reduce((n, i) => n + i.keepaliveProbes.client + i.keepaliveProbes.server, 0);
      rationale.push(`TCP keepalive will not help: ${probes} keepalive probe${probes === 1 ? ' was' : 's were'} sent during the fatal idle gaps and the connection was forgotten anyway — the box counts only payload (an L7 proxy or load balancer). Close idle connections before its timeout instead.`);
    } else {
      const k = chooseKeepalive(gap);
      keepalive = k.settings;
      rationale.push(`${cap(k.text)}.`);
      why.push(`${cap(k.text)}.`);
    }
    const data = measurement(d, stale, 'data-idle');
    const h = chooseIdleTimeout(data);
    idleTimeout = h.seconds;
    const line = h.seconds !== null
      ? `${protocol === 'http' ? 'HTTP' : 'TCP'} ${h.text}: connections idle longer are closed by the client instead of being reused after the path forgot them.`
      : `${cap(h.text)}.`;
    rationale.push(line);
    why.push(line);
    if (tooSlow.length && keepalive) {
      const p = tooSlow[0]!.probe!;
      const at7200 = tooSlow.some((i) => Math.abs((i.probe?.idleBeforeFirstProbeSeconds ?? 0) - 7200) < 5);
      rationale.push(`Keepalive is on but too slow: its first probe came after ${fmtDuration(p.idleBeforeFirstProbeSeconds)} idle (frame ${p.frame}), when the path had already forgotten the connection. Lower the keepalive time to ${keepalive.idleSeconds} s at every layer below — turning SO_KEEPALIVE on is not enough: with only SO_KEEPALIVE set, Linux (net.ipv4.tcp_keepalive_time) and Envoy/Istio (a DestinationRule \`tcpKeepalive: {}\` without \`time\`) wait 7200 s before the first probe${at7200 ? ', which is exactly what this capture shows' : ''}.`);
      headline.push(`keepalive is on but too slow (first probe after ${fmtDuration(p.idleBeforeFirstProbeSeconds)})`);
    }
    if (keepalive) headline.push(`TCP keepalive time ${keepalive.idleSeconds} s, interval ${keepalive.intervalSeconds} s, ${keepalive.probes} probes`);
    if (idleTimeout !== null) headline.push(`close connections idle over ${idleTimeout} s`);
    const serverOrigin = stale.filter((i) => i.rst?.origin === 'server');
    if (serverOrigin.length) {
      notes.push(`${serverOrigin.length === stale.length ? 'The' : `${serverOrigin.length} of the`} RSTs came with the server's own TTL: what forgot the connections sits at the server's distance — the server itself (an idle timeout that drops state without a FIN), or a proxy or NAT terminating TCP at its address. Keepalive keeps either from forgetting; check the server's own idle settings too.`);
    }
    const retry = retryAdvice(stale);
    if (retry) notes.push(retry);
    if (stale.some((i) => i.kind === 'stale-reuse-timeout')) {
      const retx = stale.filter((i) => i.kind === 'stale-reuse-timeout').map((i) => i.retransmissions);
      notes.push(`The path dropped requests silently (${retx.join(', ')} retransmission${retx.length === 1 && retx[0] === 1 ? '' : 's'}, no answer): the client waited until its own timeout. Give requests a timeout (Istio: a VirtualService \`retries.perTryTimeout\` with \`retryOn: reset,connect-failure\`) so a request stuck on a dead connection fails fast and is retried on a new one — only for idempotent requests.`);
    }
  }

  if (fin.length) {
    problems.push('server-closed-first');
    const measured = fin.map((i) => ({ i, s: serverIdleBeforeFin(i) })).filter((x): x is { i: ReportIncident; s: number } => x.s !== null);
    const reusedAfter = fin.map((i) => i.idleSeconds).filter((s): s is number => s !== null);
    if (measured.length) {
      const shortest = measured.reduce((a, b) => (b.s < a.s ? b : a));
      serverKeepAlive = shortest.s;
      const c = belowServerKeepAlive(shortest.s, shortest.i.frames.serverFin ?? null);
      if (c.seconds !== null) idleTimeout = idleTimeout === null ? c.seconds : Math.min(idleTimeout, c.seconds);
      rationale.push(`${cap(c.text)}.`);
      why.push(`${cap(c.text)}.`);
      // A server that closes within a second of going idle leaves no client idle timeout below it.
      headline.push(idleTimeout !== null
        ? `close pooled connections after ${idleTimeout} s idle, before the server does (it closed after ${fmtDuration(shortest.s)})`
        : `raise the server's keep-alive timeout: it closed an idle connection after ${fmtDuration(shortest.s)}, too soon for any client idle timeout below it`);
    } else {
      const f = fin[0];
      rationale.push(`The server closed the idle connection (FIN, frame ${f.frames.serverFin ?? '?'}) and the client sent a request on it ${reusedAfter.length ? `${fmtDuration(minOf(reusedAfter))} later` : 'later'}. The server's keep-alive timeout is the silence before that FIN: read it as the FIN's time delta in \`tshark -r FILE -Y '${finFilter(f)}' -T fields -e frame.number -e frame.time_delta_displayed -e tcp.flags.str\`, then set the client's idle timeout below it.`);
      headline.push('close pooled connections before the server does: client idle timeout below the server\'s keep-alive timeout');
    }
    notes.push('Not a keepalive problem: TCP keepalive would not stop the server from closing idle connections. Either the client\'s idle timeout is below the server\'s keep-alive timeout, or the server\'s keep-alive timeout is raised above the client\'s (and above any load balancer\'s in between).');
  }

  if (goaway.length) {
    problems.push('goaway-race');
    const g = goaway[0]!;
    rationale.push(`The server said GOAWAY (frame ${g.frames.goaway ?? '?'}, last stream ${g.goaway?.lastStreamId ?? '?'}) and the client opened ${g.streams?.length ?? 1} stream${(g.streams?.length ?? 1) === 1 ? '' : 's'} above it anyway (frame ${g.frames.request ?? '?'}): the h2 keep-alive race. The client's pool must stop using a connection on GOAWAY and retire idle connections before the server does.`);
    headline.push('stop using an HTTP/2 connection on GOAWAY; close pooled h2 connections before the server\'s idle timeout');
  }

  if (inflight.length) {
    problems.push('server-reset');
    const origins = [...new Set(inflight.map((i) => i.rst?.origin ?? 'unknown'))];
    rationale.push(`${inflight.length} request${inflight.length === 1 ? ' was' : 's were'} reset while in flight, not after idle (RST from ${origins.join('/')}${inflight[0].rst ? `: ${rstReason(inflight[0].rst)}` : ''}). No keepalive or idle timeout fixes that: look at the server — its logs and restarts at the RST times, request size and connection limits, and any proxy that terminates TCP at its address.`);
    if (!headline.length) headline.push('look at the server: it reset requests in flight (not an idle problem)');
  }

  const primaryLayer = primary(incidents);
  if (primaryLayer === 'client-sidecar') {
    const hop = incidents.flatMap((i) => i.hops ?? []).find((h) => h.role === 'client-side' && h.sawRequest);
    rationale.push(`The capture's client socket is the client sidecar's (${hop?.hop ?? 'a client-side hop'} logged the request with its UPSTREAM_LOCAL_ADDRESS): fix it in the DestinationRule — keepalive is per TCP hop, so the application's own settings do not reach this connection.`);
  }

  const snippets = snippetsFor(target, label, keepalive, idleTimeout, why, primaryLayer);
  if (h2) {
    // HTTP/2: PING keepalive in the sidecar beside the TCP settings; gRPC client keepalive only
    // when the failed streams were gRPC (application/grpc) — a plain h2 pool has no gRPC channel to set.
    if (keepalive) snippets.push(h2ConnectionKeepalive(target, keepalive));
    if (keepalive && grpc) snippets.push(grpcKeepalive(target, keepalive));
    notes.push(...h2Notes(goaway.length > 0));
  }
  if (!target.inMesh && snippets.some((s) => s.layer === 'client-sidecar')) {
    notes.push(`${label} is outside the mesh (${named ? 'not a *.svc name' : 'only an IP was seen'}): the DestinationRule applies to the ServiceEntry's host ${drHost(target)}.`);
  }

  return {
    destination: d.server,
    host: named?.host ?? null,
    hostSource: named?.source ?? null,
    inMesh: target.inMesh,
    port,
    protocol,
    incidents: incidents.length,
    incidentsByKind: byKind(incidents),
    problems,
    headline: `${label}: ${headline.join('; ') || 'no configuration fix applies'}.`,
    keepalive,
    idleTimeoutSeconds: idleTimeout,
    serverKeepAliveSeconds: serverKeepAlive,
    primaryLayer,
    rationale,
    notes,
    snippets,
  };
}

/** The configuration at each layer for keepalive and idle-timeout numbers, the owning layer first. */
function snippetsFor(target: MeshTarget, label: string, keepalive: KeepaliveSettings | null, idleTimeout: number | null, why: readonly string[], primaryLayer: RemedyLayer): RemedySnippet[] {
  const snippets: RemedySnippet[] = [];
  if (!keepalive && idleTimeout === null) return snippets;
  const dr = destinationRule(target, { keepalive, idleTimeoutSeconds: idleTimeout, why: why.map((r) => r.replace(/\.$/, '')) });
  const sidecar: RemedySnippet[] = [];
  if (dr) {
    if (!target.inMesh) sidecar.push(serviceEntry(target));
    sidecar.push(dr);
  }
  const app = appSnippets({ target: label, keepalive, idleTimeoutSeconds: idleTimeout, http: target.protocol === 'http' });
  if (primaryLayer === 'client-sidecar') snippets.push(...sidecar, ...app);
  else snippets.push(...app, ...sidecar);
  if (keepalive) snippets.push(gatewayKeepalive(target, keepalive));
  return snippets;
}

/**
 * A destination as data: an IP address (`ipVersion` 4 or 6, IPv6 without brackets) or a DNS name
 * (`ipVersion` null, e.g. an Envoy cluster's service host) and a port. The report writes it as
 * `ip:port` / `[v6]:port` / `name:port`.
 */
export interface RemedyEndpoint {
  readonly host: string;
  readonly port: number;
  readonly ipVersion: 4 | 6 | null;
}

/** What a remedy sized from a known timeout (not from failed requests) is about. */
export interface TimeoutEvidence {
  /** The server side as data, from where the evidence came (a socket's peer, an Envoy endpoint or service host). */
  readonly endpoint: RemedyEndpoint;
  /** A service name (e.g. an Envoy cluster's), when the evidence has one. */
  readonly host: string | null;
  readonly hostSource: Remedy['hostSource'];
  readonly protocol: 'http' | 'tls' | 'data';
  /** The idle timeout to stay under, and where it comes from (one sentence, e.g. `the stated load-balancer timeout of 350 s`). */
  readonly timeoutSeconds: number;
  readonly timeoutSource: string;
  /** Why a fix is needed (one sentence each), e.g. `3 connections have no keepalive timer`. */
  readonly findings: readonly string[];
  /** Whose socket the evidence shows: the application's, the client sidecar's, or the server's. */
  readonly primaryLayer: RemedyLayer;
  readonly notes?: readonly string[];
}

/**
 * The fix for connections at risk against a timeout known beforehand — stated with --lb-timeout
 * or a middlebox's documented default — rather than measured from failed requests: the same
 * numbers (keepalive below the timeout, an idle timeout below it) and the same snippets as
 * for an incident, with the timeout in the place of the shortest failed idle.
 */
export function remedyForTimeout(e: TimeoutEvidence): Remedy {
  const { host: ip, port, ipVersion } = e.endpoint;
  const destination = endpointText(ip, port, ipVersion ?? 4);
  const target: MeshTarget = { host: e.host, inMesh: e.host ? inMesh(e.host) : false, ip, ipVersion, port, protocol: e.protocol, destination };
  const label = e.host ? `${e.host} (${destination})` : destination;
  const m: Measurement = { failedSeconds: e.timeoutSeconds, failedFrame: null, survivedSeconds: null, survivedFrame: null, survivedIgnored: null, measure: 'packet-gap' };
  const k = chooseKeepalive(m);
  const h = chooseIdleTimeout(m);
  const sized = (t: string) => t.replace(/half the shortest idle that failed \(([^)]*)\), as the timer may be anywhere below that idle/, `half ${e.timeoutSource}`).replace(/after at most (\S+ s) idle/, 'after $1 idle');
  const why = [`${cap(sized(k.text))}.`, ...(h.seconds !== null ? [`${e.protocol === 'http' ? 'HTTP' : 'TCP'} ${sized(h.text)}: connections idle longer are closed by the client instead of being reused after the path forgot them.`] : [])];
  const headline: string[] = [];
  if (k.settings) headline.push(`TCP keepalive time ${k.settings.idleSeconds} s, interval ${k.settings.intervalSeconds} s, ${k.settings.probes} probes`);
  if (h.seconds !== null) headline.push(`close connections idle over ${h.seconds} s`);
  const snippets = snippetsFor(target, label, k.settings, h.seconds, why, e.primaryLayer);
  const notes = [...(e.notes ?? [])];
  if (!target.inMesh && snippets.some((s) => s.layer === 'client-sidecar')) notes.push(`${label} is outside the mesh (${e.host ? 'not a *.svc name' : 'only an IP was seen'}): the DestinationRule applies to the ServiceEntry's host ${drHost(target)}.`);
  return {
    destination, host: e.host, hostSource: e.hostSource, inMesh: target.inMesh, port, protocol: e.protocol,
    incidents: 0, incidentsByKind: {}, problems: ['idle-drop'],
    headline: `${label}: ${headline.join('; ') || 'no configuration fix applies'}.`,
    keepalive: k.settings, idleTimeoutSeconds: h.seconds, serverKeepAliveSeconds: null, primaryLayer: e.primaryLayer,
    rationale: [...e.findings, ...why], notes, snippets,
  };
}

/**
 * Whether retrying the failed requests is safe, from what the peer acknowledged. Envoy's 503 UC
 * (upstream connection termination) is retried by Istio `retryOn: reset` (and `connect-failure`
 * for dials), not by `retriable-status-codes: 503`: the 503 is Envoy's own, made after the reset.
 */
function retryAdvice(stale: readonly ReportIncident[]): string | null {
  const judged = stale.filter((i) => i.retry && i.request);
  if (!judged.length) return null;
  const unsafe = judged.filter((i) => i.retry.safe === false);
  const unknown = judged.filter((i) => i.retry.safe === null);
  const methods = [...new Set(judged.map((i) => i.retry.method).filter((m): m is string => m !== null))];
  if (unsafe.length) {
    const m = [...new Set(unsafe.map((i) => i.retry.method ?? '?'))].join(', ');
    return `Retries: ${unsafe.length} failed request${unsafe.length === 1 ? ' was' : 's were'} acknowledged by the peer before the reset (${m}): the server may have processed ${unsafe.length === 1 ? 'it' : 'them'}. Do not blindly retry non-idempotent methods; Istio \`retryOn: reset\` is safe only for idempotent routes (GET, HEAD, PUT, DELETE), or with an idempotency key.`;
  }
  if (unknown.length) return `Retries: the capture cannot tell whether ${unknown.length} failed request${unknown.length === 1 ? '' : 's'} reached the server; configure Istio \`retryOn: reset,connect-failure\` only for idempotent routes.`;
  return `Retries: none of the failed requests${methods.length ? ` (${methods.join(', ')})` : ''} was acknowledged before the reset — they never reached the server, so retrying them on a new connection is safe: Istio \`retries: { attempts: 2, retryOn: reset,connect-failure }\` on the client's VirtualService (Envoy's 503 UC is not retried by \`retriable-status-codes: 503\`).`;
}

/** The bracket's numbers, or the incidents' own when the destination has no bracket. */
/**
 * A survived idle counts as a measurement of the timer when it is at least this share of the
 * shortest failed idle (and 1 s): a connection that idled 400 s before failing at 900 s tells
 * something; requests 13 ms apart before a failure at 58 s tell nothing.
 */
const SURVIVED_MIN_SHARE = 0.1;

function measurement(d: Destination, stale: readonly ReportIncident[], measure: 'packet-gap' | 'data-idle'): Measurement {
  const value = (i: ReportIncident) => (measure === 'packet-gap' ? i.maxPacketGapSeconds ?? i.idleSeconds : i.idleSeconds);
  let failed: ReportIncident | null = null;
  for (const i of stale) {
    const v = value(i);
    if (v !== null && (failed === null || v < value(failed)!)) failed = i;
  }
  const b = d.idleTimeout;
  // The bracket's failed value is the same measure when measures agree; recompute from incidents otherwise.
  let failedSeconds = b && b.measure === measure && b.failedSeconds !== null ? b.failedSeconds : failed ? value(failed)! : 0;
  let failedFrame = b && b.measure === measure && b.failedSeconds !== null ? b.failedFrame : failed?.frames.request ?? null;
  // A load-balancer timeout the user stated (--lb-timeout) that the capture does not contradict and
  // that is shorter than anything measured is the number to stay under.
  if (b?.stated && b.stated.consistent && b.stated.seconds < failedSeconds) {
    failedSeconds = b.stated.seconds;
    failedFrame = null;
  }
  let survivedSeconds: number | null = null;
  let survivedFrame: number | null = null;
  let survivedIgnored: string | null = null;
  // A survived packet gap is a lower bound on a survived data idle, so it serves both measures.
  if (b && b.survivedSeconds !== null) {
    if (!b.consistent) {
      survivedIgnored = `The bracket is inconsistent (a connection survived ${fmtDuration(b.survivedSeconds)} idle, one failed after ${fmtDuration(b.failedSeconds ?? 0)}): several paths or boxes — the numbers use the shortest failed idle only.`;
    } else if (b.survivedSeconds < Math.max(1, failedSeconds * SURVIVED_MIN_SHARE)) {
      // Requests back to back (ms apart) say nothing worth mentioning; seconds might look like a measurement.
      if (b.survivedSeconds >= 1) survivedIgnored = `The longest idle that still worked (${fmtDuration(b.survivedSeconds)}${b.survivedFrame !== null ? `, frame ${b.survivedFrame}` : ''}) is under a tenth of the shortest that failed: too short to say anything about the timer, so the numbers come from the shortest failed idle.`;
    } else {
      survivedSeconds = b.survivedSeconds;
      survivedFrame = b.survivedFrame;
    }
  }
  return { failedSeconds, failedFrame, survivedSeconds, survivedFrame, survivedIgnored, measure };
}

function finFilter(i: ReportIncident): string {
  // The connection's packets up to the FIN.
  return `${connectionFilter(i.endpoints)} && frame.number <= ${i.frames.serverFin ?? i.frames.request ?? 0}`;
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function primary(incidents: readonly ReportIncident[]): RemedyLayer {
  return incidents.some((i) => (i.hops ?? []).some((h) => h.role === 'client-side' && h.sawRequest)) ? 'client-sidecar' : 'application';
}

function byKind(incidents: readonly ReportIncident[]): Partial<Record<IncidentKind, number>> {
  const m: Partial<Record<IncidentKind, number>> = {};
  for (const i of incidents) m[i.kind] = (m[i.kind] ?? 0) + 1;
  return m;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** A host name worth naming in config: a DNS name, not an IP literal, port stripped. */
function cleanHost(raw: string | null | undefined): string | null {
  if (!raw) return null;
  let h = raw.trim();
  if (h.startsWith('[')) return null; // an IPv6 literal
  const colon = h.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
  h = h.replace(/\.$/, '').toLowerCase();
  if (IPV4.test(h) || h.includes(':') || !HOSTNAME.test(h)) return null;
  return h;
}

/** The destination's service name, strongest source first: the client sidecar's upstream cluster, the logged :authority, the Host header, the SNI. */
function hostName(incidents: readonly ReportIncident[]): { host: string; source: NonNullable<Remedy['hostSource']> } | null {
  const votes = new Map<string, { source: NonNullable<Remedy['hostSource']>; rank: number; n: number }>();
  const vote = (h: string | null, source: NonNullable<Remedy['hostSource']>, rank: number) => {
    if (!h) return;
    const v = votes.get(h);
    if (!v) votes.set(h, { source, rank, n: 1 });
    else {
      v.n++;
      if (rank < v.rank) { v.rank = rank; v.source = source; }
    }
  };
  for (const i of incidents) {
    for (const m of i.logs ?? []) {
      const cluster = m.entry.upstreamCluster;
      if (cluster && cluster.startsWith('outbound|')) vote(cleanHost(cluster.split('|')[3]?.replace(/;$/, '')), 'upstream-cluster', 0);
      vote(cleanHost(m.entry.authority), 'authority', 1);
    }
    vote(cleanHost(i.request?.host), 'http-host', 2);
    vote(cleanHost(i.request?.sni), 'sni', 3);
  }
  let best: [string, { source: NonNullable<Remedy['hostSource']>; rank: number; n: number }] | null = null;
  for (const e of votes) if (!best || e[1].rank < best[1].rank || (e[1].rank === best[1].rank && e[1].n > best[1].n)) best = e;
  return best ? { host: best[0], source: best[1].source } : null;
}

/** A Kubernetes service name (`name.ns.svc.cluster.local`, `name.ns.svc`, or a short name) is in the mesh. */
function inMesh(host: string): boolean {
  return /\.svc(?:\.|$)/.test(host) || !host.includes('.');
}

/**
 * The `flowdoc envoy` report in every format: per upstream cluster the keepalive and idle
 * settings and whether they outlive the middlebox timeout, listeners' socket options, and the
 * same remedies as `analyze` targeted at the flagged clusters' service names.
 */
import Table from 'cli-table3';
import { envoyAddress, type ClusterCounterVerdict, type ClusterVerdict, type EnvoyReport, type StatValue } from '../envoy/index.js';
import { code, rich, strong, type Block } from './document.js';
import { postmortemToHtml } from './html.js';
import { postmortemToMarkdown } from './markdown.js';
import { remedySection } from './postmortem.js';
import { remedyForTimeout, type Remedy } from './remedies/index.js';
import { makeStyle } from './style.js';
import type { ReportFormat } from './index.js';

/** Version of the `flowdoc envoy --format json` document (schema/envoy-v1.schema.json). */
export const ENVOY_SCHEMA_VERSION = 1;

export interface EnvoyRenderOptions {
  readonly colour?: boolean;
  readonly label: string;
  readonly tool: { readonly name: 'flowdoc'; readonly version: string };
}

/**
 * One remedy per flagged cluster — flagged by its config, or by its counters rising with the
 * stale-reuse signature — named by the cluster's service host (its Istio name, else its first endpoint).
 */
export function envoyRemedies(r: EnvoyReport): Remedy[] {
  const out: Remedy[] = [];
  const counters = new Map((r.counters?.clusters ?? []).map((k) => [k.name, k]));
  for (const c of r.clusters) {
    // A cluster with neither a service name nor an endpoint (PassthroughCluster: original destination) has nothing to target.
    const k = counters.get(c.name);
    if (!(c.flagged || k?.flagged) || c.skipped || (!c.host && !c.endpoints.length && !k?.hosts.length) || c.port === null) continue;
    // The service name outlives pod IPs: a /clusters host only when the config names neither.
    const named = { host: c.host!, port: c.port, ipVersion: null };
    const endpoint = (c.endpoints[0] && envoyAddress(c.endpoints[0])) || (c.host ? named : (k?.hosts[0] && envoyAddress(k.hosts[0])) || named);
    const findings = [`Envoy cluster ${c.name}: ${c.text}.`];
    if (k?.flagged) findings.push(`Its counters: ${k.text}; ${k.tie}.`);
    out.push(remedyForTimeout({
      endpoint, host: c.host, hostSource: c.direction ? 'upstream-cluster' : null, protocol: c.http ? 'http' : 'data',
      timeoutSeconds: c.timeoutSeconds,
      timeoutSource: c.basis === 'lb-timeout' ? `the stated load-balancer timeout of ${c.timeoutSeconds} s` : `the shortest known middlebox default (${c.timeoutSeconds} s)`,
      findings,
      primaryLayer: c.direction === 'inbound' ? 'server-side' : 'client-sidecar',
      notes: c.basis === 'known-default' ? ['No --lb-timeout was given: the numbers are sized for the shortest known default. Give the timeout of the box on this path for numbers that fit it.'] : [],
    }));
  }
  // Flagged by counters alone: no config of this cluster was given.
  for (const k of counters.values()) {
    if (!k.flagged || k.config || k.port === null || (!k.host && !k.hosts.length)) continue;
    out.push(remedyForTimeout({
      endpoint: k.host ? { host: k.host, port: k.port, ipVersion: null } : envoyAddress(k.hosts[0]!) ?? { host: k.hosts[0]!, port: k.port, ipVersion: null }, host: k.host, hostSource: k.host ? 'upstream-cluster' : null, protocol: 'http',
      timeoutSeconds: k.timeoutSeconds,
      timeoutSource: k.basis === 'lb-timeout' ? `the stated load-balancer timeout of ${k.timeoutSeconds} s` : `the shortest known middlebox default (${k.timeoutSeconds} s)`,
      findings: [`Envoy cluster ${k.name}: ${k.text}.`],
      primaryLayer: 'client-sidecar',
      notes: [
        'No config_dump of this cluster was given: whether it sets tcp_keepalive or an idle_timeout is not known here. Run flowdoc envoy with the proxy\'s config_dump too.',
        ...(k.basis === 'known-default' ? ['No --lb-timeout was given: the numbers are sized for the shortest known default. Give the timeout of the box on this path for numbers that fit it.'] : []),
      ],
    }));
  }
  return out;
}

const COUNTER_HEAD = ['cluster', 'remote reset, rq active', 'local reset, rq active', 'idle timeouts', 'pending eject', 'retries', 'connect fail', 'cx active', 'signature'];

const perMin = (v: StatValue) => (v.perSecond === null ? '' : ` (${(v.perSecond * 60).toFixed(v.perSecond * 60 >= 10 ? 0 : 2)}/min)`);

/** A counter as `last`, or `+delta (rate)` with two snapshots. */
function counterCell(v: StatValue | undefined): string {
  if (!v) return '—';
  if (v.delta === null) return String(v.last);
  return v.delta === 0 ? '0' : `+${v.delta}${perMin(v)}`;
}

function counterCols(k: ClusterCounterVerdict): string[] {
  const s = k.stats;
  const connectFail = s['upstream_cx_connect_fail'] ?? s['hosts.cx_connect_fail'];
  const active = s['upstream_cx_active'] ?? s['hosts.cx_active'];
  return [k.name, counterCell(s['upstream_cx_destroy_remote_with_active_rq']), counterCell(s['upstream_cx_destroy_local_with_active_rq']), counterCell(s['upstream_cx_idle_timeout']),
    counterCell(s['upstream_rq_pending_failure_eject']), counterCell(s['upstream_rq_retry']), counterCell(connectFail), active ? String(active.last) : '—',
    k.signature === 'rising' ? 'rising' : k.signature === 'since-start' ? 'since start' : '—'];
}

function countersHeadline(r: EnvoyReport): string {
  const c = r.counters!;
  const stats = c.snapshots.filter((x) => x.source === 'stats').length;
  const clusters = c.snapshots.length - stats;
  const parts = [];
  if (stats) parts.push(`${stats} /stats snapshot${stats === 1 ? '' : 's'}${stats > 1 ? ` (ordered by ${c.order.stats === 'server.uptime' ? 'server.uptime' : 'file order'}${c.intervalSeconds !== null ? `, ${c.intervalSeconds} s apart` : ''})` : ''}`);
  if (clusters) parts.push(`${clusters} /clusters snapshot${clusters === 1 ? '' : 's'} (file order)`);
  return `counters: ${parts.join(', ')}; ${r.summary.signatureRising} cluster${r.summary.signatureRising === 1 ? '' : 's'} with the stale-reuse signature rising${r.summary.signatureSinceStart ? `, ${r.summary.signatureSinceStart} with it since start` : ''}`;
}

export function renderEnvoy(r: EnvoyReport, format: ReportFormat, o: EnvoyRenderOptions): string {
  const remedies = envoyRemedies(r);
  switch (format) {
    case 'json': return JSON.stringify({ schemaVersion: ENVOY_SCHEMA_VERSION, tool: o.tool, ...r, remedies }, null, 2) + '\n';
    case 'table': return envoyTable(r, remedies, o);
    case 'markdown': return postmortemToMarkdown({ title: titleOf(o), blocks: envoyBlocks(r, remedies, o) });
    case 'html': return postmortemToHtml({ title: titleOf(o), blocks: envoyBlocks(r, remedies, o) }, `Generated by ${o.tool.name} ${o.tool.version} from ${o.label}.`);
  }
}

const titleOf = (o: EnvoyRenderOptions) => `flowdoc envoy: ${o.label}`;
const sec = (n: number | null) => (n === null ? '—' : `${Number.isInteger(n) ? n : n.toFixed(3)} s`);

function keepaliveCell(c: ClusterVerdict): string {
  if (!c.keepalive.on) return 'off';
  const k = c.tcpKeepalive!;
  return `${sec(c.keepalive.effectiveTimeSeconds)}${c.keepalive.kernelDefault ? ' (kernel)' : ''}${k.intervalSeconds !== null ? ` / ${k.intervalSeconds} s` : ''}${k.probes !== null ? ` × ${k.probes}` : ''}`;
}

function idleCell(c: ClusterVerdict): string {
  return c.effectiveIdleTimeoutSeconds === null ? 'disabled' : `${sec(c.effectiveIdleTimeoutSeconds)}${c.idleTimeoutDefaulted ? ' (default)' : ''}`;
}

function headline(r: EnvoyReport): string {
  const s = r.summary;
  if (!r.clusters.length && r.counters) return `no config_dump given; ${s.signatureRising} cluster${s.signatureRising === 1 ? '' : 's'} with the stale-reuse signature in the counters`;
  return `${s.judged} upstream cluster${s.judged === 1 ? '' : 's'} judged: ${s.flagged} flagged, ${s.keepaliveOff} without tcp_keepalive; ${s.listeners} listener${s.listeners === 1 ? '' : 's'}, ${s.listenersWithKeepalive} with SO_KEEPALIVE`;
}

function cols(c: ClusterVerdict): string[] {
  return [c.name, keepaliveCell(c), idleCell(c), sec(c.maxConnectionDurationSeconds), c.http2Keepalive ? sec(c.http2Keepalive.intervalSeconds) : '—', `${sec(c.timeoutSeconds)}${c.basis === 'lb-timeout' ? '' : ' (known)'}`];
}

const HEAD = ['cluster', 'tcp keepalive', 'idle timeout', 'max duration', 'h2 ping', 'judged against'];

function envoyTable(r: EnvoyReport, remedies: readonly Remedy[], o: EnvoyRenderOptions): string {
  const st = makeStyle(o.colour ?? false);
  const style = { head: o.colour ? ['cyan'] : [], border: o.colour ? ['grey'] : [], 'padding-left': 1, 'padding-right': 1 };
  const out: string[] = [st.bold(o.label), headline(r)];
  for (const n of r.notes) out.push(st.dim(`note: ${n}`));
  const judged = r.clusters.filter((c) => !c.skipped);
  if (judged.length) {
    const t = new Table({ head: [...HEAD, 'verdict'], style, wordWrap: true });
    for (const c of judged.slice(0, 60)) t.push([...cols(c), c.flagged ? st.red('flagged') : `ok (${c.protectedBy})`]);
    out.push(t.toString());
    if (judged.length > 60) out.push(st.dim(`… and ${judged.length - 60} more clusters (see --format json)`));
  }
  for (const c of judged.filter((x) => x.flagged).slice(0, 30)) out.push(`  ${st.red('flagged')}: ${c.name}: ${c.text}.`);
  if (r.counters) {
    out.push(st.bold(countersHeadline(r)));
    const shown = r.counters.clusters.filter((k) => !k.skipped);
    if (shown.length) {
      const t = new Table({ head: COUNTER_HEAD, style, wordWrap: true });
      for (const k of shown.slice(0, 60)) { const row = counterCols(k); if (k.flagged) row[8] = st.red(row[8]!); t.push(row); }
      out.push(t.toString());
      if (shown.length > 60) out.push(st.dim(`… and ${shown.length - 60} more clusters (see --format json)`));
    }
    for (const k of shown.filter((x) => x.signature).slice(0, 30)) out.push(`  ${k.flagged ? st.red('flagged') : st.yellow('since start')}: ${k.name}: ${k.text}${k.tie ? `; ${k.tie}` : ''}.`);
  }
  const skipped = r.clusters.filter((c) => c.skipped);
  if (skipped.length) out.push(st.dim(`not judged: ${skipped.map((c) => c.name).join(', ')} (Istio's inbound clusters and the proxy's own plumbing: --format json says why)`));
  if (r.listeners.length) {
    out.push(st.bold('listeners (downstream socket options):'));
    for (const l of r.listeners.slice(0, 30)) out.push(`  ${l.name}${l.address ? ` (${l.address})` : ''}: ${listenerText(l)}`);
  }
  for (const rem of remedies) {
    out.push(st.green(st.bold(`Fix ${rem.headline}`)));
    for (const x of rem.rationale) out.push(`  - ${x}`);
    out.push(st.dim('  (config snippets: --format markdown or html)'));
  }
  return out.join('\n') + '\n';
}

function listenerText(l: EnvoyReport['listeners'][number]): string {
  if (!l.socketOptions.length) return 'no socket_options (accepted sockets get no SO_KEEPALIVE from Envoy)';
  const named = l.socketOptions.map((s) => `${s.known ?? `level ${s.level} name ${s.name}`}=${s.intValue ?? '?'}${s.state ? ` (${s.state})` : ''}`);
  return `${named.join(', ')}${l.keepalive.on ? '' : ' — SO_KEEPALIVE not set'}`;
}

function envoyBlocks(r: EnvoyReport, remedies: readonly Remedy[], o: EnvoyRenderOptions): Block[] {
  const b: Block[] = [{ kind: 'heading', level: 1, text: titleOf(o), id: 'top' }];
  b.push({ kind: 'para', tone: r.summary.flagged || r.summary.signatureRising ? 'bad' : 'good', content: rich(`${headline(r)}.`) });
  for (const n of r.notes) b.push({ kind: 'para', tone: 'note', content: rich(n) });
  const judged = r.clusters.filter((c) => !c.skipped);
  if (judged.length) {
    b.push({ kind: 'heading', level: 2, text: 'Upstream clusters', id: 'clusters' });
    b.push({ kind: 'table', head: [...HEAD, 'verdict'], rows: judged.map((c) => [rich(code(c.name)), ...cols(c).slice(1).map((x) => rich(x)), rich(c.flagged ? strong('flagged') : `ok (${c.protectedBy})`)]) });
    const flagged = judged.filter((c) => c.flagged);
    if (flagged.length) b.push({ kind: 'list', items: flagged.map((c) => rich(strong(`${c.name}: `), `${c.text}.`)) });
  }
  if (r.counters) {
    b.push({ kind: 'heading', level: 2, text: 'Counters (/stats, /clusters)', id: 'counters' });
    b.push({ kind: 'para', tone: r.summary.signatureRising ? 'bad' : 'note', content: rich(`${countersHeadline(r)}.`) });
    const shown = r.counters.clusters.filter((k) => !k.skipped);
    if (shown.length) b.push({ kind: 'table', head: COUNTER_HEAD, rows: shown.map((k) => { const [name, ...rest] = counterCols(k); return [rich(code(name!)), ...rest.map((x, i) => rich(i === rest.length - 1 && k.flagged ? strong(x) : x))]; }) });
    const sig = shown.filter((k) => k.signature);
    if (sig.length) b.push({ kind: 'list', items: sig.map((k) => rich(strong(`${k.name}: `), `${k.text}${k.tie ? `; ${k.tie}` : ''}.`)) });
  }
  if (r.listeners.length) {
    b.push({ kind: 'heading', level: 2, text: 'Listeners', id: 'listeners' });
    b.push({ kind: 'table', head: ['listener', 'address', 'socket options'], rows: r.listeners.map((l) => [rich(code(l.name)), rich(l.address ?? '—'), rich(listenerText(l))]) });
  }
  if (remedies.length) {
    b.push({ kind: 'heading', level: 2, text: 'Remedies', id: 'remedies' });
    for (const rem of remedies) b.push(...remedySection(rem));
  }
  return b;
}

/**
 * Istio takes one DestinationRule (and one ServiceEntry) per host. When several destinations
 * (ip:port) carry the same service name — the pods or VIPs behind one host, seen with many
 * incidents — each remedy would print its own rule under the same name, with different numbers:
 * a reader cannot apply fifty rules named `flowdoc-svc-example`. Here the remedies of one host
 * share one rule, with the smallest values of all of them (the strictest timeout wins, so it is
 * safe for every destination), placed under the remedy with the most incidents; the others point to it.
 */
import { destinationRule, drHost, serviceEntry, type MeshTarget } from './istio.js';
import type { RemedyEndpoint } from './index.js';
import type { KeepaliveSettings, Remedy, RemedySnippet } from './types.js';

const isRule = (s: RemedySnippet) => s.title.startsWith('Istio DestinationRule');
const isEntry = (s: RemedySnippet) => s.title.startsWith('Istio ServiceEntry');

/** A remedy and its destination as data (the evidence's endpoint, never read back from `destination`). */
export interface RemedyAt {
  readonly remedy: Remedy;
  readonly endpoint: RemedyEndpoint;
}

/** The remedies as given, with one DestinationRule / ServiceEntry per host. Order is kept. */
export function oneRulePerHost(items: readonly RemedyAt[]): Remedy[] {
  const remedies = items.map((x) => x.remedy);
  const endpoints = new Map(items.map((x) => [x.remedy, x.endpoint]));
  const targetOf = (r: Remedy): MeshTarget => {
    const e = endpoints.get(r)!;
    return { host: r.host, inMesh: r.inMesh, ip: e.host, ipVersion: e.ipVersion, port: e.port, protocol: r.protocol, destination: r.destination };
  };
  const byHost = new Map<string, number[]>();
  remedies.forEach((r, k) => {
    if (r.host === null || !r.snippets.some(isRule)) return;
    const host = drHost(targetOf(r));
    byHost.set(host, [...(byHost.get(host) ?? []), k]);
  });
  const out = [...remedies];
  for (const [host, members] of byHost) {
    if (members.length < 2) continue;
    const group = members.map((k) => remedies[k]!);
    // The remedy with the most incidents holds the rule (ties: the first, as `destinations` ranks them).
    const owner = group.reduce((a, b) => (b.incidents > a.incidents ? b : a));
    const keepalive = group.map((r) => r.keepalive).filter((k): k is KeepaliveSettings => k !== null)
      .reduce<KeepaliveSettings | null>((a, b) => (a === null || b.idleSeconds < a.idleSeconds || (b.idleSeconds === a.idleSeconds && b.giveUpSeconds < a.giveUpSeconds) ? b : a), null);
    const timeouts = group.map((r) => r.idleTimeoutSeconds).filter((s): s is number => s !== null);
    const idleTimeoutSeconds = timeouts.length ? Math.min(...timeouts) : null;
    const from = (pick: (r: Remedy) => boolean) => group.find(pick)?.destination;
    const dests = group.map((r) => r.destination);
    const why = [
      `One rule for ${host}, which ${group.length} destinations carry (${dests.length > 6 ? `${dests.slice(0, 6).join(', ')} and ${dests.length - 6} more` : dests.join(', ')}): the smallest values of their remedies, safe for all of them`,
      ...(keepalive ? [`keepalive from ${from((r) => r.keepalive === keepalive)}'s measurement`] : []),
      ...(idleTimeoutSeconds !== null ? [`idle timeout from ${from((r) => r.idleTimeoutSeconds === idleTimeoutSeconds)}'s measurement`] : []),
    ];
    const target = { ...targetOf(owner), destination: `${host} (${group.length} destinations)` };
    // An HTTP pool idle timeout belongs in `http`, a TCP one in `tcp`: the rule is HTTP when any member is.
    const protocol = group.some((r) => r.protocol === 'http') ? 'http' : owner.protocol;
    const rule = destinationRule({ ...target, protocol }, { keepalive, idleTimeoutSeconds, why });
    const ports = [...new Set(group.map((r) => targetOf(r).port))].sort((a, b) => a - b);
    const entry = owner.snippets.some(isEntry) ? serviceEntry({ ...target, protocol }, ports) : null;
    for (const k of members) {
      const r = remedies[k]!;
      const snippets: RemedySnippet[] = [];
      for (const s of r.snippets) {
        if (isEntry(s)) { if (r === owner && entry) snippets.push(entry); continue; }
        if (isRule(s)) { if (r === owner && rule) snippets.push(rule); continue; }
        snippets.push(s);
      }
      const note = r === owner
        ? `The DestinationRule below is the one rule for ${host}: it also covers ${group.length - 1} other destination${group.length === 2 ? '' : 's'} with that host, with the smallest values of all.`
        : `The DestinationRule for ${host} is under ${owner.destination}: Istio takes one rule per host, and that one has the smallest values of every destination with this host, this one included.`;
      out[k] = { ...r, snippets, notes: [...r.notes, note] };
    }
  }
  return out;
}

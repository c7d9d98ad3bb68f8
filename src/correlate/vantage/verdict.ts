import type { Incident } from '../../detect/index.js';
import type { HopEvidence } from '../types.js';
import type { Confidence, VantageEvidence, VantageLeg, VantageLocus, VantageVerdict } from './types.js';

const RANK: Record<Confidence, number> = { high: 2, medium: 1, low: 0 };
const lower = (a: Confidence, b: Confidence): Confidence => (RANK[a] <= RANK[b] ? a : b);
const COUNT = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const count = (n: number) => COUNT[n] ?? String(n);

/**
 * Where the fault lies, from what each vantage point (in path order, client side first) saw of
 * the request and of the RST. The request got as far as the last capture that shows it; the RST
 * came from no farther than the last capture that shows it — so whatever forged it sits between
 * that capture and the next one, which saw neither. A capture that shows both legs of a NAT
 * (a middlebox's own capture) can place it at that box. A capture that was not running, does not
 * hold the connection, or missed segments cannot testify to an absence: the confidence drops,
 * and the reason says why.
 */
export function decideVantageVerdict(incident: Incident, evidence: readonly VantageEvidence[], hops: readonly HopEvidence[] = []): VantageVerdict {
  const caveats: string[] = [];
  const witnesses = evidence.filter((e) => e.covered && e.legs.length > 0);
  let confidence: Confidence = witnesses.length >= 2 ? 'high' : 'low';
  for (const e of witnesses) for (const l of e.legs) {
    if (l.confidence !== 'high') {
      confidence = lower(confidence, l.confidence);
      caveats.push(`${e.vantage}: the connection was matched by ${l.method} only (confidence ${l.confidence})`);
    }
  }
  const lastReq = lastIndex(evidence, (e) => e.requestSeen);
  const verdict = (locus: VantageLocus, after: string | null, before: string | null, reason: string, conf: Confidence): VantageVerdict => {
    const c = lower(confidence, conf);
    const logNotes = combineWithLogs(evidence, hops);
    caveats.push(...logNotes.contradictions);
    const finalConf = logNotes.contradictions.length ? lower(c, 'low') : c;
    const agree = logNotes.agreeing.length ? `; the logs of ${logNotes.agreeing.join(' and ')} agree` : '';
    return {
      locus, after, before, confidence: finalConf, vantagePoints: witnesses.length, caveats,
      reason: `${reason}${agree} (confidence ${finalConf}, ${count(witnesses.length)} vantage point${witnesses.length === 1 ? '' : 's'})`,
    };
  };
  if (lastReq < 0) return verdict('unknown', null, null, 'no capture shows the request segment (it may be among the segments a very long connection did not keep)', 'low');
  const reqAt = (e: VantageEvidence) => e.legs.find((l) => l.request)!.request!;
  const first = evidence.find((e) => e.requestSeen)!;
  const left = `The request left ${first.vantage} (frame ${reqAt(first).frame})`;

  // A witness to an absence must have been running, hold the connection, and have missed nothing.
  const testify = (e: VantageEvidence | undefined, what: string): Confidence => {
    if (!e) return 'low';
    if (!e.covered) { caveats.push(`${e.vantage}'s capture was not running when the request was sent: its silence proves nothing`); return 'low'; }
    if (e.legs.length === 0) { caveats.push(`${e.vantage}'s capture does not hold this connection at all (another path, or a NAT flowdoc could not follow)`); return 'low'; }
    if (e.legs.some((l) => l.traceIncomplete)) { caveats.push(`${e.vantage}: the request falls among segments of a long connection that were not kept`); return 'low'; }
    if (e.kernelDrops) { caveats.push(`${e.vantage}'s capture dropped ${e.kernelDrops} packet${e.kernelDrops === 1 ? '' : 's'} (pcapng interface statistics): ${what} may be among them`); return 'medium'; }
    const gaps = e.legs.reduce((n, l) => n + l.segmentsNotCaptured, 0);
    if (gaps > 0) { caveats.push(`${e.vantage}'s capture missed ${gaps} segment${gaps === 1 ? '' : 's'} of this connection (dropped by the capture?): ${what} may be among them`); return 'medium'; }
    return 'high';
  };

  if (incident.kind === 'stale-reuse-timeout') {
    if (lastReq < evidence.length - 1) {
      const at = evidence[lastReq]!, next = evidence[lastReq + 1]!;
      const conf = testify(next, 'the request');
      if (splitLegs(at)) {
        return verdict('at-vantage', at.vantage, at.vantage, `${left}${sentTimes(first)}${howFar(evidence, lastReq, first)}: ${at.vantage} dropped it silently`, conf);
      }
      return verdict('between', at.vantage, next.vantage, `${left}${sentTimes(first)}${howFar(evidence, lastReq, first)}: it was dropped silently between ${at.vantage} and ${next.vantage} — the load balancer or firewall there forgot the connection`, conf);
    }
    const far = evidence[lastReq]!;
    const back = returnPath(evidence, lastReq);
    if (back) return verdict('return-path', back.after, back.before, `${far.vantage} got the request (frame ${reqAt(far).frame}) and the server side answered (frame ${back.answerFrame}), but the answer never reached ${back.before}: it was lost between ${back.after} and ${back.before}`, testify(evidence.find((e) => e.vantage === back.before), 'the answer'));
    return verdict('server', far.vantage, null, `the request reached ${far.vantage} (frame ${reqAt(far).frame}) and nothing answered it there: the server side never replied`, 'high');
  }

  // RST kinds: the RST came from no farther than the last capture that shows it.
  const lastRst = lastIndex(evidence, (e) => e.rstSeen);
  if (lastRst < 0) return verdict('unknown', null, null, `${left}; no capture shows the RST (it may be among segments not kept)`, 'low');
  const rstAt = evidence[lastRst]!;
  const rstSeg = (e: VantageEvidence) => e.legs.find((l) => l.rst)!.rst!;
  const firstRst = evidence.find((e) => e.rstSeen)!;
  const rstText = `the RST seen at ${firstRst.vantage} (frame ${rstSeg(firstRst).frame}, from ${rstSeg(firstRst).from} TTL ${rstSeg(firstRst).ttl})`;
  const reached = howFar(evidence, lastReq, first);
  const inside = splitLegs(rstAt, true);
  if (inside) {
    return verdict('at-vantage', rstAt.vantage, rstAt.vantage, `${left}${reached}; ${rstText} leaves ${rstAt.vantage} on ${inside.in.client} ↔ ${inside.in.server} (frame ${inside.in.rst!.frame}, TTL ${inside.in.rst!.ttl}) but never came in on ${inside.out.client} ↔ ${inside.out.server}: ${rstAt.vantage} forged it`, testifyLeg(rstAt, caveats));
  }
  if (lastRst === evidence.length - 1) {
    const r = rstSeg(rstAt);
    const sentIt = rstAt.requestSeen ? `got the request (frame ${reqAt(rstAt).frame}) and sent the RST itself (frame ${r.frame}, from ${r.from} TTL ${r.ttl})` : `shows the RST (frame ${r.frame}, from ${r.from} TTL ${r.ttl}) but not the request`;
    return verdict('server', rstAt.vantage, null, `the server side at ${rstAt.vantage} ${sentIt}: no middlebox forged it`, rstAt.requestSeen ? 'high' : 'medium');
  }
  const next = evidence[lastRst + 1]!;
  const conf = testify(next, 'the RST');
  return verdict('between', rstAt.vantage, next.vantage, `${left}${reached}; ${rstText} was never sent by ${next.vantage}'s side: it was forged between ${rstAt.vantage} and ${next.vantage} — the load balancer`, conf);
}

/** How far the request got: into a middlebox capture and not out of it, to the last capture that shows it, and not to the next. */
function howFar(evidence: readonly VantageEvidence[], lastReq: number, first: VantageEvidence): string {
  const at = evidence[lastReq]!;
  const inside = splitLegs(at);
  if (inside) return `, reached ${at.vantage} on ${inside.in.client} → ${inside.in.server} (frame ${inside.in.request!.frame}) and never left it on ${inside.out.client} → ${inside.out.server}`;
  const reached = at !== first ? `, reached ${at.vantage} (frame ${at.legs.find((l) => l.request)!.request!.frame})` : '';
  const next = evidence[lastReq + 1];
  return `${reached}${next ? ` and never reached ${next.vantage}'s capture` : ''}`;
}

function sentTimes(e: VantageEvidence): string {
  const n = e.legs.find((l) => l.request)?.request?.transmissions ?? 1;
  return n > 1 ? ` (sent ${n} times)` : '';
}

/** A capture with two legs of the connection (before and after a NAT) where one saw the request (or RST) and the other, running, did not. */
function splitLegs(e: VantageEvidence, rst = false): { in: VantageLeg; out: VantageLeg } | null {
  if (e.legs.length < 2 || !e.covered) return null;
  const has = (l: VantageLeg) => (rst ? l.rst !== null : l.request !== null);
  const inLeg = e.legs.find(has);
  const outLeg = e.legs.find((l) => !has(l) && !l.traceIncomplete);
  return inLeg && outLeg ? { in: inLeg, out: outLeg } : null;
}

function testifyLeg(e: VantageEvidence, caveats: string[]): Confidence {
  const gaps = e.legs.reduce((n, l) => n + l.segmentsNotCaptured, 0);
  if (gaps === 0) return 'high';
  caveats.push(`${e.vantage}'s capture missed ${gaps} segment${gaps === 1 ? '' : 's'} of this connection`);
  return 'medium';
}

/** The server side answered at the far end; the nearest capture from which the answer is missing (path order). */
function returnPath(evidence: readonly VantageEvidence[], far: number): { after: string; before: string; answerFrame: number } | null {
  const ans = evidence[far]!.legs.find((l) => l.answer)?.answer;
  if (!ans) return null;
  let k = far;
  while (k > 0 && evidence[k - 1]!.legs.some((l) => l.answer)) k--;
  if (k === 0) return null;
  return { after: evidence[k]!.vantage, before: evidence[k - 1]!.vantage, answerFrame: ans.frame };
}

/** Captures and logs of the same name: the same story reinforces, a different one is reported. */
function combineWithLogs(evidence: readonly VantageEvidence[], hops: readonly HopEvidence[]): { agreeing: string[]; contradictions: string[] } {
  const agreeing: string[] = [], contradictions: string[] = [];
  for (const h of hops) {
    const e = evidence.find((x) => x.vantage === h.hop);
    if (!e || !e.covered || e.legs.length === 0) continue;
    if (h.sawRequest === e.requestSeen) agreeing.push(h.hop);
    else contradictions.push(h.sawRequest
      ? `contradiction: ${h.hop}'s log has the request but its capture does not show it`
      : `contradiction: ${h.hop}'s capture shows the request but its log has no line for it`);
  }
  return { agreeing, contradictions };
}

function lastIndex<T>(xs: readonly T[], f: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (f(xs[i]!)) return i;
  return -1;
}

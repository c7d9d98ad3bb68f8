import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AnalysisResult } from '../analysis/analyze.js';
import { analyzeCapture } from '../analysis/analyze.js';
import { computeRemedies, type Remedy } from './index.js';
import { belowServerKeepAlive, chooseIdleTimeout, chooseKeepalive, cleanDown } from './remedies/index.js';
import { HAVE_RTSP, RTSP, skipNote } from './testing/real.js';
import { analyse, probesIgnored, rawIpv6, resetInFlight, reuseAfterFin, ScenarioDir, staleRst, staleTimeout, removeScenarioDirs } from './testing/scenarios.js';

// Parsed YAML is untyped; the tests walk it by the paths Istio documents.
type Doc = Record<string, any>;

function yamlOf(rem: Remedy, kind: string): Doc {
  const s = rem.snippets.find((x) => x.language === 'yaml' && x.code.includes(`kind: ${kind}`));
  if (!s) throw new Error(`no ${kind} snippet in ${rem.snippets.map((x) => x.title).join(', ')}`);
  return parse(s.code) as Doc;
}

let d: ScenarioDir;
const results: Record<string, AnalysisResult> = {};
afterAll(removeScenarioDirs);
beforeAll(async () => {
  d = new ScenarioDir();
  results.staleRst = await analyse(staleRst(d, { withLogs: true }));
  results.staleRstNoLogs = await analyse(staleRst(d), { withLogs: false });
  results.staleTimeout = await analyse(staleTimeout(d));
  results.reuseAfterFin = await analyse(reuseAfterFin(d));
  results.resetInFlight = await analyse(resetInFlight(d));
  results.probesIgnored = await analyse(probesIgnored(d));
  results.rawIpv6 = await analyse(rawIpv6(d));
});

describe('cleanDown', () => {
  it('rounds down to whole seconds, then 5 s, 10 s, 30 s, 1 min and 5 min steps', () => {
    expect([0.6, 3.5, 9.99, 29, 58, 119, 175, 450, 599, 610, 3599, 4000].map(cleanDown)).toEqual([0, 3, 9, 25, 50, 110, 150, 450, 570, 600, 3540, 3900]);
  });
});

describe('keepalive numbers', () => {
  it('keeps the first probe at half the shortest failed idle and gives up within 90 % of it', () => {
    const k = chooseKeepalive({ failedSeconds: 350, failedFrame: 9, survivedSeconds: null, survivedFrame: null, survivedIgnored: null, measure: 'packet-gap' });
    expect(k.settings).toEqual({ idleSeconds: 150, intervalSeconds: 50, probes: 3, giveUpSeconds: 300 });
    expect(k.text).toContain('350 s, frame 9');
  });

  it('uses the longest idle that survived when it is below half the shortest that failed', () => {
    const k = chooseKeepalive({ failedSeconds: 900, failedFrame: 12, survivedSeconds: 400, survivedFrame: 8, survivedIgnored: null, measure: 'packet-gap' });
    expect(k.settings?.idleSeconds).toBe(390);
    expect(k.text).toContain('the longest idle that still worked (400 s, frame 8)');
  });

  it('calls half the shortest failed idle known to be safe when a longer idle than that still worked', () => {
    const k = chooseKeepalive({ failedSeconds: 11.2, failedFrame: 147, survivedSeconds: 8.8, survivedFrame: 144, survivedIgnored: null, measure: 'packet-gap' });
    expect(k.settings).toEqual({ idleSeconds: 5, intervalSeconds: 1, probes: 3, giveUpSeconds: 8 });
    expect(k.text).toContain('which is below the longest idle that still worked (8.800 s, frame 144): known to be safe');
  });

  it('never goes below the 1 s floor and refuses keepalive for a timeout of about a second', () => {
    const lab = chooseKeepalive({ failedSeconds: 2.5, failedFrame: 3, survivedSeconds: null, survivedFrame: null, survivedIgnored: null, measure: 'packet-gap' });
    expect(lab.settings).toEqual({ idleSeconds: 1, intervalSeconds: 1, probes: 1, giveUpSeconds: 2 });
    const idle = chooseIdleTimeout({ failedSeconds: 1.5, failedFrame: 3, survivedSeconds: null, survivedFrame: null, survivedIgnored: null, measure: 'data-idle' });
    expect(idle.seconds).toBe(1);
    expect(idle.text).toContain('the 1 s floor');
    const tooShort = chooseKeepalive({ failedSeconds: 1.2, failedFrame: 3, survivedSeconds: null, survivedFrame: null, survivedIgnored: null, measure: 'packet-gap' });
    expect(tooShort.settings).toBeNull();
    expect(tooShort.text).toMatch(/too short for TCP keepalive/);
    expect(chooseIdleTimeout({ failedSeconds: 0.8, failedFrame: 3, survivedSeconds: null, survivedFrame: null, survivedIgnored: null, measure: 'data-idle' }).seconds).toBeNull();
  });

  it('sets the client idle timeout to three quarters of a measured server keep-alive timeout', () => {
    expect(belowServerKeepAlive(5, 8).seconds).toBe(3);
    expect(belowServerKeepAlive(60, 8).seconds).toBe(40);
    expect(belowServerKeepAlive(1, 8).seconds).toBeNull();
  });
});

describe('remedies computed from writer-made captures', () => {
  it('derives keepalive 390s/120s/3 and idle timeout 390 s from a connection that survived 400 s and failed after 900 s', () => {
    const [rem] = computeRemedies(results.staleRst);
    expect(rem.destination).toBe('10.20.0.9:8080');
    expect(rem.problems).toEqual(['idle-drop']);
    expect(rem.keepalive).toEqual({ idleSeconds: 390, intervalSeconds: 120, probes: 3, giveUpSeconds: 750 });
    expect(rem.idleTimeoutSeconds).toBe(390);
    expect(rem.rationale.join(' ')).toMatch(/400 s, frame \d+/);
    expect(rem.rationale.join(' ')).toMatch(/900 s, frame \d+/);
  });

  it('names the service from the client sidecar\'s upstream cluster and puts the DestinationRule first when that sidecar owns the connection', () => {
    const [rem] = computeRemedies(results.staleRst);
    expect(rem.host).toBe('orders.shop.svc.cluster.local');
    expect(rem.hostSource).toBe('upstream-cluster');
    expect(rem.inMesh).toBe(true);
    expect(rem.primaryLayer).toBe('client-sidecar');
    expect(rem.snippets[0].title).toMatch(/DestinationRule/);
    expect(rem.snippets.some((s) => /ServiceEntry/.test(s.title))).toBe(false);
    const [plain] = computeRemedies(results.staleRstNoLogs);
    expect(plain.hostSource).toBe('http-host');
    expect(plain.primaryLayer).toBe('application');
    expect(plain.snippets[0].layer).toBe('application');
  });

  it('writes a DestinationRule that parses, with Istio\'s field names and duration strings', () => {
    const dr = yamlOf(computeRemedies(results.staleRst)[0], 'DestinationRule');
    expect(dr.apiVersion).toMatch(/^networking\.istio\.io\/v1/);
    expect(dr.spec.host).toBe('orders.shop.svc.cluster.local');
    expect(dr.spec.trafficPolicy.connectionPool.tcp.tcpKeepalive).toEqual({ time: '390s', interval: '120s', probes: 3 });
    expect(dr.spec.trafficPolicy.connectionPool.http.idleTimeout).toBe('390s');
    expect(dr.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('writes an EnvoyFilter for the gateway listener on the capture\'s port with SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT', () => {
    const ef = yamlOf(computeRemedies(results.staleRst)[0], 'EnvoyFilter');
    const patch = ef.spec.configPatches[0];
    expect(patch.applyTo).toBe('LISTENER');
    expect(patch.match.context).toBe('GATEWAY');
    expect(patch.match.listener.portNumber).toBe(8080);
    expect(patch.patch.operation).toBe('MERGE');
    const opts = patch.patch.value.socket_options.map((o: Doc) => [o.level, o.name, o.int_value]);
    expect(opts).toEqual([[1, 9, 1], [6, 4, 390], [6, 5, 120], [6, 6, 3]]);
  });

  it('fills the application snippets with the same numbers for Go, Node, Java and Python', () => {
    const rem = computeRemedies(results.staleRst)[0];
    const code = (lang: string) => rem.snippets.find((s) => s.language === lang)!.code;
    expect(code('go')).toContain('Idle:     390 * time.Second');
    expect(code('go')).toContain('IdleConnTimeout: 390 * time.Second');
    expect(code('javascript')).toContain('keepAliveMsecs: 390000');
    expect(code('javascript')).toContain('timeout: 390000');
    expect(code('java')).toContain('new ConnectionPool(5, 390, TimeUnit.SECONDS)');
    expect(code('java')).toContain('evictIdleConnections(390, TimeUnit.SECONDS)');
    expect(code('java')).toContain('TCP_KEEPIDLE, 390');
    expect(code('python')).toContain('socket.TCP_KEEPIDLE, 390');
    expect(code('python')).toContain('keepalive_timeout=390');
  });

  it('adds a note on request timeouts and retries for a silent drop, and a ServiceEntry for a host outside the mesh', () => {
    const [rem] = computeRemedies(results.staleTimeout);
    expect(rem.problems).toEqual(['idle-drop']);
    expect(rem.keepalive).toEqual({ idleSeconds: 450, intervalSeconds: 120, probes: 3, giveUpSeconds: 810 });
    expect(rem.notes.join(' ')).toMatch(/perTryTimeout/);
    expect(rem.inMesh).toBe(false);
    const se = yamlOf(rem, 'ServiceEntry');
    expect(se.spec).toMatchObject({ hosts: ['payments.example.net'], location: 'MESH_EXTERNAL', resolution: 'DNS', ports: [{ number: 443 }] });
    expect(yamlOf(rem, 'DestinationRule').spec.host).toBe('payments.example.net');
  });

  it('gives reuse-after-fin the client idle timeout below the server\'s keep-alive timeout, never keepalive', () => {
    const [rem] = computeRemedies(results.reuseAfterFin);
    expect(rem.problems).toEqual(['server-closed-first']);
    expect(rem.keepalive).toBeNull();
    expect(rem.snippets.some((s) => /EnvoyFilter/.test(s.title) || /tcpKeepalive|TCP_KEEPIDLE/.test(s.code))).toBe(false);
    expect(rem.notes.join(' ')).toMatch(/Not a keepalive problem/);
    if (rem.serverKeepAliveSeconds !== null) {
      // The detector measured the server's idle before its FIN (5 s in the script).
      expect(rem.serverKeepAliveSeconds).toBeCloseTo(5, 1);
      expect(rem.idleTimeoutSeconds).toBe(3);
    } else {
      // Without that measurement: how to read it off the FIN, with the frame numbers.
      expect(rem.idleTimeoutSeconds).toBeNull();
      expect(rem.rationale.join(' ')).toMatch(/FIN, frame \d+/);
      expect(rem.rationale.join(' ')).toMatch(/frame\.time_delta_displayed/);
    }
  });

  it('sends reset-in-flight to the server: no keepalive, no idle timeout, no config', () => {
    const [rem] = computeRemedies(results.resetInFlight);
    expect(rem.problems).toEqual(['server-reset']);
    expect(rem.keepalive).toBeNull();
    expect(rem.idleTimeoutSeconds).toBeNull();
    expect(rem.snippets).toEqual([]);
    expect(rem.headline).toMatch(/look at the server/);
  });

  it('drops TCP keepalive when probes were sent and ignored, and sets the HTTP idle timeout below the box\'s payload timeout', () => {
    const [rem] = computeRemedies(results.probesIgnored);
    expect(rem.problems).toEqual(['idle-drop-ignores-keepalive']);
    expect(rem.keepalive).toBeNull();
    expect(rem.idleTimeoutSeconds).toBe(180);
    expect(rem.rationale.join(' ')).toMatch(/TCP keepalive will not help: 8 keepalive probes/);
    const dr = yamlOf(rem, 'DestinationRule');
    expect(dr.spec.trafficPolicy.connectionPool.http.idleTimeout).toBe('180s');
    expect(dr.spec.trafficPolicy.connectionPool.tcp).toBeUndefined();
    expect(rem.snippets.some((s) => /EnvoyFilter/.test(s.title))).toBe(false);
  });

  it('declares a bare IPv6 destination with a STATIC ServiceEntry and uses TCP idle timeouts for non-HTTP traffic', () => {
    const [rem] = computeRemedies(results.rawIpv6);
    expect(rem.host).toBeNull();
    expect(rem.protocol).toBe('data');
    expect(rem.keepalive).toEqual({ idleSeconds: 900, intervalSeconds: 240, probes: 3, giveUpSeconds: 1620 });
    const se = yamlOf(rem, 'ServiceEntry');
    expect(se.spec).toMatchObject({ addresses: ['2001:db8:9::9/128'], resolution: 'STATIC', endpoints: [{ address: '2001:db8:9::9' }], ports: [{ number: 5432, protocol: 'TCP' }] });
    const dr = yamlOf(rem, 'DestinationRule');
    expect(dr.spec.host).toBe(se.spec.hosts[0]);
    expect(dr.spec.trafficPolicy.connectionPool.tcp).toEqual({ tcpKeepalive: { time: '900s', interval: '240s', probes: 3 }, idleTimeout: '900s' });
    expect(dr.spec.trafficPolicy.connectionPool.http).toBeUndefined();
  });

  it('writes every YAML snippet of every remedy so that it parses to one document', () => {
    for (const r of Object.values(results)) {
      for (const rem of computeRemedies(r)) {
        for (const s of rem.snippets.filter((x) => x.language === 'yaml')) {
          const doc = parse(s.code) as Doc;
          expect(typeof doc.apiVersion).toBe('string');
          expect(typeof doc.kind).toBe('string');
        }
      }
    }
  });
});

describe.skipIf(!HAVE_RTSP)('remedies for the real rtsp.pcap (four stale-reuse RSTs after ~58 s idle)', () => {
  if (!HAVE_RTSP) skipNote('rtsp.pcap remedies', `${RTSP} is not on this machine`);
  it('keeps the first probe below the shortest failed idle of 58 s and ignores the 13 ms "survival"', async () => {
    const r = await analyzeCapture(RTSP);
    const [rem] = computeRemedies(r);
    expect(rem.destination).toBe('10.2.2.2:8554');
    expect(rem.problems).toEqual(['idle-drop', 'server-reset']);
    expect(rem.keepalive).toEqual({ idleSeconds: 25, intervalSeconds: 9, probes: 3, giveUpSeconds: 52 });
    expect(rem.keepalive!.giveUpSeconds).toBeLessThan(r.destinations[0].idleTimeout!.failedSeconds!);
    const dr = yamlOf(rem, 'DestinationRule');
    expect(dr.spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.time).toBe('25s');
    expect(yamlOf(rem, 'ServiceEntry').spec.addresses).toEqual(['10.2.2.2/32']);
  });
});

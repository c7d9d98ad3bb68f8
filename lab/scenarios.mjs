// Scenario definitions: the single source of truth for the network plan (addresses, VIPs),
// each scenario's knobs (LB idle timeout, REJECT vs DROP, keepalive, server keep-alive
// timeout), the client's traffic plan and what the capture checks must find.
//
//   node lab/scenarios.mjs list        -> scenario names, one per line
//   node lab/scenarios.mjs env NAME    -> shell assignments for lab/run.sh

export const NET = {
  CLIENT4: '10.200.1.2', LB_C4: '10.200.1.1', LB_S4: '10.200.2.1', SERVER4: '10.200.2.2',
  VIP4: '10.200.9.9', VIP4_B: '10.200.9.10', VIP4_NET: '10.200.9.0/24',
  CLIENT6: 'fd00:200:1::2', LB_C6: 'fd00:200:1::1', LB_S6: 'fd00:200:2::1', SERVER6: 'fd00:200:2::2',
  VIP6: 'fd00:200:9::9', VIP6_NET: 'fd00:200:9::/64',
  VIP_PORT: 80, SERVER_PORT: 8080, SERVER_PORT_B: 8081,
};

/** Services as the client sidecar knows them: the VIP it dials and its Envoy cluster name. */
export const SERVICES = {
  backend: { host: NET.VIP4, port: 80, authority: 'backend.lab.svc.cluster.local', cluster: 'outbound|80||backend.lab.svc.cluster.local' },
  orders: { host: NET.VIP4_B, port: 80, authority: 'orders.lab.svc.cluster.local', cluster: 'outbound|80||orders.lab.svc.cluster.local' },
  backend6: { host: NET.VIP6, port: 80, authority: 'backend.lab.svc.cluster.local', cluster: 'outbound|80||backend.lab.svc.cluster.local' },
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A few normal requests, an idle period, the request that meets the stale connection,
 * then one more request (the pool dials a fresh connection if the old one died). */
async function idleThenReuse(c, svc, idleMs) {
  const a = c.upstream('a', svc);
  await a.request({ method: 'GET', path: '/api/items/1' });
  await sleep(250);
  await a.request({ method: 'POST', path: '/api/orders', body: '{"sku":"A-1","qty":2}' });
  await sleep(250);
  await a.request({ method: 'GET', path: '/api/items/3' });
  await sleep(idleMs);
  await a.request({ method: 'GET', path: '/api/items/4' });
  await sleep(300);
  await a.request({ method: 'GET', path: '/api/items/5' });
  await sleep(200);
  await c.closeAll();
}

const BETWEEN = 'between client and server';

export const SCENARIOS = [
  {
    num: 1,
    name: 'rst-after-idle',
    family: 4,
    description: 'Keepalive off; the pooled connection idles 13 s, longer than the LB conntrack idle timeout (10 s); the next request is answered by an RST forged by the LB (source = VIP, TTL 64), never preceded by a FIN.',
    lbIdleTimeoutSeconds: 10,
    lbAction: 'REJECT',
    serverKeepAliveTimeoutMs: 0,
    clientKeepalive: null,
    expect: { client: ['stale-reuse-rst'], server: [], lb: ['stale-reuse-rst'] },
    verdict: { faultyHop: BETWEEN, rstOrigin: 'middlebox' },
    run: (c) => idleThenReuse(c, SERVICES.backend, 13000),
  },
  {
    num: 2,
    name: 'keepalive-on',
    family: 4,
    description: 'Same traffic and 13 s idle as rst-after-idle, but the client socket has TCP keepalive (idle 2 s, interval 1 s): the probes refresh the LB conntrack entry and the request after the idle succeeds; no incident.',
    lbIdleTimeoutSeconds: 10,
    lbAction: 'REJECT',
    serverKeepAliveTimeoutMs: 0,
    clientKeepalive: { idleSeconds: 2, intervalSeconds: 1 },
    expect: { client: [], server: [], lb: [] },
    verdict: null,
    run: (c) => idleThenReuse(c, SERVICES.backend, 13000),
  },
  {
    num: 3,
    name: 'blackhole',
    family: 4,
    description: 'Keepalive off; the LB silently DROPs packets of connections it has forgotten: the request after a 13 s idle is retransmitted without any answer until the client gives up after 3 s (504 UT), then a fresh connection works.',
    lbIdleTimeoutSeconds: 10,
    lbAction: 'DROP',
    serverKeepAliveTimeoutMs: 0,
    clientKeepalive: null,
    expect: { client: ['stale-reuse-timeout'], server: [], lb: ['stale-reuse-timeout'] },
    verdict: { faultyHop: BETWEEN, rstOrigin: null },
    run: (c) => idleThenReuse(c, SERVICES.backend, 13000),
  },
  {
    num: 4,
    name: 'server-fin',
    family: 4,
    description: 'The server (Node 20, keepAliveTimeout 2 s, to which Node adds a 1 s buffer) closes the idle keep-alive connection with a FIN after 3 s; the client ignores the FIN and sends its next request 4.5 s after the last response; the server kernel answers with an RST (server TTL). LB idle timeout is 3600 s here.',
    lbIdleTimeoutSeconds: 3600,
    lbAction: 'REJECT',
    serverKeepAliveTimeoutMs: 2000,
    clientKeepalive: null,
    ignoreFin: true,
    expect: { client: ['reuse-after-fin'], server: ['reuse-after-fin'], lb: ['reuse-after-fin', 'reuse-after-fin'] },
    verdict: { faultyHop: 'server', rstOrigin: 'server' },
    run: (c) => idleThenReuse(c, SERVICES.backend, 4500),
  },
  {
    num: 5,
    name: 'busy',
    family: 4,
    description: '17 pooled connections to two VIPs, each idling a different time (1.6 s to 18 s) after its first request; those idle longer than the LB timeout (10 s) get an RST from the LB on reuse, the others are reused fine, so the idle timeout can be bracketed.',
    lbIdleTimeoutSeconds: 10,
    lbAction: 'REJECT',
    serverKeepAliveTimeoutMs: 0,
    clientKeepalive: null,
    // idle (s) per connection; > 10 s ends in an incident
    idles: { backend: [1.6, 3.2, 4.8, 6.0, 7.2, 8.0, 8.8, 11.2, 12.0, 13.0, 14.0, 15.2, 16.4, 18.0], orders: [4.0, 8.4, 12.4] },
    expect: {
      client: Array(8).fill('stale-reuse-rst'),
      server: [],
      lb: Array(8).fill('stale-reuse-rst'),
    },
    bracketServer: `${NET.VIP4}:80`,
    verdict: { faultyHop: BETWEEN, rstOrigin: 'middlebox' },
    async run(c) {
      const jobs = [];
      let i = 0;
      for (const [svcName, idles] of Object.entries(this.idles)) {
        idles.forEach((idle, k) => {
          const start = i++ * 40;
          jobs.push((async () => {
            const up = c.upstream(`${svcName}-${k + 1}`, SERVICES[svcName]);
            await sleep(start);
            await up.request({ method: 'GET', path: `/api/${svcName}/${k + 1}` });
            await sleep(Math.round(idle * 1000));
            await up.request({ method: 'GET', path: `/api/${svcName}/${k + 1}/again` });
          })());
        });
      }
      await Promise.all(jobs);
      await sleep(200);
      await c.closeAll();
    },
  },
  {
    num: 6,
    name: 'rst-after-idle-v6',
    family: 6,
    description: 'IPv6 variant of rst-after-idle: the LB (ip6tables DNAT + conntrack INVALID -> REJECT tcp-reset) forges the RST from the VIP with hop limit 64 while server packets arrive with hop limit 63.',
    lbIdleTimeoutSeconds: 10,
    lbAction: 'REJECT',
    serverKeepAliveTimeoutMs: 0,
    clientKeepalive: null,
    expect: { client: ['stale-reuse-rst'], server: [], lb: ['stale-reuse-rst'] },
    verdict: { faultyHop: BETWEEN, rstOrigin: 'middlebox' },
    run: (c) => idleThenReuse(c, SERVICES.backend6, 13000),
  },
  // ---- keepalive on but too slow, and connections at risk (issue 13) ------------------------
  {
    num: 7,
    name: 'keepalive-too-slow',
    family: 4,
    description: 'Keepalive is on, but its first probe comes after 12 s of idle while the LB forgets connections after 10 s: on one pooled connection the first probe meets the RST the LB forges (keepalive-too-slow); on another, a request sent after 11 s of idle — before any probe was due — is reset (stale-reuse-rst, 503 UC).',
    lbIdleTimeoutSeconds: 10,
    lbAction: 'REJECT',
    serverKeepAliveTimeoutMs: 0,
    clientKeepalive: { idleSeconds: 12, intervalSeconds: 1 },
    expect: { client: ['keepalive-too-slow', 'stale-reuse-rst'], server: [], lb: ['keepalive-too-slow', 'stale-reuse-rst'] },
    verdict: { faultyHop: BETWEEN, rstOrigin: 'middlebox' },
    async run(c) {
      const a = c.upstream('a', SERVICES.backend);
      const b = c.upstream('b', SERVICES.backend);
      await Promise.all([
        (async () => {
          await a.request({ method: 'GET', path: '/api/items/1' });
          await sleep(15000); // the probe at 12 s meets the forged RST; the pool notices and redials
          await a.request({ method: 'GET', path: '/api/items/2' });
        })(),
        (async () => {
          await sleep(500);
          await b.request({ method: 'GET', path: '/api/items/3' });
          await sleep(11000); // past the LB's 10 s, before the 12 s probe
          await b.request({ method: 'POST', path: '/api/orders', body: '{"sku":"A-1","qty":2}' });
        })(),
      ]);
      await sleep(200);
      await c.closeAll();
    },
  },
  {
    num: 8,
    name: 'at-risk',
    family: 4,
    description: 'Keepalive off, LB idle timeout 10 s. One pooled connection is reset after 11 s of idle (stale-reuse-rst); another survived a 4 s idle and is then left idle; the capture stops while it is still open, about 14 s idle — past the 11 s that already failed: it will fail on next use. A third, used 1 s before the end, is fine.',
    lbIdleTimeoutSeconds: 10,
    lbAction: 'REJECT',
    serverKeepAliveTimeoutMs: 0,
    clientKeepalive: null,
    holdOpen: true,
    expect: { client: ['stale-reuse-rst'], server: [], lb: ['stale-reuse-rst'] },
    verdict: { faultyHop: BETWEEN, rstOrigin: 'middlebox' },
    async run(c) {
      const a = c.upstream('a', SERVICES.backend);
      const b = c.upstream('b', SERVICES.backend);
      const d = c.upstream('c', SERVICES.backend);
      await Promise.all([
        (async () => {
          await a.request({ method: 'GET', path: '/api/items/1' });
          await sleep(11000);
          await a.request({ method: 'GET', path: '/api/items/2' }); // reset by the LB
        })(),
        (async () => {
          await sleep(100);
          await b.request({ method: 'GET', path: '/api/items/3' });
          await sleep(4000);
          await b.request({ method: 'GET', path: '/api/items/4' }); // survives 4 s, then idles
        })(),
      ]);
      await sleep(5000);
      await d.request({ method: 'GET', path: '/api/items/5' });
      await sleep(1000);
      // No closeAll(): the client holds its connections open while the captures stop (holdOpen).
    },
  },
  // ---- HTTP/2 (issue 19): h2c through the same LB; client lab/h2-client.mjs, server node:http2 --------
  {
    num: 19,
    name: 'h2-rst-after-idle',
    family: 4,
    description: 'h2c (node:http2 on both ends, prior knowledge), no keepalive of any kind: three requests on one pooled HTTP/2 connection, 13 s idle (LB forgets it after 10 s), then two requests sent together on streams 7 and 9: the LB answers with an RST (source = VIP, TTL 64) that kills both streams (two 503 UC lines); the pool dials a new connection for the next request.',
    lbIdleTimeoutSeconds: 10,
    lbAction: 'REJECT',
    serverKeepAliveTimeoutMs: 0,
    clientKeepalive: null,
    h2: { goawayMs: 0 },
    expect: { client: ['stale-reuse-rst'], server: [], lb: ['stale-reuse-rst'] },
    verdict: { faultyHop: BETWEEN, rstOrigin: 'middlebox' },
    async run(c) {
      const a = c.pool('a', SERVICES.backend);
      await a.request({ method: 'GET', path: '/api/items/1' });
      await sleep(250);
      await a.request({ method: 'POST', path: '/api/orders', body: '{"sku":"A-1","qty":2}' });
      await sleep(250);
      await a.request({ method: 'GET', path: '/api/items/3' });
      await sleep(13000);
      await Promise.all([a.request({ method: 'GET', path: '/api/items/4' }), a.request({ method: 'GET', path: '/api/items/5' })]);
      await sleep(300);
      await a.request({ method: 'GET', path: '/api/items/6' });
      await sleep(200);
      await c.closeAll();
    },
  },
  {
    num: 20,
    name: 'h2-ping-keepalive',
    family: 4,
    description: 'gRPC over h2c (POST /lab.Inventory/GetItem, application/grpc, trailers grpc-status 0) through the same 10 s LB with the same 13 s idle as h2-rst-after-idle, but the client sends an HTTP/2 PING every 3 s (session.ping(), as gRPC keepalive GRPC_ARG_KEEPALIVE_TIME_MS or Envoy connection_keepalive would): the PINGs keep the LB conntrack entry warm and the calls after the idle succeed; no incident.',
    lbIdleTimeoutSeconds: 10,
    lbAction: 'REJECT',
    serverKeepAliveTimeoutMs: 0,
    clientKeepalive: null,
    h2: { goawayMs: 0, pingEveryMs: 3000 },
    expect: { client: [], server: [], lb: [] },
    verdict: null,
    async run(c) {
      const a = c.pool('a', SERVICES.backend);
      const call = (item) => a.request({ method: 'POST', path: '/lab.Inventory/GetItem', body: `item-${item}`, grpc: true });
      await call(1);
      await sleep(250);
      await call(2);
      a.startPings(this.h2.pingEveryMs);
      await sleep(13000);
      await Promise.all([call(3), call(4)]);
      a.stopPings();
      await sleep(200);
      await c.closeAll();
    },
  },
  {
    num: 21,
    name: 'h2-goaway-race',
    family: 4,
    description: 'The server (node:http2) closes an HTTP/2 session idle for 2 s: GOAWAY (last stream 1, NO_ERROR), then FIN. The client (raw frames, a pool that missed the GOAWAY) opens stream 3 at 4.5 s idle: above the GOAWAY\'s last stream id, never processed; the server kernel answers with an RST (503 UC). LB idle timeout 3600 s.',
    lbIdleTimeoutSeconds: 3600,
    lbAction: 'REJECT',
    serverKeepAliveTimeoutMs: 0,
    clientKeepalive: null,
    h2: { goawayMs: 2000 },
    expect: { client: ['reuse-after-goaway'], server: ['reuse-after-goaway'], lb: ['reuse-after-goaway', 'reuse-after-goaway'] },
    verdict: { faultyHop: 'server', rstOrigin: 'server' },
    async run(c) {
      const a = c.raw('a', SERVICES.backend);
      await a.request({ method: 'GET', path: '/api/items/1' });
      await sleep(4500);
      await a.request({ method: 'GET', path: '/api/items/2' });
      await sleep(200);
      await c.closeAll();
    },
  },
  // ---- end of HTTP/2 block (issue 19) -----------------------------------------------------------
];

// ---- issue 15: access logs with %UPSTREAM_CONNECTION_ID% -------------------------------------
// `busy` again, with the client sidecar logging the format docs/logs.md recommends (Istio's default
// plus %UPSTREAM_CONNECTION_ID%): `flowdoc logs` finds the stale reuse from the log alone, and the
// capture says which answer is right.
SCENARIOS.push({
  ...scenario('busy'),
  num: 15,
  name: 'busy-connection-id',
  connectionIds: true,
  description: 'busy, with the client sidecar logging %UPSTREAM_CONNECTION_ID% (one id per pooled connection, as Envoy ≥ 1.30): 17 pooled connections to two VIPs idling 1.6 s to 18 s; those idle longer than the LB timeout (10 s) get an RST from the LB on reuse (503 UC in the log), the others are reused fine.',
});
// ---- end of issue 15 block ---------------------------------------------------------------------

// ---- issue 16: flowdoc watch --interface live in the lab -------------------------------------
// rst-after-idle again, with `flowdoc watch --interface c0` running in the client's namespace
// beside the captures: the LB's conntrack forgets the pooled connection, its RST is told live.
SCENARIOS.push({
  ...scenario('rst-after-idle'),
  num: 16,
  name: 'watch-rst-after-idle',
  watch: true,
  description: 'rst-after-idle (keepalive off, 13 s idle, LB conntrack idle timeout 10 s, RST forged by the LB), with `flowdoc watch --interface c0 --save` running in the client namespace: the incident is told while the client still runs.',
});
// ---- end of issue 16 block ---------------------------------------------------------------------
// ---- issue 19: real headers-only captures (tcpdump -s) --------------------------------------------
// rst-after-idle and h2-rst-after-idle again, each vantage captured twice more by tcpdump itself with
// a snap length (`-s 96`, `-s 128`) beside the full capture of the same interface: the full captures
// give truth.json as for any scenario, and lab/snaplen-verify.mjs checks that the cut ones hold the
// same packets, each cut at the snap length, and writes what their captured prefixes hold.
SCENARIOS.push({
  ...scenario('rst-after-idle'),
  num: 31,
  name: 'rst-after-idle-snaplen',
  variantOf: 'rst-after-idle',
  snaplens: [96, 128],
  // the longest idle that survived (~0.3 s) and the 13 s that failed bracket the LB's 10 s
  bracketServer: `${NET.VIP4}:80`,
  description: 'rst-after-idle (keepalive off, 13 s idle, LB idle timeout 10 s, RST forged by the LB) captured at every vantage by tcpdump in full and, at the same time, with `tcpdump -s 96` and `-s 128`: real headers-only captures of the same packets.',
});
SCENARIOS.push({
  ...scenario('h2-rst-after-idle'),
  num: 32,
  name: 'h2-rst-after-idle-snaplen',
  variantOf: 'h2-rst-after-idle',
  snaplens: [96, 128],
  description: 'h2-rst-after-idle (h2c, 13 s idle, streams 7 and 9 in one segment reset by the LB) captured at every vantage by tcpdump in full and, at the same time, with `tcpdump -s 96` and `-s 128`: real headers-only captures of the same packets.',
});
// ---- end of issue 19 headers-only block --------------------------------------------------------

export const REQUEST_TIMEOUT_MS = 3000; // like an Istio VirtualService `timeout: 3s`

export function scenario(name) {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`unknown scenario ${name} (known: ${SCENARIOS.map((x) => x.name).join(', ')})`);
  return s;
}

/** Deterministic UUID-shaped x-request-id: fd1ab0SS-0000-4000-8000-NNNNNNNNNNNN. */
export function requestId(s, n) {
  return `fd1ab0${String(s.num).padStart(2, '0')}-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [cmd, name] = process.argv.slice(2);
  if (cmd === 'list') {
    for (const s of SCENARIOS) console.log(s.name);
  } else if (cmd === 'env') {
    const s = scenario(name);
    const kv = {
      ...NET,
      FAMILY: s.family,
      LB_TIMEOUT: s.lbIdleTimeoutSeconds,
      LB_ACTION: s.lbAction,
      SERVER_KA_MS: s.serverKeepAliveTimeoutMs,
      HOLD_OPEN: s.holdOpen ? 1 : 0,
      // HTTP/2 scenarios (issue 19): the server speaks h2c, GOAWAY after this idle (0: never).
      H2_GOAWAY_MS: s.h2 ? s.h2.goawayMs : -1,
      // `flowdoc watch --interface` runs beside the captures (issue 16).
      WATCH: s.watch ? 1 : 0,
      // Headers-only captures (issue 19): each vantage is also captured with these snap lengths.
      SNAPLENS: (s.snaplens ?? []).join(' '),
    };
    for (const [k, v] of Object.entries(kv)) console.log(`${k}='${v}'`);
  } else {
    console.error('usage: scenarios.mjs list | env NAME');
    process.exit(2);
  }
}

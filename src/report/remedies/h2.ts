/**
 * HTTP/2 and gRPC remedies: on a pooled h2 connection the keepalive that counts is the HTTP/2
 * PING (it keeps the path warm like a TCP probe, and also detects a dead peer), and the polite
 * close is GOAWAY. Snippets: Envoy's `http2_protocol_options.connection_keepalive` on the client
 * sidecar's cluster (Istio EnvoyFilter), the DestinationRule's `h2UpgradePolicy`/`idleTimeout`,
 * and gRPC client keepalive — with the server's ping policy, which answers pings that come too
 * often with GOAWAY ENHANCE_YOUR_CALM "too_many_pings".
 */
import { drHost, k8sName, type MeshTarget } from './istio.js';
import type { KeepaliveSettings, RemedySnippet } from './types.js';
import { commented, toYaml, type YamlValue } from './yaml.js';

/** gRPC's default minimum interval between pings a server accepts (grpc-go EnforcementPolicy.MinTime, C-core GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS): 5 minutes. */
export const GRPC_SERVER_MIN_PING_SECONDS = 300;

/** How long to wait for a PING ACK before the connection is called dead (seconds, never above the keepalive interval's give-up budget). */
function pingTimeout(k: KeepaliveSettings): number {
  return Math.max(1, Math.min(k.intervalSeconds * k.probes, 20));
}

/** Envoy cluster HTTP/2 PING keepalive on the client sidecar's outbound cluster. */
export function h2ConnectionKeepalive(t: MeshTarget, k: KeepaliveSettings): RemedySnippet {
  const host = drHost(t);
  const doc: Record<string, YamlValue> = {
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    metadata: { name: k8sName('flowdoc-h2-keepalive', host) },
    spec: {
      configPatches: [{
        applyTo: 'CLUSTER',
        match: { context: 'SIDECAR_OUTBOUND', cluster: { service: host, portNumber: t.port } },
        patch: {
          operation: 'MERGE',
          value: {
            typed_extension_protocol_options: {
              'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
                '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
                explicit_http_config: {
                  http2_protocol_options: {
                    connection_keepalive: {
                      interval: commented(`${k.idleSeconds}s`, 'a PING after this much idle keeps the path warm'),
                      timeout: commented(`${pingTimeout(k)}s`, 'no PING ACK within this: the connection is closed, not reused'),
                    },
                  },
                },
              },
            },
          },
        },
      }],
    },
  };
  return {
    layer: 'client-sidecar', title: 'Istio EnvoyFilter (client sidecar HTTP/2 PING keepalive)', language: 'yaml',
    code: toYaml(doc, [`HTTP/2 PING keepalive on the client sidecar's connections to ${t.destination}: the interval is the TCP keepalive time chosen above.`]),
    note: `Envoy's http2_protocol_options.connection_keepalive sends a PING every ${k.idleSeconds} s of idle and closes the connection when no ACK comes within ${pingTimeout(k)} s — it both keeps the middlebox's state warm and retires a connection the path already forgot. Merge into the cluster's existing HttpProtocolOptions if it has one (explicit_http_config must stay HTTP/2).`,
  };
}

/** gRPC client keepalive (C-core channel args, Go, Java) at the chosen interval, with the server side's ping policy. */
export function grpcKeepalive(t: MeshTarget, k: KeepaliveSettings): RemedySnippet {
  const ms = k.idleSeconds * 1000;
  const timeoutMs = pingTimeout(k) * 1000;
  const code = [
    `// gRPC client keepalive for ${t.destination}: a PING after ${k.idleSeconds} s idle, dead after ${pingTimeout(k)} s without an ACK.`,
    '// C-core (C++, Python, Ruby, PHP, C#) channel arguments:',
    `//   GRPC_ARG_KEEPALIVE_TIME_MS = ${ms}`,
    `//   GRPC_ARG_KEEPALIVE_TIMEOUT_MS = ${timeoutMs}`,
    '//   GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS = 1   (an idle pooled connection is exactly the one to keep warm)',
    `//   Python: grpc.insecure_channel(target, options=[("grpc.keepalive_time_ms", ${ms}), ("grpc.keepalive_timeout_ms", ${timeoutMs}), ("grpc.keepalive_permit_without_calls", 1)])`,
    '// Go (google.golang.org/grpc/keepalive):',
    `conn, err := grpc.Dial(target, grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: ${k.idleSeconds} * time.Second, Timeout: ${pingTimeout(k)} * time.Second, PermitWithoutStream: true}))`,
    '// The server must accept pings this often, or it answers with GOAWAY ENHANCE_YOUR_CALM "too_many_pings" and closes:',
    `srv := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: ${Math.max(1, k.idleSeconds - 1)} * time.Second, PermitWithoutStream: true}))`,
    `// Java (grpc-java): ManagedChannelBuilder.forTarget(target).keepAliveTime(${k.idleSeconds}, TimeUnit.SECONDS).keepAliveTimeout(${pingTimeout(k)}, TimeUnit.SECONDS).keepAliveWithoutCalls(true)`,
    `//   server: NettyServerBuilder.permitKeepAliveTime(${Math.max(1, k.idleSeconds - 1)}, TimeUnit.SECONDS).permitKeepAliveWithoutCalls(true)`,
  ].join('\n') + '\n';
  const tooOften = k.idleSeconds < GRPC_SERVER_MIN_PING_SECONDS;
  return {
    layer: 'application', title: 'gRPC client keepalive (GRPC_ARG_KEEPALIVE_TIME_MS)', language: 'go',
    code,
    note: tooOften
      ? `Warning: gRPC servers by default accept a ping at most every ${GRPC_SERVER_MIN_PING_SECONDS / 60} minutes (grpc-go EnforcementPolicy.MinTime, C-core GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS) and without active calls not at all: a client pinging every ${k.idleSeconds} s gets GOAWAY ENHANCE_YOUR_CALM with debug data "too_many_pings" and a closed connection — change the server's policy first (the lines above), or keep the pings in the sidecar (the EnvoyFilter) instead.`
      : 'The server\'s ping policy (EnforcementPolicy.MinTime, default 5 minutes) allows this interval.',
  };
}

/** Notes on the DestinationRule's HTTP/2 fields for an h2 pool. */
export function h2Notes(goawayRace: boolean): string[] {
  const notes = [
    'The connection is HTTP/2: one pooled connection carries many streams, so one stale connection fails every request in flight on it. Istio\'s DestinationRule `connectionPool.http.idleTimeout` closes idle HTTP/2 connections too; `connectionPool.http.h2UpgradePolicy: UPGRADE` (or a port named `http2`/`grpc`) is what makes sidecar-to-sidecar traffic HTTP/2 — with `DO_NOT_UPGRADE` the same fix applies per HTTP/1.1 connection.',
  ];
  if (goawayRace) {
    notes.push('GOAWAY race: the server (Envoy `idle_timeout` / gRPC `max_connection_idle`) announced GOAWAY and the client still opened streams above its last stream id. A conforming HTTP/2 client stops using a connection on GOAWAY; keep the client\'s pool idle timeout below the server\'s so it retires connections first, and retry streams refused by GOAWAY (they were never processed, RFC 9113 §6.8: Envoy retries them with `retryOn: refused-stream`, gRPC clients transparently).');
  }
  return notes;
}

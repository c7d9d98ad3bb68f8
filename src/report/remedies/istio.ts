/**
 * Mesh-side fixes as Istio resources: the client sidecar's DestinationRule (tcpKeepalive and
 * pool idle timeouts, a ServiceEntry first when the host is outside the mesh), and an EnvoyFilter
 * giving the gateway's listener socket keepalive options. Field names as in istio/api
 * (`networking/v1alpha3/destination_rule.proto`, `service_entry.proto`) and Envoy's
 * `config.core.v3.SocketOption`; durations are strings like "300s".
 */
import type { KeepaliveSettings, RemedySnippet } from './types.js';
import { commented, toYaml, type YamlValue } from './yaml.js';

/** Linux socket option numbers (asm-generic): SOL_SOCKET/SO_KEEPALIVE, IPPROTO_TCP/TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT. */
export const SOCKET_OPTIONS = {
  SOL_SOCKET: 1,
  SO_KEEPALIVE: 9,
  IPPROTO_TCP: 6,
  TCP_KEEPIDLE: 4,
  TCP_KEEPINTVL: 5,
  TCP_KEEPCNT: 6,
} as const;

export interface MeshTarget {
  /** The service name when known, else null (the IP is used). */
  readonly host: string | null;
  readonly inMesh: boolean;
  /** The destination's address (a DNS name when `ipVersion` is null). */
  readonly ip: string;
  readonly ipVersion: 4 | 6 | null;
  readonly port: number;
  readonly protocol: 'http' | 'tls' | 'data';
  /** `ip:port`, for comments. */
  readonly destination: string;
}

const seconds = (n: number) => `${n}s`;

/** A Kubernetes object name (DNS-1123 label, at most 63 characters) from free text. */
export function k8sName(prefix: string, text: string): string {
  const body = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return `${prefix}-${body}`.slice(0, 63).replace(/-+$/, '');
}

/** The host a DestinationRule names: the service, or for a bare IP the ServiceEntry's made-up name. */
export function drHost(t: MeshTarget): string {
  return t.host ?? `${k8sName('ip', t.ip)}.flowdoc.external`;
}

function portProtocol(t: MeshTarget): string {
  return t.protocol === 'http' ? 'HTTP' : t.protocol === 'tls' ? 'TLS' : 'TCP';
}

/** `ports`: every port of the host the traffic used (default: the target's own). */
export function serviceEntry(t: MeshTarget, ports: readonly number[] = [t.port]): RemedySnippet {
  const host = drHost(t);
  const isIp = t.host === null;
  const doc: Record<string, YamlValue> = {
    apiVersion: commented('networking.istio.io/v1beta1', 'networking.istio.io/v1 on Istio 1.22+'),
    kind: 'ServiceEntry',
    metadata: { name: k8sName('flowdoc', host) },
    spec: {
      hosts: isIp ? [commented(host, 'any name: the address below is what matches the traffic')] : [host],
      ...(isIp ? { addresses: [t.ipVersion === 6 ? `${t.ip}/128` : `${t.ip}/32`] } : {}),
      ports: ports.map((p) => ({ number: p, name: `${portProtocol(t).toLowerCase()}-${p}`, protocol: portProtocol(t) })),
      location: 'MESH_EXTERNAL',
      resolution: isIp ? 'STATIC' : 'DNS',
      ...(isIp ? { endpoints: [{ address: t.ip }] } : {}),
    },
  };
  return {
    layer: 'client-sidecar', title: 'Istio ServiceEntry (the host is outside the mesh)', language: 'yaml',
    code: toYaml(doc, [`${t.destination} is not a mesh service: declare it so a DestinationRule can apply to it.`]),
    note: 'Skip it if a ServiceEntry for this host already exists (then use its host name in the DestinationRule).',
  };
}

export interface DestinationRuleFix {
  readonly keepalive: KeepaliveSettings | null;
  readonly idleTimeoutSeconds: number | null;
  /** One line each for the header comment: how the numbers were chosen. */
  readonly why: readonly string[];
}

export function destinationRule(t: MeshTarget, fix: DestinationRuleFix): RemedySnippet | null {
  const tcp: Record<string, YamlValue> = {};
  const k = fix.keepalive;
  if (k) {
    tcp.tcpKeepalive = {
      time: commented(seconds(k.idleSeconds), 'idle before the first probe'),
      interval: commented(seconds(k.intervalSeconds), 'between unanswered probes'),
      probes: commented(k.probes, `given up after ${k.giveUpSeconds}s without an answer`),
    };
  }
  const http = t.protocol === 'http';
  const h = fix.idleTimeoutSeconds;
  if (h !== null && !http) tcp.idleTimeout = commented(seconds(h), 'close connections idle longer than this');
  const pool: Record<string, YamlValue> = {};
  if (Object.keys(tcp).length) pool.tcp = tcp;
  if (h !== null && http) pool.http = { idleTimeout: commented(seconds(h), 'close pooled connections idle longer than this') };
  if (!Object.keys(pool).length) return null;
  const host = drHost(t);
  const doc: Record<string, YamlValue> = {
    apiVersion: commented('networking.istio.io/v1beta1', 'networking.istio.io/v1 on Istio 1.22+'),
    kind: 'DestinationRule',
    metadata: { name: k8sName('flowdoc', host) },
    spec: { host, trafficPolicy: { connectionPool: pool } },
  };
  return {
    layer: 'client-sidecar', title: 'Istio DestinationRule (client sidecar → destination)', language: 'yaml',
    code: toYaml(doc, [`Client sidecar connections to ${t.destination}.`, ...fix.why]),
    note: 'Apply it where the clients run (their namespace, or the root namespace for all). Istio uses one DestinationRule per host: merge these fields into an existing one instead of adding a second. Keepalive is per TCP hop: this covers sidecar → destination only.',
  };
}

/** Listener socket options on the ingress gateway: the server side sends the probes on its downstream connections. */
export function gatewayKeepalive(t: MeshTarget, k: KeepaliveSettings): RemedySnippet {
  const o = SOCKET_OPTIONS;
  const opt = (description: string, level: number, name: number, value: number): YamlValue => ({
    description, level, name, int_value: value, state: 'STATE_LISTENING',
  });
  const doc: Record<string, YamlValue> = {
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    metadata: { name: `flowdoc-gateway-keepalive-${t.port}`, namespace: 'istio-system' },
    spec: {
      workloadSelector: { labels: { istio: 'ingressgateway' } },
      configPatches: [{
        applyTo: 'LISTENER',
        match: {
          context: 'GATEWAY',
          listener: { portNumber: commented(t.port, 'the port seen in the capture; use the gateway container port it maps to (e.g. Service 80 → 8080)') },
        },
        patch: {
          operation: 'MERGE',
          value: {
            socket_options: [
              opt('SO_KEEPALIVE on', o.SOL_SOCKET, o.SO_KEEPALIVE, 1),
              opt('TCP_KEEPIDLE: idle seconds before the first probe', o.IPPROTO_TCP, o.TCP_KEEPIDLE, k.idleSeconds),
              opt('TCP_KEEPINTVL: seconds between unanswered probes', o.IPPROTO_TCP, o.TCP_KEEPINTVL, k.intervalSeconds),
              opt('TCP_KEEPCNT: unanswered probes before giving up', o.IPPROTO_TCP, o.TCP_KEEPCNT, k.probes),
            ],
          },
        },
      }],
    },
  };
  return {
    layer: 'server-side', title: 'Istio EnvoyFilter (gateway listener socket options)', language: 'yaml',
    code: toYaml(doc, [`When ${t.destination} is an Istio ingress gateway (e.g. behind the load balancer): it sends the probes itself.`]),
    note: 'Accepted connections inherit the listening socket\'s keepalive options (Linux). Level/name numbers are Linux\'s (SOL_SOCKET 1, SO_KEEPALIVE 9; IPPROTO_TCP 6, TCP_KEEPIDLE 4, TCP_KEEPINTVL 5, TCP_KEEPCNT 6).',
  };
}

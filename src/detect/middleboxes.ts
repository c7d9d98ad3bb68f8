/**
 * Default idle timeouts of well-known middleboxes and endpoints (../shared/reference/anchors.md §2,
 * with the vendors' documentation as sources). Shown as hints when they fall inside a measured
 * bracket — never as facts: any of them may have been reconfigured.
 */
export interface KnownTimeout {
  readonly name: string;
  readonly seconds: number;
  /** How the box behaves at expiry. */
  readonly note: string;
}

export const KNOWN_IDLE_TIMEOUTS: readonly KnownTimeout[] = [
  { name: 'AWS Application Load Balancer', seconds: 60, note: 'ALB closes the connection; payload-less keepalives do not reset it' },
  { name: 'AWS Classic Load Balancer', seconds: 60, note: 'TCP keepalive probes do not reset it (they carry no payload)' },
  { name: 'Azure Load Balancer / SNAT', seconds: 240, note: 'drops the flow silently unless "TCP reset" is enabled' },
  { name: 'Huawei Cloud ELB (TCP)', seconds: 300, note: 'default TCP idle timeout' },
  { name: 'Azure SNAT (older default)', seconds: 300, note: 'reported by Microsoft support for AKS egress' },
  { name: 'AWS NLB / NAT Gateway / Network Firewall', seconds: 350, note: 'NAT gateway answers later packets with RST (no FIN); Network Firewall drops them' },
  { name: 'Tencent Cloud target group (TCP)', seconds: 350, note: 'TcpIdleConnectTimeout default' },
  { name: 'Oracle OCI Network Load Balancer', seconds: 360, note: 'TCP idle timeout' },
  { name: 'GCP VPC / external L3 load balancing', seconds: 600, note: 'idle TCP connections cut silently; the next request gets a reset' },
  { name: 'GCP Application Load Balancer (backend keepalive)', seconds: 600, note: 'fixed backend keepalive' },
  { name: 'Tencent / Alibaba Cloud CLB (TCP listener)', seconds: 900, note: 'IdleConnectTimeout / EstablishedTimeout default' },
  { name: 'GCP Cloud NAT (TCP established)', seconds: 1200, note: 'tcpEstablishedIdleTimeoutSec default' },
  { name: 'AKS Standard LB outbound', seconds: 1800, note: 'AKS raised the default' },
  { name: 'Envoy / Istio HTTP idle_timeout', seconds: 3600, note: 'Envoy closes with FIN (a reuse-after-fin race, not a silent drop)' },
  { name: 'Enterprise firewalls (typical)', seconds: 3600, note: 'commonly 30–60 min, silent drop' },
  { name: 'kube-proxy conntrack established', seconds: 86400, note: 'KubeProxyConfiguration tcpEstablishedTimeout 24h' },
];

/** Known timeouts t with survived < t ≤ failed (failed alone: t ≤ failed; survived alone: t > survived, first three). */
export function candidatesIn(survived: number | null, failed: number | null): KnownTimeout[] {
  if (failed === null) return [];
  return KNOWN_IDLE_TIMEOUTS.filter((k) => k.seconds <= failed + 1e-9 && (survived === null || k.seconds > survived));
}

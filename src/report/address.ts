/**
 * How the report writes an endpoint it was handed as data: `10.0.0.1:80`, `[2001:db8::1]:443`
 * (brackets for IPv6, as in URLs and Envoy's addresses).
 */
import { endpointText } from '../decode/index.js';
import type { HostPort } from '../detect/index.js';

export function formatHostPort(e: HostPort, ipVersion: 4 | 6): string {
  return endpointText(e.host, e.port, ipVersion);
}

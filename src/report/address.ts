/**
 * How the report writes an endpoint it was handed as data: `10.0.0.1:80`, `[2001:db8::1]:443`
 * (brackets for IPv6, as in URLs and Envoy's addresses).
 */
import { endpointText } from '../decode/index.js';
import type { HostPort } from '../detect/index.js';

export function formatHostPort(e: HostPort, ipVersion: 4 | 6): string {
  return endpointText(e.host, e.port, ipVersion);
}

/** An incident's two ends as the report writes them. */
export function formatEnds(e: { readonly client: HostPort; readonly server: HostPort; readonly ipVersion: 4 | 6 }): { client: string; server: string } {
  return { client: formatHostPort(e.client, e.ipVersion), server: formatHostPort(e.server, e.ipVersion) };
}

/** `client → server`, the path an incident's connection took. */
export function formatPath(e: { readonly client: HostPort; readonly server: HostPort; readonly ipVersion: 4 | 6 }): string {
  const { client, server } = formatEnds(e);
  return `${client} → ${server}`;
}

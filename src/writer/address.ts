/** An IP address as the packet builders need it: family, network-order bytes and the text given. */
export interface IpAddress {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly text: string;
}

/** An IP address and TCP/UDP port. */
export interface Endpoint {
  readonly ip: IpAddress;
  readonly port: number;
}

export function parseIp(text: string): IpAddress {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { family: 4, bytes: v4, text };
  const v6 = parseIpv6(text);
  if (v6 !== null) return { family: 6, bytes: v6, text };
  throw new Error(`not an IPv4 or IPv6 address: ${JSON.stringify(text)}`);
}

/** `'10.0.0.1:40000'` or `'[2001:db8::1]:443'` (brackets required for IPv6, as in URLs). */
export function parseEndpoint(text: string): Endpoint {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) throw new Error(`not an endpoint (want "ip:port" or "[ipv6]:port"): ${JSON.stringify(text)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`port out of range in ${JSON.stringify(text)}`);
  const host = m[1] ?? m[2];
  const ip = parseIp(host);
  if (m[1] !== undefined && ip.family !== 6) throw new Error(`brackets are for IPv6 addresses: ${JSON.stringify(text)}`);
  return { ip, port };
}

export function formatEndpoint(ep: Endpoint): string {
  return ep.ip.family === 6 ? `[${ep.ip.text}]:${ep.port}` : `${ep.ip.text}:${ep.port}`;
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return null;
    const v = Number(parts[i]);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** RFC 4291 text forms: full, `::`-compressed, and with a trailing dotted IPv4 part. */
function parseIpv6(text: string): Uint8Array | null {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const groups: number[] = [];
  let tail: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (tail === null) return null;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  if (head === null || rest === null) return null;
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return null;
    groups.push(...head, ...new Array<number>(missing).fill(0), ...rest);
  } else {
    if (head.length !== 8) return null;
    groups.push(...head);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  if (tail !== null) out.set(tail, 12);
  return out;
}

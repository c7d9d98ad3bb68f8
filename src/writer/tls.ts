/**
 * TLS handshake records for test captures: a ClientHello and a ServerHello laid out as RFC 8446
 * §4.1.2–4.1.3 says (TLS 1.2 hellos have the same layout), with the extensions the analyzer reads
 * (server_name, RFC 6066 §3; ALPN, RFC 7301 §3.1) among any others, in the order given.
 */

/** One extension: its type and body. */
export interface TlsExtension {
  readonly type: number;
  readonly body: readonly number[];
}

export const TLS_EXTENSION = { SERVER_NAME: 0, SUPPORTED_GROUPS: 10, ALPN: 16, SUPPORTED_VERSIONS: 43, KEY_SHARE: 51 } as const;

/** server_name with one host_name. */
export function sniExtension(host: string): TlsExtension {
  const name = [...Buffer.from(host, 'latin1')];
  return { type: TLS_EXTENSION.SERVER_NAME, body: [...u16(name.length + 3), 0, ...u16(name.length), ...name] };
}

/** application_layer_protocol_negotiation with these protocol names. */
export function alpnExtension(names: readonly string[]): TlsExtension {
  const list = names.flatMap((n) => [n.length, ...Buffer.from(n, 'latin1')]);
  return { type: TLS_EXTENSION.ALPN, body: [...u16(list.length), ...list] };
}

export interface HelloOptions {
  /** legacy_version; default 0x0303 (TLS 1.2, what TLS 1.3 hellos send too). */
  readonly legacyVersion?: number;
  /** legacy_session_id length (0–32 bytes of 0x5a); default 0. */
  readonly sessionIdBytes?: number;
  /** Extensions in order; default none. */
  readonly extensions?: readonly TlsExtension[];
}

export interface ClientHelloOptions extends HelloOptions {
  /** Cipher suites offered; default TLS_AES_128_GCM_SHA256, ECDHE-RSA-AES128-GCM-SHA256. */
  readonly cipherSuites?: readonly number[];
}

/** A handshake record (content type 22, record version 3.1) holding one ClientHello. */
export function tlsClientHello(o: ClientHelloOptions = {}): Uint8Array {
  const suites = o.cipherSuites ?? [0x1301, 0xc02f];
  return handshakeRecord(1, [
    ...u16(o.legacyVersion ?? 0x0303), ...new Array<number>(32).fill(7), ...sessionId(o.sessionIdBytes ?? 0),
    ...u16(suites.length * 2), ...suites.flatMap(u16), 1, 0, ...extensionBlock(o.extensions ?? []),
  ]);
}

/** A handshake record holding one ServerHello that chose `cipherSuite` (default TLS_AES_128_GCM_SHA256). */
export function tlsServerHello(o: HelloOptions & { readonly cipherSuite?: number } = {}): Uint8Array {
  return handshakeRecord(2, [
    ...u16(o.legacyVersion ?? 0x0303), ...new Array<number>(32).fill(9), ...sessionId(o.sessionIdBytes ?? 0),
    ...u16(o.cipherSuite ?? 0x1301), 0, ...extensionBlock(o.extensions ?? []),
  ]);
}

function handshakeRecord(type: number, body: readonly number[]): Uint8Array {
  const handshake = [type, 0, ...u16(body.length), ...body];
  return Uint8Array.from([22, 3, 1, ...u16(handshake.length), ...handshake]);
}

function sessionId(n: number): number[] {
  return [n, ...new Array<number>(n).fill(0x5a)];
}

function extensionBlock(exts: readonly TlsExtension[]): number[] {
  const list = exts.flatMap((e) => [...u16(e.type), ...u16(e.body.length), ...e.body]);
  return [...u16(list.length), ...list];
}

function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}

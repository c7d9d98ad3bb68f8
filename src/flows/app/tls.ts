/**
 * TLS record recognition (RFC 8446 §5.1) and the hellos: the ClientHello's server_name (RFC 6066
 * §3) and ALPN (RFC 7301), read as far as the captured bytes go. Enough to say "the client sent
 * application data" on an encrypted connection, and to which name.
 */

export const TlsContentType = { CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23 } as const;
const RECORD_HEADER = 5;

/** A TLS record header at b[o]: content type 20–23, version 3.x (x ≤ 4). Returns the content type or -1. */
export function tlsRecordType(b: Uint8Array, o: number, end: number): number {
  if (end - o < RECORD_HEADER) return -1;
  const type = b[o]!;
  if (type < 20 || type > 23 || b[o + 1] !== 3 || b[o + 2]! > 4) return -1;
  return type;
}

/** Total bytes the record at b[o] needs (header + length), or -1 when not a record. */
export function tlsRecordLength(b: Uint8Array, o: number, end: number): number {
  if (tlsRecordType(b, o, end) < 0) return -1;
  return RECORD_HEADER + ((b[o + 3]! << 8) | b[o + 4]!);
}

const HANDSHAKE_CLIENT_HELLO = 1;
const HANDSHAKE_SERVER_HELLO = 2;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;

/**
 * What the captured bytes of a ClientHello or ServerHello record hold (RFC 8446 §4.1.2–4.1.3; the
 * TLS 1.2 hellos have the same layout). A hello cut by the snap length still gives the fields
 * before the cut; the field the captured bytes ended in is `cutIn`.
 */
export interface HelloFields {
  /** The hello's legacy_version, e.g. 0x0303 (what TLS 1.3 sends too: its real version is in supported_versions); -1 when not captured. */
  readonly legacyVersion: number;
  /** ClientHello: how many cipher suites it offers (from the list's length, captured even when the list is not); -1 when not captured or a ServerHello. */
  readonly cipherSuites: number;
  /** The server_name host name; '' when the hello has none; null when it was not captured whole (never a prefix of it). */
  readonly sni: string | null;
  /** ALPN protocol names (RFC 7301): offered by a ClientHello, selected by a ServerHello; [] when none; null when not captured whole. */
  readonly alpn: string[] | null;
  /**
   * When the captured bytes ended inside the hello: the field they ended in — `handshake-header`,
   * `version`, `random`, `session-id`, `cipher-suites` (`cipher-suite` in a ServerHello),
   * `compression-methods`, `extensions`, or the extension they ended in, `sni` / `alpn`.
   * Undefined when the hello was whole.
   */
  readonly cutIn: string | undefined;
}

/**
 * Reads the ClientHello (handshake type 1) or ServerHello (2) record at b[o], of which b[o, end)
 * was captured. Returns null when this is not that hello — or when not even its handshake type was
 * captured. A length that runs past the record (a damaged hello, not a cut one) ends the reading
 * there, without cutIn. Once per connection: the result is a fresh object.
 */
export function readHello(b: Uint8Array, o: number, end: number, fromClient: boolean): HelloFields | null {
  if (tlsRecordType(b, o, end) !== TlsContentType.HANDSHAKE) return null;
  const handshakeType = fromClient ? HANDSHAKE_CLIENT_HELLO : HANDSHAKE_SERVER_HELLO;
  const recEnd = o + RECORD_HEADER + ((b[o + 3]! << 8) | b[o + 4]!);
  if (o + RECORD_HEADER >= end || b[o + RECORD_HEADER] !== handshakeType) return null;
  const limit = Math.min(end, recEnd);
  const f = { legacyVersion: -1, cipherSuites: -1, sni: null as string | null, alpn: null as string[] | null, cutIn: undefined as string | undefined };
  /** Whether n bytes at i are there; if not, and the capture (not the record) ran out, names the field cut. */
  const have = (i: number, n: number, field: string): boolean => {
    if (i + n <= limit) return true;
    if (limit === end && end < recEnd) f.cutIn = field;
    return false;
  };
  let i = o + RECORD_HEADER;
  if (!have(i, 4, 'handshake-header')) return f;
  i += 4; // type + 24-bit length
  if (!have(i, 2, 'version')) return f;
  f.legacyVersion = (b[i]! << 8) | b[i + 1]!;
  i += 2;
  if (!have(i, 32, 'random')) return f;
  i += 32;
  if (!have(i, 1, 'session-id') || !have(i, 1 + b[i]!, 'session-id')) return f;
  i += 1 + b[i]!;
  if (fromClient) {
    if (!have(i, 2, 'cipher-suites')) return f;
    const suitesLen = (b[i]! << 8) | b[i + 1]!;
    f.cipherSuites = suitesLen >> 1;
    if (!have(i, 2 + suitesLen, 'cipher-suites')) return f;
    i += 2 + suitesLen;
    if (!have(i, 1, 'compression-methods') || !have(i, 1 + b[i]!, 'compression-methods')) return f;
    i += 1 + b[i]!;
  } else {
    if (!have(i, 2, 'cipher-suite')) return f;
    i += 2;
    if (!have(i, 1, 'compression-methods')) return f;
    i += 1;
  }
  // No extensions at all (a TLS 1.2 hello may end here): no SNI, no ALPN.
  if (i === recEnd) return { ...f, sni: '', alpn: [] };
  if (!have(i, 2, 'extensions')) return f;
  const extEnd = i + 2 + ((b[i]! << 8) | b[i + 1]!);
  i += 2;
  let sni: string | null = null;
  let alpn: string[] | null = null;
  while (i < extEnd) {
    if (!have(i, 4, 'extensions')) break;
    const type = (b[i]! << 8) | b[i + 1]!;
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    const field = type === EXT_SERVER_NAME ? 'sni' : type === EXT_ALPN ? 'alpn' : 'extensions';
    if (!have(i + 4, len, field) || i + 4 + len > extEnd) break;
    if (type === EXT_SERVER_NAME && fromClient) sni = serverName(b, i + 4, len);
    else if (type === EXT_ALPN) alpn = alpnNames(b, i + 4, len);
    i += 4 + len;
  }
  // Every extension was read (or the list was damaged): what is absent is absent. Cut: unknown.
  const whole = f.cutIn === undefined;
  return { ...f, sni: sni ?? (whole ? '' : null), alpn: alpn ?? (whole ? [] : null) };
}

/** The host_name of a server_name extension body (RFC 6066 §3), '' when it names none. */
function serverName(b: Uint8Array, i: number, len: number): string {
  // server_name_list length (2), name_type (1) = host_name (0), name length (2), name
  if (len < 5 || b[i + 2] !== 0) return '';
  const nameLen = (b[i + 3]! << 8) | b[i + 4]!;
  if (5 + nameLen > len) return '';
  return Buffer.from(b.buffer, b.byteOffset + i + 5, nameLen).toString('latin1');
}

/** The protocol names of an ALPN extension body (RFC 7301 §3.1), at most 16. */
function alpnNames(b: Uint8Array, i: number, len: number): string[] {
  const names: string[] = [];
  if (len < 2) return names;
  const listEnd = Math.min(i + len, i + 2 + ((b[i]! << 8) | b[i + 1]!));
  for (let k = i + 2; k < listEnd && names.length < 16;) {
    const n = b[k]!;
    if (n === 0 || k + 1 + n > listEnd) break;
    names.push(Buffer.from(b.buffer, b.byteOffset + k + 1, n).toString('latin1'));
    k += 1 + n;
  }
  return names;
}

/** `TLS 1.2` for 0x0303 (SSL 3.0 … TLS 1.3), else the number in hex. */
export function tlsVersionName(v: number): string {
  const names: Record<number, string> = { 0x0300: 'SSL 3.0', 0x0301: 'TLS 1.0', 0x0302: 'TLS 1.1', 0x0303: 'TLS 1.2', 0x0304: 'TLS 1.3' };
  return names[v] ?? `0x${v.toString(16).padStart(4, '0')}`;
}

/** TLS 1.3 hides an alert in an application_data record: 2 alert bytes + the inner content type + a 16-byte AEAD tag. */
const TLS13_ENCRYPTED_ALERT = 2 + 1 + 16;

/**
 * Whether a segment's captured bytes b[o, end) are nothing but TLS alerts — a close_notify or an
 * error alert, which ends a session and asks for nothing. In TLS ≤ 1.2 an alert is a record of
 * type 21 (its body may be encrypted, its type is not). TLS 1.3 sends it as application data: on a
 * connection known to be TLS (`tls`), a segment of exactly one 19-byte record is taken for one,
 * as no HTTP request fits in 3 plaintext bytes. A client's alert after the server's FIN is the
 * polite end of the session, not a request sent on a closed connection.
 */
export function isTlsAlertOnly(b: Uint8Array, o: number, end: number, wireLen: number, tls: boolean): boolean {
  if (tls && wireLen === 5 + TLS13_ENCRYPTED_ALERT && tlsRecordType(b, o, end) === TlsContentType.APPLICATION_DATA &&
    tlsRecordLength(b, o, end) === wireLen) return true;
  let i = o;
  let covered = o;
  while (tlsRecordType(b, i, end) === TlsContentType.ALERT) {
    covered = i + tlsRecordLength(b, i, end);
    i = covered;
  }
  // Every record seen was an alert, up to the segment's end (or the capture's cut of it).
  return covered > o && (covered - o === wireLen || covered >= end);
}

/**
 * TLS record recognition (RFC 8446 §5.1) and the ClientHello server_name extension (RFC 6066 §3).
 * Enough to say "the client sent application data" on an encrypted connection, and to which name.
 */

export const TlsContentType = { CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23 } as const;
const RECORD_HEADER = 5;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;

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

const HANDSHAKE_SERVER_HELLO = 2;
const EXT_ALPN = 16;

/** Where findExtension found the extension's body (module state: parsing is synchronous). */
let EXT_START = 0;
let EXT_LEN = 0;

/**
 * Finds extension `ext` in the ClientHello (handshake type 1) or ServerHello (2) record at b[o]
 * (the whole record must be present). Returns 1 when found (EXT_START/EXT_LEN set), 0 when the
 * hello has no such extension, -1 when this is not that hello.
 */
function findExtension(b: Uint8Array, o: number, end: number, handshakeType: number, ext: number): number {
  if (tlsRecordType(b, o, end) !== TlsContentType.HANDSHAKE) return -1;
  let i = o + RECORD_HEADER;
  const recEnd = Math.min(end, i + ((b[o + 3]! << 8) | b[o + 4]!));
  if (recEnd - i < 4 || b[i] !== handshakeType) return -1;
  i += 4; // handshake type + 24-bit length
  i += 2 + 32; // version, random
  if (i >= recEnd) return -1;
  i += 1 + b[i]!; // session id
  if (handshakeType === HANDSHAKE_CLIENT_HELLO) {
    if (i + 2 > recEnd) return -1;
    i += 2 + ((b[i]! << 8) | b[i + 1]!); // cipher suites
    if (i >= recEnd) return -1;
    i += 1 + b[i]!; // compression methods
  } else {
    i += 2 + 1; // the chosen cipher suite and compression method
  }
  if (i + 2 > recEnd) return 0;
  const extEnd = Math.min(recEnd, i + 2 + ((b[i]! << 8) | b[i + 1]!));
  i += 2;
  while (i + 4 <= extEnd) {
    const type = (b[i]! << 8) | b[i + 1]!;
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    i += 4;
    if (i + len > extEnd) return 0;
    if (type === ext) {
      EXT_START = i;
      EXT_LEN = len;
      return 1;
    }
    i += len;
  }
  return 0;
}

/**
 * The SNI of a ClientHello record at b[o] (the whole record must be present), '' when the hello
 * has no server_name, or null when this is not a ClientHello.
 */
export function clientHelloSni(b: Uint8Array, o: number, end: number): string | null {
  const found = findExtension(b, o, end, HANDSHAKE_CLIENT_HELLO, EXT_SERVER_NAME);
  if (found < 0) return null;
  if (found === 0 || EXT_LEN < 5) return '';
  const i = EXT_START;
  // server_name_list length (2), name_type (1) = host_name (0), name length (2), name
  const nameType = b[i + 2]!;
  const nameLen = (b[i + 3]! << 8) | b[i + 4]!;
  if (nameType !== 0 || i + 5 + nameLen > i + EXT_LEN) return '';
  return Buffer.from(b.buffer, b.byteOffset + i + 5, nameLen).toString('latin1');
}

/**
 * The ALPN protocol names (RFC 7301 §3.1) of the ClientHello (what it offers) or the ServerHello
 * (the one it selected) at b[o]: [] when the hello has no ALPN, null when this is not that hello.
 */
export function helloAlpn(b: Uint8Array, o: number, end: number, fromClient: boolean): string[] | null {
  const found = findExtension(b, o, end, fromClient ? HANDSHAKE_CLIENT_HELLO : HANDSHAKE_SERVER_HELLO, EXT_ALPN);
  if (found < 0) return null;
  const names: string[] = [];
  if (found === 0 || EXT_LEN < 2) return names;
  const listEnd = Math.min(EXT_START + EXT_LEN, EXT_START + 2 + ((b[EXT_START]! << 8) | b[EXT_START + 1]!));
  for (let i = EXT_START + 2; i < listEnd && names.length < 16;) {
    const n = b[i]!;
    if (n === 0 || i + 1 + n > listEnd) break;
    names.push(Buffer.from(b.buffer, b.byteOffset + i + 1, n).toString('latin1'));
    i += 1 + n;
  }
  return names;
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

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

/**
 * The SNI of a ClientHello record at b[o] (the whole record must be present), '' when the hello
 * has no server_name, or null when this is not a ClientHello.
 */
export function clientHelloSni(b: Uint8Array, o: number, end: number): string | null {
  if (tlsRecordType(b, o, end) !== TlsContentType.HANDSHAKE) return null;
  let i = o + RECORD_HEADER;
  const recEnd = Math.min(end, i + ((b[o + 3]! << 8) | b[o + 4]!));
  if (recEnd - i < 4 || b[i] !== HANDSHAKE_CLIENT_HELLO) return null;
  i += 4; // handshake type + 24-bit length
  i += 2 + 32; // client_version, random
  if (i >= recEnd) return null;
  i += 1 + b[i]!; // session id
  if (i + 2 > recEnd) return null;
  i += 2 + ((b[i]! << 8) | b[i + 1]!); // cipher suites
  if (i >= recEnd) return null;
  i += 1 + b[i]!; // compression methods
  if (i + 2 > recEnd) return '';
  const extEnd = Math.min(recEnd, i + 2 + ((b[i]! << 8) | b[i + 1]!));
  i += 2;
  while (i + 4 <= extEnd) {
    const type = (b[i]! << 8) | b[i + 1]!;
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    i += 4;
    if (i + len > extEnd) return '';
    if (type === EXT_SERVER_NAME && len >= 5) {
      // server_name_list length (2), name_type (1) = host_name (0), name length (2), name
      const nameType = b[i + 2]!;
      const nameLen = (b[i + 3]! << 8) | b[i + 4]!;
      if (nameType !== 0 || i + 5 + nameLen > i + len) return '';
      return Buffer.from(b.buffer, b.byteOffset + i + 5, nameLen).toString('latin1');
    }
    i += len;
  }
  return '';
}

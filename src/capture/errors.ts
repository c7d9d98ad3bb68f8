/**
 * Typed capture errors. Readers never throw at the user: they stop, keep what was read, and
 * report one of these with the file, the byte offset in the (decompressed) stream and the frame
 * that could not be read.
 */
export type CaptureErrorCode =
  | 'empty'              // zero bytes
  | 'not-a-capture'      // magic bytes of no supported format
  | 'truncated-header'   // file ends inside the pcap global header / pcapng SHB
  | 'truncated-record'   // file ends inside a record header or its data
  | 'bad-version'        // unsupported pcap / pcapng version
  | 'bad-length'         // a record or block length that cannot be right
  | 'bad-block'          // pcapng block structure damaged (trailer mismatch, unknown interface …)
  | 'gzip'               // the gzip stream is corrupt or cut short
  | 'io';                // the file could not be read (ENOENT, EACCES, EISDIR …)

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    readonly code: CaptureErrorCode,
    /** What is wrong, without the file name (the renderer adds it). */
    readonly detail: string,
    /** Byte offset in the (decompressed) capture stream where the bad item starts. */
    readonly offset: number,
    /** 1-based number of the frame that could not be read (packets read + 1). */
    readonly frame: number,
    /** The file as the user named it (`-` for standard input). */
    readonly file: string = '',
  ) {
    super(detail);
  }

  /** One line for a terminal: `file: detail (byte offset N, frame M)`. */
  oneLine(): string {
    const where = this.code === 'io' || this.code === 'empty' ? '' : ` (byte offset ${this.offset}, frame ${this.frame})`;
    return `${this.file ? this.file + ': ' : ''}${this.detail}${where}`;
  }

  toJSON(): { code: CaptureErrorCode; message: string; offset: number; frame: number } {
    return { code: this.code, message: this.detail, offset: this.offset, frame: this.frame };
  }
}

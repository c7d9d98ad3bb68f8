/**
 * Typed access-log errors. The log readers never throw at the user for bad input: they keep
 * what was parsed and return one of these on the result (`LogReadResult.error`).
 *
 * A line that does not parse is not an error: it is counted in `rejected` and, for the first
 * few, quoted in `rejectedSamples`. A `LogError` is about the whole file.
 */
export type LogErrorCode =
  | 'io'                 // the file could not be read (ENOENT, EACCES, EISDIR, EIO …)
  | 'not-an-access-log'  // it has lines, but not one of them parsed
  | 'bad-format';        // the custom format string given by the user cannot be compiled

export class LogError extends Error {
  override readonly name = 'LogError';
  constructor(
    readonly code: LogErrorCode,
    /** What is wrong, without the file name (`oneLine()` adds it). One line, no trailing dot. */
    readonly detail: string,
    /** The file as the user named it (`<text>` for `parseLogText` without a file name). */
    readonly file: string,
  ) {
    super(detail);
  }

  /** One line for a terminal: `file: detail`. */
  oneLine(): string {
    return `${this.file}: ${this.detail}`;
  }

  toJSON(): { code: LogErrorCode; file: string; message: string } {
    return { code: this.code, file: this.file, message: this.detail };
  }
}

/**
 * The bytes the connection table holds in buffers of its own — the unfinished HTTP heads and TLS
 * ClientHellos its sniffers collect across segments, HTTP/2 sessions' frame and header-block
 * buffers and HPACK tables, and the copies of IPv6 addresses — counted
 * as they are taken and given back.
 * It is the analysis's own account of what it retains beyond the fixed record of each live
 * connection, the same on every run of the same input (unlike a sample of process memory, which
 * depends on when the garbage collector last ran). Counted in backing-buffer bytes, so a buffer
 * that were a view into the reader's 1 MiB chunk would count as the whole chunk.
 */
export class BufferAccount {
  /** Bytes held now. */
  held = 0;
  /** Most bytes held at once. */
  peak = 0;

  take(bytes: number): void {
    this.held += bytes;
    if (this.held > this.peak) this.peak = this.held;
  }

  give(bytes: number): void {
    this.held -= bytes;
  }
}

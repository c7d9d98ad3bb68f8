import { closeSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { CaptureRecord } from '../capture/index.js';
import { ByteWriter } from '../writer/bytes.js';
import { writePcapHeader, writePcapRecord, type PcapFileOptions } from '../writer/pcap.js';
import { UsageError } from './io.js';

/** Where one frame of the stream is kept: a file of the ring and its frame number there (1-based, as Wireshark numbers it). */
export interface SavedFrame { file: string; frame: number }

interface RingFile { path: string; firstFrame: number; frames: number; bytes: number; kept: boolean; deleted: boolean }

/** Bytes gathered before a write: one syscall per 64 KiB, not per packet. */
const FLUSH_BYTES = 64 * 1024;

/**
 * `flowdoc watch --save DIR --rotate N:SIZE`: the raw capture as a ring of classic pcap files, like
 * `tcpdump -C SIZE -W N`. A file is closed once it holds SIZE bytes and the next one opened; past N
 * files the oldest is deleted — unless an incident named a frame in it: those files are kept (they
 * leave the ring), so the evidence of every incident stays beside its report. A new file also
 * starts when the link type or timestamp resolution changes (one pcap file has one of each).
 * Packets are written as captured (bytes, original length, µs or ns timestamps).
 */
export class CaptureRing {
  private readonly files: RingFile[] = [];
  private current: { file: RingFile; fd: number; header: PcapFileOptions } | null = null;
  private readonly out = new ByteWriter(FLUSH_BYTES + 65536);
  private serial = 0;

  constructor(private readonly dir: string, private readonly maxFiles: number, private readonly maxBytes: number) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new UsageError(`--save ${dir}: cannot create the directory: ${(e as Error).message.replace(/^[A-Z]+: /, '')}`);
    }
  }

  /** One record of the stream (called for every packet, in frame order). */
  write(r: CaptureRecord): void {
    const nanos = r.precision > 6;
    const cur = this.current;
    if (!cur || cur.file.bytes >= this.maxBytes || cur.header.linkType !== r.linkType || Boolean(cur.header.nanos) !== nanos) {
      this.open(r.frame, { linkType: r.linkType, nanos });
    }
    const c = this.current!;
    const before = this.out.length;
    writePcapRecord(this.out, c.header, {
      tsMicros: r.tsMicros, tsExtraNanos: r.tsExtraNanos,
      data: r.data.subarray(r.start, r.start + r.capturedLength), originalLength: r.originalLength,
    });
    c.file.bytes += this.out.length - before;
    c.file.frames++;
    if (this.out.length >= FLUSH_BYTES) this.flush();
  }

  /** Writes what is gathered, so the files on disk hold every packet read so far. */
  flush(): void {
    const c = this.current;
    if (!c || this.out.length === 0) return;
    writeSync(c.fd, this.out.peek());
    this.out.reset();
  }

  /**
   * Where these frames of the stream are kept (null: before the ring, or in a file already
   * deleted); the files named are kept from now on, and flushed, so they can be opened now.
   */
  locate(frames: readonly number[]): (SavedFrame | null)[] {
    this.flush();
    return frames.map((n) => {
      const f = this.files.find((x) => n >= x.firstFrame && n < x.firstFrame + x.frames);
      if (!f || f.deleted) return null;
      f.kept = true;
      return { file: f.path, frame: n - f.firstFrame + 1 };
    });
  }

  close(): void {
    this.flush();
    if (this.current) closeSync(this.current.fd);
    this.current = null;
  }

  private open(firstFrame: number, header: PcapFileOptions): void {
    this.close();
    this.serial++;
    const path = join(this.dir, `flowdoc-watch-${String(this.serial).padStart(6, '0')}.pcap`);
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (e) {
      throw new UsageError(`--save: cannot write ${path}: ${(e as Error).message.replace(/^[A-Z]+: /, '')}`);
    }
    writePcapHeader(this.out, header);
    const file: RingFile = { path, firstFrame, frames: 0, bytes: this.out.length, kept: false, deleted: false };
    this.files.push(file);
    this.current = { file, fd, header };
    this.rotate();
  }

  /** Past N files in the ring, the oldest not kept for an incident is deleted. */
  private rotate(): void {
    const ring = this.files.filter((f) => !f.kept && !f.deleted);
    for (const f of ring.slice(0, Math.max(0, ring.length - this.maxFiles))) {
      try { unlinkSync(f.path); } catch { /* already gone: someone cleaned up */ }
      f.deleted = true;
    }
    // Forget deleted files beyond the frame lookups that can still come (keep the list short).
    while (this.files.length > this.maxFiles * 4 && this.files[0]!.deleted) this.files.shift();
  }
}

/** `--rotate N:SIZE`: N files of SIZE bytes each (SIZE with K, M or G: powers of 1024). */
export function parseRotate(text: string): { files: number; bytes: number } {
  const m = /^(\d+):(\d+(?:\.\d+)?)([KMG]?)i?B?$/i.exec(text.trim());
  const files = m ? Number(m[1]) : NaN;
  const bytes = m ? Math.round(Number(m[2]) * 1024 ** ' KMG'.indexOf((m[3] || ' ').toUpperCase())) : NaN;
  if (!m || !(files >= 1) || !(bytes >= 1024)) throw new UsageError(`--rotate ${text}: expected FILES:SIZE, e.g. 10:100M (at least 1 file of at least 1K)`);
  return { files, bytes };
}

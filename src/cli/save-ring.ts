import { closeSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { CaptureRecord } from '../capture/index.js';
import { UsageError } from './io.js';

/** Where one frame of the stream is kept: a file of the ring and its frame number there (1-based, as Wireshark numbers it). */
export interface SavedFrame { file: string; frame: number }

/** One pcap file's header settings: its link type and whether timestamps are in ns. */
interface PcapHeader { linkType: number; nanos: boolean }

/** Classic pcap, little-endian (the capture stage reads both byte orders). */
const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
const PCAP_MAGIC_NANOS = 0xa1b23c4d;
const PCAP_SNAPLEN = 262_144;
const FILE_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;

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
  private current: { file: RingFile; fd: number; header: PcapHeader } | null = null;
  /** Records gathered for the next write (a packet is at most the snap length, so it always fits after a flush). */
  private readonly out = Buffer.allocUnsafe(FLUSH_BYTES + RECORD_HEADER_BYTES + PCAP_SNAPLEN);
  private used = 0;
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
    if (!cur || cur.file.bytes >= this.maxBytes || cur.header.linkType !== r.linkType || cur.header.nanos !== nanos) {
      this.open(r.frame, { linkType: r.linkType, nanos });
    }
    const c = this.current!;
    const captured = Math.min(r.capturedLength, PCAP_SNAPLEN);
    if (this.used + RECORD_HEADER_BYTES + captured > this.out.length) this.flush();
    const sec = Math.floor(r.tsMicros / 1e6);
    const micros = r.tsMicros - sec * 1e6;
    const o = this.used;
    this.out.writeUInt32LE(sec >>> 0, o);
    this.out.writeUInt32LE(nanos ? micros * 1000 + r.tsExtraNanos : micros, o + 4);
    this.out.writeUInt32LE(captured, o + 8);
    this.out.writeUInt32LE(r.originalLength, o + 12);
    this.out.set(r.data.subarray(r.start, r.start + captured), o + RECORD_HEADER_BYTES);
    this.used += RECORD_HEADER_BYTES + captured;
    c.file.bytes += RECORD_HEADER_BYTES + captured;
    c.file.frames++;
    if (this.used >= FLUSH_BYTES) this.flush();
  }

  /** Writes what is gathered, so the files on disk hold every packet read so far. */
  flush(): void {
    const c = this.current;
    if (!c || this.used === 0) return;
    let done = 0;
    while (done < this.used) done += writeSync(c.fd, this.out, done, this.used - done);
    this.used = 0;
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

  private open(firstFrame: number, header: PcapHeader): void {
    this.close();
    this.serial++;
    const path = join(this.dir, `flowdoc-watch-${String(this.serial).padStart(6, '0')}.pcap`);
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (e) {
      throw new UsageError(`--save: cannot write ${path}: ${(e as Error).message.replace(/^[A-Z]+: /, '')}`);
    }
    const o = this.used; // 0: close() flushed
    this.out.writeUInt32LE(header.nanos ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS, o);
    this.out.writeUInt16LE(2, o + 4);
    this.out.writeUInt16LE(4, o + 6);
    this.out.writeInt32LE(0, o + 8); // thiszone
    this.out.writeUInt32LE(0, o + 12); // sigfigs
    this.out.writeUInt32LE(PCAP_SNAPLEN, o + 16);
    this.out.writeUInt32LE(header.linkType, o + 20);
    this.used += FILE_HEADER_BYTES;
    const file: RingFile = { path, firstFrame, frames: 0, bytes: FILE_HEADER_BYTES, kept: false, deleted: false };
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

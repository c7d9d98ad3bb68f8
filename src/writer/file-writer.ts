import { closeSync, openSync, writeSync } from 'node:fs';
import { ByteWriter, type Endian } from './bytes.js';
import { frameBytes, type ScriptFrame } from './frame.js';
import type { LinkOptions } from './link.js';
import { writePcapHeader, writePcapRecord, type PacketRecord, type PcapFileOptions } from './pcap.js';
import { PcapngWriter, type PacketBlockKind, type TsResolution } from './pcapng.js';

/** How scripted frames become a file: link type and per-frame defaults, plus file settings. */
export interface RenderOptions extends Partial<LinkOptions> {
  /** Default 1 (Ethernet). */
  linkType?: number;
  /** Default 'le'. */
  endian?: Endian;
  /** pcap: nanosecond magic; pcapng: if_tsresol 10^-9 (unless `tsresol` says otherwise). */
  nanos?: boolean;
  /** pcap: default 262144; pcapng: default 0 (no limit). Longer frames are cut. */
  snaplen?: number;
  /** pcapng only. */
  tsresol?: TsResolution;
  /** pcapng only: if_tsoffset seconds. */
  tsoffset?: number;
  /** pcapng only: block kind for every packet (default 'epb'). */
  packetBlock?: PacketBlockKind;
}

export interface CaptureFileOptions extends RenderOptions {
  format: 'pcap' | 'pcapng';
}

/** Where the bytes go: `write` may keep the chunk (it is never reused). */
export interface ByteOutput {
  write(chunk: Uint8Array): void;
  close?(): void;
}

/** Appends to a file with synchronous writes, so a generating loop never outruns the disk. */
export function fileOutput(path: string): ByteOutput {
  const fd = openSync(path, 'w');
  return {
    write: (chunk) => {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
    },
    close: () => closeSync(fd),
  };
}

/** Flush to the output once this much is buffered. */
const FLUSH_BYTES = 1 << 20;

/**
 * Writes a pcap or pcapng file incrementally: records are encoded into a 1 MiB buffer that is
 * handed to the output whenever it fills, so memory stays flat however large the file grows.
 * (A Node Writable can be wrapped as `{ write: (c) => stream.write(c) }`; it is not awaited, so
 * for files prefer `CaptureFileWriter.toFile`, which writes synchronously.)
 */
export class CaptureFileWriter {
  private readonly buffer = new ByteWriter(FLUSH_BYTES + 65536);
  private readonly pcapng: PcapngWriter | null;
  private readonly pcapOptions: PcapFileOptions;
  private readonly link: LinkOptions;
  private readonly packetBlock: PacketBlockKind;
  private count = 0;
  private written = 0;
  private closed = false;

  static toFile(path: string, o: CaptureFileOptions): CaptureFileWriter {
    return new CaptureFileWriter(fileOutput(path), o);
  }

  constructor(
    private readonly output: ByteOutput,
    o: CaptureFileOptions,
  ) {
    // Field by field, not a spread of `o`: this object is read for every frame, and V8 reads
    // spread-built objects much more slowly.
    this.link = {
      linkType: o.linkType ?? 1,
      vlans: o.vlans,
      srcMac: o.srcMac,
      dstMac: o.dstMac,
      pkttype: o.pkttype,
      ifIndex: o.ifIndex,
      padToMinimum: o.padToMinimum,
      nullByteOrder: o.nullByteOrder,
      afInet6: o.afInet6,
      hatype: o.hatype,
    };
    this.pcapOptions = { linkType: this.link.linkType, endian: o.endian, nanos: o.nanos, snaplen: o.snaplen };
    this.packetBlock = o.packetBlock ?? 'epb';
    if (o.format === 'pcap') {
      this.pcapng = null;
      writePcapHeader(this.buffer, this.pcapOptions);
    } else {
      this.pcapng = new PcapngWriter(this.buffer);
      this.pcapng.section({ endian: o.endian });
      this.pcapng.interface({
        linkType: this.link.linkType,
        snaplen: o.snaplen ?? 0,
        tsresol: o.tsresol ?? (o.nanos ? { base: 10, exp: 9 } : undefined),
        tsoffset: o.tsoffset,
      });
    }
  }

  /** Packets written so far. */
  get packets(): number {
    return this.count;
  }

  /** Bytes handed to the output so far (the buffered rest follows on close). */
  get bytesWritten(): number {
    return this.written;
  }

  /** A scripted frame, under this file's link type. */
  writeFrame(f: ScriptFrame): void {
    this.writePacket({ tsMicros: f.tsMicros, tsExtraNanos: f.tsExtraNanos, data: frameBytes(f, this.link) });
  }

  /** A packet whose link-layer bytes are ready. */
  writePacket(r: PacketRecord): void {
    if (this.closed) throw new Error('CaptureFileWriter is closed');
    if (this.pcapng === null) writePcapRecord(this.buffer, this.pcapOptions, r);
    else this.pcapng.packet({ tsMicros: r.tsMicros, tsExtraNanos: r.tsExtraNanos, data: r.data, originalLength: r.originalLength, block: this.packetBlock });
    this.count++;
    if (this.buffer.length >= FLUSH_BYTES) this.flush();
  }

  /** Hands everything buffered to the output and closes it. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.output.close?.();
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.toBytes();
    this.buffer.reset();
    this.written += chunk.length;
    this.output.write(chunk);
  }
}

/** Renders frames to one in-memory file. */
export function renderCapture(frames: Iterable<ScriptFrame>, o: CaptureFileOptions): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new CaptureFileWriter({ write: (c) => chunks.push(c) }, o);
  for (const f of frames) w.writeFrame(f);
  w.close();
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

import { encapsulate, type FrameLink, type LinkOptions } from './link.js';

/**
 * One emitted frame, kept independent of the link type so a script can be rendered as any
 * capture file: the link-layer header is added when the file is written.
 */
export interface ScriptFrame {
  /** 1-based frame number in emission order (Wireshark's frame.number). */
  readonly frame: number;
  /** Integer µs since the epoch. */
  readonly tsMicros: number;
  /** Nanoseconds beyond tsMicros (0–999). */
  readonly tsExtraNanos: number;
  /** EtherType of `payload` (0x0800 / 0x86DD for IP); ignored for raw frames. */
  readonly ethertype: number;
  /** The IP packet (or other EtherType payload); for raw frames the whole link-layer frame. */
  readonly payload: Uint8Array;
  /** True: `payload` is already a complete frame for the file's link type, written as is. */
  readonly raw: boolean;
  /** Per-frame link details (MACs, VLAN tags, SLL packet type). */
  readonly link: FrameLink | undefined;
}

/** The frame's bytes under `link` (the file's link type and defaults). */
export function frameBytes(f: ScriptFrame, link: LinkOptions): Uint8Array {
  return f.raw ? f.payload : encapsulate(f.payload, f.ethertype, link, f.link);
}

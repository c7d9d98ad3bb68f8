// pcap-parser 0.2.x ships no types. Only what flowdoc uses is declared.
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';

  export interface GlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }
  export interface PacketHeader {
    timestampSeconds: number;
    /** Microseconds, or nanoseconds when the file has the nanosecond magic (flowdoc patches it). */
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }
  /** Anything with pause/resume and 'data'/'error'/'end' events (pcap-parser calls no other method). */
  export interface ParserInput extends EventEmitter {
    pause(): unknown;
    resume(): unknown;
  }
  export interface Parser extends EventEmitter {
    on(event: 'globalHeader', listener: (header: GlobalHeader) => void): this;
    on(event: 'packetHeader', listener: (header: PacketHeader) => void): this;
    on(event: 'packetData', listener: (data: Buffer) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: 'end', listener: () => void): this;
  }
  export function parse(input: string | ParserInput): Parser;
  const _default: { parse: typeof parse };
  export default _default;
}

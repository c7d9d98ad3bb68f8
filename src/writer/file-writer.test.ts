import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PcapngParser } from '../capture/pcapng.js';
import { CaptureFileWriter, type CaptureFileOptions } from './file-writer.js';
import { CaptureScript } from './script.js';

const dir = mkdtempSync(path.join(tmpdir(), 'flowdoc-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Many short conversations, as a benchmark would generate them: 13 frames each. */
function generate(cap: CaptureScript, connections: number): void {
  for (let i = 0; i < connections; i++) {
    const c = cap.tcp({ client: `10.0.${(i >> 8) & 0xff}.${i & 0xff}:${40000 + (i % 20000)}`, server: '10.1.0.1:8080' });
    c.handshake();
    c.clientSends('GET /x HTTP/1.1\r\nHost: svc\r\n\r\n');
    c.serverSends('y'.repeat(3000));
    c.fin('client');
    c.fin('server');
  }
}

describe('CaptureFileWriter', () => {
  for (const format of ['pcap', 'pcapng'] as const) {
    it(`streams ${format} that is byte for byte what the in-memory render gives`, () => {
      const o: CaptureFileOptions = { format, linkType: 1, endian: 'be', nanos: true };
      const chunks: Uint8Array[] = [];
      const writer = new CaptureFileWriter({ write: (c) => chunks.push(c) }, o);
      generate(new CaptureScript({ seed: 3, writer }), 300);
      writer.close();
      const memory = new CaptureScript({ seed: 3 });
      generate(memory, 300);
      const whole = format === 'pcap' ? memory.toPcap(o) : memory.toPcapng(o);
      expect(Buffer.concat(chunks).equals(Buffer.from(whole))).toBe(true);
      expect(writer.packets).toBe(300 * 13);
      // Over 1 MiB in total, so it was handed on in several chunks, not kept whole.
      expect(chunks.length).toBeGreaterThan(1);
      expect(writer.bytesWritten).toBe(whole.length);
    });
  }

  it('writes a file incrementally that the pcapng reader reads back', () => {
    const file = path.join(dir, 'bench.pcapng');
    const writer = CaptureFileWriter.toFile(file, { format: 'pcapng', linkType: 113 });
    const cap = new CaptureScript({ writer });
    generate(cap, 50);
    writer.close();
    writer.close(); // closing twice is harmless
    expect(cap.frames).toHaveLength(0);
    expect(() => cap.toPcapng()).toThrow(/streams to a CaptureFileWriter/);
    let frames = 0;
    const parser = new PcapngParser(() => frames++, file);
    parser.push(readFileSync(file));
    parser.end();
    expect(parser.error).toBeNull();
    expect(frames).toBe(50 * 13);
    expect(parser.linkTypes).toEqual([113]);
  });

  it('refuses packets after close', () => {
    const w = new CaptureFileWriter({ write: () => undefined }, { format: 'pcap' });
    w.close();
    expect(() => w.writePacket({ tsMicros: 0, data: new Uint8Array(1) })).toThrow(/closed/);
  });

  it('writes ready link-layer packets with their original length', () => {
    const chunks: Uint8Array[] = [];
    const w = new CaptureFileWriter({ write: (c) => chunks.push(c) }, { format: 'pcap', snaplen: 8 });
    w.writePacket({ tsMicros: 1, data: new Uint8Array(20), originalLength: 1514 });
    w.close();
    const dv = new DataView(new Uint8Array(Buffer.concat(chunks)).buffer);
    expect(dv.getUint32(24 + 8, true)).toBe(8);
    expect(dv.getUint32(24 + 12, true)).toBe(1514);
  });
});

import { describe, expect, it } from 'vitest';
import { PcapngParser } from '../capture/pcapng.js';
import type { CaptureRecord } from '../capture/record.js';
import { LINKTYPE } from './link.js';
import { arpPayload } from './packet.js';
import { CaptureScript } from './script.js';

const T0 = 1_714_557_600_000_000;

function readPcapng(bytes: Uint8Array): Array<Pick<CaptureRecord, 'frame' | 'tsMicros' | 'tsExtraNanos' | 'linkType' | 'capturedLength'> & { bytes: Uint8Array }> {
  const out: ReturnType<typeof readPcapng> = [];
  const p = new PcapngParser((r) => out.push({ frame: r.frame, tsMicros: r.tsMicros, tsExtraNanos: r.tsExtraNanos, linkType: r.linkType, capturedLength: r.capturedLength, bytes: r.data.slice(r.start, r.start + r.capturedLength) }), 'x');
  p.push(bytes);
  p.end();
  expect(p.error).toBeNull();
  return out;
}

/** The scenario from the brief: request, idle, keepalive, stale request answered by a forged RST. */
function staleReuse(seed = 1): { cap: CaptureScript; rstFrame: number } {
  const cap = new CaptureScript({ start: '2024-05-01T10:00:00Z', seed });
  const c = cap.tcp({ client: '10.0.0.1:40000', server: '10.0.0.2:80', clientTtl: 64, serverTtl: 61 });
  c.handshake();
  c.clientSends('GET /a HTTP/1.1\r\nHost: api\r\nx-request-id: r1\r\n\r\n');
  c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  cap.idle(900);
  c.keepalive('client');
  c.clientSends('GET /b HTTP/1.1\r\nHost: api\r\n\r\n', { ack: false });
  const [rstFrame] = c.rst('server', { ttl: 250 });
  return { cap, rstFrame };
}

describe('CaptureScript clock', () => {
  it('stamps frames 100 µs apart from the start and adds idle time on the shared clock', () => {
    const { cap, rstFrame } = staleReuse();
    expect(rstFrame).toBe(11);
    const ts = cap.frames.map((f) => f.tsMicros - T0);
    expect(ts.slice(0, 7)).toEqual([0, 100, 200, 300, 400, 500, 600]);
    expect(ts[7]).toBe(700 + 900_000_000);
  });

  it('interleaves connections on one clock and numbers frames across them', () => {
    const cap = new CaptureScript({ start: T0, stepMicros: 10 });
    const a = cap.tcp({ client: '10.0.0.1:1000', server: '10.0.0.9:80' });
    const b = cap.tcp({ client: '10.0.0.2:2000', server: '10.0.0.9:80' });
    expect(a.syn()).toEqual([1]);
    expect(b.syn()).toEqual([2]);
    expect(a.synAck()).toEqual([3]);
    cap.at('2024-05-01T10:00:01Z');
    expect(b.synAck()).toEqual([4]);
    expect(cap.frames.map((f) => f.tsMicros - T0)).toEqual([0, 10, 20, 1_000_000]);
    expect(cap.frameCount).toBe(4);
    expect(cap.now).toBe(T0 + 1_000_010);
  });

  it('keeps nanoseconds of the start time for ns outputs', () => {
    const cap = new CaptureScript({ start: '2024-05-01T10:00:00.000000250Z' });
    cap.udp({ src: '10.0.0.1:1', dst: '10.0.0.2:2', payload: 'x' });
    const [r] = readPcapng(cap.toPcapng({ nanos: true }));
    expect([r.tsMicros, r.tsExtraNanos]).toEqual([T0, 250]);
  });

  it('produces the same bytes for the same seed and other ISNs for another', () => {
    expect(staleReuse(7).cap.toPcap()).toEqual(staleReuse(7).cap.toPcap());
    expect(staleReuse(7).cap.toPcap()).not.toEqual(staleReuse(8).cap.toPcap());
  });
});

describe('CaptureScript other packets', () => {
  it('emits UDP, any IP protocol, ARP and raw frames with their frame numbers', () => {
    const cap = new CaptureScript();
    expect(cap.udp({ src: '10.0.0.1:5000', dst: '10.0.0.2:9999', payload: 'ping' })).toEqual([1]);
    expect(cap.ip({ src: '10.0.0.1', dst: '10.0.0.2', transport: { protocol: 1, payload: Uint8Array.of(8, 0, 0xf7, 0xff, 0, 0, 0, 0) } })).toEqual([2]);
    expect(cap.nonIp(0x0806, arpPayload({ senderMac: '02:00:0a:00:00:01', senderIp: '10.0.0.1', targetIp: '10.0.0.2' }))).toEqual([3]);
    expect(cap.rawFrame(new Uint8Array(60))).toEqual([4]);
    const recs = readPcapng(cap.toPcapng());
    expect(recs.map((r) => r.capturedLength)).toEqual([14 + 20 + 8 + 4, 14 + 28, 14 + 28, 60]);
    expect([...recs[2].bytes.subarray(12, 14)]).toEqual([0x08, 0x06]);
  });

  it('gives each IP address its own MAC so Ethernet output shows two hosts', () => {
    const { cap } = staleReuse();
    const [syn] = readPcapng(cap.toPcapng());
    expect([...syn.bytes.subarray(0, 12)]).toEqual([2, 0, 10, 0, 0, 2, 2, 0, 10, 0, 0, 1]);
  });

  it('cannot put ARP on a raw-IP link', () => {
    const cap = new CaptureScript();
    cap.nonIp(0x0806, new Uint8Array(28));
    expect(() => cap.toPcap({ linkType: LINKTYPE.RAW })).toThrow(/carries only IP/);
  });
});

describe('CaptureScript rendering', () => {
  it('renders the same frames under every link type the writer knows', () => {
    const { cap } = staleReuse();
    const headers: Array<[number, number]> = [
      [LINKTYPE.ETHERNET, 14],
      [LINKTYPE.LINUX_SLL, 16],
      [LINKTYPE.LINUX_SLL2, 20],
      [LINKTYPE.RAW, 0],
      [LINKTYPE.RAW_12, 0],
      [LINKTYPE.RAW_14, 0],
      [LINKTYPE.NULL, 4],
      [LINKTYPE.LOOP, 4],
      [LINKTYPE.IPV4, 0],
    ];
    for (const [linkType, header] of headers) {
      const recs = readPcapng(cap.toPcapng({ linkType }));
      expect(recs).toHaveLength(11);
      expect(recs[0].linkType).toBe(linkType);
      expect(recs.map((r) => r.capturedLength - header)).toEqual(cap.frames.map((f) => f.payload.length));
    }
  });

  it('pads the short RST to 60 bytes on Ethernet while its IP total length stays 40', () => {
    const { cap, rstFrame } = staleReuse();
    const rst = readPcapng(cap.toPcapng({ padToMinimum: true }))[rstFrame - 1];
    expect(rst.capturedLength).toBe(60);
    expect((rst.bytes[16] << 8) | rst.bytes[17]).toBe(40);
  });

  it('round-trips through pcapng with 2^-10 resolution and an offset, truncating to the tick', () => {
    const { cap } = staleReuse();
    const recs = readPcapng(cap.toPcapng({ endian: 'be', tsresol: { base: 2, exp: 10 }, tsoffset: 1_714_557_600 }));
    // Frame 2 is at +100 µs: 0.1024 ticks → tick 0 → exactly the offset.
    expect(recs[1].tsMicros).toBe(T0);
    // Frame 7 at +600 µs → tick 0; frame 8 at 900.0007 s → 921600 ticks = exactly 900 s.
    expect(recs[7].tsMicros).toBe(T0 + 900_000_000);
  });

  it('writes classic pcap with the chosen magic and link type', () => {
    const { cap } = staleReuse();
    const le = cap.toPcap();
    expect([...le.subarray(0, 4)]).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
    const be = cap.toPcap({ linkType: LINKTYPE.LINUX_SLL2, endian: 'be', nanos: true });
    expect([...be.subarray(0, 4)]).toEqual([0xa1, 0xb2, 0x3c, 0x4d]);
    expect(new DataView(be.buffer).getUint32(20)).toBe(276);
  });
});

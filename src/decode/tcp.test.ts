import { describe, expect, it } from 'vitest';
import { buildIpPacket, type TcpOption } from '../writer/index.js';
import { LinkType } from './link.js';
import { DecodeStatus, TcpFlag } from './packet.js';
import { formatTcpFlags } from './tcp.js';
import { decodeFrame, tcpSpec } from './testing/frames.js';

const RAW = LinkType.RAW;

function segment(options: readonly TcpOption[], flags = 'S'): Uint8Array {
  return buildIpPacket(tcpSpec({ options, flags, payload: undefined }));
}

describe('TCP', () => {
  it('reads a Linux SYN’s options: MSS, SACK permitted, timestamps, window scale', () => {
    const p = decodeFrame(segment([
      { kind: 'mss', value: 1460 }, { kind: 'sack-permitted' }, { kind: 'timestamps', tsval: 0xdeadbeef, tsecr: 0 },
      { kind: 'nop' }, { kind: 'wscale', shift: 7 },
    ]), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.tcpHeaderLen).toBe(40);
    expect([p.mss, p.windowScale, p.sackPermitted, p.hasTimestamps, p.tsVal, p.tsEcr]).toEqual([1460, 7, true, true, 0xdeadbeef, 0]);
    expect(p.flags).toBe(TcpFlag.SYN);
    expect(p.payloadStart).toBe(60);
    expect(p.payloadWireLen).toBe(0);
  });

  it('counts SACK blocks', () => {
    const p = decodeFrame(segment([{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: [[1, 2], [3, 4], [5, 6]] }], 'A'), RAW);
    expect(p.sackBlocks).toBe(3);
  });

  it('leaves options at -1/false when there are none', () => {
    const p = decodeFrame(segment([]), RAW);
    expect([p.tcpHeaderLen, p.mss, p.windowScale, p.sackPermitted, p.hasTimestamps, p.sackBlocks]).toEqual([20, -1, -1, false, false, 0]);
  });

  it('stops reading options at End of Option List', () => {
    const p = decodeFrame(segment([{ kind: 'eol' }, { kind: 'mss', value: 1460 }]), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.mss).toBe(-1);
  });

  it('keeps the options read before a malformed one and still decodes the segment', () => {
    for (const bad of [Uint8Array.of(8, 1), Uint8Array.of(8, 0), Uint8Array.of(3, 30, 7)]) {
      const p = decodeFrame(segment([{ kind: 'mss', value: 1400 }, { kind: 'raw', bytes: bad }, { kind: 'wscale', shift: 9 }]), RAW);
      expect(p.status, `option bytes ${[...bad]}`).toBe(DecodeStatus.OK);
      expect(p.mss).toBe(1400);
      expect(p.windowScale).toBe(-1);
      expect(p.hasTimestamps).toBe(false);
    }
  });

  it('ignores options of the wrong length instead of misreading them', () => {
    const p = decodeFrame(segment([{ kind: 'raw', bytes: Uint8Array.of(2, 3, 5) }, { kind: 'raw', bytes: Uint8Array.of(8, 6, 0, 0, 0, 1) }]), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.mss).toBe(-1);
    expect(p.hasTimestamps).toBe(false);
  });

  it('calls a data offset below 5 malformed', () => {
    const bytes = segment([]);
    bytes[20 + 12] = 4 << 4;
    const p = decodeFrame(bytes, RAW);
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    expect(p.failedLayer).toBe('tcp');
  });

  it('calls a data offset beyond the IP payload malformed', () => {
    const bytes = segment([]);
    bytes[20 + 12] = 15 << 4; // 60-byte header in a 20-byte IP payload
    const p = decodeFrame(bytes, RAW);
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    expect(p.failedLayer).toBe('tcp');
  });

  it('calls an IP payload shorter than 20 bytes malformed, whatever was captured', () => {
    const p = decodeFrame(buildIpPacket({ src: '10.0.0.1', dst: '10.0.0.2', transport: { protocol: 6, payload: new Uint8Array(12) } }), RAW);
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    expect(p.failedLayer).toBe('tcp');
  });

  it('decodes a segment whose payload the snap length cut, flagged truncated, with wire and captured lengths', () => {
    const bytes = buildIpPacket(tcpSpec({ payload: 'x'.repeat(1000) }));
    const p = decodeFrame(bytes.subarray(0, 96), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.truncated).toBe(true);
    expect(p.payloadLen).toBe(96 - 40);
    expect(p.payloadWireLen).toBe(1000);
  });

  it('writes flags as tcpdump letters', () => {
    expect(formatTcpFlags(TcpFlag.SYN | TcpFlag.ACK)).toBe('S.');
    expect(formatTcpFlags(TcpFlag.FIN | TcpFlag.PSH | TcpFlag.ACK)).toBe('FP.');
    expect(formatTcpFlags(TcpFlag.RST)).toBe('R');
    expect(formatTcpFlags(TcpFlag.SYN | TcpFlag.ECE | TcpFlag.CWR)).toBe('SEW');
    expect(formatTcpFlags(TcpFlag.URG | TcpFlag.ACK)).toBe('U.');
    expect(formatTcpFlags(0)).toBe('none');
  });
});

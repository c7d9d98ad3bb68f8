import { describe, expect, it } from 'vitest';
import { buildIpPacket } from '../writer/index.js';
import { describePacket } from './decoder.js';
import { LinkType } from './link.js';
import { DecodeStatus, IpProtocol } from './packet.js';
import { decodeFrame, tcpSpec } from './testing/frames.js';

/** Raw IP, so offsets in the packet are offsets in the frame. */
const RAW = LinkType.RAW;

describe('IPv4', () => {
  it('reads addresses, TTL, identification and protocol from the header', () => {
    const p = decodeFrame(buildIpPacket({ ...tcpSpec(), ttl: 57, ipv4: { id: 0x1234 } }), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect([p.ipVersion, p.addrLen, p.srcAddrOff, p.dstAddrOff]).toEqual([4, 4, 12, 16]);
    expect([...p.data.subarray(p.srcAddrOff, p.srcAddrOff + 4)]).toEqual([10, 0, 0, 1]);
    expect([p.ttl, p.ipId, p.protocol, p.l4Start]).toEqual([57, 0x1234, IpProtocol.TCP, 20]);
  });

  it('starts TCP after IPv4 options (IHL > 5), up to the 60-byte maximum', () => {
    for (const options of [Uint8Array.of(0x94, 0x04, 0, 0), new Uint8Array(40).fill(1)]) {
      const bytes = buildIpPacket({ ...tcpSpec(), ipv4: { options } });
      const p = decodeFrame(bytes, RAW);
      expect(p.status).toBe(DecodeStatus.OK);
      expect(p.l4Start).toBe(20 + options.length);
      expect([p.srcPort, p.dstPort, p.seq]).toEqual([40000, 80, 1000]);
      expect(p.payloadWireLen).toBe(18);
    }
  });

  it('calls an IHL below 5 malformed', () => {
    const bytes = buildIpPacket(tcpSpec());
    bytes[0] = 0x44;
    const p = decodeFrame(bytes, RAW);
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    expect(p.failedLayer).toBe('ipv4');
  });

  it('calls a total length below the header length malformed', () => {
    const p = decodeFrame(buildIpPacket({ ...tcpSpec(), ipv4: { totalLength: 19 } }), RAW);
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    expect(p.failedLayer).toBe('ipv4');
  });

  it('calls an IHL that runs past the captured bytes truncated', () => {
    const bytes = buildIpPacket({ ...tcpSpec(), ipv4: { options: new Uint8Array(40) } });
    const p = decodeFrame(bytes.subarray(0, 40), RAW);
    expect(p.status).toBe(DecodeStatus.TRUNCATED);
    expect(p.failedLayer).toBe('ipv4');
  });

  it('uses the captured length when the total length is 0 (TCP segmentation offload on the sender)', () => {
    const p = decodeFrame(buildIpPacket({ ...tcpSpec(), ipv4: { totalLength: 0 } }), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.truncated).toBe(false);
    expect(p.payloadWireLen).toBe(18);
    expect(p.payloadLen).toBe(18);
  });

  it('ends the payload where the total length says, not at the end of the captured bytes', () => {
    const bytes = buildIpPacket({ ...tcpSpec(), ipv4: { totalLength: 20 + 20 + 3 } });
    const p = decodeFrame(bytes, RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.ipEnd).toBe(43);
    expect(p.payloadLen).toBe(3);
    expect(p.payloadWireLen).toBe(3);
  });

  it('decodes TCP in a first fragment (MF, offset 0) and marks it', () => {
    const p = decodeFrame(buildIpPacket({ ...tcpSpec(), ipv4: { mf: true, id: 9 } }), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.isFirstFragment).toBe(true);
    expect(p.isFragment).toBe(false);
    expect(p.isTcp).toBe(true);
    expect(p.srcPort).toBe(40000);
  });

  it('stops at a later fragment (offset > 0): no transport header there', () => {
    const p = decodeFrame(buildIpPacket({ ...tcpSpec(), ipv4: { fragmentOffset: 1480, id: 9 } }), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.isFragment).toBe(true);
    expect(p.isTcp).toBe(false);
    expect(p.srcPort).toBe(0);
    expect(describePacket(p)).toBe('IPv4 10.0.0.1 > 10.0.0.2 proto 6 ttl 64 fragment');
  });

  it('decodes the ports of UDP and calls a UDP header shorter than 8 bytes malformed', () => {
    const udp = decodeFrame(buildIpPacket({ src: '10.0.0.1', dst: '10.0.0.2', transport: { protocol: 'udp', srcPort: 12345, dstPort: 53, payload: 'abcd' } }), RAW);
    expect(udp.status).toBe(DecodeStatus.OK);
    expect([udp.protocol, udp.srcPort, udp.dstPort, udp.payloadLen, udp.payloadWireLen]).toEqual([IpProtocol.UDP, 12345, 53, 4, 4]);
    const short = decodeFrame(buildIpPacket({ src: '10.0.0.1', dst: '10.0.0.2', transport: { protocol: 17, payload: Uint8Array.of(1, 2, 3) } }), RAW);
    expect(short.status).toBe(DecodeStatus.MALFORMED);
    expect(short.failedLayer).toBe('udp');
  });

  it('keeps other protocols as their number, decoded no further', () => {
    const p = decodeFrame(buildIpPacket({ src: '10.0.0.1', dst: '10.0.0.2', transport: { protocol: IpProtocol.ICMP, payload: Uint8Array.of(8, 0, 0, 0) } }), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.protocol).toBe(IpProtocol.ICMP);
    expect(describePacket(p)).toBe('IPv4 10.0.0.1 > 10.0.0.2 proto 1 ttl 64');
  });
});

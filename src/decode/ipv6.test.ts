import { describe, expect, it } from 'vitest';
import { buildIpPacket, type Ipv6Extension } from '../writer/index.js';
import { describePacket } from './decoder.js';
import { formatIpv6 } from './ipv6.js';
import { LinkType } from './link.js';
import { DecodeStatus, IpProtocol } from './packet.js';
import { decodeFrame, tcpSpec } from './testing/frames.js';

const RAW = LinkType.RAW;

function v6(extensions: readonly Ipv6Extension[] = [], hopLimit = 64): Uint8Array {
  return buildIpPacket({ ...tcpSpec({}, true), ipv6: { extensions, hopLimit } });
}

describe('IPv6', () => {
  it('reads addresses, hop limit and the transport protocol from the fixed header', () => {
    const p = decodeFrame(v6([], 3), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect([p.ipVersion, p.addrLen, p.srcAddrOff, p.dstAddrOff, p.ttl, p.ipId]).toEqual([6, 16, 8, 24, 3, -1]);
    expect(formatIpv6(p.data, p.srcAddrOff)).toBe('2001:db8::1');
    expect([p.protocol, p.l4Start, p.srcPort, p.dstPort]).toEqual([IpProtocol.TCP, 40, 40000, 80]);
    expect(describePacket(p)).toBe('IPv6 [2001:db8::1]:40000 > [2001:db8::2]:80 TCP [P.] seq 1000 ack 2000 win 501 len 18 hlim 3');
  });

  it('walks hop-by-hop, routing and destination options headers to reach TCP', () => {
    const chain: Ipv6Extension[] = [
      { type: 'hop-by-hop', options: Uint8Array.of(5, 2, 0, 0) }, // router alert: 8 bytes
      { type: 'routing', data: new Uint8Array(20) }, // 24 bytes
      { type: 'destination', options: new Uint8Array(12) }, // 16 bytes
    ];
    const p = decodeFrame(v6(chain), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.l4Start).toBe(40 + 8 + 24 + 16);
    expect(p.protocol).toBe(IpProtocol.TCP);
    expect([p.srcPort, p.dstPort, p.seq, p.payloadWireLen]).toEqual([40000, 80, 1000, 18]);
  });

  it('decodes TCP behind an atomic fragment header (offset 0, no more fragments) as a whole packet', () => {
    const p = decodeFrame(v6([{ type: 'fragment', id: 7 }]), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.isFragment).toBe(false);
    expect(p.isFirstFragment).toBe(false);
    expect(p.isTcp).toBe(true);
    expect(p.l4Start).toBe(48);
  });

  it('marks a first fragment and stops at a later one', () => {
    const first = decodeFrame(v6([{ type: 'fragment', more: true, id: 7 }]), RAW);
    expect(first.isFirstFragment).toBe(true);
    expect(first.isTcp).toBe(true);
    const later = decodeFrame(v6([{ type: 'fragment', offset: 1232, id: 7 }]), RAW);
    expect(later.status).toBe(DecodeStatus.OK);
    expect(later.isFragment).toBe(true);
    expect(later.isTcp).toBe(false);
    expect(later.srcPort).toBe(0);
  });

  it('reports no next header (59) as protocol -1', () => {
    const p = decodeFrame(buildIpPacket({ src: '2001:db8::1', dst: '2001:db8::2', transport: { protocol: 59 } }), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.protocol).toBe(-1);
  });

  it('calls an extension header longer than the payload length malformed', () => {
    const bytes = v6([{ type: 'destination', options: new Uint8Array(12) }]);
    bytes[41] = 200; // (200 + 1) × 8 bytes: far past the payload
    const p = decodeFrame(bytes, RAW);
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    expect(p.failedLayer).toBe('ipv6');
  });

  it('calls a payload length too short for the fragment header malformed, not truncated', () => {
    const bytes = v6([{ type: 'fragment' }]);
    bytes[4] = 0; bytes[5] = 4; // payload length 4: the 8-byte fragment header cannot fit
    const p = decodeFrame(bytes.subarray(0, 44), RAW);
    expect(p.status).toBe(DecodeStatus.MALFORMED);
    expect(p.failedLayer).toBe('ipv6');
  });

  it('gives up on a chain of more than 16 extension headers (hostile) without reading past it', () => {
    const chain: Ipv6Extension[] = Array.from({ length: 17 }, () => ({ type: 'destination' as const }));
    const p = decodeFrame(v6(chain), RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.protocol).toBe(60); // still a destination options header after 16
    expect(p.isTcp).toBe(false);
  });

  it('uses the captured length when the payload length is 0 (jumbogram or TSO)', () => {
    const bytes = v6();
    bytes[4] = 0; bytes[5] = 0;
    const p = decodeFrame(bytes, RAW);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.payloadWireLen).toBe(18);
    expect(p.truncated).toBe(false);
  });

  it('formats addresses as RFC 5952 text', () => {
    const cases: [string, string][] = [
      ['2001:db8::1', '2001:db8::1'],
      ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
      ['::', '::'],
      ['fe80::1:2:3:4', 'fe80::1:2:3:4'],
      ['::ffff:10.0.0.1', '::ffff:10.0.0.1'],
      ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ];
    for (const [given, text] of cases) {
      const p = decodeFrame(buildIpPacket({ src: given, dst: '::1', transport: { protocol: 59 } }), RAW);
      expect(formatIpv6(p.data, p.srcAddrOff)).toBe(text);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { arpPayload, buildIpPacket, encapsulate, ETHERTYPE, LINKTYPE } from '../writer/index.js';
import { describePacket } from './decoder.js';
import { EtherType, LinkType } from './link.js';
import { DecodeStatus, IpProtocol } from './packet.js';
import { decodeFrame, frame, tcpSpec } from './testing/frames.js';

const REQUEST = 'GET / HTTP/1.1\r\n\r\n';

describe('link layers', () => {
  it('decodes Ethernet II down to the TCP payload, at any offset of the buffer', () => {
    const bytes = frame(tcpSpec(), { linkType: LINKTYPE.ETHERNET });
    const p = decodeFrame(bytes, LinkType.ETHERNET, 37);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.etherType).toBe(EtherType.IPV4);
    expect(p.l3Start).toBe(37 + 14);
    expect(p.vlanCount).toBe(0);
    expect(p.vlanOuter).toBe(-1);
    expect(p.linkPktType).toBe(-1);
    expect(p.protocol).toBe(IpProtocol.TCP);
    expect([p.srcPort, p.dstPort, p.seq, p.ack, p.window]).toEqual([40000, 80, 1000, 2000, 501]);
    expect(new TextDecoder().decode(p.data.subarray(p.payloadStart, p.payloadStart + p.payloadLen))).toBe(REQUEST);
    expect(describePacket(p)).toBe(`IPv4 10.0.0.1:40000 > 10.0.0.2:80 TCP [P.] seq 1000 ack 2000 win 501 len ${REQUEST.length} ttl 64`);
  });

  it('treats Ethernet padding after a RST as no payload', () => {
    const bytes = frame(tcpSpec({ flags: 'R', payload: undefined }), { linkType: LINKTYPE.ETHERNET, padToMinimum: true });
    expect(bytes.length).toBe(60); // 14 + 20 + 20 = 54, padded by the NIC to 60
    const p = decodeFrame(bytes, LinkType.ETHERNET);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.ipEnd).toBe(54);
    expect(p.payloadLen).toBe(0);
    expect(p.payloadWireLen).toBe(0);
    expect(p.truncated).toBe(false);
  });

  it('reads one 802.1Q tag and the EtherType behind it', () => {
    const bytes = frame(tcpSpec({}, true), { linkType: LINKTYPE.ETHERNET, vlans: [{ id: 77, pcp: 5 }] });
    const p = decodeFrame(bytes, LinkType.ETHERNET);
    expect(p.status).toBe(DecodeStatus.OK);
    expect([p.vlanCount, p.vlanOuter, p.vlanInner]).toEqual([1, 77, -1]);
    expect(p.etherType).toBe(EtherType.IPV6);
    expect(p.l3Start).toBe(18);
    expect(p.ipVersion).toBe(6);
    expect(p.dstPort).toBe(80);
  });

  it('reads stacked QinQ tags (802.1ad outside, 802.1Q inside, and the old 0x9100 outer TPID)', () => {
    for (const tpid of [ETHERTYPE.QINQ, EtherType.QINQ_OLD]) {
      const bytes = frame(tcpSpec(), { linkType: LINKTYPE.ETHERNET, vlans: [{ id: 200, tpid }, { id: 2001 }] });
      const p = decodeFrame(bytes, LinkType.ETHERNET);
      expect(p.status).toBe(DecodeStatus.OK);
      expect([p.vlanCount, p.vlanOuter, p.vlanInner]).toEqual([2, 200, 2001]);
      expect(p.l3Start).toBe(22);
      expect(p.srcPort).toBe(40000);
    }
  });

  it('says not-ip for ARP and for 802.3 length frames, keeping the EtherType', () => {
    const arp = encapsulate(arpPayload({ senderMac: '02:00:00:00:00:01', senderIp: '10.0.0.1', targetIp: '10.0.0.2' }), ETHERTYPE.ARP, { linkType: LINKTYPE.ETHERNET });
    const p = decodeFrame(arp, LinkType.ETHERNET);
    expect(p.status).toBe(DecodeStatus.NOT_IP);
    expect(p.failedLayer).toBe('link');
    expect(p.etherType).toBe(EtherType.ARP);
    expect(p.ipVersion).toBe(0);
    expect(describePacket(p)).toBe('ETHERNET: not-ip at link (ethertype 0x0806)');

    const llc = encapsulate(Uint8Array.of(0x42, 0x42, 0x03, 0, 0, 0), 6, { linkType: LINKTYPE.ETHERNET });
    const q = decodeFrame(llc, LinkType.ETHERNET);
    expect(q.status).toBe(DecodeStatus.NOT_IP);
    expect(q.etherType).toBe(6);
  });

  it('decodes Linux cooked v1 with its packet type', () => {
    const bytes = frame(tcpSpec(), { linkType: LINKTYPE.LINUX_SLL, pkttype: 4 });
    const p = decodeFrame(bytes, LinkType.LINUX_SLL);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.l3Start).toBe(16);
    expect(p.linkPktType).toBe(4);
    expect(p.linkIfIndex).toBe(-1);
    expect(p.etherType).toBe(EtherType.IPV4);
    expect(p.srcPort).toBe(40000);
  });

  it('decodes Linux cooked v2 with its packet type and interface index', () => {
    const bytes = frame(tcpSpec({}, true), { linkType: LINKTYPE.LINUX_SLL2, pkttype: 0, ifIndex: 7 });
    const p = decodeFrame(bytes, LinkType.LINUX_SLL2);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.l3Start).toBe(20);
    expect(p.linkPktType).toBe(0);
    expect(p.linkIfIndex).toBe(7);
    expect(p.etherType).toBe(EtherType.IPV6);
    expect(p.dstPort).toBe(80);
  });

  it('says not-ip for a cooked capture of a non-IP protocol', () => {
    const arp = encapsulate(arpPayload({ senderMac: '02:00:00:00:00:01', senderIp: '10.0.0.1', targetIp: '10.0.0.2' }), ETHERTYPE.ARP, { linkType: LINKTYPE.LINUX_SLL2 });
    const p = decodeFrame(arp, LinkType.LINUX_SLL2);
    expect(p.status).toBe(DecodeStatus.NOT_IP);
    expect(p.etherType).toBe(EtherType.ARP);
  });

  it('takes the IP version of raw IP from the version nibble, under all three raw link type values', () => {
    for (const linkType of [LinkType.RAW, LinkType.RAW_LEGACY_12, LinkType.RAW_LEGACY_14]) {
      for (const v6 of [false, true]) {
        const bytes = frame(tcpSpec({}, v6), { linkType });
        const p = decodeFrame(bytes, linkType);
        expect(p.status).toBe(DecodeStatus.OK);
        expect(p.l3Start).toBe(0);
        expect(p.ipVersion).toBe(v6 ? 6 : 4);
        expect(p.srcPort).toBe(40000);
      }
    }
  });

  it('says not-ip for raw IP whose version nibble is neither 4 nor 6', () => {
    const bytes = buildIpPacket(tcpSpec());
    bytes[0] = 0x55;
    const p = decodeFrame(bytes, LinkType.RAW);
    expect(p.status).toBe(DecodeStatus.NOT_IP);
    expect(p.failedLayer).toBe('raw');
  });

  it('decodes LINKTYPE_IPV4 and LINKTYPE_IPV6, and calls a version that contradicts the link type malformed', () => {
    expect(decodeFrame(frame(tcpSpec(), { linkType: LINKTYPE.IPV4 }), LinkType.IPV4).isTcp).toBe(true);
    expect(decodeFrame(frame(tcpSpec({}, true), { linkType: LINKTYPE.IPV6 }), LinkType.IPV6).isTcp).toBe(true);
    const v6 = decodeFrame(buildIpPacket(tcpSpec({}, true)), LinkType.IPV4);
    expect(v6.status).toBe(DecodeStatus.MALFORMED);
    expect(v6.failedLayer).toBe('ipv4');
    const v4 = decodeFrame(buildIpPacket(tcpSpec()), LinkType.IPV6);
    expect(v4.status).toBe(DecodeStatus.MALFORMED);
    expect(v4.failedLayer).toBe('ipv6');
  });

  it('reads the NULL address family in either byte order, with every IPv6 family value in use', () => {
    for (const nullByteOrder of ['le', 'be'] as const) {
      const v4 = decodeFrame(frame(tcpSpec(), { linkType: LINKTYPE.NULL, nullByteOrder }), LinkType.NULL);
      expect(v4.status).toBe(DecodeStatus.OK);
      expect(v4.l3Start).toBe(4);
      expect(v4.ipVersion).toBe(4);
      for (const afInet6 of [10, 24, 28, 30]) {
        const v6 = decodeFrame(frame(tcpSpec({}, true), { linkType: LINKTYPE.NULL, nullByteOrder, afInet6 }), LinkType.NULL);
        expect(v6.status, `AF ${afInet6} ${nullByteOrder}`).toBe(DecodeStatus.OK);
        expect(v6.ipVersion).toBe(6);
        expect(v6.srcPort).toBe(40000);
      }
    }
  });

  it('reads the LOOP address family in network byte order', () => {
    const p = decodeFrame(frame(tcpSpec({}, true), { linkType: LINKTYPE.LOOP, afInet6: 24 }), LinkType.LOOP);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.ipVersion).toBe(6);
    expect(p.l3Start).toBe(4);
  });

  it('says not-ip, naming the link layer, for a NULL or LOOP family that is not IP', () => {
    for (const [linkType, layer] of [[LinkType.NULL, 'null'], [LinkType.LOOP, 'loop']] as const) {
      const bytes = frame(tcpSpec(), { linkType });
      bytes[0] = 0; bytes[1] = 0; bytes[2] = 0; bytes[3] = 0; // AF_UNSPEC
      const p = decodeFrame(bytes, linkType);
      expect(p.status).toBe(DecodeStatus.NOT_IP);
      expect(p.failedLayer).toBe(layer);
    }
  });

  it('counts a link type it does not decode as unsupported, without reading it', () => {
    const p = decodeFrame(frame(tcpSpec(), { linkType: LINKTYPE.ETHERNET }), 242);
    expect(p.status).toBe(DecodeStatus.UNSUPPORTED_LINK);
    expect(p.failedLayer).toBe('link');
    expect(describePacket(p)).toBe('LINKTYPE_242: link type not decoded');
  });
});

import { describe, expect, it } from 'vitest';
import { encapsulate, ETHERTYPE, LINKTYPE, parseMac } from './link.js';

const IPV4 = Uint8Array.of(0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2);
const IPV6 = (() => {
  const p = new Uint8Array(40);
  p[0] = 0x60;
  return p;
})();
const SRC = '02:00:0a:00:00:01';
const DST = '02:00:0a:00:00:02';

describe('link-layer headers', () => {
  it('writes Ethernet II: destination, source, EtherType', () => {
    const f = encapsulate(IPV4, ETHERTYPE.IPV4, { linkType: LINKTYPE.ETHERNET, srcMac: SRC, dstMac: DST });
    expect([...f.subarray(0, 14)]).toEqual([2, 0, 10, 0, 0, 2, 2, 0, 10, 0, 0, 1, 0x08, 0x00]);
    expect(f.subarray(14)).toEqual(IPV4);
  });

  it('stacks an 802.1ad tag over an 802.1Q tag, outermost first', () => {
    const f = encapsulate(IPV6, ETHERTYPE.IPV6, { linkType: LINKTYPE.ETHERNET, vlans: [{ id: 10, tpid: ETHERTYPE.QINQ }, { id: 20, pcp: 5 }] });
    expect([...f.subarray(12, 22)]).toEqual([0x88, 0xa8, 0x00, 10, 0x81, 0x00, 0xa0, 20, 0x86, 0xdd]);
    expect(f.length).toBe(22 + 40);
  });

  it('lets a frame override the file-wide VLAN tags', () => {
    const f = encapsulate(IPV4, ETHERTYPE.IPV4, { linkType: LINKTYPE.ETHERNET, vlans: [{ id: 1 }] }, { vlans: [] });
    expect([...f.subarray(12, 14)]).toEqual([0x08, 0x00]);
  });

  it('pads Ethernet frames to 60 bytes only when asked', () => {
    expect(encapsulate(IPV4, ETHERTYPE.IPV4, { linkType: 1 }).length).toBe(34);
    expect(encapsulate(IPV4, ETHERTYPE.IPV4, { linkType: 1, padToMinimum: true }).length).toBe(60);
  });

  it('writes Linux SLL v1 with packet type, ARPHRD_ETHER and the source address', () => {
    const f = encapsulate(IPV4, ETHERTYPE.IPV4, { linkType: LINKTYPE.LINUX_SLL, pkttype: 4 }, { srcMac: SRC });
    expect([...f.subarray(0, 16)]).toEqual([0, 4, 0, 1, 0, 6, 2, 0, 10, 0, 0, 1, 0, 0, 0x08, 0x00]);
  });

  it('writes Linux SLL v2 with protocol first, interface index and one-byte packet type', () => {
    const f = encapsulate(IPV6, ETHERTYPE.IPV6, { linkType: LINKTYPE.LINUX_SLL2, ifIndex: 3 }, { srcMac: SRC, pkttype: 4 });
    expect([...f.subarray(0, 20)]).toEqual([0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 10, 0, 0, 1, 0, 0]);
  });

  it('writes NULL in the capturing host byte order and LOOP in network order', () => {
    expect([...encapsulate(IPV4, ETHERTYPE.IPV4, { linkType: LINKTYPE.NULL }).subarray(0, 4)]).toEqual([2, 0, 0, 0]);
    expect([...encapsulate(IPV4, ETHERTYPE.IPV4, { linkType: LINKTYPE.NULL, nullByteOrder: 'be' }).subarray(0, 4)]).toEqual([0, 0, 0, 2]);
    expect([...encapsulate(IPV6, ETHERTYPE.IPV6, { linkType: LINKTYPE.NULL }).subarray(0, 4)]).toEqual([30, 0, 0, 0]);
    expect([...encapsulate(IPV6, ETHERTYPE.IPV6, { linkType: LINKTYPE.LOOP, afInet6: 24 }).subarray(0, 4)]).toEqual([0, 0, 0, 24]);
  });

  it('writes raw IP unchanged for RAW (101), the legacy 12/14, IPV4 (228) and IPV6 (229)', () => {
    for (const linkType of [LINKTYPE.RAW, LINKTYPE.RAW_12, LINKTYPE.RAW_14]) {
      expect(encapsulate(IPV4, ETHERTYPE.IPV4, { linkType })).toBe(IPV4);
      expect(encapsulate(IPV6, ETHERTYPE.IPV6, { linkType })).toBe(IPV6);
    }
    expect(encapsulate(IPV4, ETHERTYPE.IPV4, { linkType: LINKTYPE.IPV4 })).toBe(IPV4);
    expect(encapsulate(IPV6, ETHERTYPE.IPV6, { linkType: LINKTYPE.IPV6 })).toBe(IPV6);
    expect(() => encapsulate(IPV6, ETHERTYPE.IPV6, { linkType: LINKTYPE.IPV4 })).toThrow(/carries only IPv4/);
  });

  it('refuses non-IP payloads on IP-only link types and unknown link types', () => {
    expect(() => encapsulate(new Uint8Array(28), ETHERTYPE.ARP, { linkType: LINKTYPE.RAW })).toThrow(/carries only IP/);
    expect(() => encapsulate(IPV4, ETHERTYPE.IPV4, { linkType: 105 })).toThrow(/cannot build link type 105/);
  });

  it('parses MAC addresses with colons or dashes', () => {
    expect([...parseMac('aa-bb-cc-dd-ee-ff')]).toEqual([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
    expect(() => parseMac('aa:bb')).toThrow(/not a MAC/);
  });
});

import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAVE_SHARED, REAL } from '../../test/corpus/shared.js';
import { readCapture } from '../capture/index.js';
import { describePacket, formatAddress, PacketDecoder } from './decoder.js';
import { DecodeStatus } from './packet.js';

/**
 * Real frames from the public corpus (../shared/corpus/real), decoded and compared with what
 * tshark 4 says about the same frame (`tshark -r FILE -T fields -e …`, values copied here).
 */

interface Seen {
  status: number;
  failedLayer: string;
  line: string;
  src: string;
  dst: string;
  vlans: number[];
  linkPktType: number;
  linkIfIndex: number;
  etherType: number;
  protocol: number;
  l4Start: number;
  mss: number;
  windowScale: number;
  sackPermitted: boolean;
  tsVal: number;
  payloadLen: number;
  payloadWireLen: number;
  truncated: boolean;
  isFragment: boolean;
}

/** Frame `n` (1-based) of a corpus capture, decoded; its fields are copied out while the record is valid. */
async function decodeCorpusFrame(path: string, n: number): Promise<Seen> {
  const decoder = new PacketDecoder();
  let seen: Seen | undefined;
  const summary = await readCapture(resolve(REAL, path), (r) => {
    if (r.frame !== n) return;
    const p = decoder.decode(r);
    seen = {
      status: p.status,
      failedLayer: p.failedLayer,
      line: describePacket(p),
      src: p.ipVersion ? formatAddress(p.data, p.srcAddrOff, p.addrLen) : '',
      dst: p.ipVersion ? formatAddress(p.data, p.dstAddrOff, p.addrLen) : '',
      vlans: [p.vlanOuter, p.vlanInner].slice(0, p.vlanCount),
      linkPktType: p.linkPktType,
      linkIfIndex: p.linkIfIndex,
      etherType: p.etherType,
      protocol: p.protocol,
      l4Start: p.l4Start - r.start,
      mss: p.mss,
      windowScale: p.windowScale,
      sackPermitted: p.sackPermitted,
      tsVal: p.tsVal,
      payloadLen: p.payloadLen,
      payloadWireLen: p.payloadWireLen,
      truncated: p.truncated,
      isFragment: p.isFragment,
    };
  });
  expect(summary.error).toBeNull();
  if (!seen) throw new Error(`${path} has no frame ${n}`);
  return seen;
}

describe.skipIf(!HAVE_SHARED)('decoding real frames from the public corpus like tshark', () => {
  it('802.1Q VLAN 77, IPv4, a SYN with ECE+CWR and MSS 1440 (nDPI bot.pcap frame 1)', async () => {
    const p = await decodeCorpusFrame('nDPI/tests/cfgs/default/pcap/bot.pcap', 1);
    expect(p.line).toBe('IPv4 40.77.167.36:64768 > 89.31.72.220:80 TCP [SEW] seq 3070675436 ack 0 win 64240 len 0 ttl 110');
    expect(p.vlans).toEqual([77]);
    expect([p.mss, p.windowScale, p.sackPermitted, p.l4Start]).toEqual([1440, -1, true, 18 + 20]);
  });

  it('802.1ad 200 over 802.1Q 2001 carrying ARP is not IP (tcpdump 802.1ad_QinQ.pcap frame 1)', async () => {
    const p = await decodeCorpusFrame('tcpdump/tests/802.1ad_QinQ.pcap', 1);
    expect(p.status).toBe(DecodeStatus.NOT_IP);
    expect(p.vlans).toEqual([200, 2001]);
    expect(p.etherType).toBe(0x0806);
  });

  it('802.1ad 1525 over 802.1Q 30 carrying ICMP (arkime dot1ad.pcap frame 1)', async () => {
    const p = await decodeCorpusFrame('arkime/tests/pcap/dot1ad.pcap', 1);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.vlans).toEqual([1525, 30]);
    expect(p.line).toBe('IPv4 47.245.159.156 > 92.104.109.0 proto 1 ttl 64');
  });

  it('Linux cooked v1, outgoing, a SYN with timestamps (tcpdump tcp-handshake-nano.pcap frame 1)', async () => {
    const p = await decodeCorpusFrame('tcpdump/tests/tcp-handshake-nano.pcap', 1);
    expect(p.line).toBe('IPv4 131.155.215.69:46656 > 137.116.81.94:80 TCP [S] seq 797190859 ack 0 win 27200 len 0 ttl 64');
    expect(p.linkPktType).toBe(4);
    expect([p.mss, p.windowScale, p.sackPermitted, p.tsVal]).toEqual([1360, 7, true, 1131021154]);
  });

  it('Linux cooked v2 on interface 2, outgoing (suricata-verify decode-sll2-01 frame 1)', async () => {
    const p = await decodeCorpusFrame('suricata-verify/tests/decode-sll2-01/input.pcap', 1);
    expect(p.line).toBe('IPv4 192.168.1.253:56478 > 192.168.1.21:80 TCP [S] seq 2332771219 ack 0 win 64240 len 0 ttl 64');
    expect([p.linkPktType, p.linkIfIndex]).toEqual([4, 2]);
    expect([p.mss, p.windowScale, p.tsVal]).toEqual([1460, 7, 3317596243]);
  });

  it('NULL/loopback, an RST carrying 8 bytes (tcpdump tcp_rst_diag_payload.pcap frame 1)', async () => {
    const p = await decodeCorpusFrame('tcpdump/tests/tcp_rst_diag_payload.pcap', 1);
    expect(p.line).toBe('IPv4 192.0.2.1:39829 > 192.168.0.1:8080 TCP [R.] seq 1 ack 334797553 win 0 len 8 ttl 255');
    expect([p.payloadLen, p.payloadWireLen, p.truncated]).toEqual([8, 8, false]);
  });

  it('the same RST cut by the snap length (50 of 52 bytes): 6 of its 8 payload bytes, flagged truncated', async () => {
    const p = await decodeCorpusFrame('tcpdump/tests/tcp_rst_diag_payload-trunc.pcap', 1);
    expect(p.status).toBe(DecodeStatus.OK);
    expect(p.line).toBe('IPv4 192.0.2.1:43018 > 192.168.0.1:8080 TCP [R.] seq 1 ack 3952016906 win 0 len 8 ttl 255 (truncated)');
    expect([p.payloadLen, p.payloadWireLen, p.truncated]).toEqual([6, 8, true]);
  });

  it('IPv6 routing header type 0 before TCP (zeek ip6-route0-tcp-good-chksum.pcap)', async () => {
    const p = await decodeCorpusFrame('zeek/testing/btest/Traces/chksums/ip6-route0-tcp-good-chksum.pcap', 1);
    expect(p.line).toBe('IPv6 [2001:4f8:4:7:2e0:81ff:fe52:ffff]:30000 > [2001:4f8:4:7:2e0:81ff:fe52:9a6b]:80 TCP [S] seq 0 ack 0 win 8192 len 0 hlim 64');
    expect(p.l4Start).toBe(14 + 40 + 40);
  });

  it('IPv6 destination options (home address) before TCP (zeek ip6-hoa-tcp-good-chksum.pcap)', async () => {
    const p = await decodeCorpusFrame('zeek/testing/btest/Traces/chksums/ip6-hoa-tcp-good-chksum.pcap', 1);
    expect(p.status).toBe(DecodeStatus.OK);
    expect([p.src, p.protocol, p.l4Start]).toEqual(['2001:4f8:4:7:2e0:81ff:fe52:ffff', 6, 14 + 40 + 24]);
  });

  it('an IPv6 hop-by-hop header the capture cut off is truncated at IPv6 (zeek ip6-ext-trunc.pcap)', async () => {
    const p = await decodeCorpusFrame('zeek/testing/btest/Traces/trunc/ip6-ext-trunc.pcap', 1);
    expect([p.status, p.failedLayer]).toEqual([DecodeStatus.TRUNCATED, 'ipv6']);
  });

  it('TCP behind an IPv6 atomic fragment header is decoded whole (zeek ipv6-http-atomic-frag.pcap frames 13, 16)', async () => {
    const syn = await decodeCorpusFrame('zeek/testing/btest/Traces/ipv6-http-atomic-frag.pcap', 13);
    expect(syn.line).toBe('IPv6 [2001:db8:1::2]:59694 > [2001:db8:1::1]:80 TCP [S] seq 1770092805 ack 0 win 8192 len 0 hlim 64');
    expect([syn.isFragment, syn.l4Start]).toEqual([false, 14 + 40 + 8]);
    const data = await decodeCorpusFrame('zeek/testing/btest/Traces/ipv6-http-atomic-frag.pcap', 16);
    expect([data.payloadLen, data.payloadWireLen]).toEqual([15, 15]);
  });

  it('walks an IPv6 AH header to what it protects: IPv6-in-IPv6, then IPComp (libpcap AH-IPcomp-IPv6.pcap)', async () => {
    const tunnel = await decodeCorpusFrame('libpcap/tests/filter/AH-IPcomp-IPv6.pcap', 1);
    expect([tunnel.status, tunnel.src, tunnel.protocol]).toEqual([DecodeStatus.OK, '2002::2', 41]);
    const compressed = await decodeCorpusFrame('libpcap/tests/filter/AH-IPcomp-IPv6.pcap', 3);
    expect(compressed.protocol).toBe(108);
  });

  it('raw IPv4 and LINKTYPE_IPV6 carrying DNS over UDP (tcpdump LINKTYPE_RAW_ipv4.pcap, LINKTYPE_IPV6.pcap)', async () => {
    const v4 = await decodeCorpusFrame('tcpdump/tests/LINKTYPE_RAW_ipv4.pcap', 1);
    expect(v4.line).toBe('IPv4 192.168.1.100:12345 > 9.9.9.9:53 UDP len 29 ttl 64');
    const v6 = await decodeCorpusFrame('tcpdump/tests/LINKTYPE_IPV6.pcap', 1);
    expect([v6.status, v6.src, v6.dst, v6.protocol]).toEqual([DecodeStatus.OK, '2001:db8::1', '2620:fe::9', 17]);
  });

  it('counts IP over InfiniBand (link type 242) as unsupported (tcpdump ipoib.pcap)', async () => {
    const p = await decodeCorpusFrame('tcpdump/tests/ipoib.pcap', 1);
    expect(p.status).toBe(DecodeStatus.UNSUPPORTED_LINK);
  });
});

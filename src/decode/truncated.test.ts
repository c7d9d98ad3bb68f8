import { describe, expect, it } from 'vitest';
import { buildIpPacket, LINKTYPE, type LinkOptions, type TcpOption } from '../writer/index.js';
import { describePacket } from './decoder.js';
import { DecodeStatus } from './packet.js';
import { decodeFrame, frame, tcpSpec } from './testing/frames.js';

/**
 * Every frame cut at every length: the layer the cut falls in is the one that says `truncated`;
 * a cut in the payload decodes with `truncated` set and the captured part of the payload. Nothing
 * throws, and no cut is ever called malformed (the headers' own lengths are all consistent).
 */

const OPTIONS: TcpOption[] = [{ kind: 'mss', value: 1460 }, { kind: 'sack-permitted' }, { kind: 'timestamps', tsval: 1, tsecr: 2 }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }];

interface Layout {
  name: string;
  link: LinkOptions;
  v6: boolean;
  /** [end offset of the layer, layer name reported when the cut falls before that end]. */
  layers: [number, string][];
}

/** `l3` is where the IP header starts: the end of the link layers, except raw IP, whose link "layer" is the IP version nibble. */
function layout(name: string, link: LinkOptions, v6: boolean, linkLayers: [number, string][], ipHeader: number, l3 = linkLayers.at(-1)?.[0] ?? 0): Layout {
  const ip = v6 ? 'ipv6' : 'ipv4';
  // The TCP layer fails only when its fixed 20 bytes are cut; a cut in its options decodes (truncated).
  return { name, link, v6, layers: [...linkLayers, [l3 + ipHeader, ip], [l3 + ipHeader + 20, 'tcp']] };
}

const LAYOUTS: Layout[] = [
  layout('Ethernet IPv4', { linkType: LINKTYPE.ETHERNET }, false, [[14, 'ethernet']], 20),
  layout('QinQ IPv6', { linkType: LINKTYPE.ETHERNET, vlans: [{ id: 200, tpid: 0x88a8 }, { id: 2001 }] }, true, [[14, 'ethernet'], [18, 'vlan'], [22, 'vlan']], 40),
  layout('Linux cooked v1 IPv4', { linkType: LINKTYPE.LINUX_SLL }, false, [[16, 'linux-sll']], 20),
  layout('Linux cooked v2 IPv6', { linkType: LINKTYPE.LINUX_SLL2 }, true, [[20, 'linux-sll2']], 40),
  layout('NULL IPv4', { linkType: LINKTYPE.NULL }, false, [[4, 'null']], 20),
  layout('LOOP IPv6', { linkType: LINKTYPE.LOOP, afInet6: 24 }, true, [[4, 'loop']], 40),
  layout('raw IPv4', { linkType: LINKTYPE.RAW }, false, [[1, 'raw']], 20, 0),
  layout('LINKTYPE_IPV6', { linkType: LINKTYPE.IPV6 }, true, [], 40),
];

function expectCuts(name: string, bytes: Uint8Array, linkType: number, layers: [number, string][], payloadStart: number): void {
  for (let cut = 0; cut <= bytes.length; cut++) {
    const p = decodeFrame(bytes.subarray(0, cut), linkType);
    const at = `${name} cut at ${cut} of ${bytes.length}`;
    expect(() => describePacket(p), at).not.toThrow();
    const layer = layers.find(([end]) => cut < end);
    if (layer) {
      expect({ at, status: p.status, layer: p.failedLayer }).toEqual({ at, status: DecodeStatus.TRUNCATED, layer: layer[1] });
      continue;
    }
    expect({ at, status: p.status }).toEqual({ at, status: DecodeStatus.OK });
    expect(p.truncated, at).toBe(cut < bytes.length);
    expect(p.payloadWireLen, at).toBe(5);
    if (cut < payloadStart) {
      // Cut in the options (20 bytes: MSS 4, SACK-permitted 2, timestamps 10, NOP, window scale 3):
      // the header decodes with the options captured whole, and no payload.
      const options = cut - (payloadStart - 20);
      expect(p.payloadStart, at).toBe(cut);
      expect(p.payloadLen, at).toBe(0);
      expect(p.mss, at).toBe(options >= 4 ? 1460 : -1);
      expect(p.hasTimestamps, at).toBe(options >= 16);
      expect(p.windowScale, at).toBe(-1);
      continue;
    }
    expect(p.payloadStart, at).toBe(payloadStart);
    expect(p.payloadLen, at).toBe(cut - payloadStart);
    expect(p.mss, at).toBe(1460);
    expect(p.windowScale, at).toBe(7);
  }
}

describe('frames cut short at every length', () => {
  for (const l of LAYOUTS) {
    it(`names the layer that was cut in ${l.name}, and decodes a cut payload as truncated`, () => {
      const bytes = frame(tcpSpec({ options: OPTIONS, payload: 'hello' }, l.v6), l.link);
      const tcpEnd = l.layers[l.layers.length - 1]![0] + 20;
      expectCuts(l.name, bytes, l.link.linkType, l.layers, tcpEnd);
    });
  }

  it('names IPv6 when the cut falls inside an extension header chain, whatever header it is', () => {
    const bytes = buildIpPacket({
      ...tcpSpec({ options: OPTIONS, payload: 'hello' }, true),
      ipv6: { extensions: [{ type: 'hop-by-hop', options: Uint8Array.of(5, 2, 0, 0) }, { type: 'fragment', id: 3 }, { type: 'routing', data: new Uint8Array(12) }, { type: 'destination' }] },
    });
    const ipEnd = 40 + 8 + 8 + 16 + 8;
    expectCuts('IPv6 with 4 extension headers', bytes, LINKTYPE.RAW, [[1, 'raw'], [ipEnd, 'ipv6'], [ipEnd + 20, 'tcp']], ipEnd + 40);
  });

  it('names IPv4 when the cut falls inside IPv4 options', () => {
    const bytes = buildIpPacket({ ...tcpSpec({ options: OPTIONS, payload: 'hello' }), ipv4: { options: new Uint8Array(12).fill(1) } });
    expectCuts('IPv4 with 12 bytes of options', bytes, LINKTYPE.RAW, [[1, 'raw'], [32, 'ipv4'], [52, 'tcp']], 72);
  });
});

import { describe, expect, it } from 'vitest';
import { decodeFrame, frame, tcpSpec } from '../decode/testing/frames.js';
import { LINKTYPE } from '../writer/index.js';
import type { DecodedPacket } from '../decode/index.js';
import { AttemptStore } from './attempts.js';

/**
 * The attempt store's open-addressing index (attempts.ts): every stored attempt is found from
 * either direction, a removed one is never found, and no other one is lost — through forced hash
 * collisions (long probe runs that wrap round the end of the index), deletions in the middle of a
 * run (the backward shift) and growth (the index rebuilt). Real SYNs from the capture writer,
 * checked against a Map of what should be there.
 */

function syn(i: number): DecodedPacket {
  const spec = tcpSpec({ srcPort: 1024 + (i % 60_000), dstPort: 443, flags: 'S', payload: '', seq: i, ack: 0 });
  return decodeFrame(frame({ ...spec, src: `100.64.${(i >> 8) & 0xff}.${i & 0xff}`, dst: '10.0.0.9' }, { linkType: LINKTYPE.ETHERNET }), LINKTYPE.ETHERNET);
}

const u32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

describe('AttemptStore index', () => {
  it('finds every live attempt and no removed one, through collisions, wrap-round, deletion and growth', () => {
    const store = new AttemptStore();
    const packets = Array.from({ length: 5000 }, (_, i) => syn(i));
    // Few distinct hashes, some at the top of the index (runs wrap round to entry 0): heavy collisions.
    const hashOf = (i: number) => (i % 7 === 0 ? -1 : i % 7 === 1 ? 0x7fffffff : (i % 13) * 1024);
    const slots = new Map<number, number>();
    const findOf = (i: number, reversed: boolean) => {
      const p = packets[i]!;
      const src = u32(p.data, p.srcAddrOff), dst = u32(p.data, p.dstAddrOff);
      return reversed ? store.find(hashOf(i), dst, src, p.dstPort, p.srcPort) : store.find(hashOf(i), src, dst, p.srcPort, p.dstPort);
    };
    const check = () => {
      for (let i = 0; i < packets.length; i++) {
        const want = slots.get(i) ?? -1;
        expect(findOf(i, false)).toBe(want);
        expect(findOf(i, true)).toBe(want);
      }
      expect(store.count).toBe(slots.size);
    };
    for (let i = 0; i < 3000; i++) slots.set(i, store.add(packets[i]!, hashOf(i), i + 1, i + 1, 1000 + i)); // grows 1024 → 4096
    check();
    // Delete from the middle of runs, every third one, then refill (freed slots reused).
    for (let i = 0; i < 3000; i += 3) { store.remove(slots.get(i)!); slots.delete(i); }
    check();
    for (let i = 3000; i < 5000; i++) slots.set(i, store.add(packets[i]!, hashOf(i), i + 1, i + 1, 1000 + i));
    check();
    for (const i of [...slots.keys()].filter((k) => k % 2 === 1)) { store.remove(slots.get(i)!); slots.delete(i); }
    check();
    expect(store.slotsById().length).toBe(slots.size);
  });
});

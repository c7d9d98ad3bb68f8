import { describe, expect, it } from 'vitest';
import { captureInfo } from '../../src/analysis/info.js';
import { HAVE_SHARED, epochToMicros, isoToMicros, loadOracles } from './shared.js';

/**
 * Known, explained disagreements with tshark on damaged files. flowdoc reads the standard layout
 * and stops at the first implausible record; Wireshark's pcap reader guesses a "patched" pcap
 * variant (records with extra header fields) on some damaged files and so reads a different
 * number of records before failing.
 */
const TSHARK_VARIANT_GUESSES: Record<string, string> = {
  'suricata-verify__tests__bug-6875-01__fuzz.pcap.json': 'record 2 claims 1409179648 bytes; tshark reads it as a patched-pcap variant',
  'nDPI__tests__cfgs__default__pcap__fuzz-2021-10-13.pcap.json': 'record 1 claims 524501 bytes (> 256 KiB); tshark accepts it for this link type and then finds the file cut short',
};

/** tshark prints negative times for ns fields ≥ 1e9; flowdoc carries them into the seconds. */
const INVALID_TIMESTAMPS = new Set(['tcpdump__tests__timestamp_invalid_nano.pcap.json']);

describe.skipIf(!HAVE_SHARED)('flowdoc info against tshark/capinfos on the real corpus', () => {
  const oracles = loadOracles();

  it('has the corpus to compare with', () => {
    expect(oracles.length).toBeGreaterThan(100);
  });

  for (const { name, file, oracle } of oracles) {
    it(`reads ${oracle.corpus_path} like tshark`, async () => {
      const info = await captureInfo(file);
      const t = oracle.tshark;
      if (t.rc === 0) {
        expect(info.error, 'tshark read it without error').toBeNull();
        expect(info.packets).toBe(t.packet_count);
        const c = oracle.capinfos;
        if (t.packet_count === 0 || c.first_packet_time === 'n/a') {
          expect(info.first).toBeNull();
        } else if (c.first_packet_time && c.last_packet_time && !INVALID_TIMESTAMPS.has(name)) {
          expect(isoToMicros(info.first!)).toBe(epochToMicros(c.first_packet_time));
          expect(isoToMicros(info.last!)).toBe(epochToMicros(c.last_packet_time));
        }
      } else {
        // tshark stopped with an error: flowdoc must report one too, with the packets before it.
        expect(info.error, `tshark: ${t.error}`).not.toBeNull();
        expect(info.error!.frame).toBe(info.packets + 1);
        if (TSHARK_VARIANT_GUESSES[name]) expect(info.packets).toBeLessThanOrEqual(t.packet_count);
        else expect(info.packets).toBe(t.packet_count);
      }
    });
  }
});

/**
 * What `tcpdump -s N` (or `editcap -s N`) does to a classic pcap file: every record's captured
 * length clipped to N bytes, its original length kept, and N in the file header. Done here so
 * that snap-length tests need no external tool.
 */
export function clipPcap(bytes: Uint8Array, snaplen: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && view.getUint32(0, false) !== 0xa1b2c3d4 && view.getUint32(0, false) !== 0xa1b23c4d) throw new Error('clipPcap: not a classic pcap file');
  const out = new Uint8Array(bytes.length);
  const w = new DataView(out.buffer);
  out.set(bytes.subarray(0, 24));
  w.setUint32(16, snaplen, le);
  let i = 24;
  let o = 24;
  while (i + 16 <= bytes.length) {
    const incl = view.getUint32(i + 8, le);
    const keep = Math.min(incl, snaplen);
    out.set(bytes.subarray(i, i + 16), o);
    w.setUint32(o + 8, keep, le);
    out.set(bytes.subarray(i + 16, i + 16 + keep), o + 16);
    i += 16 + incl;
    o += 16 + keep;
  }
  return out.subarray(0, o);
}

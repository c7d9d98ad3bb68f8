import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../analysis/analyze.js';
import { put, splitStale, staleCapture, tempDir, gzip } from '../../test/support/scan-fixtures.js';
import { groupRotations, locateFrame, naturalCompare, orderByFirstPacket, rotationTemplate, stitchedSource, type StitchLog } from './stitch.js';
import { formatEnds } from '../report/address.js';

const file = (path: string) => ({ path, rel: path.replace(/^\/data\//, '') });

describe('rotation names', () => {
  it('reads tcpdump -C numbering (x.pcap, x.pcap1, x.pcap00) as one template', () => {
    expect(rotationTemplate('x.pcap')).toBe('x.pcap');
    expect(rotationTemplate('x.pcap1')).toBe('x.pcap');
    expect(rotationTemplate('x.pcap17')).toBe('x.pcap');
    expect(rotationTemplate('x.pcap00')).toBe('x.pcap');
    expect(rotationTemplate('x.pcap3.gz')).toBe('x.pcap');
  });

  it('reads tcpdump -G strftime and epoch names as one template', () => {
    expect(rotationTemplate('node-2024-05-01_10:00:00.pcap')).toBe('node-{time}.pcap');
    expect(rotationTemplate('node-2024-05-01_11:00:00.pcap')).toBe('node-{time}.pcap');
    expect(rotationTemplate('node-20240501-1000.pcap')).toBe('node-{time}.pcap');
    expect(rotationTemplate('node-20240501100000.pcap.gz')).toBe('node-{time}.pcap');
    expect(rotationTemplate('node.1714557600.pcap')).toBe('node.{time}.pcap');
  });

  it('leaves names without rotation marks as they are', () => {
    expect(rotationTemplate('node1.pcap')).toBe('node1.pcap');
    expect(rotationTemplate('client-any.pcap')).toBe('client-any.pcap');
  });

  it('orders rotation numbers naturally', () => {
    expect(['x.pcap10', 'x.pcap2', 'x.pcap', 'x.pcap1'].sort(naturalCompare)).toEqual(['x.pcap', 'x.pcap1', 'x.pcap2', 'x.pcap10']);
  });
});

describe('rotation groups', () => {
  it('groups the files of one rotation and keeps other nodes and directories apart', () => {
    const groups = groupRotations([
      file('/data/a/x.pcap'), file('/data/a/x.pcap1'), file('/data/a/x.pcap2.gz'),
      file('/data/a/y.pcap'), file('/data/b/x.pcap1'),
      file('/data/a/n-2024-05-01_10:00:00.pcap'), file('/data/a/n-2024-05-01_11:00:00.pcap'),
    ]);
    expect(groups.map((g) => g.files.map((f) => f.path))).toEqual([
      ['/data/a/n-2024-05-01_10:00:00.pcap', '/data/a/n-2024-05-01_11:00:00.pcap'],
      ['/data/a/x.pcap', '/data/a/x.pcap1', '/data/a/x.pcap2.gz'],
      ['/data/a/y.pcap'],
      ['/data/b/x.pcap1'],
    ]);
    expect(groups[1]!.shardKey).toBe('a/x.pcap');
  });

  it('groups tcpdump -C files without a capture extension when the unnumbered file is there', () => {
    const groups = groupRotations([file('/data/trace'), file('/data/trace1'), file('/data/trace2'), file('/data/host1')]);
    expect(groups.map((g) => g.files.map((f) => f.path))).toEqual([['/data/host1'], ['/data/trace', '/data/trace1', '/data/trace2']]);
  });

  it('does not stitch a capture with its own gzip copy', () => {
    const groups = groupRotations([file('/data/x.pcap'), file('/data/x.pcap.gz'), file('/data/x.pcap1')]);
    expect(groups.map((g) => g.files.length)).toEqual([1, 1, 1]);
  });
});

describe('the stitched capture source', () => {
  it('orders rotated files by their first packet, whatever their names say', async () => {
    const dir = tempDir();
    const s = splitStale();
    // A -W ring buffer that wrapped: the newer packets are in the lower number.
    const a = put(dir, 'x.pcap0', s.second);
    const b = put(dir, 'x.pcap1', s.first);
    expect(await orderByFirstPacket([a, b])).toEqual([b, a]);
  });

  it('finds a connection idle across a file boundary as ONE incident with the whole idle', async () => {
    const dir = tempDir();
    const s = splitStale({ idle: 900 });
    const a = put(dir, 'x.pcap', s.first);
    const b = put(dir, 'x.pcap1', gzip(s.second));
    const log: StitchLog = { parts: [] };
    const r = await analyzeCapture(a, { source: stitchedSource([a, b], log) });
    expect(r.summary.connections).toBe(1);
    expect(r.incidents).toHaveLength(1);
    const i = r.incidents[0]!;
    expect(i.kind).toBe('stale-reuse-rst');
    expect(i.idleSeconds).toBeCloseTo(900, 2);
    // Stream frames continue over the files, as `mergecap -a` numbers them …
    expect(i.frames).toMatchObject({ request: s.frames - 1, rst: s.frames });
    expect(log.parts.map((p) => [p.path, p.packets, p.firstFrame])).toEqual([[a, s.frames - 2, 1], [b, 2, s.frames - 1]]);
    // … and each maps back to the file and frame to open in Wireshark.
    expect(locateFrame(i.frames.request, log.parts)).toEqual({ file: b, frame: 1 });
    expect(locateFrame(i.frames.rst, log.parts)).toEqual({ file: b, frame: 2 });
    expect(locateFrame(i.frames.lastBeforeIdle, log.parts)).toEqual({ file: a, frame: s.frames - 2 });
  });

  it('cuts the same connection in two without stitching: the second file alone shows no stale reuse', async () => {
    const dir = tempDir();
    const s = splitStale({ idle: 900 });
    const b = put(dir, 'x.pcap1', s.second);
    const r = await analyzeCapture(b);
    expect(r.incidents.filter((i) => i.kind === 'stale-reuse-rst')).toHaveLength(0);
  });

  it('goes on with the next file after a damaged one and names the damaged file', async () => {
    const dir = tempDir();
    const whole = staleCapture({ idle: 30 });
    const a = put(dir, 'x.pcap', whole.subarray(0, whole.length - 7));
    const b = put(dir, 'x.pcap1', staleCapture({ start: '2024-05-01T12:00:00Z', client: '10.0.0.1:40001' }));
    const log: StitchLog = { parts: [] };
    const r = await analyzeCapture(a, { source: stitchedSource([a, b], log) });
    expect(log.parts[0]!.error).toMatchObject({ code: 'truncated-record', file: a });
    expect(log.parts[1]!.error).toBeNull();
    expect(r.capture.packets).toBe(log.parts[0]!.packets + log.parts[1]!.packets);
    expect(r.incidents.some((i) => formatEnds(i.endpoints).client === '10.0.0.1:40001')).toBe(true);
  });
});

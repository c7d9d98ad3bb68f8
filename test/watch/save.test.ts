import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/index.js';
import { REPO_ROOT } from '../corpus/shared.js';
import { runCli } from '../support/io.js';
import { SlowWriter, WatchRun } from '../support/watch.js';

/** Every frame of a capture file as [µs, ns, original length, hex bytes], frame 1 first (our reader). */
async function frames(file: string): Promise<[number, number, number, string][]> {
  const out: [number, number, number, string][] = [];
  const s = await readCapture(file, (r) => { out.push([r.tsMicros, r.tsExtraNanos, r.originalLength, Buffer.from(r.data.subarray(r.start, r.start + r.capturedLength)).toString('hex')]); });
  expect(s.error).toBe(null);
  return out;
}

function haveTool(t: string): boolean {
  try { execFileSync(t, ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}
const TSHARK = haveTool('tshark') && haveTool('capinfos');

let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('flowdoc watch --save DIR --rotate N:SIZE keeps the raw capture beside the reports', () => {
  for (const capture of ['busy/client-eth.pcap', 'server-fin/server.pcapng']) {
    it(`keeps a ring of pcap files of ${capture}; each incident names the file and frame of its evidence, and those files stay`, async () => {
      const source = join(REPO_ROOT, 'captures', capture);
      const bytes = readFileSync(source);
      const original = await frames(source);
      dir = mkdtempSync(join(tmpdir(), 'flowdoc-save-'));
      const ring = join(dir, 'ring');
      const run = new WatchRun(['-', '--save', ring, '--rotate', '2:2K', '--stats-interval', '0'], new SlowWriter(bytes, { chunk: 64, pauseMs: 0 }).stream);
      await run.done;
      const analyzed = JSON.parse((await runCli(['analyze', '-f', 'json', '-'], { stdin: bytes })).stdout);
      const incidents = run.events.filter((e) => e.event === 'incident');
      expect(incidents.map((e) => e.incident)).toEqual(analyzed.incidents);
      expect(incidents.length).toBeGreaterThan(0);
      const kept = new Set<string>();
      for (const e of incidents) {
        const saved = e.saved as Record<string, { file: string; frame: number } | null>;
        const key = e.incident as { frames: Record<string, number | null> };
        for (const [name, n] of Object.entries(key.frames)) {
          if (typeof n !== 'number') continue;
          const at = saved[name];
          if (!at) continue; // rotated out before the incident completed (its early frames): said as null
          kept.add(at.file);
          // The frame kept there is the stream's frame: same time, length and bytes.
          expect((await frames(at.file))[at.frame - 1]).toEqual(original[n - 1]);
        }
        // The RST (or the request) that completed it is always still in the ring.
        expect(saved.rst ?? saved.request).not.toBe(null);
      }
      const files = readdirSync(ring).map((f) => join(ring, f)).sort();
      for (const f of kept) expect(files).toContain(f);
      // The ring holds the last two files besides the kept ones; together the files left are the stream's tail, frame for frame.
      expect(files.length).toBeLessThanOrEqual(2 + kept.size);
      const last = files.slice(-2);
      const tail = (await Promise.all(last.map(frames))).flat();
      expect(tail).toEqual(original.slice(original.length - tail.length));
      if (TSHARK) {
        for (const f of files) {
          const info = execFileSync('capinfos', ['-c', '-M', f], { encoding: 'utf8' });
          expect(info).toMatch(/Number of packets:\s+\d+/);
        }
      }
    });
  }

  it('leaves every file when the ring is larger than the stream, one pcap the same frames as the source', async () => {
    const source = join(REPO_ROOT, 'captures/rst-after-idle/client-eth.pcap');
    dir = mkdtempSync(join(tmpdir(), 'flowdoc-save-'));
    const run = new WatchRun(['-', '--save', dir, '--stats-interval', '0'], new SlowWriter(readFileSync(source), { chunk: 64, pauseMs: 0 }).stream);
    await run.done;
    const files = readdirSync(dir);
    expect(files).toEqual(['flowdoc-watch-000001.pcap']);
    const saved = join(dir, files[0]!);
    expect(await frames(saved)).toEqual(await frames(source));
    const e = run.events.find((x) => x.event === 'incident')!;
    expect(e.saved).toEqual({ lastBeforeIdle: { file: saved, frame: 13 }, request: { file: saved, frame: 14 }, rst: { file: saved, frame: 15 } });
    if (TSHARK) {
      const flags = execFileSync('tshark', ['-r', saved, '-Y', 'frame.number == 15', '-T', 'fields', '-e', 'tcp.flags.reset'], { encoding: 'utf8' });
      expect(flags.trim()).toMatch(/^(1|True)$/);
    }
  });

  it('refuses --rotate without --save, and a SIZE it cannot read', async () => {
    expect((await runCli(['watch', '-', '--rotate', '3:1M'], { stdin: new Uint8Array(0) })).stderr).toBe('flowdoc: --rotate needs --save DIR (where the ring of files goes)\n');
    const bad = await runCli(['watch', '-', '--save', join(tmpdir(), 'x'), '--rotate', '3'], { stdin: new Uint8Array(0) });
    expect(bad).toMatchObject({ code: 2, stderr: 'flowdoc: --rotate 3: expected FILES:SIZE, e.g. 10:100M (at least 1 file of at least 1K)\n' });
    expect(existsSync(join(tmpdir(), 'x'))).toBe(false);
  });
});

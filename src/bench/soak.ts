/**
 * `npm run soak [-- --hours H --rate PPS]`: the RSS soak of `flowdoc watch` (a figure, not a test).
 *
 * A generator child (this file with `--generate`) writes a steady synthetic stream to its stdout
 * with the project's capture writer — `rate` packets per second of capture time for `hours` hours:
 * short HTTP connections opening and closing (a window of 2,000 open at once), one in 500 left
 * open and silent (so the table must let them go: `--idle-expiry`), and every 10 minutes of capture
 * time a stale reuse (idle 30 s, then a RST) — piped into `flowdoc watch -` (from dist/). The parent
 * samples watch's RSS (/proc/PID/status VmRSS) once a second of wall time and prints a table by
 * capture time, with the flatness after warm-up (max / min of the samples past the first 20%).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CaptureFileWriter, CaptureScript, SeededRandom, type TcpConversation } from '../writer/index.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FLOWDOC = join(resolve(HERE, '../..'), 'bin/flowdoc.js');

const { values } = parseArgs({
  options: {
    generate: { type: 'boolean', default: false },
    hours: { type: 'string', default: '3' },
    rate: { type: 'string', default: '10000' },
    'idle-expiry': { type: 'string', default: '600' },
  },
});
const hours = Number(values.hours);
const rate = Number(values.rate);

if (values.generate) await generate();
else await soak();

async function generate(): Promise<void> {
  // A write to a full pipe is queued in memory, not blocked on: the loop waits for 'drain' past
  // 1 MiB queued, so the generator runs at watch's pace and holds at most that much.
  const writer = new CaptureFileWriter({ write: (c) => { process.stdout.write(c); } }, { format: 'pcap', linkType: 1 });
  const script = new CaptureScript({ writer, start: '2026-01-01T00:00:00Z', stepMicros: Math.round(1e6 / rate), seed: 16 });
  const end = script.now + hours * 3600e6;
  const r = new SeededRandom(1616);
  let port = 0;
  // 16,384 ports on each of 65,536 hosts: a tuple comes back only after a billion connections.
  const client = () => { const h = port >>> 14; return `10.${40 + ((h >> 16) & 15)}.${(h >> 8) & 255}.${h & 255}:${20000 + (port++ & 16383)}`; };
  const open = (): TcpConversation => script.tcp({ client: client(), server: `10.50.0.${1 + (r.next32() & 15)}:8080`, tcpOptions: { timestamps: false } });
  const window: { c: TcpConversation; step: number }[] = Array.from({ length: 2000 }, () => ({ c: open(), step: 0 }));
  let nextStale = script.now + 600e6;
  let stale: { c: TcpConversation; at: number } | null = null;
  while (script.now < end) {
    if (process.stdout.writableLength > 1 << 20) await once(process.stdout, 'drain');
    if (stale && script.now >= stale.at) {
      stale.c.clientSends('GET /after-idle HTTP/1.1\r\nHost: soak\r\n\r\n', { ack: false });
      stale.c.rst('server', { ttl: 250 });
      stale = null;
    }
    const i = r.next32() % window.length;
    const w = window[i]!;
    switch (w.step++) {
      case 0: w.c.handshake(); break;
      case 1: w.c.clientSends('GET /items HTTP/1.1\r\nHost: soak\r\n\r\n'); break;
      case 2: w.c.serverSends('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'); break;
      case 3:
        if (script.now >= nextStale && !stale) {
          // This one goes quiet for 30 s and is then reused into a forgotten connection.
          stale = { c: w.c, at: script.now + 30e6 };
          nextStale += 600e6;
        } else if (r.next32() % 500 !== 0) {
          w.c.fin('client');
          w.c.fin('server');
        } // else: left open and silent, for the table's idle expiry to let go
        window[i] = { c: open(), step: 0 };
        break;
    }
  }
  writer.close();
}

async function soak(): Promise<void> {
  const gen = spawn(process.execPath, [fileURLToPath(import.meta.url), '--generate', '--hours', String(hours), '--rate', String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const watch = spawn(process.execPath, [FLOWDOC, 'watch', '-', '--stats-interval', '60', '--idle-expiry', values['idle-expiry']!], { stdio: [gen.stdout!, 'pipe', 'inherit'] });
  let captureTime = '';
  let stats: Record<string, number> = {};
  let partial = '';
  let incidents = 0;
  watch.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      const e = JSON.parse(line) as { event: string; time: string; stats?: Record<string, number> };
      if (e.event === 'stats') { captureTime = e.time; stats = e.stats!; }
      if (e.event === 'incident') incidents++;
    }
  });
  const samples: { wallS: number; captureTime: string; rssMiB: number; packets: number; live: number; expired: number }[] = [];
  const started = Date.now();
  const timer = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${watch.pid}/status`, 'utf8'))![1]);
      samples.push({ wallS: (Date.now() - started) / 1000, captureTime, rssMiB: kb / 1024, packets: stats.packets ?? 0, live: stats.connectionsLive ?? 0, expired: stats.expired ?? 0 });
    } catch { /* exited */ }
  }, 1000);
  const code = await new Promise<number | null>((res) => watch.on('close', res));
  clearInterval(timer);
  const wall = (Date.now() - started) / 1000;
  console.log(`flowdoc watch soak: ${hours} h of capture time at ${rate} packets/s, --idle-expiry ${values['idle-expiry']}; exit ${code}, ${wall.toFixed(0)} s wall, ${incidents} incidents told, ${stats.packets ?? 0} packets at the last stats`);
  console.log('| wall s | capture time | packets | live connections | expired | RSS MiB |');
  console.log('|---:|---|---:|---:|---:|---:|');
  const every = Math.max(1, Math.floor(samples.length / 15));
  samples.forEach((s, n) => {
    if (n % every === 0 || n === samples.length - 1) console.log(`| ${s.wallS.toFixed(0)} | ${s.captureTime} | ${s.packets} | ${s.live} | ${s.expired} | ${s.rssMiB.toFixed(1)} |`);
  });
  // Warm-up by capture time: the samples once packets flow (the first stats), past the first 20% of them.
  // Samples after the last packet (the final summary being written, the heap shrinking) are not the watch running.
  const last = samples.at(-1)?.packets ?? 0;
  const flowing = samples.filter((s) => s.packets > 0 && s.packets < last);
  const warm = flowing.slice(Math.floor(flowing.length * 0.2)).map((s) => s.rssMiB);
  if (warm.length) console.log(`after warm-up (the last 80% of the samples taken while packets flowed, ${warm.length}): RSS ${Math.min(...warm).toFixed(1)}–${Math.max(...warm).toFixed(1)} MiB, max/min ${(Math.max(...warm) / Math.min(...warm)).toFixed(2)} (target ≤ 1.2: flat within ±20%)`);
}

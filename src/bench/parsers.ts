/**
 * The two classic pcap readers side by side, in one process, on the same bytes: `PcapParser`
 * (the `pcap-parser` wrapper) and `PcapReader` (flowdoc's own). The file is read into memory
 * first and fed in 1 MiB chunks, as readCapture feeds it, to a sink that only counts; so the
 * times are the parsers' alone.
 *
 *   node dist-tools/bench/parsers.js FILE.pcap [runs=7]
 */
import { readFileSync } from 'node:fs';
import type { CaptureParser } from '../capture/parser.js';
import { PcapParser } from '../capture/pcap.js';
import { PcapReader } from '../capture/pcap-reader.js';
import type { CaptureRecord } from '../capture/record.js';

const CHUNK = 1 << 20;

export interface ParserTiming {
  parser: string;
  medianSeconds: number;
  seconds: number[];
  packets: number;
  mbPerSecond: number;
}

function once(make: (sink: (r: CaptureRecord) => void) => CaptureParser, chunks: Uint8Array[]): { seconds: number; packets: number; bytes: number } {
  let bytes = 0;
  const parser = make((r) => { bytes += r.capturedLength; });
  const t0 = performance.now();
  for (const c of chunks) parser.push(c);
  parser.end();
  const seconds = (performance.now() - t0) / 1000;
  if (parser.error) throw new Error(parser.error.oneLine());
  return { seconds, packets: parser.packets, bytes };
}

export function compareParsers(file: string, runs = 7): ParserTiming[] {
  const data = readFileSync(file);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += CHUNK) chunks.push(data.subarray(i, i + CHUNK));
  const makers: Record<string, (sink: (r: CaptureRecord) => void) => CaptureParser> = {
    'PcapParser (pcap-parser)': (sink) => new PcapParser(sink, file),
    'PcapReader (own)': (sink) => new PcapReader(sink, file),
  };
  const times = new Map<string, number[]>();
  let packets = 0;
  // Alternate the two, after one warm-up each, so machine noise hits both alike.
  for (let run = 0; run <= runs; run++) {
    for (const [name, make] of Object.entries(makers)) {
      const r = once(make, chunks);
      packets = r.packets;
      if (run > 0) times.set(name, [...(times.get(name) ?? []), r.seconds]);
    }
  }
  return [...times].map(([parser, seconds]) => {
    const sorted = [...seconds].sort((a, b) => a - b);
    const medianSeconds = sorted[sorted.length >> 1]!;
    return { parser, medianSeconds, seconds, packets, mbPerSecond: data.length / 1e6 / medianSeconds };
  });
}

if (process.argv[1]?.endsWith('parsers.js')) {
  const [file, runs] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist-tools/bench/parsers.js FILE.pcap [runs]\n');
    process.exitCode = 2;
  } else {
    for (const t of compareParsers(file, Number(runs ?? 7))) {
      process.stdout.write(`${t.parser.padEnd(26)} median ${t.medianSeconds.toFixed(3)} s  ${t.mbPerSecond.toFixed(0)} MB/s  ${Math.round(t.packets / t.medianSeconds).toLocaleString('en-US')} packets/s  runs ${t.seconds.map((s) => s.toFixed(3)).join(' ')}\n`);
    }
  }
}

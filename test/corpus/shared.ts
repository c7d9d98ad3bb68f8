import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/corpus/shared.ts). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** ../shared beside the repository: real captures with tshark's answers, real log lines. */
export const SHARED = resolve(REPO_ROOT, '../shared');
export const REAL = resolve(SHARED, 'corpus/real');
export const HAVE_SHARED = existsSync(resolve(REAL, 'oracle'));

export interface OracleStream {
  tcp_stream: number;
  a: string;
  b: string;
  pkts_a_to_b: number;
  pkts_b_to_a: number;
  max_gap_s: string;
  rst: number;
  keep_alive: number;
  syn: number;
  fin: number;
}

export interface Oracle {
  corpus_path: string;
  magic_hex: string;
  capinfos: { rc: number; packet_count: number | null; first_packet_time: string | null; last_packet_time: string | null };
  tshark: {
    rc: number;
    error: string | null;
    packet_count: number;
    tcp_packets: number;
    tcp_streams: number;
    rst_packets: number;
    keep_alive_packets: number;
    rst_list: { frame: number; src: string; ip_ttl: number | null; ipv6_hlim: number | null }[];
    streams: OracleStream[];
  };
}

/** Every oracle with the path of its capture. */
export function loadOracles(): { name: string; file: string; oracle: Oracle }[] {
  if (!HAVE_SHARED) return [];
  return readdirSync(resolve(REAL, 'oracle'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((name) => {
      const oracle = JSON.parse(readFileSync(resolve(REAL, 'oracle', name), 'utf8')) as Oracle;
      return { name, file: resolve(REAL, oracle.corpus_path.slice('real/'.length)), oracle };
    });
}

/** capinfos' epoch-seconds string as integer µs (truncating finer digits, as flowdoc's µs times do). */
export function epochToMicros(s: string): bigint {
  const [sec, frac = ''] = s.split('.');
  return BigInt(sec!) * 1_000_000n + BigInt((frac + '000000').slice(0, 6));
}

/** flowdoc's ISO time (any precision) as integer µs. */
export function isoToMicros(iso: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso)!;
  return BigInt(Date.parse(m[1] + 'Z')) * 1000n + BigInt(((m[2] ?? '') + '000000').slice(0, 6));
}

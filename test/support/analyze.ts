import { Readable } from 'node:stream';
import { analyzeCapture, type AnalysisResult, type AnalyzeOptions } from '../../src/analysis/analyze.js';
import type { Connection } from '../../src/flows/index.js';

/** Analyses capture bytes in this process, exactly as `flowdoc analyze -` would. */
export async function analyzeBytes(bytes: Uint8Array, options: AnalyzeOptions = {}): Promise<AnalysisResult> {
  return analyzeCapture('-', { ...options, stdin: Readable.from([Buffer.from(bytes)]) });
}

/** The finished connections of capture bytes, in id order. */
export async function connectionsOf(bytes: Uint8Array, options: AnalyzeOptions = {}): Promise<{ connections: Connection[]; result: AnalysisResult }> {
  const connections: Connection[] = [];
  const result = await analyzeBytes(bytes, { ...options, onConnection: (c) => connections.push(c) });
  connections.sort((a, b) => a.id - b.id);
  return { connections, result };
}

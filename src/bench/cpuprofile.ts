/**
 * Prints the self time of the hottest functions in a V8 CPU profile, e.g.
 *
 *   node --cpu-prof --cpu-prof-interval 100 --cpu-prof-dir /tmp/prof bin/flowdoc.js analyze FILE
 *   node dist-tools/bench/cpuprofile.js /tmp/prof/CPU.*.cpuprofile [top=30]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function selfTimes(profile: Profile): { totalMicros: number; rows: { name: string; micros: number }[] } {
  const perNode = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    perNode.set(id, (perNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const perName = new Map<string, number>();
  let totalMicros = 0;
  for (const n of profile.nodes) {
    const t = perNode.get(n.id) ?? 0;
    totalMicros += t;
    const cf = n.callFrame;
    const where = cf.url ? ` ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}` : '';
    const name = `${cf.functionName || '(anonymous)'}${where}`;
    perName.set(name, (perName.get(name) ?? 0) + t);
  }
  const rows = [...perName].map(([name, micros]) => ({ name, micros })).sort((a, b) => b.micros - a.micros);
  return { totalMicros, rows };
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist-tools/bench/cpuprofile.js FILE.cpuprofile [top]\n');
    process.exitCode = 2;
    return;
  }
  const { totalMicros, rows } = selfTimes(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  process.stdout.write(`total ${(totalMicros / 1000).toFixed(0)} ms\n`);
  for (const r of rows.slice(0, Number(topArg ?? 30))) {
    process.stdout.write(`${(r.micros / 1000).toFixed(1).padStart(9)} ms ${((100 * r.micros) / totalMicros).toFixed(1).padStart(5)}%  ${r.name}\n`);
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) main();

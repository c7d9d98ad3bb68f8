/**
 * The floor of the benchmark: a plain Node read of the file, the way flowdoc reads it
 * (fs.createReadStream in 1 MiB chunks), doing nothing but summing the byte counts.
 * No analysis can be faster than this in Node; flowdoc's times are reported as a multiple of it.
 *
 *   node dist-tools/bench/floor.js FILE
 */
import { createReadStream } from 'node:fs';

async function main(file: string): Promise<void> {
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) bytes += (chunk as Buffer).length;
  process.stdout.write(`${bytes}\n`);
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist-tools/bench/floor.js FILE\n');
  process.exitCode = 2;
} else {
  await main(file);
}

#!/usr/bin/env node
/**
 * Compares the results of two builds of flowdoc byte for byte:
 *
 *   node scripts/compare-builds.mjs OLD_REPO NEW_REPO CAPTURE…
 *
 * For every capture it runs `analyze --format json` and `flows --format ndjson` of both builds
 * (each repo's bin/flowdoc.js, after `npm run build` there) and prints the captures whose outputs
 * differ. Exit 0 when all are identical, 1 otherwise. Used when the connection table's insides
 * change (docs/performance.md): the results must not.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const [oldRepo, newRepo, ...files] = process.argv.slice(2);
if (!oldRepo || !newRepo || files.length === 0) {
  process.stderr.write('usage: node scripts/compare-builds.mjs OLD_REPO NEW_REPO CAPTURE…\n');
  process.exit(2);
}
const runs = [
  ['analyze', '--format', 'json', '--fail-on', 'none'],
  ['flows', '--format', 'ndjson'],
];
const digest = (repo, args, file) => {
  const r = spawnSync(process.execPath, [join(repo, 'bin/flowdoc.js'), ...args, file], { maxBuffer: 1 << 30, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, md5: createHash('md5').update(r.stdout).digest('hex'), bytes: r.stdout.length };
};
let differ = 0, same = 0;
for (const file of files) {
  for (const args of runs) {
    const a = digest(oldRepo, args, file);
    const b = digest(newRepo, args, file);
    if (a.code === b.code && a.md5 === b.md5) same++;
    else {
      differ++;
      process.stdout.write(`DIFFERS ${args[0]} ${file}: exit ${a.code}/${b.code}, ${a.bytes}/${b.bytes} bytes\n`);
    }
  }
}
process.stdout.write(`${same} identical, ${differ} different (${files.length} captures × ${runs.length} commands)\n`);
process.exit(differ ? 1 : 0);

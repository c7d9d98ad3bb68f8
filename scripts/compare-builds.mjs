#!/usr/bin/env node
/**
 * Compares the results of two builds of flowdoc byte for byte:
 *
 *   node scripts/compare-builds.mjs [options] OLD_REPO NEW_REPO CAPTURE…
 *
 * For every capture it runs `analyze --format json` and `flows --format ndjson` of both builds
 * (each repo's bin/flowdoc.js, after `npm run build` there) and prints the captures whose outputs
 * differ. Exit 0 when all are identical, 1 otherwise. Used when the insides change (the
 * connection table in docs/performance.md, evidence moved from strings to data): the results must not.
 *
 * Options:
 *   --all-formats      also `analyze --format table|markdown|html` of every capture (what a
 *                      person reads: the sentences, not only the JSON)
 *   --scan DIR         also `scan --format table` and `scan --format json` of DIR (repeatable)
 *   --run 'ARGS'       also one run of the given arguments, split on spaces (repeatable), e.g.
 *                      --run 'analyze captures/rst-after-idle/client-any.pcap --logs client=…'
 *   --jobs N           runs at a time (default 2)
 *   --cache FILE       keep the OLD build's digests in FILE, keyed by its commit: comparing
 *                      again against the same old build runs only the new one
 *
 * Every run has NO_COLOR=1, so tables compare without colour codes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const opts = { allFormats: false, scan: [], run: [], jobs: 2, cache: null };
const positional = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--all-formats') opts.allFormats = true;
  else if (a === '--scan') opts.scan.push(argv[++i]);
  else if (a === '--run') opts.run.push(argv[++i]);
  else if (a === '--jobs') opts.jobs = Math.max(1, Number(argv[++i]) || 1);
  else if (a === '--cache') opts.cache = argv[++i];
  else positional.push(a);
}
const [oldRepo, newRepo, ...files] = positional;
if (!oldRepo || !newRepo || (files.length === 0 && opts.scan.length === 0 && opts.run.length === 0)) {
  process.stderr.write('usage: node scripts/compare-builds.mjs [--all-formats] [--scan DIR]… [--run ARGS]… [--jobs N] [--cache FILE] OLD_REPO NEW_REPO CAPTURE…\n');
  process.exit(2);
}

const perCapture = [
  ['analyze', '--format', 'json', '--fail-on', 'none'],
  ['flows', '--format', 'ndjson'],
  ...(opts.allFormats ? ['table', 'markdown', 'html'].map((f) => ['analyze', '--format', f, '--fail-on', 'none']) : []),
];
/** Every run as the argument list it is given. */
const runs = [
  ...files.flatMap((file) => perCapture.map((args) => [...args, file])),
  ...opts.scan.flatMap((dir) => ['table', 'json'].map((f) => ['scan', '--format', f, '--fail-on', 'none', '--jobs', '1', dir])),
  ...opts.run.map((line) => line.split(' ').filter(Boolean)),
];

const commitOf = (repo) => spawnSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
const oldCommit = commitOf(oldRepo);
const cache = opts.cache && existsSync(opts.cache) ? JSON.parse(readFileSync(opts.cache, 'utf8')) : {};
const cached = (cache.commit === oldCommit && cache.digests) || {};

const digest = (repo, args) => new Promise((resolve) => {
  const child = spawn(process.execPath, [join(repo, 'bin/flowdoc.js'), ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'ignore'] });
  const hash = createHash('md5');
  let bytes = 0;
  child.stdout.on('data', (chunk) => { hash.update(chunk); bytes += chunk.length; });
  child.on('close', (code) => resolve({ code, md5: hash.digest('hex'), bytes }));
});

const saveCache = () => writeFileSync(opts.cache, JSON.stringify({ commit: oldCommit, digests: cached }));
let differ = 0, same = 0, next = 0, fresh = 0;
const worker = async () => {
  while (next < runs.length) {
    const args = runs[next++];
    const key = args.join(' ');
    let a = cached[key];
    if (!a) {
      a = cached[key] = await digest(oldRepo, args);
      if (opts.cache && ++fresh % 50 === 0) saveCache(); // a long run cut short keeps what it learnt
    }
    const b = await digest(newRepo, args);
    if (a.code === b.code && a.md5 === b.md5) same++;
    else {
      differ++;
      process.stdout.write(`DIFFERS ${key}: exit ${a.code}/${b.code}, ${a.bytes}/${b.bytes} bytes\n`);
    }
  }
};
await Promise.all(Array.from({ length: opts.jobs }, worker));
if (opts.cache) saveCache();
process.stdout.write(`${same} identical, ${differ} different (${files.length} captures × ${perCapture.length} commands, ${opts.scan.length * 2} scans, ${opts.run.length} other runs)\n`);
process.exit(differ ? 1 : 0);

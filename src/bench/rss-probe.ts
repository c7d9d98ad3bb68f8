/**
 * Preloaded into a measured Node child (`node --import …/rss-probe.js …`) when /usr/bin/time is
 * not installed: at exit it writes the process's peak RSS in KiB to $FLOWDOC_BENCH_RSS_FILE.
 */
import { writeFileSync } from 'node:fs';

const out = process.env.FLOWDOC_BENCH_RSS_FILE;
if (out) {
  process.on('exit', () => {
    // resourceUsage().maxRSS is in KiB, like GNU time's %M.
    writeFileSync(out, String(process.resourceUsage().maxRSS));
  });
}

#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm install` via `prepare`).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    // main() maps every user error to a message; reaching here is a bug in flowdoc itself.
    process.stderr.write(`flowdoc: internal error: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 70;
  },
);

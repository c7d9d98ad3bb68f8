import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { registerAnalyze } from './commands/analyze.js';
import { registerEnvoy } from './commands/envoy.js';
import { registerFlows } from './commands/flows.js';
import { registerInfo } from './commands/info.js';
import { registerLogs } from './commands/logs.js';
import { registerMerge } from './commands/merge.js';
import { registerScan, type ScanCommandDeps } from './commands/scan.js';
import { registerSockets } from './commands/sockets.js';
import { registerWatch } from './commands/watch.js';
import { type Io, UsageError, processIo } from './io.js';

/** Exit codes: 0 ok, 1 findings (for commands that promise that), 2 usage or input error. */
export const EXIT = { OK: 0, FINDINGS: 1, USAGE: 2 } as const;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/**
 * Runs the CLI and returns the exit code. `deps` passes collaborators in (tests give `scan` workers
 * that run from the TypeScript sources). It never throws for user errors: usage mistakes and
 * unreadable input become one line on stderr and exit code 2.
 */
export async function main(argv: string[], io: Io = processIo(), deps: { scan?: ScanCommandDeps } = {}): Promise<number> {
  let exitCode: number = EXIT.OK;
  const setExit = (code: number) => { exitCode = Math.max(exitCode, code); };
  const program = new Command();
  program
    .name('flowdoc')
    .description('Finds the stale long-lived TCP connections behind intermittent 5xx in a service mesh.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run flowdoc --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
    });
  registerAnalyze(program, io, setExit);
  registerFlows(program, io, setExit);
  registerInfo(program, io, setExit);
  registerLogs(program, io, setExit);
  registerScan(program, io, setExit, deps.scan);
  registerMerge(program, io, setExit);
  registerSockets(program, io, setExit);
  registerEnvoy(program, io, setExit);
  registerWatch(program, io, setExit);

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE; // commander already printed the one-line message
    }
    if (err instanceof UsageError) {
      io.stderr(`flowdoc: ${err.message}\n`);
      return EXIT.USAGE;
    }
    throw err;
  }
  return exitCode;
}

// The boilerplate of every program's main.ts: wire process stdio and signals to runCli, set the
// exit code, and exit once the command is done (a library may leave a handle open).
import { readParentPid } from '../config';
import { fleetvisorVersion } from '../version';
import { runCli, type CliEntry, type CliIo } from './cli-framework';

export function processIo(): CliIo {
  const interrupted = new Promise<string>((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    interrupted,
  };
}

/**
 * When started by another Fleetvisor process (FLEETVISOR_PARENT_PID), stop — as if sent SIGTERM —
 * once that parent is gone (then this process is re-parented and its ppid changes).
 */
export function exitWithParent(parentPid: number | undefined, checkEveryMs = 1_000): void {
  if (parentPid === undefined || process.ppid !== parentPid) return;
  const timer = setInterval(() => {
    if (process.ppid !== parentPid) {
      clearInterval(timer);
      process.stderr.write(`parent process ${parentPid} is gone; stopping\n`);
      process.kill(process.pid, 'SIGTERM');
    }
  }, checkEveryMs);
  timer.unref();
}

/** Runs `program` with the process arguments; `--version` prints the Fleetvisor release. */
export function runMain(program: string, commands: readonly CliEntry[], preamble: string, argv = process.argv.slice(2)): void {
  exitWithParent(readParentPid());
  const run =
    argv[0] === '--version' || argv[0] === '-V'
      ? Promise.resolve(process.stdout.write(fleetvisorVersion() + '\n')).then(() => 0)
      : runCli(program, commands, argv, processIo(), preamble);
  run.then(
    (code) => {
      process.exitCode = code;
      setImmediate(() => process.exit(code));
    },
    (e: unknown) => {
      process.stderr.write(`${program}: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}

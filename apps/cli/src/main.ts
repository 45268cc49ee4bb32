// Entry point of the `fleetvisor` command (bin/fleetvisor.js loads this file through SWC).
import 'reflect-metadata';
import { fleetvisorVersion } from '@fleetvisor/platform';
import { runCli, type CommandIo } from './cli-framework';
import { COMMANDS, PREAMBLE } from './commands';

function processIo(): CommandIo {
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

const argv = process.argv.slice(2);
const run = argv[0] === '--version' || argv[0] === '-V' ? Promise.resolve(process.stdout.write(fleetvisorVersion() + '\n')).then(() => 0) : runCli('fleetvisor', COMMANDS, argv, processIo(), PREAMBLE);

run.then(
  (code) => {
    process.exitCode = code;
    // Open handles (pools, sockets) are closed by each command; exit in case a library lingers.
    setImmediate(() => process.exit(code));
  },
  (e: unknown) => {
    process.stderr.write(`fleetvisor: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);

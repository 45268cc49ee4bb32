// Benchmarks run the services as they ship: the compiled `fleetvisor` program (built first), one
// process per service, with the Node flags of the service's start definition.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { environmentWith } from '@fleetvisor/platform';

const ROOT = path.resolve(__dirname, '..', '..');
export const FLEETVISOR_BIN = path.join(ROOT, 'bin', 'fleetvisor.js');

let built = false;

/** Builds what is missing or stale (`npm run build`, cached by Nx). */
export function ensureBuilt(): void {
  if (built) return;
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '--output-style=static'], {
    cwd: ROOT,
    env: environmentWith({ NX_DAEMON: 'false' }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  built = true;
}

/** `node <nodeFlags> bin/fleetvisor.js <args>`: the compiled program, built first. */
export function fleetvisorProcess(args: readonly string[], nodeFlags: readonly string[] = []): { file: string; argv: string[] } {
  ensureBuilt();
  return { file: process.execPath, argv: [...nodeFlags, FLEETVISOR_BIN, ...args] };
}

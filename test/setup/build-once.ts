// e2e tests run what ships: the compiled `bin/fleetvisor.js`. Build (or reuse Nx's cache) once
// before the tier starts, so a changed source file is never tested through a stale dist/.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { environmentWith } from '@fleetvisor/platform';

export default function buildOnce(): void {
  const root = path.resolve(__dirname, '..', '..');
  execFileSync(path.join(root, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'build', '--output-style=static'], {
    cwd: root,
    env: environmentWith({ NX_DAEMON: 'false' }),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

// The Fleetvisor release this process runs (from the workspace package.json), for events and --version.
import { readFileSync } from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

export function fleetvisorVersion(): string {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'fleetvisor' && pkg.version) return (cached = pkg.version);
    } catch {
      // no package.json here: keep walking up
    }
    if (path.dirname(dir) === dir) return (cached = '0.0.0-unknown');
  }
}

// The REST gateway of the `up` demo: its key (local-trust.ts), a port (8080, else any free one),
// and an admin token for the person at the terminal, made once with `fleetvisor token create`
// (the gateway's own command, run by path: apps do not import each other) and kept in the state
// directory (0600) so the next start prints the same one.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, type Logger } from '@fleetvisor/platform';
import { appProcess } from '../app-routes';
import type { ComponentSpec } from './stack';

const run = promisify(execFile);

/** The port if it can be bound on 127.0.0.1 now, else a free one (0: a free one). */
export async function gatewayPort(wanted: number): Promise<number> {
  if (wanted === 0) return freePort();
  const free = await new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(wanted, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  return free ? wanted : freePort();
}

/** The demo's admin token: the one kept in the state directory, else a new one. */
export async function demoAdminToken(stateDir: string, env: NodeJS.ProcessEnv, logger: Logger): Promise<string | undefined> {
  const file = path.join(stateDir, 'gateway-admin.token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  for (const name of ['up-admin', `up-admin-${Date.now().toString(36)}`]) {
    const p = appProcess('gateway', ['token', 'create', '--role', 'admin', '--name', name, '--json']);
    try {
      const { stdout } = await run(p.file, p.argv, { env, timeout: 30_000 });
      const token = (JSON.parse(stdout) as { token: string }).token;
      writeFileSync(file, token + '\n', { mode: 0o600 });
      return token;
    } catch (e) {
      const stderr = String((e as { stderr?: unknown }).stderr ?? (e as Error).message);
      if (!stderr.includes('exists already')) {
        logger.warn({ err: stderr.trim().slice(0, 500) }, 'could not make the demo gateway token');
        return undefined;
      }
    }
  }
  return undefined;
}

export function gatewayComponent(port: number, keyFile: string): ComponentSpec {
  return { name: 'gateway', app: 'gateway', args: ['gateway', 'run'], env: { FLEETVISOR_GATEWAY_LISTEN: `127.0.0.1:${port}`, FLEETVISOR_SIGNING_KEY_FILE: keyFile } };
}

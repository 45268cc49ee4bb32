// The demo's gateway and dashboard: `gateway run` as a component on a fixed local port, and an admin
// token for the operator, made once with `fleetvisor token create` (the gateway app's own command:
// apps do not import each other) and kept in the state directory (0600). The token is never logged:
// up names the file, and the dashboard takes it from the URL fragment (#token=…), which browsers
// never send to a server.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, type Env } from '@fleetvisor/platform';
import { appProcess } from '../app-routes';
import type { ComponentSpec } from './stack';

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

export interface DemoGateway {
  component: ComponentSpec;
  url: string;
  tokenFile: string;
  /** Makes the operator's token if this state directory has none yet (after the migrations ran). */
  ensureToken(): Promise<void>;
}

export function prepareDemoGateway(o: { stateDir: string; port: number; keyFile: string; env: Env }): DemoGateway {
  const tokenFile = path.join(o.stateDir, 'dashboard-token');
  return {
    url: `http://127.0.0.1:${o.port}/`,
    tokenFile,
    component: {
      name: 'gateway',
      app: 'gateway',
      args: ['gateway', 'run'],
      env: { FLEETVISOR_GATEWAY_LISTEN: `127.0.0.1:${o.port}`, FLEETVISOR_SIGNING_KEY_FILE: o.keyFile },
    },
    async ensureToken() {
      if (existsSync(tokenFile) && readFileSync(tokenFile, 'utf8').trim() !== '') return;
      // A name of its own per state directory's life: a dropped file never clashes with an old token.
      const name = `up-operator-${Math.floor(Date.now() / 1000)}`;
      const { file, argv } = appProcess('gateway', ['token', 'create', '--role', 'admin', '--name', name, '--json']);
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(file, argv, { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.once('error', reject);
        child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`fleetvisor token create failed (exit ${code}): ${stderr.trim().slice(-500)}`))));
      });
      const { token } = JSON.parse(out.trim().split('\n').at(-1)!) as { token: string };
      writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
    },
  };
}

// `services list` with no runner for the home asked: the error names that home and its control
// socket, how to reach the `fleetvisor up` demo host (under FLEETVISOR_UP_STATE_DIR, default
// ~/.fleetvisor-up) and --fleet.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, inheritedEnvironment } from '@fleetvisor/testing';

const CLI = path.resolve(__dirname, '../../../../bin/fleetvisor.js');

let base: string;
let env: Record<string, string>;

function cli(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  base = mkdtempSync(path.join(tmpdir(), 'fv-services-cli-'));
  const closed = await freePort();
  env = {
    PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
    HOME: base,
    FLEETVISOR_NATS_URL: `nats://127.0.0.1:${closed}`,
    FLEETVISOR_HOST: 'services-e2e-host',
    FLEETVISOR_LOG_FORMAT: 'json',
    FLEETVISOR_LOG_LEVEL: 'info',
  };
});

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('services list with no runner for the home', () => {
  it('names the home and socket it looked at, the up demo host (default state directory) and --fleet', async () => {
    const dir = path.join(base, 'elsewhere');
    const r = await cli(['services', 'list', '--directory', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`no runner is running on this host for home ${dir}/.fleetvisor, control socket ${dir}/.fleetvisor/`);
    expect(r.stderr).toContain(`for the \`fleetvisor up\` demo host use --directory ${base}/.fleetvisor-up/demo-host`);
    expect(r.stderr).toContain('FLEETVISOR_UP_STATE_DIR');
    expect(r.stderr).toContain('--fleet');
    expect(r.stderr).not.toContain('"level"');
  }, 30_000);

  it('takes the demo host from FLEETVISOR_UP_STATE_DIR when set', async () => {
    const up = path.join(base, 'up-state');
    const r = await cli(['services', 'list'], { FLEETVISOR_UP_STATE_DIR: up });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no runner is running on this host for home ${base}/.fleetvisor,`);
    expect(r.stderr).toContain(`--directory ${up}/demo-host`);
  }, 30_000);
});

// `fleetvisor install-systemd service-runner` writes a unit that systemd accepts (systemd-analyze verify), and `fleetvisor wrap` supervises one process for containers.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor, inheritedEnvironment, testTrust } from '@fleetvisor/testing';
import { providerConfigYaml, writeFakeLavap } from '@fleetvisor/devnet';
import { freePort } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const dir = mkdtempSync(path.join(tmpdir(), 'fv-systemd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = {
  PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
  // A database setting left in the operator's environment must not reach the unit: hosts hold none.
  FLEETVISOR_DATABASE_URL: 'postgres://fleet:pg-s3cret@127.0.0.1:1/none',
  FLEETVISOR_NATS_URL: 'nats://127.0.0.1:1',
  FLEETVISOR_NATS_USER: 'runner-unit-host',
  FLEETVISOR_NATS_PASSWORD: 's3cret',
  FLEETVISOR_HOST: 'unit-host',
  FLEETVISOR_LOG_FORMAT: 'json',
};

describe('install-systemd', () => {
  it('writes a unit that passes systemd-analyze verify, with credentials only in a 0600 environment file', () => {
    const unitFile = path.join(dir, 'fleetvisor-runner.service');
    const r = spawnSync(process.execPath, [CLI, 'install-systemd', 'service-runner', '--directory', dir, '--output', unitFile, '--user', 'lava', '--read-write', path.join(dir, 'lava-home')], { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const unit = readFileSync(unitFile, 'utf8');
    // One process, compiled: node runs the same `fleetvisor` program, which is the runner itself.
    expect(unit).toMatch(new RegExp(`^ExecStart=/\\S+ --max-semi-space-size=1 ${CLI.replace(/[.]/g, '\\.')} start --directory `, 'm'));
    // The services outlive a restart of the runner (live-restore, ADR 0007).
    expect(unit).toContain('KillMode=process');
    // Hardened like every unit, with the home and the services' own directories writable.
    expect(unit).toContain('ProtectSystem=strict');
    expect(unit).toContain(`ReadWritePaths=${path.join(dir, '.fleetvisor')}`);
    expect(unit).toContain(`ReadWritePaths=${path.join(dir, 'lava-home')}`);
    expect(unit).toContain('User=lava');
    expect(unit).not.toContain('s3cret');
    const envFile = path.join(dir, '.fleetvisor', 'runner.env');
    const envText = readFileSync(envFile, 'utf8');
    expect(envText).toContain('FLEETVISOR_NATS_PASSWORD="s3cret"');
    expect(envText).not.toContain('FLEETVISOR_DATABASE');
    expect(envText).not.toContain('pg-s3cret');
    expect(statSync(envFile).mode & 0o077).toBe(0);
    const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((f) => existsSync(f));
    expect(analyze, 'systemd-analyze is needed to check the unit (Debian package systemd; .ci/run installs it)').toBeDefined();
    const v = spawnSync(analyze!, ['verify', unitFile], { encoding: 'utf8' });
    expect(v.status, v.stderr + v.stdout).toBe(0);
  });
});

describe('wrap', () => {
  it('supervises one process with the log and the bus unreachable, echoes its output, restarts it, stops it on SIGTERM', async () => {
    const bin = writeFakeLavap(path.join(dir, 'bin'), { version: '0.9.0' });
    const port = await freePort();
    const cfg = path.join(dir, 'p.yml');
    writeFileSync(cfg, providerConfigYaml('LAV1', `127.0.0.1:${port}`));
    const child = spawn(process.execPath, [CLI, 'wrap', '--directory', dir, '--cmd', `${bin} rpcprovider ${cfg} --from p1`], {
      // A wrapped process's runner still verifies the commands it serves: it needs the fleet's root.
      env: { ...env, FLEETVISOR_TRUST_ROOT_FILE: testTrust().rootFile, FLEETVISOR_RUNNER_RESTART_INITIAL: '100ms' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const pidFile = path.join(dir, '.fleetvisor', 'state', 'wrapped-lavap.pid');
    await waitFor(() => out.includes(`listening on 127.0.0.1:${port}`) && existsSync(pidFile), { timeoutMs: 30_000, message: out });
    const first = (JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number }).pid;
    process.kill(first, 'SIGKILL');
    await waitFor(() => existsSync(pidFile) && (JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number }).pid !== first, { timeoutMs: 15_000 });
    const second = (JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number }).pid;
    await waitFor(() => out.split(`listening on 127.0.0.1:${port}`).length === 3, { timeoutMs: 15_000, message: 'restarted child listening' });
    expect(readFileSync(path.join(dir, '.fleetvisor', 'logs', 'wrapped-lavap.log'), 'utf8')).toContain('starting');
    // NATS (so the event intake) is unreachable here: the events (started, exited, restarted, started) wait in the spool.
    expect(readdirSync(path.join(dir, '.fleetvisor', 'spool')).filter((f) => f.endsWith('.json')).length).toBeGreaterThanOrEqual(4);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(() => process.kill(second, 0)).toThrow();
    expect(out).toContain('SIGTERM: shutting down');
  });
});

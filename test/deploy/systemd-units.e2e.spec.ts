// `fleetvisor install-systemd <service>` for every service (issue 17): each unit passes
// `systemd-analyze verify`, scores within the exposure level docs/deployment.md states in
// `systemd-analyze security --offline=true`, runs the compiled program as a dedicated user, and keeps
// credentials in a 0600 environment file the unit only names.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inheritedEnvironment } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const dir = mkdtempSync(path.join(tmpdir(), 'fv-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((f) => existsSync(f));
const env = {
  PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
  FLEETVISOR_NATS_URL: 'nats://10.0.0.1:4222',
  FLEETVISOR_NATS_USER: 'unit-user',
  FLEETVISOR_NATS_PASSWORD: 'unit-s3cret',
  FLEETVISOR_DATABASE_URL: 'postgres://fleet@10.0.0.2/fleetvisor',
  FLEETVISOR_LOG_FORMAT: 'json',
};

/** Exposure levels stated in docs/deployment.md ("systemd units"). */
const CENTRAL_MAX_EXPOSURE = 1.5;
const RUNNER_MAX_EXPOSURE = 1.5;

function fleetvisor(args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', cwd: dir });
}

function exposure(unitFile: string): number {
  const r = spawnSync(analyze!, ['security', '--offline=true', unitFile], { encoding: 'utf8' });
  const m = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(r.stdout + r.stderr);
  expect(m, r.stdout + r.stderr).not.toBeNull();
  return Number(m![1]);
}

function verify(unitFile: string): void {
  const v = spawnSync(analyze!, ['verify', unitFile], { encoding: 'utf8' });
  expect(v.status, v.stderr + v.stdout).toBe(0);
}

describe('install-systemd <service>', () => {
  it('has systemd-analyze to check the units with (Debian package systemd; .ci/run installs it)', () => {
    expect(analyze).toBeDefined();
  });

  for (const [service, extra] of [
    ['chain-watcher', []],
    ['worker-registry', []],
    ['stats-collector', []],
    ['gateway', []],
    ['worker-agent', ['--instance', 'w-01']],
  ] as const) {
    it(`${service}: a verified, hardened unit; settings only in the 0600 environment file`, () => {
      const name = extra.length ? `${service}-w-01` : service;
      const unitFile = path.join(dir, `fleetvisor-${name}.service`);
      const envFile = path.join(dir, 'etc', `${name}.env`);
      const r = fleetvisor(['install-systemd', service, ...extra, '--environment-file', envFile, '--write-env', '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ unit: unitFile, unitName: `fleetvisor-${name}.service`, environmentFile: envFile, environmentFileWritten: true });
      const unit = readFileSync(unitFile, 'utf8');
      expect(unit).toMatch(new RegExp(`^ExecStart=${process.execPath.replace(/[.]/g, '\\.')} (\\S+ )*${CLI.replace(/[.]/g, '\\.')} ${service} run$`, 'm'));
      expect(unit).toContain('User=fleetvisor');
      expect(unit).toContain(`EnvironmentFile=${envFile}`);
      expect(unit).not.toContain('unit-s3cret');
      expect(readFileSync(envFile, 'utf8')).toContain('FLEETVISOR_NATS_PASSWORD="unit-s3cret"');
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      verify(unitFile);
      expect(exposure(unitFile)).toBeLessThanOrEqual(CENTRAL_MAX_EXPOSURE);
    });
  }

  it('keeps an existing environment file unless --force, and names what is wrong', () => {
    const envFile = path.join(dir, 'etc', 'keep.env');
    expect(fleetvisor(['install-systemd', 'chain-watcher', '--environment-file', envFile, '--write-env', '--output', path.join(dir, 'k.service')]).status).toBe(0);
    const again = fleetvisor(['install-systemd', 'chain-watcher', '--environment-file', envFile, '--write-env', '--output', path.join(dir, 'k.service')]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain(`${envFile} exists`);
    const none = fleetvisor(['install-systemd']);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('name the service: service-runner, chain-watcher');
    const unknown = fleetvisor(['install-systemd', 'nope']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown service "nope"');
    const agent = fleetvisor(['install-systemd', 'worker-agent']);
    expect(agent.status).toBe(2);
    expect(agent.stderr).toContain('--instance');
  });

  it('service-runner: the runner app writes its unit for a home, hardened within its stated level', () => {
    const unitFile = path.join(dir, 'fleetvisor-runner.service');
    const r = fleetvisor(['install-systemd', 'service-runner', '--directory', path.join(dir, 'runner'), '--output', unitFile, '--user', 'lava']);
    expect(r.status, r.stderr).toBe(0);
    const unit = readFileSync(unitFile, 'utf8');
    expect(unit).toMatch(/ start --directory /);
    verify(unitFile);
    expect(exposure(unitFile)).toBeLessThanOrEqual(RUNNER_MAX_EXPOSURE);
    // Run as root without --user, it refuses to write a root unit.
    const asRoot = spawnSync(process.execPath, [CLI, 'install-systemd', 'service-runner', '--directory', path.join(dir, 'runner'), '--output', unitFile], { env, encoding: 'utf8' });
    if (process.getuid?.() === 0) {
      expect(asRoot.status).toBe(2);
      expect(asRoot.stderr).toContain('never root');
    } else expect(asRoot.status).toBe(0);
  });
});

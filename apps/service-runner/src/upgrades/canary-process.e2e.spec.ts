// One canary run with real processes (ADR 0008): beside a "live service" holding the service's own
// port, the quarantined binary starts on a config copy moved to spare ports, a file-keyring
// provider gets the stored password from the runner through its prompt (never in an argument, the
// environment or the canary's log), and it is judged, stopped and cleaned up; a binary that exits
// at start is judged unhealthy with the reason.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerConfigYaml, sha256Hex, writeFakeLavap } from '@fleetvisor/devnet';
import { freePort } from '@fleetvisor/testing';
import type { ServiceDefinition } from '../home/runner-home';
import { ProcessCanary, type CanaryRun } from './canary-process';

const PASSWORD = 'Pw-canary-4d1e';
const dir = mkdtempSync(path.join(tmpdir(), 'fv-canary-proc-'));
const workDir = path.join(dir, 'tmp');
const logs = path.join(dir, 'logs');
const state = path.join(dir, 'state');
let live: Server;
let livePort: number;
let def: ServiceDefinition;

const canary = new ProcessCanary({ workDir, logFile: (s) => path.join(logs, `${s}.canary.log`), pidFile: (s) => path.join(state, `${s}.canary.pid`), logger: pino({ level: 'silent' }) });
const run = (binaryPath: string): Omit<CanaryRun, 'binaryPath'> & { binaryPath: string } => ({
  service: 'provider1-LAV1',
  version: '0.3.0',
  binaryPath,
  def,
  env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
  password: () => PASSWORD,
  probe: 'tcp',
  stableMs: 800,
  timeoutMs: 5_000,
  stopGraceMs: 2_000,
});

beforeAll(async () => {
  for (const d of [logs, state]) mkdirSync(d, { recursive: true });
  // The running service, on the service's own port: the canary must not need it.
  livePort = await freePort();
  live = createServer((s) => s.end('live 0.2.0\n'));
  await new Promise<void>((r) => live.listen(livePort, '127.0.0.1', () => r()));
  const configPath = path.join(dir, 'provider1-LAV1.yml');
  writeFileSync(configPath, providerConfigYaml('LAV1', `127.0.0.1:${livePort}`));
  def = {
    name: 'provider1-LAV1',
    role: 'provider',
    binary: 'lavap',
    configPath,
    args: ['rpcprovider', configPath, '--from', 'provider1', '--keyring-backend', 'file', '--chain-id', 'lava-1'],
    networkAddress: `127.0.0.1:${livePort}`,
    keyringPassword: true,
  };
});

afterAll(async () => {
  await new Promise((r) => live?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('ProcessCanary', () => {
  it('starts the binary beside the live service on spare ports, feeds the keyring password, judges it healthy, stops it and cleans up', async () => {
    const bin = writeFakeLavap(path.join(dir, 'v0.3.0'), { version: '0.3.0', passwordSha256: sha256Hex(PASSWORD) });
    const r = await canary.run(run(bin));
    expect(r).toMatchObject({ ok: true, reason: expect.stringMatching(/^up 800 ms and answered TCP on 127\.0\.0\.1:\d+$/) });
    expect(r.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(r.address).not.toBe(`127.0.0.1:${livePort}`);
    const log = readFileSync(path.join(logs, 'provider1-LAV1.canary.log'), 'utf8');
    expect(log).toContain('keyring unlocked');
    expect(log).toContain(`listening on ${r.address}`);
    expect(log).toContain('SIGTERM: shutting down'); // stopped by the runner after the verdict
    expect(log).not.toContain(PASSWORD);
    // The live service was never touched; nothing of the canary is left.
    expect(readdirSync(workDir)).toEqual([]);
    expect(existsSync(path.join(state, 'provider1-LAV1.canary.pid'))).toBe(false);
    expect(readFileSync(def.configPath, 'utf8')).toContain(`127.0.0.1:${livePort}`);
  });

  it('a binary that exits at start is unhealthy, with why', async () => {
    const bin = writeFakeLavap(path.join(dir, 'v0.3.0-bad'), { version: '0.3.0', behaviour: 'crash-at-start' });
    const r = await canary.run(run(bin));
    expect(r).toMatchObject({ ok: false, stage: 'start', reason: expect.stringMatching(/exited with code 1/) });
    expect(readFileSync(path.join(logs, 'provider1-LAV1.canary.log'), 'utf8')).toContain('panic: fake crash at start');
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('a binary that never listens fails the probe on its spare address', async () => {
    const bin = writeFakeLavap(path.join(dir, 'v0.3.0-deaf'), { version: '0.3.0', behaviour: 'no-listen' });
    const r = await canary.run({ ...run(bin), timeoutMs: 1_500 });
    expect(r).toMatchObject({ ok: false, stage: 'health', reason: expect.stringMatching(/^no TCP answer on 127\.0\.0\.1:\d+ within 1500 ms/) });
  });
});

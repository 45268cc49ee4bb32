// The compiled program against a NATS server that requires a password: a service and the CLI
// connect with FLEETVISOR_NATS_USER / FLEETVISOR_NATS_PASSWORD_FILE; with a wrong password the CLI
// fails naming the variables, and the secret appears nowhere in what it prints.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  credentialsDir,
  expectEventually,
  fleetvisorEnv,
  natsUserPasswordConfig,
  startPrivateNats,
  testBusNames,
  type PrivateNats,
  type TestDatabase,
} from '@fleetvisor/testing';

const BIN = path.resolve(__dirname, '..', 'bin', 'fleetvisor.js');
const password = 'pw-' + Math.random().toString(36).slice(2);
const secrets = credentialsDir();
const bus = testBusNames();
let nats: PrivateNats;
let db: TestDatabase;
let registry: ChildProcess | undefined;
let env: NodeJS.ProcessEnv;

describe('credentials, end to end (compiled)', () => {
  beforeAll(async () => {
    [nats, db] = await Promise.all([startPrivateNats({ config: natsUserPasswordConfig('fleet', password), jetstream: true }), createTestDatabase('fvt_creds')]);
    const passwordFile = path.join(secrets.dir, 'nats-password');
    writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
    env = {
      ...fleetvisorEnv({ databaseUrl: db.url, bus }),
      FLEETVISOR_NATS_URL: nats.url,
      FLEETVISOR_NATS_USER: 'fleet',
      FLEETVISOR_NATS_PASSWORD_FILE: passwordFile,
    } as NodeJS.ProcessEnv;
    // Streams belong to migrate (services only check them): it runs with the same credentials.
    const migrate = spawnSync(process.execPath, [BIN, 'migrate'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(migrate.status, migrate.stderr).toBe(0);
  });

  afterAll(async () => {
    registry?.kill('SIGKILL');
    await nats?.stop();
    await db?.drop();
    secrets.remove();
  });

  it('a service and the CLI work with the configured credentials; a wrong password is refused by name, never shown', async () => {
    registry = spawn(process.execPath, [BIN, 'worker-registry', 'run'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    registry.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await expectEventually(() => expect(err).toMatch(/worker-registry: serving on/), { timeoutMs: 60_000 });
    const list = await expectEventually(() => {
      const r = spawnSync(process.execPath, [BIN, 'worker', 'list', '--json'], { env, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      return r;
    });
    expect(JSON.parse(list.stdout)).toEqual({ workers: [] });

    const wrong = spawnSync(process.execPath, [BIN, 'worker', 'list'], { env: { ...env, FLEETVISOR_NATS_PASSWORD_FILE: undefined, FLEETVISOR_NATS_PASSWORD: 'not-the-password' }, encoding: 'utf8', timeout: 30_000 });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/FLEETVISOR_NATS_USER \/ FLEETVISOR_NATS_PASSWORD/);
    expect(wrong.stderr + wrong.stdout).not.toContain('not-the-password');
    expect(err).not.toContain(password);
  });
});

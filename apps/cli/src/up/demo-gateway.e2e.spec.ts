// `fleetvisor up` starts the REST gateway and logs the dashboard URL and the file of an admin token
// for the demo (never the token itself); the token works (the demo's workers are listed, a pause is
// recorded with the token's name), and a second start keeps the same token.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, testBusNames, type TestDatabase } from '@fleetvisor/testing';

const BIN = path.resolve(__dirname, '../../../../bin/fleetvisor.js');
const bus = testBusNames();
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let stateDir: string;
let up: ChildProcess | undefined;

async function startUp(): Promise<{ url: string; token: string; stop(): Promise<number | null> }> {
  let err = '';
  up = spawn(process.execPath, [BIN, 'up', '--json', '--no-devnet', '--no-runner', '--workers', '1', '--gateway-port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  up.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const m = await expectEventually(
    () => {
      const url = /"dashboard":"(http:\/\/127\.0\.0\.1:\d+)\/"/.exec(err)?.[1];
      const tokenFile = /"tokenFile":"([^"]+)"/.exec(err)?.[1];
      expect(url, err.slice(-2000)).toBeDefined();
      const token = readFileSync(tokenFile!, 'utf8').trim();
      expect(token).toMatch(/^fvt_[A-Za-z0-9_-]{43}$/);
      // The log names the file; the secret itself never reaches it.
      expect(err).not.toContain(token);
      return [err, url!, token] as const;
    },
    { timeoutMs: 90_000 },
  );
  const child = up;
  return {
    url: m[1]!,
    token: m[2]!,
    stop: async () => {
      child.kill('SIGINT');
      return new Promise((resolve) => child.once('exit', (c) => resolve(c)));
    },
  };
}

beforeAll(async () => {
  db = await createTestDatabase('fvt_upgw');
  stateDir = mkdtempSync(path.join(tmpdir(), 'fvt-up-gateway-'));
  env = { ...fleetvisorEnv({ databaseUrl: db.url, bus }), FLEETVISOR_HOST: 'upgw-host', FLEETVISOR_UP_STATE_DIR: stateDir } as NodeJS.ProcessEnv;
});

afterAll(async () => {
  if (up && up.exitCode === null) {
    up.kill('SIGINT');
    await new Promise((resolve) => up!.once('exit', resolve));
  }
  await db?.drop().catch(() => undefined);
  await deleteTestStreams(bus);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('fleetvisor up and the gateway', () => {
  it('logs the dashboard URL and the file of an admin token that works; the next start keeps the same token', async () => {
    const first = await startUp();
    const auth = { authorization: `Bearer ${first.token}` };
    await expectEventually(
      async () => {
        const r = await fetch(`${first.url}/api/v1/workers`, { headers: auth });
        expect(r.status).toBe(200);
        expect(((await r.json()) as { workers: { name: string }[] }).workers.map((w) => w.name)).toContain('sim-worker-01');
      },
      { timeoutMs: 60_000 },
    );
    const paused = await fetch(`${first.url}/api/v1/workers/sim-worker-01/threads/0/pause`, { method: 'POST', headers: auth });
    expect(paused.status, await paused.clone().text()).toBe(200);
    await expectEventually(async () => {
      const r = await fetch(`${first.url}/api/v1/events?stream=worker-sim-worker-01&type=ThreadPaused`, { headers: auth });
      const body = (await r.json()) as { events: { metadata: { actor?: string } }[] };
      expect(body.events.map((e) => e.metadata.actor ?? '')).toContainEqual(expect.stringMatching(/^gateway@up\/token:up-operator-\d+$/));
    });
    expect(statSync(path.join(stateDir, 'dashboard-token')).mode & 0o777).toBe(0o600);
    expect(await first.stop()).toBe(0);
    const second = await startUp();
    expect(second.token).toBe(first.token);
    expect(await second.stop()).toBe(0);
  });
});

// `fleetvisor up` without --json, as a person runs it with its output piped: readable lines, the
// events an operator watches, a fleet summary, and not the flood of thread state changes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, expectEventually, fleetvisorEnv, testBusNames, type TestDatabase, deleteTestStreams } from '@fleetvisor/testing';

const BIN = path.resolve(__dirname, '../../../../bin/fleetvisor.js');
const bus = testBusNames();
let db: TestDatabase | undefined;
let up: ChildProcess | undefined;

describe('fleetvisor up, live view (compiled)', () => {
  afterAll(async () => {
    if (up && up.exitCode === null) {
      up.kill('SIGINT');
      await new Promise((resolve) => up!.once('exit', resolve));
    }
    await db?.drop().catch(() => undefined);
    await deleteTestStreams(bus);
  });

  it('prints what an operator watches and a fleet summary, readable, without the thread-state flood', async () => {
    db = await createTestDatabase('fvt_live');
    const env = { ...fleetvisorEnv({ databaseUrl: db.url, bus }), FLEETVISOR_LOG_FORMAT: 'auto', FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0', FLEETVISOR_UP_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'fvt-live-up-')) };
    up = spawn(process.execPath, [BIN, 'up', '--devnet-port', '0', '--gateway-port', '0', '--workers', '1', '--no-runner', '--block-time', '300ms', '--summary-every', '1s'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    up.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    up.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await expectEventually(() => expect(out).toMatch(/^\d\d:\d\d:\d\d {2}VersionChanged\s+lava-testnet-2 at height \d+: provider/m), { timeoutMs: 90_000 });
    await expectEventually(() => expect(out).toMatch(/^\d\d:\d\d:\d\d {2}WorkerRegistered\s+sim-worker-01/m), { timeoutMs: 90_000 });
    // The simulated worker's threads move every few seconds: they are counted into the summary.
    await expectEventually(() => expect(out).toMatch(/^fleet: chain lava-testnet-2 \S+ \| 1 worker \| 0 services \| \d+ more events?: .*ThreadStateChanged/m), { timeoutMs: 90_000 });
    expect(out).not.toMatch(/^\S+\s+ThreadStateChanged/m);
    expect(out).not.toMatch(/^\{/m);
    // Logs on stderr are lines for people, not JSON, when nobody asked for JSON.
    expect(err).toMatch(/Fleetvisor backbone is up/);
    expect(err).not.toMatch(/^\{"level"/m);
    up.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => up!.once('exit', (c) => resolve(c)));
    expect(code, err.slice(-2000)).toBe(0);
  });
});

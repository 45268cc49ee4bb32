// `fleetvisor up` started again: after kill -9 of up (which cannot stop its tree), the demo host's
// lavap processes stay behind holding their ports; the next up stops them, keeps the demo host it
// made before, and runs it again. A second up on the same state directory while one runs is refused,
// and `--reset` starts clean.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, expectEventually, fleetvisorEnv, processAlive, testBusNames, type TestDatabase, deleteTestStreams } from '@fleetvisor/testing';
import { findLeftovers } from './leftovers';

const BIN = path.resolve(__dirname, '../../../../bin/fleetvisor.js');
const bus = testBusNames();
const stateDir = mkdtempSync(path.join(tmpdir(), 'fvt-up-restart-'));
let db: TestDatabase | undefined;
const ups: ChildProcess[] = [];

function startUp(env: NodeJS.ProcessEnv, extra: string[] = []): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(process.execPath, [BIN, 'up', '--json', '--devnet-port', '0', '--gateway-port', '0', '--workers', '0', '--block-time', '300ms', ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  ups.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, out: () => out, err: () => err };
}

const started = (out: string) => out.split('\n').filter((l) => l.includes('"type":"ServiceStarted"'));

describe('fleetvisor up, started again (compiled)', () => {
  afterAll(async () => {
    for (const u of ups) if (u.exitCode === null) u.kill('SIGKILL');
    for (const p of findLeftovers(stateDir)) process.kill(p.pid, 'SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
    await db?.drop().catch(() => undefined);
    await deleteTestStreams(bus);
  });

  it('stops what a killed up left running, keeps its demo host, refuses a second up on the same state, and --reset starts clean', async () => {
    db = await createTestDatabase('fvt_uprestart');
    const env = { ...fleetvisorEnv({ databaseUrl: db.url, bus }), FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0', FLEETVISOR_UP_STATE_DIR: stateDir } as NodeJS.ProcessEnv;

    const first = startUp(env);
    await expectEventually(() => expect(started(first.out())).toHaveLength(2), { timeoutMs: 90_000 });
    const lavaps = await expectEventually(() => {
      const found = findLeftovers(stateDir).filter((p) => / rpc(provider|consumer) /.test(p.command));
      expect(found).toHaveLength(2);
      return found;
    });

    // While it runs, the same state directory is refused to a second up.
    const second = spawnSync(process.execPath, [BIN, 'up', '--backbone-only'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`another fleetvisor up \\(pid ${first.child.pid}\\) is using ${stateDir.replace(/[.]/g, '\\.')}`));
    expect(lavaps.every((p) => processAlive(p.pid))).toBe(true);

    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    // Nothing of the dead up stops them: they still run, holding their ports.
    expect(lavaps.every((p) => processAlive(p.pid))).toBe(true);

    const again = startUp(env);
    await expectEventually(() => expect(again.err()).toMatch(/stopped processes an earlier fleetvisor up left running/), { timeoutMs: 60_000 });
    await expectEventually(() => expect(lavaps.some((p) => processAlive(p.pid))).toBe(false), { timeoutMs: 10_000 });
    await expectEventually(() => expect(started(again.out())).toHaveLength(2), { timeoutMs: 90_000 });
    expect(again.err()).toMatch(/demo host kept from an earlier start/);
    again.child.kill('SIGINT');
    expect(await new Promise<number | null>((resolve) => again.child.once('exit', (c) => resolve(c)))).toBe(0);
    expect(existsSync(path.join(stateDir, 'up.pid')), 'a clean stop gives the state directory back').toBe(false);

    const reset = startUp(env, ['--reset']);
    await expectEventually(() => expect(reset.err()).toMatch(/reset: starting clean/), { timeoutMs: 60_000 });
    await expectEventually(() => expect(started(reset.out())).toHaveLength(2), { timeoutMs: 90_000 });
    expect(reset.err()).not.toMatch(/demo host kept from an earlier start/);
    // The log starts over too: only this start's services are in it, not the four before.
    const log = spawnSync(process.execPath, [BIN, 'events', 'tail', '--from', 'beginning', '--once', '--type', 'ServiceStarted', '--json'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(log.status, log.stderr).toBe(0);
    expect(log.stdout.trim().split('\n').filter((l) => l.includes('"type":"ServiceStarted"'))).toHaveLength(2);
    reset.child.kill('SIGINT');
    expect(await new Promise<number | null>((resolve) => reset.child.once('exit', (c) => resolve(c)))).toBe(0);
  });
});

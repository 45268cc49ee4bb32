// A second `fleetvisor up` after a walk-through: its local chain continues where the log left it
// (not at genesis, below heights already on the record), so a version change made in the second run
// is recorded at once, after the first run's, at a higher height.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, expectEventually, fleetvisorEnv, testBusNames, type TestDatabase, deleteTestStreams } from '@fleetvisor/testing';

const BIN = path.resolve(__dirname, '../../../../bin/fleetvisor.js');
const bus = testBusNames();
const stateDir = mkdtempSync(path.join(tmpdir(), 'fvt-up-chain-'));
let db: TestDatabase | undefined;
const ups: ChildProcess[] = [];

function startUp(env: NodeJS.ProcessEnv): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(process.execPath, [BIN, 'up', '--json', '--devnet-port', '0', '--gateway-port', '0', '--workers', '0', '--no-runner', '--block-time', '200ms'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  ups.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, out: () => out, err: () => err };
}

const versionChanges = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.includes('"type":"VersionChanged"'))
    .map((l) => (JSON.parse(l) as { data: { height: number; current: { providerTarget: string } } }).data);

function setVersion(env: NodeJS.ProcessEnv, rpc: string, v: string): void {
  const r = spawnSync(process.execPath, [BIN, 'devnet', 'set-version', '--node', rpc, '--provider-target', v, '--provider-min', '0.20.0', '--consumer-target', v, '--consumer-min', '0.20.0'], { env, encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
}

describe('fleetvisor up, the local chain across starts (compiled)', () => {
  afterAll(async () => {
    for (const u of ups) if (u.exitCode === null) u.kill('SIGKILL');
    rmSync(stateDir, { recursive: true, force: true });
    await db?.drop().catch(() => undefined);
    await deleteTestStreams(bus);
  });

  it("continues the chain of the log, and records a change of the second run after the first run's", async () => {
    db = await createTestDatabase('fvt_upchain');
    const env = { ...fleetvisorEnv({ databaseUrl: db.url, bus }), FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0', FLEETVISOR_UP_STATE_DIR: stateDir } as NodeJS.ProcessEnv;
    const rpcOf = (err: string) => /"rpc":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(err)?.[1];

    const first = startUp(env);
    await expectEventually(() => expect(versionChanges(first.out())).toHaveLength(1), { timeoutMs: 90_000 });
    setVersion(env, rpcOf(first.err())!, '0.22.1');
    await expectEventually(() => expect(versionChanges(first.out()).map((c) => c.current.providerTarget)).toEqual(['0.21.0', '0.22.1']), { timeoutMs: 60_000 });
    const firstTop = versionChanges(first.out())[1]!.height;
    first.child.kill('SIGINT');
    expect(await new Promise<number | null>((resolve) => first.child.once('exit', (c) => resolve(c)))).toBe(0);

    const second = startUp(env);
    await expectEventually(() => expect(second.err()).toMatch(/local chain \(devnet\) continues where the log left it/), { timeoutMs: 90_000 });
    await expectEventually(() => expect(rpcOf(second.err())).toBeDefined(), { timeoutMs: 30_000 });
    setVersion(env, rpcOf(second.err())!, '0.23.0');
    await expectEventually(() => expect(versionChanges(second.out()).map((c) => c.current.providerTarget)).toContain('0.23.0'), { timeoutMs: 60_000 });
    const history = spawnSync(process.execPath, [BIN, 'chain', 'versions', '--chain-id', 'lava-testnet-2', '--json'], { env, encoding: 'utf8', timeout: 30_000 });
    expect(history.status, history.stderr).toBe(0);
    const recorded = JSON.stringify(JSON.parse(history.stdout));
    expect(recorded.indexOf('0.22.1')).toBeLessThan(recorded.indexOf('0.23.0'));
    const last = versionChanges(second.out()).find((c) => c.current.providerTarget === '0.23.0')!;
    expect(last.height).toBeGreaterThan(firstTop);
    second.child.kill('SIGINT');
    expect(await new Promise<number | null>((resolve) => second.child.once('exit', (c) => resolve(c)))).toBe(0);
  });
});

// `fleetvisor up` runs the stats part: the stats-collector, metering proxies in front of the
// simulated venus node, simulated callers with their tokens; `fleetvisor stats calls` shows their
// curves within a minute of start. And the proving part: a Filecoin chain whose miner t01001
// develops a fault the chain-watcher records (compiled programs).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandResultOf, StatsCalls } from '@fleetvisor/contracts';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, testBusNames, type TestDatabase } from '@fleetvisor/testing';

const BIN = path.resolve(__dirname, '../../../../bin/fleetvisor.js');
const bus = testBusNames();
let db: TestDatabase | undefined;
let up: ChildProcess | undefined;

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('fleetvisor up: API-call statistics and the proving watch (compiled)', () => {
  afterAll(async () => {
    if (up && up.exitCode === null) {
      up.kill('SIGINT');
      await new Promise((resolve) => up!.once('exit', resolve));
    }
    await db?.drop().catch(() => undefined);
    await deleteTestStreams(bus);
  });

  it("shows the simulated callers of the venus node and of venus-messager within a minute, and t01001's fault on the record", async () => {
    db = await createTestDatabase('fvt_stats_up');
    const env = { ...fleetvisorEnv({ databaseUrl: db.url, bus }), FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0', FLEETVISOR_UP_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'fvt-stats-up-')) };
    up = spawn(process.execPath, [BIN, 'up', '--devnet-port', '0', '--gateway-port', '0', '--workers', '1', '--no-runner', '--no-tail'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    up.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-5000)));
    const started = Date.now();
    await expectEventually(
      async () => {
        expect(up!.exitCode, err).toBeNull();
        const r = await cli(['stats', 'calls', '--by', 'caller', '--since', '10m', '--json'], env);
        expect(r.code, r.stderr).toBe(0);
        const calls = JSON.parse(r.stdout) as CommandResultOf<typeof StatsCalls>;
        expect(calls.series.map((s) => s.key).sort()).toEqual(['t01000-sealer', 't01000-wallet', 't01001-sealer', 't01002-sealer']);
      },
      { timeoutMs: 90_000, intervalMs: 2_000 },
    );
    expect(Date.now() - started).toBeLessThan(90_000);
    const r = await cli(['stats', 'calls', '--component', 'venus-messager', '--by', 'method', '--since', '10m', '--json'], env);
    const byMethod = JSON.parse(r.stdout) as CommandResultOf<typeof StatsCalls>;
    expect(byMethod.series.map((s) => s.key).sort()).toEqual(['Filecoin.MpoolPushMessage', 'Filecoin.StateSearchMsg']);

    // The proving watch: both miners are read from the local Filecoin chain, and t01001's missed
    // window is on the record with its faulty sectors, which `proving faults` lists.
    const info = await cli(['proving', 'info', '--miner', 't01000', '--json'], env);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ chainId: 'devnet-fil', minerId: 't01000' });
    await expectEventually(
      async () => {
        const tail = await cli(['events', 'tail', '--stream', 'miner-t01001', '--from', 'beginning', '--once', '--json'], env);
        expect(tail.code, tail.stderr).toBe(0);
        expect(tail.stdout).toContain('"WindowPoStMissed"');
        expect(tail.stdout).toContain('"SectorsFaulted"');
      },
      { timeoutMs: 90_000, intervalMs: 2_000 },
    );
    const faults = await cli(['proving', 'faults', '--miner', 't01001', '--json'], env);
    expect(faults.code, faults.stderr).toBe(0);
    expect((JSON.parse(faults.stdout) as { faults: unknown[] }).faults.length).toBeGreaterThan(0);
    expect(err).toContain('proving demo: t01001 will miss deadline');
    up.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => up!.once('exit', (c) => resolve(c)));
    expect(code, err.slice(-2000)).toBe(0);
  });
});

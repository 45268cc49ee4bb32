// The stats path as an operator runs it, compiled: `fleetvisor stats-collector run`, a
// `fleetvisor meter` process in front of the simulated venus node, simulated callers with their
// tokens, and `fleetvisor stats calls|top|anomalies` reading the counts back (chart and --json).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandResultOf, StatsCalls, StatsTop } from '@fleetvisor/contracts';
import { startFilecoinNode, type FilecoinNodeHandle } from '@fleetvisor/devnet';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, freePort, testBusNames, type TestDatabase } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin', 'fleetvisor.js');

const bus = testBusNames();
let db: TestDatabase;
let env: Record<string, string | undefined>;
let node: FilecoinNodeHandle;
let proxyUrl: string;
const children = new Set<ChildProcess>();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnTracked(args: string[]): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { output: () => string };
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-10_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-10_000)));
  child.output = () => out;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function cli(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function cliJson<T>(args: string[]): Promise<T> {
  const r = await cli([...args, '--json']);
  if (r.code !== 0) throw new Error(`fleetvisor ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

async function call(token: string, method: string, params: unknown[] = []): Promise<void> {
  const res = await fetch(proxyUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  await res.arrayBuffer();
}

beforeAll(async () => {
  db = await createTestDatabase('statse2e');
  env = fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'e2e-host', FLEETVISOR_LOG_LEVEL: 'warn', FLEETVISOR_STATS_COMPACT_INTERVAL: '0', FLEETVISOR_STATS_MIN_WINDOW_SECONDS: '1' });
  const migrated = await cli(['migrate']);
  expect(migrated.code, migrated.stderr).toBe(0);
  node = await startFilecoinNode({ miners: [{ id: 't01000', sectors: 64 }] });
  const port = await freePort();
  proxyUrl = `http://127.0.0.1:${port}/rpc/v1`;
  const collector = spawnTracked(['stats-collector', 'run']);
  const meter = spawnTracked(['meter', '--listen', `127.0.0.1:${port}`, '--upstream', node.url, '--component', 'venus', '--source', 'meter-e2e', '--window', '1']);
  await expectEventually(async () => {
    expect(collector.exitCode, collector.output()).toBeNull();
    expect(collector.output()).toContain('stats-collector: serving');
    expect(meter.output()).toContain('meter: venus at 127.0.0.1');
  }, { timeoutMs: 60_000, intervalMs: 200 });
}, 120_000);

afterAll(async () => {
  for (const c of [...children]) {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }
  await node?.close();
  await deleteTestStreams(bus);
  await db?.drop();
});

describe('stats through the compiled programs', () => {
  it('counts calls made through `fleetvisor meter` per token name, and `stats calls|top` show them', async () => {
    const sealer = node.token('t01000-sealer');
    const wallet = node.token('t01000-wallet', 'read');
    for (let i = 0; i < 12; i++) await call(sealer, 'Filecoin.ChainHead');
    for (let i = 0; i < 5; i++) await call(sealer, 'Filecoin.StateMinerProvingDeadline', ['t01000', []]);
    for (let i = 0; i < 3; i++) await call(wallet, 'Filecoin.MpoolPushMessage', [{}, null]); // refused by the node: errors

    const calls = await expectEventually(
      async () => {
        const r = await cliJson<CommandResultOf<typeof StatsCalls>>(['stats', 'calls', '--by', 'caller', '--since', '1h']);
        expect(r.series.map((s) => [s.key, s.calls, s.errors])).toEqual([
          ['t01000-sealer', 17, 0],
          ['t01000-wallet', 3, 3],
        ]);
        return r;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(calls.stepSeconds).toBe(60);

    const top = await cliJson<CommandResultOf<typeof StatsTop>>(['stats', 'top', '--by', 'method', '--component', 'venus']);
    expect(top.rows.map((r) => [r.key, r.calls])).toEqual([
      ['Filecoin.ChainHead', 12],
      ['Filecoin.StateMinerProvingDeadline', 5],
      ['Filecoin.MpoolPushMessage', 3],
    ]);

    // The chart (not a terminal: one line of all calls) and the table of totals, in 80 columns.
    const chart = await cli(['stats', 'calls', '--by', 'caller', '--since', '1h']);
    expect(chart.code, chart.stderr).toBe(0);
    for (const line of chart.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(chart.stdout).toMatch(/UTC, calls per 1m/);
    expect(chart.stdout).toMatch(/^t01000-sealer\s+17\s+0\s+0\.00%/m);
    expect(chart.stdout).toMatch(/^t01000-wallet\s+3\s+3\s+100\.0%/m);
  });

  it('stats anomalies answers (none yet); bad options exit 2 with the reason', async () => {
    expect(await cliJson<{ anomalies: unknown[] }>(['stats', 'anomalies'])).toEqual({ anomalies: [] });
    const bad = await cli(['stats', 'calls', '--by', 'host']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--by must be one of caller, component, method');
  });
});

// The proving watch end to end, every part real: the proving simulator (Lotus JSON-RPC over HTTP)
// in this process, a `fleetvisor chain-watcher run` process watching only that Filecoin chain,
// Postgres and NATS; the compiled `fleetvisor proving …` CLI asks the watcher over the bus, and its
// output is checked against the simulator's state. Epochs advance only when the test says so.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresEventStore } from '@fleetvisor/event-store/core';
import { startProvingNode, type ProvingNodeHandle } from '@fleetvisor/devnet';
import { createTestDatabase, expectEventually, freePort, inheritedEnvironment, sharedNatsUrl, testBusNames, testTrust, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const MINER = 't01000';

describe('fleetvisor proving against the simulated Filecoin node', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: PostgresEventStore;
  let node: ProvingNodeHandle;
  let dir: string;
  let env: Record<string, string>;
  let watcher: ChildProcess | undefined;
  let watcherOutput = '';
  const bus = testBusNames();

  const cli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const minerEvents = async () => (await store.readStream(`miner-${MINER}`)).events;

  beforeAll(async () => {
    db = await createTestDatabase('fvt_proving');
    await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
    pool = new Pool({ connectionString: db.url, max: 2 });
    store = new PostgresEventStore(pool);
    // 4 deadlines of 4 epochs; epoch 100 opens deadline 1. Sector 13 (deadline 2, partition 0) faulty.
    node = await startProvingNode({ epochMs: 0, params: { periodDeadlines: 4, challengeWindow: 4, challengeLookback: 2, faultDeclarationCutoff: 3 }, miners: [{ id: MINER, periodOffset: 0, partitionsPerDeadline: 2, sectorsPerPartition: 3 }], startEpoch: 100 });
    node.chain.declareFaults(MINER, [13]);
    node.advance(1);
    dir = mkdtempSync(path.join(tmpdir(), 'fv-proving-'));
    env = {
      PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
      HOME: dir,
      FLEETVISOR_DATABASE_URL: db.url,
      FLEETVISOR_NATS_URL: sharedNatsUrl(),
      FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
      FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
      FLEETVISOR_HOST: 'proving-e2e',
      FLEETVISOR_LOG_FORMAT: 'json',
      FLEETVISOR_LOG_LEVEL: 'info',
      ...testTrust().env('chain-watcher'),
      // Only a Filecoin chain: FLEETVISOR_CHAINS (Lava) is left out.
      FLEETVISOR_FILECOIN_CHAINS: `simnet=${node.url}`,
      FLEETVISOR_FILECOIN_MINERS: MINER,
      FLEETVISOR_FILECOIN_POLL_INTERVAL: '100ms',
      FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0',
      FLEETVISOR_CHAIN_WATCHER_HTTP_HOST: '127.0.0.1',
    };
    watcher = spawn(process.execPath, [CLI, 'chain-watcher', 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    watcher.stdout!.on('data', (d: Buffer) => (watcherOutput = (watcherOutput + d.toString()).slice(-50_000)));
    watcher.stderr!.on('data', (d: Buffer) => (watcherOutput = (watcherOutput + d.toString()).slice(-50_000)));
  }, 60_000);

  afterAll(async () => {
    if (watcher && watcher.exitCode === null && watcher.signalCode === null) {
      watcher.kill('SIGTERM');
      await Promise.race([new Promise((r) => watcher!.once('exit', r)), new Promise((r) => setTimeout(r, 5_000))]);
    }
    await node?.close();
    await pool?.end();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records the fault once, and the CLI shows what the node holds', async () => {
    await expectEventually(async () => expect((await minerEvents()).map((e) => e.type), watcherOutput.slice(-2_000)).toEqual(['SectorsFaulted']), { timeoutMs: 30_000 });
    expect((await minerEvents())[0]!.data).toEqual({ chainId: 'simnet', minerId: MINER, deadline: 2, partition: 0, sectors: [13], epoch: 101 });

    const dl = node.chain.deadline(MINER);
    const info = await cli(['proving', 'info', '--miner', MINER, '--json']);
    expect(info.stderr).toBe('');
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toEqual({
      chainId: 'simnet',
      minerId: MINER,
      currentEpoch: node.chain.height,
      periodBoundary: dl.PeriodStart % dl.WPoStProvingPeriod,
      periodStart: dl.PeriodStart,
      nextPeriodStart: dl.PeriodStart + dl.WPoStProvingPeriod,
      sectors: node.chain.sectorCount(MINER),
      faults: node.chain.faults(MINER).length,
      recovering: 0,
      deadlineIndex: dl.Index,
      deadlineSectors: 6,
      open: dl.Open,
      close: dl.Close,
      challenge: dl.Challenge,
      faultCutoff: dl.FaultCutoff,
    });

    const text = await cli(['proving', 'info', '--miner', MINER]);
    expect(text.stdout).toContain(`Current Epoch:           ${node.chain.height}\n`);
    expect(text.stdout).toContain(`Deadline Index:       ${dl.Index}\n`);
    expect(text.stdout).toContain('Faults:      1 (4.17%)\n');

    const deadlines = await cli(['proving', 'deadlines', '--miner', MINER]);
    expect(deadlines.code).toBe(0);
    expect(deadlines.stdout).toMatch(new RegExp(`^${dl.Index} \\(current\\)\\s+${dl.Open}\\s+2\\s+6 \\(0\\)\\s+2$`, 'm'));
    expect(deadlines.stdout).toMatch(/^2\s+104\s+2\s+6 \(1\)\s+0$/m);

    const one = await cli(['proving', 'deadline', '2', '--miner', MINER]);
    expect(one.stdout).toContain('Partition Index:        0\n  Sectors:              3\n  Faults:               1\n  Faulty Sectors:       13\n');

    const faults = await cli(['proving', 'faults', '--miner', MINER]);
    expect(faults.stdout).toBe(`Miner: ${MINER} (simnet)\ndeadline  partition  sectorId  recovering\n2         0          13        no\n`);

    const unknown = await cli(['proving', 'info', '--miner', 't09999']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('not_found');
  }, 60_000);

  it('answers the same through the REST gateway, for a read token', async () => {
    const port = await freePort();
    const gateway = spawn(process.execPath, [CLI, 'gateway', 'run'], {
      env: { ...env, FLEETVISOR_GATEWAY_LISTEN: `127.0.0.1:${port}`, FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('gateway', 'gateway-proving') },
      stdio: 'ignore',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await expectEventually(async () => expect((await fetch(`${base}/health/ready`)).status).toBe(200), { timeoutMs: 60_000 });
      const made = await cli(['token', 'create', '--role', 'read', '--name', 'proving-read', '--json']);
      expect(made.code, made.stderr).toBe(0);
      const headers = { authorization: `Bearer ${(JSON.parse(made.stdout) as { token: string }).token}` };
      const proving = await fetch(`${base}/api/v1/miners/${MINER}/proving`, { headers });
      expect(proving.status).toBe(200);
      const view = (await proving.json()) as { minerId: string; currentEpoch: number; deadlines: { partitions: { faulty: number[] }[] }[] };
      expect(view).toMatchObject({ chainId: 'simnet', minerId: MINER, currentEpoch: node.chain.height });
      expect(view.deadlines[2]!.partitions[0]!.faulty).toEqual([13]);
      const sectors = await fetch(`${base}/api/v1/miners/${MINER}/deadlines/2/sectors`, { headers });
      expect(sectors.status).toBe(200);
      expect(JSON.stringify(await sectors.json())).toContain('13');
      const unknown = await fetch(`${base}/api/v1/miners/t09999/proving`, { headers });
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('content-type')).toContain('application/problem+json');

      // The CLI's proving commands through the gateway (--url, a read token) print what they print over the bus.
      const token = (JSON.parse(made.stdout) as { token: string }).token;
      for (const args of [['proving', 'deadlines', '--miner', MINER], ['proving', 'faults', '--miner', MINER], ['proving', 'deadline', '2', '--miner', MINER]]) {
        const [viaBus, viaGateway] = [await cli(args), await cli([...args, '--url', base, '--token', token])];
        expect(viaGateway.code, viaGateway.stderr).toBe(0);
        expect(viaGateway.stdout).toBe(viaBus.stdout);
      }
      const remoteUnknown = await cli(['proving', 'info', '--miner', 't09999', '--url', base, '--token', token]);
      expect(remoteUnknown.code).toBe(1);
      expect(remoteUnknown.stderr).toContain('not_found');
    } finally {
      gateway.kill('SIGTERM');
    }
  }, 90_000);
});

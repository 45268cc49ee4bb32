// `fleetvisor proving check` end to end, every part real: the proving simulator (Lotus JSON-RPC
// over HTTP) as the node, a `fleetvisor chain-watcher run` process, two compiled `fleetvisor
// worker-agent run` processes standing for two sealing hosts, each with its own sector store on
// disk (host A configured with FLEETVISOR_WORKER_STORES, host B through a damocles-worker
// configuration's [[attached]] store), NATS and Postgres. The compiled CLI's answer is checked as
// files disappear from one host: all good; a cache file lost on host B makes that sector bad with
// the reason; a sector whose files are gone from every host is "not found on any agent".
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProvingNode, writeSectorFiles, type ProvingNodeHandle } from '@fleetvisor/devnet';
import { createTestDatabase, deleteTestStreams, expectEventually, inheritedEnvironment, sharedNatsUrl, testBusNames, testTrust, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const MINER = 't01000';
const SIZE = 2048;

interface Proc {
  child: ChildProcess;
  output: () => string;
}

describe('fleetvisor proving check across two worker-agents', () => {
  const bus = testBusNames();
  let db: TestDatabase;
  let node: ProvingNodeHandle;
  let dir: string;
  let storeA: string;
  let storeB: string;
  let env: Record<string, string>;
  const procs: Proc[] = [];

  const spawnProc = (args: string[], extra: Record<string, string>): Proc => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
    const p = { child, output: () => out };
    procs.push(p);
    return p;
  };
  const cli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const output = () => procs.map((p) => p.output().slice(-1_500)).join('\n---\n');

  beforeAll(async () => {
    db = await createTestDatabase('fvt_proving_check');
    await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
    // 4 deadlines of 4 epochs, 2 partitions of 3 sectors: deadline 2 holds sectors 12-14 (partition 0) and 15-17 (partition 1).
    node = await startProvingNode({
      epochMs: 0,
      params: { periodDeadlines: 4, challengeWindow: 4, challengeLookback: 2, faultDeclarationCutoff: 3 },
      miners: [{ id: MINER, periodOffset: 0, partitionsPerDeadline: 2, sectorsPerPartition: 3, sectorSize: SIZE }],
      startEpoch: 100,
    });
    dir = mkdtempSync(path.join(tmpdir(), 'fv-proving-check-'));
    storeA = path.join(dir, 'host-a', 'persist');
    storeB = path.join(dir, 'host-b', 'nfs', 'store1');
    for (const s of [12, 13, 14]) writeSectorFiles(storeA, MINER, s, SIZE);
    for (const s of [15, 16, 17]) writeSectorFiles(storeB, MINER, s, SIZE);
    const damoclesConfig = path.join(dir, 'host-b', 'damocles-worker.toml');
    mkdirSync(path.dirname(damoclesConfig), { recursive: true });
    writeFileSync(damoclesConfig, ['[worker]', 'name = "host-b"', '', '[[sealing_thread]]', 'location = "/scratch/t0"', '', '[[attached]]', 'name = "store1"', `location = "${storeB}"`, ''].join('\n'));

    env = {
      PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
      HOME: dir,
      FLEETVISOR_DATABASE_URL: db.url,
      FLEETVISOR_NATS_URL: sharedNatsUrl(),
      FLEETVISOR_SUBJECT_ROOT: bus.subjectRoot,
      FLEETVISOR_EVENT_STREAM: bus.eventStreamName,
      FLEETVISOR_HOST: 'proving-check-e2e',
      FLEETVISOR_LOG_FORMAT: 'json',
      FLEETVISOR_LOG_LEVEL: 'warn',
      ...testTrust().env('chain-watcher'),
    };
    spawnProc(['chain-watcher', 'run'], {
      FLEETVISOR_FILECOIN_CHAINS: `simnet=${node.url}`,
      FLEETVISOR_FILECOIN_MINERS: MINER,
      FLEETVISOR_FILECOIN_POLL_INTERVAL: '100ms',
      FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0',
      FLEETVISOR_CHAIN_WATCHER_HTTP_HOST: '127.0.0.1',
    });
    const agent = { FLEETVISOR_WORKER_SIM_THREADS: '1', FLEETVISOR_WORKER_REPORT_INTERVAL: '10s' };
    spawnProc(['worker-agent', 'run'], { ...agent, FLEETVISOR_WORKER_NAME: 'host-a', FLEETVISOR_WORKER_STORES: storeA });
    spawnProc(['worker-agent', 'run'], { ...agent, FLEETVISOR_WORKER_NAME: 'host-b', FLEETVISOR_WORKER_DAMOCLES_CONFIG: damoclesConfig });
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => (p.child.exitCode === null && p.child.signalCode === null ? new Promise((r) => p.child.once('exit', r)) : undefined)));
    await node?.close();
    await deleteTestStreams(bus);
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('all good; a cache file lost on one host makes its sector bad with the reason; a sector on no host is not found', async () => {
    // Both agents and the watcher are up once the check hears from both.
    const first = await expectEventually(
      async () => {
        const r = await cli(['proving', 'check', '2', '--miner', MINER, '--json', '--timeout', '1500']);
        expect(r.stderr, output()).toBe('');
        const report = JSON.parse(r.stdout) as { agents: { worker: string }[] };
        expect(report.agents.map((a) => a.worker)).toEqual(['host-a', 'host-b']);
        return r;
      },
      { timeoutMs: 60_000, intervalMs: 500, message: 'both agents answer the check' },
    );
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      chainId: 'simnet',
      minerId: MINER,
      deadline: 2,
      sectorSize: SIZE,
      agents: [
        { worker: 'host-a', stores: [{ location: storeA }] },
        { worker: 'host-b', stores: [{ location: storeB }] },
      ],
      summary: { sectors: 6, good: 6, bad: 0, notFound: 0 },
    });

    unlinkSync(path.join(storeB, 'cache', `s-t01000-16`, 'p_aux'));
    const bad = await cli(['proving', 'check', '2', '--miner', MINER, '--timeout', '1500']);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('Miner: t01000 (simnet), deadline 2, sector size 2 KiB\nAgents: host-a (1 store), host-b (1 store)\n');
    expect(bad.stdout).toMatch(/^2\s+0\s+12\s+host-a\s+good$/m);
    expect(bad.stdout).toMatch(/^2\s+1\s+16\s+host-b\s+bad \(host-b: cache\/s-t01000-16\/p_aux: missing\)$/m);
    expect(bad.stdout).toContain('6 sectors: 5 good, 1 bad, 0 not found on any agent\n');

    rmSync(path.join(storeB, 'sealed', 's-t01000-17'));
    rmSync(path.join(storeB, 'cache', 's-t01000-17'), { recursive: true });
    const onlyBad = await cli(['proving', 'check', '2', '--miner', MINER, '--only-bad', '--timeout', '1500']);
    expect(onlyBad.code).toBe(1);
    const rows = onlyBad.stdout.split('\n').filter((l) => /^2\s+\d/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^2\s+1\s+16\s+host-b\s+bad \(host-b: cache\/s-t01000-16\/p_aux: missing\)$/);
    expect(rows[1]).toMatch(/^2\s+1\s+17\s+-\s+not found on any agent$/);
    expect(onlyBad.stdout).toContain('6 sectors: 4 good, 1 bad, 1 not found on any agent\n');

    const beyond = await cli(['proving', 'check', '4', '--miner', MINER]);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain('invalid_request: deadline 4 is not a deadline of t01000 (0..3)');
  }, 120_000);
});

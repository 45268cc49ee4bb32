// Two chain-watcher processes against one devnet chain, the shared Postgres and NATS: one leads;
// kill -9 of the leader hands the chain to the other within two block times; the CLI reads the
// status over the bus and the version history from the log; /healthz and /metrics answer.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevnetChain, type DevnetChain } from '@fleetvisor/devnet';
import { sharedNatsUrl, createTestDatabase, expectEventually, fleetvisorEnv, freePort, testBusNames, testCoreConfig, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import type { WatcherHealth } from './chain-watcher';
import { deleteTestStreams, version } from '../test/watcher-harness';

const ROOT = path.resolve(__dirname, '../../..');
const BLOCK_MS = 300;
const V1 = version('0.21.0', '0.20.0');
const V2 = version('0.23.2', '0.22.0');

interface Replica {
  host: string;
  port: number;
  child: ChildProcess;
  stderr: () => string;
}

describe('chain-watcher processes', () => {
  let db: TestDatabase;
  let chain: DevnetChain;
  const bus = testBusNames();
  const replicas: Replica[] = [];
  let env: NodeJS.ProcessEnv;

  const startReplica = async (host: string): Promise<Replica> => {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/fleetvisor.js'), 'chain-watcher', 'run'], {
      env: { ...env, FLEETVISOR_HOST: host, FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
    const r = { host, port, child, stderr: () => err };
    replicas.push(r);
    return r;
  };
  const health = async (r: Replica): Promise<WatcherHealth | undefined> => {
    try {
      const res = await fetch(`http://127.0.0.1:${r.port}/healthz`);
      return (await res.json()) as WatcherHealth;
    } catch {
      return undefined;
    }
  };
  const leads = async (r: Replica): Promise<boolean> => (await health(r))?.chains[0]?.leader === true;
  const cli = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/fleetvisor.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  beforeAll(async () => {
    db = await createTestDatabase('cwe2e');
    await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
    chain = await startDevnetChain({ chainId: 'lava-e2e-1', blockTimeMs: BLOCK_MS, version: V1 });
    env = fleetvisorEnv({ databaseUrl: db.url, bus }, {
      FLEETVISOR_LOG_LEVEL: 'warn',
      FLEETVISOR_CHAINS: `${chain.chainId}=${chain.rpcUrl}`,
      FLEETVISOR_CHAIN_WATCHER_LEADER_RETRY: '100ms',
      FLEETVISOR_CHAIN_WATCHER_SAFETY_NET_BLOCKS: '5',
      FLEETVISOR_CHAIN_WATCHER_RPC_TIMEOUT: '1s',
    });
  });

  afterAll(async () => {
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
    await chain?.stop();
    await deleteTestStreams(testCoreConfig(db.url, bus));
    await db?.drop();
  });

  it('refuses a bad FLEETVISOR_CHAINS with a message naming it', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/fleetvisor.js'), 'chain-watcher', 'run'], {
        env: { ...env, FLEETVISOR_CHAINS: 'lava-testnet-2=ftp://x' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FLEETVISOR_CHAINS: chain lava-testnet-2: endpoint ftp:\/\/x must be http/);
  });

  it('one of two replicas leads; kill -9 of the leader hands over within two block times; CLI shows status and history', async () => {
    const [a, b] = await Promise.all([startReplica('cw-e2e-a'), startReplica('cw-e2e-b')]);
    await waitFor(async () => (await leads(a!)) || (await leads(b!)), { timeoutMs: 30_000, message: 'a replica leads' });
    const leader = (await leads(a!)) ? a! : b!;
    const standby = leader === a ? b! : a!;
    await waitFor(async () => (await health(standby)) !== undefined, { timeoutMs: 30_000 });
    expect(await leads(standby)).toBe(false);
    expect((await health(standby))?.status).toBe('ok');

    const metrics = await (await fetch(`http://127.0.0.1:${leader.port}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`chain_watcher_leader\\{chain="${chain.chainId}"\\} 1`));
    expect(metrics).toMatch(/chain_watcher_latest_height\{chain="lava-e2e-1"\} \d+/);

    const first = await chain.setVersion(V2);
    const status = await expectEventually(async () => {
      const s = await cli(['chain', 'status', '--json']);
      expect(s.code, s.stderr).toBe(0);
      const parsed = JSON.parse(s.stdout) as { chains: { version?: unknown; leaderHost?: string; mode: string; height?: number }[] };
      expect(parsed.chains[0]).toMatchObject({ version: V2, leaderHost: leader.host, mode: 'websocket' });
      return parsed;
    });
    expect(status.chains[0]!.height).toBeGreaterThanOrEqual(first.height);
    const table = await cli(['chain', 'status']);
    expect(table.stdout).toMatch(/lava-e2e-1\s+websocket\s+\d+\s+[\d.]+s\s+0\.23\.2\/0\.22\.0\s+0\.23\.2\/0\.22\.0/);

    // kill -9: its lock connection dies with it; the standby must act within two block times.
    leader.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(() => leads(standby), { timeoutMs: 10_000, intervalMs: 10, message: 'standby takes over' });
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs, `takeover took ${takeoverMs} ms`).toBeLessThanOrEqual(2 * BLOCK_MS);

    // The new leader rebuilt the state from the log: no repeat, and it sees the next change.
    const second = await chain.setVersion(version('0.24.0', '0.23.0'));
    const history = await expectEventually(async () => {
      const v = await cli(['chain', 'versions', '--chain-id', chain.chainId, '--json']);
      expect(v.code, v.stderr).toBe(0);
      const parsed = JSON.parse(v.stdout) as { versions: { height: number; host?: string }[] };
      expect(parsed.versions.map((x) => x.height)).toContain(second.height);
      return parsed;
    });
    expect(history.versions).toHaveLength(3);
    expect(history.versions[1]).toMatchObject({ height: first.height, host: leader.host });
    expect(history.versions[2]).toMatchObject({ height: second.height, host: standby.host });
    const text = await cli(['chain', 'versions', '--chain-id', chain.chainId]);
    expect(text.stdout).toMatch(new RegExp(`${second.height}\\s+\\S+ \\S+\\s+0\\.24\\.0/0\\.23\\.0`));

    // An unknown chain is exit 1 for both commands.
    const unknown = await cli(['chain', 'versions', '--chain-id', 'nope']);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toMatch(/chain nope is unknown/);
    expect(await cli(['chain', 'status', '--chain-id', 'nope'])).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/chain nope is not watched/) });

    // kill -9 of the last replica; two changes while none runs; a new replica records both at their heights.
    standby.child.kill('SIGKILL');
    await new Promise((resolve) => standby.child.once('exit', resolve));
    const third = await chain.setVersion(version('0.25.0', '0.24.0'));
    await chain.waitForHeight(third.height + 2);
    const fourth = await chain.setVersion(version('0.26.0', '0.25.0'));
    await chain.waitForHeight(fourth.height + 3);
    await startReplica('cw-e2e-c');
    const after = await expectEventually(async () => {
      const v = await cli(['chain', 'versions', '--chain-id', chain.chainId, '--json']);
      const parsed = JSON.parse(v.stdout) as { versions: { height: number; current: { providerTarget: string } }[] };
      expect(parsed.versions).toHaveLength(5);
      return parsed;
    }, { timeoutMs: 15_000 });
    expect(after.versions.slice(3).map((x) => [x.height, x.current.providerTarget])).toEqual([
      [third.height, '0.25.0'],
      [fourth.height, '0.26.0'],
    ]);
  });
});

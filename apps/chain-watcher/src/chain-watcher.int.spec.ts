// The chain-watcher against the real local chain node (libs/devnet: CometBFT JSON-RPC over HTTP and
// WebSocket on loopback), the real event log (Postgres) and the real bus (NATS JetStream, relay in
// the watcher's FleetCore). Blocks every 200 ms keep it quick.
import { Pool } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChainVersionEvent } from '@fleetvisor/contracts';
import { startDevnetChain, type DevnetChain } from '@fleetvisor/devnet';
import { PostgresCheckpointStore } from '@fleetvisor/event-store';
import type { CoreConfig } from '@fleetvisor/platform';
import { createTestDatabase, expectEventually, testBusNames, testCoreConfig, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { parseScanCheckpoint, scanCheckpointName, type ScanCheckpoint } from './monitor/scan-checkpoint';
import { chainStream, deleteTestStreams, recordChainBus, startWatcher, version, versionChanges, watcherConfig, type BusRecorder, type RunningWatcher } from '../test/watcher-harness';

const BLOCK_MS = 200;
const V1 = version('0.21.0', '0.20.0');
const V2 = version('0.23.2', '0.22.0');
const V3 = version('0.24.0', '0.23.0');
const V4 = version('0.25.0', '0.24.0');

describe('chain-watcher (devnet, Postgres, NATS)', () => {
  let db: TestDatabase;
  let core: CoreConfig;
  let pool: Pool;
  let checkpoints: PostgresCheckpointStore;
  const chains: DevnetChain[] = [];
  const watchers: RunningWatcher[] = [];
  const recorders: BusRecorder[] = [];
  let n = 0;

  // Each test its own chain id, so streams and subjects never mix.
  const newChain = async (opts: { chainId?: string; discardAbciResponses?: boolean } = {}): Promise<DevnetChain> => {
    const chain = await startDevnetChain({ blockTimeMs: BLOCK_MS, version: V1, ...opts, chainId: opts.chainId ?? `lava-t${++n}` });
    chains.push(chain);
    return chain;
  };
  const watch = async (chain: DevnetChain, endpoints = [chain.rpcUrl], overrides = {}, host = 'cw-a'): Promise<RunningWatcher> => {
    const w = await startWatcher(watcherConfig({ ...core, host }, [{ chainId: chain.chainId, endpoints }], overrides));
    watchers.push(w);
    return w;
  };
  const record = async (chainId: string): Promise<BusRecorder> => {
    const r = await recordChainBus(core, chainId);
    recorders.push(r);
    return r;
  };
  /** Until the leader has processed a block at or above `height`. */
  const processed = (w: RunningWatcher, chainId: string, height: number) =>
    waitFor(() => (w.watcher.localStatus(chainId)?.height ?? 0) >= height, { timeoutMs: 10_000, message: `watcher reached height ${height}` });

  beforeAll(async () => {
    db = await createTestDatabase('cw');
    core = testCoreConfig(db.url, testBusNames(), { host: 'cw-a' });
    await createTestStreams(core);
    pool = new Pool({ connectionString: db.url, max: 1 });
    checkpoints = new PostgresCheckpointStore(pool);
  });
  afterEach(async () => {
    await Promise.allSettled(watchers.splice(0).map((w) => w.stop()));
    await Promise.allSettled(recorders.splice(0).map((r) => r.close()));
    await Promise.allSettled(chains.splice(0).map((c) => c.stop()));
  });
  afterAll(async () => {
    await deleteTestStreams(core);
    await pool?.end();
    await db?.drop();
  });

  it('a version change in block H gives exactly one VersionChanged with height H on the bus within 1 s; a restarted watcher emits none', async () => {
    const chain = await newChain();
    const bus = await record(chain.chainId);
    const w = await watch(chain);
    // The first version seen is announced once (previous: null).
    await expectEventually(() => expect(bus.ofType('VersionChanged')).toHaveLength(1));
    expect(bus.ofType('VersionChanged')[0]!.data).toMatchObject({ previous: null, current: V1 });

    const { height } = await chain.setVersion(V2);
    const committedAt = Date.now();
    await expectEventually(() => expect(bus.ofType('VersionChanged')).toHaveLength(2), { timeoutMs: 1_000 });
    const received = bus.events.find((e) => e.event.type === 'VersionChanged' && e.event.data && (e.event.data as { height: number }).height === height);
    expect(received, 'VersionChanged at the height of the block carrying lava_param_change').toBeDefined();
    expect(received!.receivedAt - committedAt).toBeLessThan(1_000);
    expect(received!.event.data).toEqual({ chainId: chain.chainId, height, previous: V1, current: V2 });

    // Safety-net queries over the next blocks find the same version: nothing more.
    await processed(w, chain.chainId, height + 12);
    expect(versionChanges(await chainStream(w.core, chain.chainId))).toHaveLength(2);

    // Restart: the state comes back from the log, nothing is announced again.
    await w.stop();
    watchers.splice(watchers.indexOf(w), 1);
    const again = await watch(chain);
    await processed(again, chain.chainId, chain.height());
    await processed(again, chain.chainId, chain.height() + 6);
    expect(versionChanges(await chainStream(again.core, chain.chainId))).toHaveLength(2);
    expect(bus.ofType('VersionChanged')).toHaveLength(2);
    expect(again.watcher.localStatus(chain.chainId)).toMatchObject({ version: V2, versionHeight: height, mode: 'websocket', wsConnected: true });

    // What a host without database credentials asks once the stream no longer holds it: the
    // newest VersionChanged as the log stores it, the same envelope the bus carried.
    const reply = await again.core.commands.request(ChainVersionEvent, { chainId: chain.chainId });
    expect(reply).toEqual({ ok: true, result: { chainId: chain.chainId, event: received!.event } });
    expect(await again.core.commands.request(ChainVersionEvent, { chainId: 'lava-none' })).toEqual({ ok: true, result: { chainId: 'lava-none' } });
  });

  it('changes made while the watcher was down are recorded at their own heights, in order, once', async () => {
    const chain = await newChain();
    const id = chain.chainId;
    const w = await watch(chain);
    await waitFor(async () => versionChanges(await chainStream(w.core, id)).length === 1);
    await w.stop();
    watchers.splice(watchers.indexOf(w), 1);

    // Down: two changes at different heights, then some blocks more.
    const first = await chain.setVersion(V2);
    await chain.waitForHeight(first.height + 3);
    const second = await chain.setVersion(V3);
    await chain.waitForHeight(second.height + 5);

    const again = await watch(chain);
    await processed(again, id, second.height + 6);
    const changes = versionChanges(await chainStream(again.core, id)).map((e) => e.data);
    expect(changes.slice(1)).toEqual([
      { chainId: id, height: first.height, previous: V1, current: V2 },
      { chainId: id, height: second.height, previous: V2, current: V3 },
    ]);
    expect(changes).toHaveLength(3);
    expect(again.watcher.localStatus(id)).toMatchObject({ version: V3, versionHeight: second.height });
  });

  const scanCheckpoint = async (chainId: string): Promise<ScanCheckpoint | undefined> => parseScanCheckpoint(await checkpoints.load(scanCheckpointName(chainId)));

  it('a restart asks the node only for the blocks after the scan checkpoint, and records a change made while down at its height', async () => {
    const chain = await newChain();
    const id = chain.chainId;
    const w = await watch(chain);
    await waitFor(async () => versionChanges(await chainStream(w.core, id)).length === 1);
    const [first] = versionChanges(await chainStream(w.core, id));
    const recordedAt = (first!.data as { height: number }).height;
    // No change for a while: the last height on the record stays where it is, the checkpoint moves on.
    await processed(w, id, recordedAt + 25);
    await w.stop();
    watchers.splice(watchers.indexOf(w), 1);
    const saved = (await scanCheckpoint(id))!;
    expect(saved.streamVersion).toBe(1);
    expect(saved.height).toBeGreaterThanOrEqual(recordedAt + 15);

    const down = await chain.setVersion(V2);
    await chain.waitForHeight(down.height + 3);
    chain.resetStats();
    const again = await watch(chain);
    await processed(again, id, down.height + 6);
    expect(versionChanges(await chainStream(again.core, id)).map((e) => e.data)).toEqual([first!.data, { chainId: id, height: down.height, previous: V1, current: V2 }]);
    // Blocks after the checkpoint only (those the NewBlock events brought cost none), not the ones since the record.
    const blockResults = chain.stats().byMethod['block_results'] ?? 0;
    expect(blockResults).toBeGreaterThanOrEqual(down.height - saved.height);
    expect(blockResults).toBeLessThanOrEqual(chain.height() - saved.height);
    await expectEventually(async () => expect(await scanCheckpoint(id)).toMatchObject({ height: expect.any(Number), streamVersion: 2 }));
    expect((await scanCheckpoint(id))!.height).toBeGreaterThanOrEqual(down.height);
  });

  it('a scan checkpoint ahead of the log (a database restored to an earlier point) hides no change, not even one undone since', async () => {
    const chain = await newChain();
    const id = chain.chainId;
    const w = await watch(chain);
    await waitFor(async () => versionChanges(await chainStream(w.core, id)).length === 1);
    await w.stop();
    watchers.splice(watchers.indexOf(w), 1);

    const changed = await chain.setVersion(V2);
    await chain.waitForHeight(changed.height + 2);
    const undone = await chain.setVersion(V1);
    await chain.waitForHeight(undone.height + 3);
    // What a watcher that recorded both would have saved, over a log that holds only the first version.
    await checkpoints.save(scanCheckpointName(id), `${undone.height + 2}:3`);

    const again = await watch(chain);
    await processed(again, id, undone.height + 6);
    expect(versionChanges(await chainStream(again.core, id)).map((e) => e.data).slice(1)).toEqual([
      { chainId: id, height: changed.height, previous: V1, current: V2 },
      { chainId: id, height: undone.height, previous: V2, current: V1 },
    ]);
    await expectEventually(async () => expect((await scanCheckpoint(id))?.streamVersion).toBe(3));
  });

  it('a node that keeps no block results: changes made while down are found by bisection on Params, at their heights', async () => {
    const chain = await newChain({ discardAbciResponses: true });
    const id = chain.chainId;
    const w = await watch(chain);
    await waitFor(async () => versionChanges(await chainStream(w.core, id)).length === 1);
    await w.stop();
    watchers.splice(watchers.indexOf(w), 1);

    const first = await chain.setVersion(V2);
    await chain.waitForHeight(first.height + 4);
    const second = await chain.setVersion(V3);
    await chain.waitForHeight(second.height + 7);

    const again = await watch(chain);
    await processed(again, id, second.height + 8);
    expect(versionChanges(await chainStream(again.core, id)).map((e) => e.data).slice(1)).toEqual([
      { chainId: id, height: first.height, previous: V1, current: V2 },
      { chainId: id, height: second.height, previous: V2, current: V3 },
    ]);
    expect((await chainStream(again.core, id)).filter((e) => e.type === 'ChainAnomaly')).toEqual([]);
  });

  it('polls that jump more heights than the scan bound lose no change: each at its height, once', async () => {
    const chain = await newChain();
    const id = chain.chainId;
    // No WebSocket, and a poll every 10 blocks over a scan bound of 3: most blocks are never seen one by one.
    chain.faults.dropWebSockets();
    const w = await watch(chain, undefined, { pollIntervalMs: BLOCK_MS * 10, maxGapScan: 3, safetyNetBlocks: 1_000 });
    await waitFor(async () => versionChanges(await chainStream(w.core, id)).length === 1);
    const first = await chain.setVersion(V2);
    const second = await chain.setVersion(V3);
    const third = await chain.setVersion(V4);
    await chain.waitForHeight(third.height + 12);
    await processed(w, id, third.height + 12);
    expect(w.watcher.localStatus(id)).toMatchObject({ mode: 'polling' });
    expect(versionChanges(await chainStream(w.core, id)).map((e) => e.data)).toEqual([
      { chainId: id, height: expect.any(Number), previous: null, current: V1 },
      { chainId: id, height: first.height, previous: V1, current: V2 },
      { chainId: id, height: second.height, previous: V2, current: V3 },
      { chainId: id, height: third.height, previous: V3, current: V4 },
    ]);
  });

  it('malformed or non-semver params become ChainAnomaly events, never a VersionChanged', async () => {
    const chain = await newChain();
    const bus = await record(chain.chainId);
    const w = await watch(chain);
    await expectEventually(() => expect(bus.ofType('VersionChanged')).toHaveLength(1));

    chain.faults.malformedParams(true);
    const bad = await chain.setVersion(V2);
    await expectEventually(() => expect(bus.ofType('ChainAnomaly').map((e) => (e.data as { kind: string }).kind)).toContain('malformed_response'));
    expect(bus.ofType('ChainAnomaly')[0]!.data).toMatchObject({ chainId: chain.chainId, height: bad.height, endpoint: chain.rpcUrl.replace(/\/$/, '') });
    chain.faults.malformedParams(false);

    await chain.setVersion({ ...V2, providerTarget: 'v0.23.2' });
    await expectEventually(() => expect(bus.ofType('ChainAnomaly').map((e) => (e.data as { kind: string }).kind)).toContain('invalid_version'));
    await chain.setVersion({ ...V2, consumerMin: '0.30.0' });
    await expectEventually(() => expect(bus.ofType('ChainAnomaly').map((e) => (e.data as { kind: string }).kind)).toContain('min_above_target'));
    const anomaly = bus.ofType('ChainAnomaly').find((e) => (e.data as { kind: string }).kind === 'min_above_target')!;
    expect((anomaly.data as { raw: string; reason: string }).raw).toContain('0.30.0');
    expect((anomaly.data as { reason: string }).reason).toMatch(/consumerMin 0\.30\.0 is above consumerTarget/);

    // Nothing of that became a version; the last good one is still current.
    await processed(w, chain.chainId, chain.height() + 6);
    expect(bus.ofType('VersionChanged')).toHaveLength(1);
    expect(w.watcher.localStatus(chain.chainId)?.version).toEqual(V1);
    // A valid version afterwards is announced, relative to the last valid one.
    const good = await chain.setVersion(V3);
    await expectEventually(() => expect(bus.ofType('VersionChanged')).toHaveLength(2));
    expect(bus.ofType('VersionChanged')[1]!.data).toEqual({ chainId: chain.chainId, height: good.height, previous: V1, current: V3 });
  });

  it('WebSocket dropped → polling → WebSocket again, with no missed change and exact heights', async () => {
    const chain = await newChain();
    const bus = await record(chain.chainId);
    const w = await watch(chain);
    await expectEventually(() => expect(w.watcher.localStatus(chain.chainId)?.mode).toBe('websocket'));
    const id = chain.chainId;

    chain.faults.dropWebSockets();
    await expectEventually(() => expect(w.watcher.localStatus(id)).toMatchObject({ mode: 'polling', wsConnected: false }));
    expect(w.watcher.health().status).toBe('degraded');
    const during = await chain.setVersion(V2);
    await expectEventually(() => expect(bus.ofType('VersionChanged').map((e) => e.data)).toContainEqual({ chainId: id, height: during.height, previous: V1, current: V2 }), {
      timeoutMs: 3_000,
    });

    chain.faults.allowWebSockets();
    await expectEventually(() => expect(w.watcher.localStatus(id)).toMatchObject({ mode: 'websocket', wsConnected: true }), { timeoutMs: 5_000 });
    const after = await chain.setVersion(V3);
    await expectEventually(() => expect(bus.ofType('VersionChanged').map((e) => e.data)).toContainEqual({ chainId: id, height: after.height, previous: V2, current: V3 }));
    expect(w.watcher.health().status).toBe('ok');
    expect(versionChanges(await chainStream(w.core, id))).toHaveLength(3);
  });

  it('fails over to the next endpoint in order and returns to the preferred one when it recovers', async () => {
    const a = await newChain();
    const b = await startDevnetChain({ chainId: a.chainId, blockTimeMs: BLOCK_MS, version: V1 });
    chains.push(b);
    const bus = await record(a.chainId);
    const w = await watch(a, [a.rpcUrl, b.rpcUrl]);
    const id = a.chainId;
    await expectEventually(() => expect(w.watcher.localStatus(id)).toMatchObject({ mode: 'websocket', preferredEndpoint: true }));

    // The preferred endpoint stops answering (HTTP and WebSocket).
    a.faults.failResponses(Infinity);
    a.faults.dropWebSockets();
    await expectEventually(() => expect(w.watcher.localStatus(id)).toMatchObject({ preferredEndpoint: false, endpoint: b.rpcUrl.replace(/\/$/, '') }), { timeoutMs: 5_000 });
    // A change seen through the fallback is announced.
    const onB = await b.setVersion(V2);
    await expectEventually(() => expect(bus.ofType('VersionChanged').map((e) => e.data)).toContainEqual({ chainId: id, height: onB.height, previous: V1, current: V2 }), {
      timeoutMs: 3_000,
    });
    expect(w.watcher.localStatus(id)!.rpcErrors).toBeGreaterThan(0);

    // The preferred endpoint recovers: the watcher goes back to it.
    await a.setVersion(V2);
    a.faults.reset();
    await expectEventually(() => expect(w.watcher.localStatus(id)).toMatchObject({ preferredEndpoint: true, endpoint: a.rpcUrl.replace(/\/$/, ''), mode: 'websocket' }), {
      timeoutMs: 5_000,
    });
    const onA = await a.setVersion(V3);
    await expectEventually(() => expect(bus.ofType('VersionChanged').map((e) => e.data)).toContainEqual({ chainId: id, height: onA.height, previous: V2, current: V3 }));
    expect(versionChanges(await chainStream(w.core, id), V2)).toHaveLength(1);
  });

  it('two replicas: one leads, one VersionChanged per change', async () => {
    const chain = await newChain();
    const bus = await record(chain.chainId);
    const [r1, r2] = await Promise.all([watch(chain, undefined, {}, 'cw-a'), watch(chain, undefined, {}, 'cw-b')]);
    const id = chain.chainId;
    await waitFor(() => r1!.watcher.isLeader(id) || r2!.watcher.isLeader(id));
    expect(r1!.watcher.isLeader(id) && r2!.watcher.isLeader(id)).toBe(false);
    const { height } = await chain.setVersion(V2);
    await expectEventually(() => expect(bus.ofType('VersionChanged')).toHaveLength(2));
    const standby = r1!.watcher.isLeader(id) ? r2! : r1!;
    // Either replica answers status with the leader's view.
    const status = await standby.watcher.status(id);
    expect(status.chains[0]).toMatchObject({ chainId: id, version: V2, versionHeight: height, leaderHost: r1!.watcher.isLeader(id) ? 'cw-a' : 'cw-b' });
    await new Promise<void>((resolve) => {
      const off = chain.onBlock((blk) => {
        if (blk.height >= height + 6) {
          off();
          resolve();
        }
      });
    });
    expect(versionChanges(await chainStream(r1!.core, id))).toHaveLength(2);
    expect(bus.ofType('VersionChanged')).toHaveLength(2);
  });

  it('an x/upgrade plan gives one UpgradePlanned with its binaries', async () => {
    const chain = await newChain();
    const bus = await record(chain.chainId);
    const w = await watch(chain, undefined, { safetyNetBlocks: 3 });
    const url = 'https://example.org/lavad-v3?checksum=sha256:' + '1'.repeat(64);
    const planned = await chain.scheduleUpgrade({ name: 'v3.0.0', height: chain.height() + 1_000, info: JSON.stringify({ binaries: { 'linux/amd64': url } }) });
    await expectEventually(() => expect(bus.ofType('UpgradePlanned')).toHaveLength(1), { timeoutMs: 3_000 });
    expect(bus.ofType('UpgradePlanned')[0]!.data).toMatchObject({ chainId: chain.chainId, name: 'v3.0.0', binaries: { 'linux/amd64': url } });
    await processed(w, chain.chainId, planned.height + 10);
    expect((await chainStream(w.core, chain.chainId)).filter((e) => e.type === 'UpgradePlanned')).toHaveLength(1);
  });
});

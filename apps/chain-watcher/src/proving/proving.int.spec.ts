// The proving watch inside the real chain-watcher (Nest app, FleetCore, Postgres event log, NATS)
// against the proving simulator (libs/devnet: Lotus JSON-RPC over HTTP). The simulator's epochs
// advance only when the test says so, and each step waits until the leader has seen the new head:
// every assertion is about a known epoch, none waits on a timer.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChainProvingMiner, streamName, type EventEnvelope } from '@fleetvisor/contracts';
import { startProvingNode, type ProvingNodeHandle, type ProvingMinerSpec } from '@fleetvisor/devnet';
import type { CoreConfig } from '@fleetvisor/platform';
import { createTestDatabase, testBusNames, testCoreConfig, testTrust, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { deleteTestStreams, startWatcher, watcherConfig, type RunningWatcher } from '../../test/watcher-harness';
import { ChainWatcherLifecycle } from '../chain-watcher.module';
import { ProvingWatcher } from './proving-watcher';

const PARAMS = { periodDeadlines: 4, challengeWindow: 4, challengeLookback: 2, faultDeclarationCutoff: 3 };

describe('proving watch (simulated Lotus node, Postgres, NATS)', () => {
  let db: TestDatabase;
  let core: CoreConfig;
  const nodes: ProvingNodeHandle[] = [];
  const watchers: RunningWatcher[] = [];

  const newNode = async (miners: ProvingMinerSpec[]): Promise<ProvingNodeHandle> => {
    // Epoch 100 with offset 0 and a 16-epoch period: period start 96, deadline 1 open [100, 104).
    const n = await startProvingNode({ epochMs: 0, params: PARAMS, miners, startEpoch: 100 });
    nodes.push(n);
    return n;
  };
  const watch = async (node: ProvingNodeHandle, miners: string[], host = 'cw-a'): Promise<RunningWatcher> => {
    const w = await startWatcher(
      watcherConfig({ ...core, host }, [], testTrust().signer('chain-watcher'), { filecoin: { chains: [{ name: 'simnet', endpoints: [node.url], miners }], pollIntervalMs: 20 } }),
    );
    watchers.push(w);
    return w;
  };
  const proving = (w: RunningWatcher) => w.app.get(ProvingWatcher);
  /** Until the leader has finished observing the node's current head for every miner (events appended). */
  const seen = (w: RunningWatcher, node: ProvingNodeHandle) =>
    waitFor(() => (proving(w).status()[0]?.height ?? -1) >= node.chain.height, { timeoutMs: 10_000, message: `watch reached ${node.chain.height}` });
  const step = async (w: RunningWatcher, node: ProvingNodeHandle, epochs = 1) => {
    for (let i = 0; i < epochs; i++) {
      node.advance(1);
      await seen(w, node);
    }
  };
  const stream = async (w: RunningWatcher, miner: string): Promise<EventEnvelope[]> => (await w.core.store.readStream(streamName('miner', miner))).events;
  const ofType = (events: EventEnvelope[], type: string) => events.filter((e) => e.type === type).map((e) => e.data as Record<string, unknown>);
  /** Until the miner's stream holds `count` events of `type`. */
  const recorded = (w: RunningWatcher, miner: string, type: string, count = 1) =>
    waitFor(async () => ofType(await stream(w, miner), type).length >= count, { timeoutMs: 10_000, message: `${count} ${type} for ${miner}` });

  beforeAll(async () => {
    db = await createTestDatabase('prove');
    core = testCoreConfig(db.url, testBusNames(), { host: 'cw-a' });
    await createTestStreams(core);
  });
  afterEach(async () => {
    await Promise.allSettled(watchers.splice(0).map((w) => w.stop()));
    await Promise.allSettled(nodes.splice(0).map((n) => n.close()));
  });
  afterAll(async () => {
    await deleteTestStreams(core);
    await db?.drop();
  });

  it('a fault gives SectorsFaulted once, the deadline opens at risk, closes missed, and a declared recovery gives SectorsRecovered', async () => {
    const node = await newNode([
      { id: 't01000', periodOffset: 0, partitionsPerDeadline: 2, sectorsPerPartition: 3 },
      { id: 't01001', periodOffset: 5, partitionsPerDeadline: 1, sectorsPerPartition: 3 },
    ]);
    const w = await watch(node, ['t01000', 't01001']);
    await waitFor(() => proving(w).status().length === 1, { message: 'leader of simnet' });
    await seen(w, node);

    // Sector 13 is in deadline 2, partition 0 (sectors 12-14) of t01000.
    node.chain.declareFaults('t01000', [13]);
    await step(w, node);
    await recorded(w, 't01000', 'SectorsFaulted');
    expect(ofType(await stream(w, 't01000'), 'SectorsFaulted')).toEqual([{ chainId: 'simnet', minerId: 't01000', deadline: 2, partition: 0, sectors: [13], epoch: 101 }]);

    // Deadline 2 opens at 104 with sector 13 faulty and not declared recovering.
    await step(w, node, 3);
    await recorded(w, 't01000', 'ProvingDeadlineAtRisk');
    expect(ofType(await stream(w, 't01000'), 'ProvingDeadlineAtRisk')).toEqual([
      { chainId: 'simnet', minerId: 't01000', deadline: 2, periodStart: 96, open: 104, close: 108, partitions: [{ partition: 0, sectors: [13] }], epoch: 104 },
    ]);

    // The simulated prover cannot prove partition 0: at the close its other sectors turn faulty too.
    await step(w, node, 4);
    await recorded(w, 't01000', 'WindowPoStMissed');
    const events = await stream(w, 't01000');
    expect(ofType(events, 'WindowPoStMissed')).toEqual([
      { chainId: 'simnet', minerId: 't01000', deadline: 2, periodStart: 96, open: 104, close: 108, partitions: [0], provenPartitions: 1, epoch: 108 },
    ]);
    expect(ofType(events, 'SectorsFaulted').map((d) => d['sectors'])).toEqual([[13], [12, 14]]);

    // Recovery declared: proven in the next period's deadline 2 (open 120), recovered at its end.
    node.chain.declareRecoveries('t01000', [12, 13, 14]);
    await step(w, node, 17);
    await recorded(w, 't01000', 'SectorsRecovered');
    const after = await stream(w, 't01000');
    expect(ofType(after, 'SectorsRecovered')).toEqual([{ chainId: 'simnet', minerId: 't01000', deadline: 2, partition: 0, sectors: [12, 13, 14], epoch: 124 }]);
    // Each fact once; the declared recovery kept the next window from being at risk.
    expect(after.map((e) => e.type)).toEqual(['SectorsFaulted', 'ProvingDeadlineAtRisk', 'WindowPoStMissed', 'SectorsFaulted', 'SectorsRecovered']);
    expect(await stream(w, 't01001')).toEqual([]);

    // Calls per epoch for the fleet (2 miners, 4-epoch windows): ChainHead + 2 per miner per epoch,
    // + 3 per miner per window, + one read of every deadline (4) for a fault in an unread deadline.
    const status = proving(w).status()[0]!;
    const epochs = status.epochsSeen - 1;
    expect(status.callsPerEpoch).toBeDefined();
    expect(status.callsPerEpoch!).toBeLessThanOrEqual(1 + 2 * (2 + 3 / PARAMS.challengeWindow) + PARAMS.periodDeadlines / epochs + 0.1);
    expect(status.problems).toEqual([]);
  });

  it('a watcher restarted in the middle of a deadline misses nothing and doubles nothing', async () => {
    const node = await newNode([{ id: 't02000', periodOffset: 0, partitionsPerDeadline: 1, sectorsPerPartition: 4 }]);
    const a = await watch(node, ['t02000'], 'cw-a');
    await waitFor(() => proving(a).status().length === 1, { message: 'leader a' });
    await seen(a, node);
    // Deadline 2 (sectors 8-11) faulty before it opens: at risk at 104, missed at 108.
    node.chain.declareFaults('t02000', [9]);
    await step(a, node, 5); // epoch 105: faulted (101), at risk (104)
    await recorded(a, 't02000', 'ProvingDeadlineAtRisk');
    await a.stop();
    watchers.splice(watchers.indexOf(a), 1);

    // While nobody watches (still inside deadline 2): a new fault in deadline 3.
    node.chain.declareFaults('t02000', [12]);
    node.advance(1); // 106
    const b = await watch(node, ['t02000'], 'cw-b');
    await waitFor(() => proving(b).status().length === 1, { message: 'leader b' });
    await seen(b, node);
    await recorded(b, 't02000', 'SectorsFaulted', 2);
    await step(b, node, 2); // 108: deadline 2 closed unproven
    await recorded(b, 't02000', 'WindowPoStMissed');
    await step(b, node, 1);

    const events = await stream(b, 't02000');
    // At 108 deadline 3 opens with sector 12 (faulted while nobody watched) still faulty: at risk.
    expect(events.map((e) => e.type)).toEqual(['SectorsFaulted', 'ProvingDeadlineAtRisk', 'SectorsFaulted', 'WindowPoStMissed', 'ProvingDeadlineAtRisk', 'SectorsFaulted']);
    expect(ofType(events, 'SectorsFaulted').map((d) => [d['deadline'], d['sectors'], d['epoch']])).toEqual([
      [2, [9], 101],
      [3, [12], 106],
      [2, [8, 10, 11], 108],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('proving-miner answers over the bus with the node state', async () => {
    const node = await newNode([{ id: 't03000', periodOffset: 0, partitionsPerDeadline: 2, sectorsPerPartition: 3 }]);
    node.chain.declareFaults('t03000', [7, 13]);
    node.chain.declareRecoveries('t03000', [7]);
    node.advance(1); // 101: deadline 1's proofs are in
    const w = await watch(node, ['t03000']);
    const reply = await w.core.commands.request(ChainProvingMiner, { minerId: 't03000' }, { timeoutMs: 5_000 });
    expect(reply.ok).toBe(true);
    if (!reply.ok || !reply.result) throw new Error('no view');
    const view = reply.result;
    const dl = node.chain.deadline('t03000');
    expect(view).toMatchObject({ chainId: 'simnet', minerId: 't03000', currentEpoch: node.chain.height, periodStart: dl.PeriodStart, deadlineIndex: dl.Index, open: dl.Open, close: dl.Close, challenge: dl.Challenge, faultCutoff: dl.FaultCutoff, periodDeadlines: 4 });
    expect(view.deadlines).toHaveLength(4);
    expect(view.deadlines[1]!.partitions[0]).toEqual({ partition: 0, sectors: 3, active: 2, faulty: [7], recovering: [7] });
    expect(view.deadlines[2]!.partitions[0]).toEqual({ partition: 0, sectors: 3, active: 2, faulty: [13], recovering: [] });
    expect(view.deadlines[1]!.provenPartitions).toEqual([0, 1]);
    const missing = await w.core.commands.request(ChainProvingMiner, { minerId: 't09999' }, { timeoutMs: 5_000 });
    expect(missing.ok).toBe(false);
  });

  it("a node that stops answering degrades the leader's /healthz, naming the chain", async () => {
    const node = await newNode([{ id: 't04000', periodOffset: 0 }]);
    const w = await watch(node, ['t04000']);
    await waitFor(() => proving(w).status().length === 1, { message: 'leader' });
    await seen(w, node);
    const port = w.app.get(ChainWatcherLifecycle).httpPort!;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await node.close();
    nodes.splice(nodes.indexOf(node), 1);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 503, { message: 'degraded' });
    const body = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { reasons: string[] };
    expect(body.reasons.some((r) => r.startsWith('filecoin simnet: ChainHead'))).toBe(true);
  });

  it('two replicas: one leads the chain, the other takes over when it stops, and each fact is recorded once', async () => {
    const node = await newNode([{ id: 't05000', periodOffset: 0, partitionsPerDeadline: 1, sectorsPerPartition: 2 }]);
    const a = await watch(node, ['t05000'], 'cw-a');
    const b = await watch(node, ['t05000'], 'cw-b');
    await waitFor(() => proving(a).status().length + proving(b).status().length === 1, { message: 'one leader' });
    // The lock is exclusive: the other replica stands by.
    expect([proving(a).isLeader('simnet'), proving(b).isLeader('simnet')].sort()).toEqual([false, true]);
    const [leader, standby] = proving(a).status().length === 1 ? [a, b] : [b, a];
    await seen(leader, node);
    node.chain.declareFaults('t05000', [5]); // deadline 2
    await step(leader, node);
    await recorded(leader, 't05000', 'SectorsFaulted');

    await leader.stop();
    watchers.splice(watchers.indexOf(leader), 1);
    await waitFor(() => proving(standby).status().length === 1, { message: 'standby takes over' });
    await seen(standby, node);
    node.chain.declareFaults('t05000', [6]); // deadline 3
    await step(standby, node);
    await recorded(standby, 't05000', 'SectorsFaulted', 2);
    const events = await stream(standby, 't05000');
    expect(ofType(events, 'SectorsFaulted').map((d) => d['sectors'])).toEqual([[5], [6]]);
    expect(events.map((e) => e.type)).toEqual(['SectorsFaulted', 'SectorsFaulted']);
  });
});

// The proving watch inside the real chain-watcher (Nest app, FleetCore, Postgres event log, NATS)
// against the proving simulator (libs/devnet: Lotus JSON-RPC over HTTP, ChainNotify over WebSocket). The simulator's epochs
// advance only when the test says so, and each step waits until the leader has seen the new head:
// every assertion is about a known epoch, none waits on a timer.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChainProvingMiner, ChainStatus, streamName, type EventEnvelope } from '@fleetvisor/contracts';
import { startProvingNode, TokenIssuer, type ProvingNodeHandle, type ProvingMinerSpec, type ProvingWebSocketState } from '@fleetvisor/devnet';
import { Secret, type CoreConfig } from '@fleetvisor/platform';
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

  const newNode = async (miners: ProvingMinerSpec[], webSocket: ProvingWebSocketState = 'up', tokens?: TokenIssuer): Promise<ProvingNodeHandle> => {
    // Epoch 100 with offset 0 and a 16-epoch period: period start 96, deadline 1 open [100, 104).
    const n = await startProvingNode({ epochMs: 0, params: PARAMS, miners, startEpoch: 100, webSocket, ...(tokens ? { tokens } : {}) });
    nodes.push(n);
    return n;
  };
  const watch = async (node: ProvingNodeHandle, miners: string[], host = 'cw-a', notify = true, token?: string): Promise<RunningWatcher> => {
    const w = await startWatcher(
      watcherConfig({ ...core, host }, [], testTrust().signer('chain-watcher'), {
        filecoin: {
          chains: [{ name: 'simnet', endpoints: [node.url], miners }],
          pollIntervalMs: 20,
          notify,
          notifyStallMs: 5_000,
          notifyRetryMaxMs: 100,
          ...(token !== undefined ? { token: { secret: new Secret(token), variable: 'FLEETVISOR_FILECOIN_TOKEN_FILE' } } : {}),
        },
      }),
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

    // Calls per epoch for the fleet (2 miners, 4-epoch windows, over ChainNotify): 1 per miner per
    // epoch, + 4 per miner per window, + 2 to place the fault in a deadline not read yet.
    const status = proving(w).status()[0]!;
    const epochs = status.epochsSeen - 1;
    expect(status.callsPerEpoch).toBeDefined();
    expect(status.callsPerEpoch!).toBeLessThanOrEqual(2 * (1 + 4 / PARAMS.challengeWindow) + 2 / epochs + 0.1);
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

  it('a node that wants a token: none or a wrong one is refused naming the setting, never showing the token; the right one is sent over HTTP and WebSocket', async () => {
    const tokens = new TokenIssuer();
    const node = await newNode([{ id: 't04500', periodOffset: 0, partitionsPerDeadline: 1, sectorsPerPartition: 2 }], 'up', tokens);
    const reasons = async (w: RunningWatcher): Promise<string[]> => {
      const res = await fetch(`http://127.0.0.1:${w.app.get(ChainWatcherLifecycle).httpPort!}/healthz`);
      return ((await res.json()) as { reasons?: string[] }).reasons ?? [];
    };

    const none = await watch(node, ['t04500']);
    await waitFor(async () => (await reasons(none)).some((r) => /missing permission to invoke 'Filecoin\.ChainHead' \(need 'read'\).*set FLEETVISOR_FILECOIN_TOKEN/.test(r)), { message: 'ChainHead refused, the setting named' });
    await waitFor(() => /ChainNotify refused: missing permission.*set FLEETVISOR_FILECOIN_TOKEN/.test(proving(none).status()[0]?.notifyProblem ?? ''), { message: 'ChainNotify refused' });
    await none.stop();
    watchers.splice(watchers.indexOf(none), 1);

    const wrongToken = new TokenIssuer().mint({ name: 'elsewhere', perm: 'read' });
    const wrong = await watch(node, ['t04500'], 'cw-a', true, wrongToken);
    await waitFor(async () => (await reasons(wrong)).some((r) => /HTTP 401: the node refused the token of FLEETVISOR_FILECOIN_TOKEN_FILE/.test(r)), { message: 'token refused' });
    await waitFor(() => /WebSocket upgrade refused \(HTTP 401\): the node refused the token/.test(proving(wrong).status()[0]?.notifyProblem ?? ''), { message: 'upgrade refused' });
    expect(JSON.stringify([await reasons(wrong), proving(wrong).status()])).not.toContain(wrongToken);
    await wrong.stop();
    watchers.splice(watchers.indexOf(wrong), 1);
    expect(node.calls()).toBe(0);

    const w = await watch(node, ['t04500'], 'cw-a', true, tokens.mint({ name: 'fleetvisor', perm: 'read' }));
    await waitFor(() => proving(w).status()[0]?.mode === 'notify', { timeoutMs: 10_000, message: 'subscribed with the token' });
    await seen(w, node);
    node.chain.declareFaults('t04500', [5]);
    await step(w, node);
    await recorded(w, 't04500', 'SectorsFaulted');
    expect(node.served.get('Filecoin.ChainNotify')).toBe(1);
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

  it('chain-watcher.status lists the Filecoin chain as its leader sees it, whichever replica answers', async () => {
    const node = await newNode([{ id: 't05500', periodOffset: 0 }]);
    const a = await watch(node, ['t05500'], 'cw-a');
    const b = await watch(node, ['t05500'], 'cw-b');
    await waitFor(() => proving(a).status().length + proving(b).status().length === 1, { message: 'one leader' });
    const [leader, standby] = proving(a).status().length === 1 ? [a, b] : [b, a];
    await waitFor(() => proving(leader).status()[0]?.mode === 'notify', { message: 'notify' });
    await seen(leader, node);
    const leaderHost = leader === a ? 'cw-a' : 'cw-b';
    // The standby asks the leader (proving-leader-status): both answer with the leader's view.
    for (const w of [leader, standby]) {
      expect(proving(w).localChainStatus('simnet') === undefined).toBe(w === standby);
      const all = await proving(w).chainStatus();
      expect(all).toEqual([{ chainId: 'simnet', mode: 'notify', leaderHost, height: node.chain.height, miners: ['t05500'], problems: [] }]);
    }
    const reply = await standby.core.commands.request(ChainStatus, { chainId: 'simnet' }, { timeoutMs: 5_000 });
    expect(reply).toMatchObject({ ok: true, result: { chains: [], filecoin: [{ chainId: 'simnet', mode: 'notify', leaderHost }] } });
    const whole = await standby.core.commands.request(ChainStatus, {}, { timeoutMs: 5_000 });
    expect(whole).toMatchObject({ ok: true, result: { chains: [], filecoin: [{ chainId: 'simnet', leaderHost, miners: ['t05500'] }] } });
  });

  describe('following the head: ChainNotify over WebSocket, ChainHead polls as the fallback', () => {
    const status = (w: RunningWatcher) => proving(w).status()[0];
    const headPolls = (node: ProvingNodeHandle) => node.served.get('Filecoin.ChainHead') ?? 0;
    const inMode = (w: RunningWatcher, mode: 'notify' | 'poll') => waitFor(() => status(w)?.mode === mode, { timeoutMs: 10_000, message: `watch in ${mode} mode` });

    it('events flow over ChainNotify with no ChainHead call, and a reorg at the same height is observed again', async () => {
      const node = await newNode([{ id: 't06000', periodOffset: 0, partitionsPerDeadline: 1, sectorsPerPartition: 2 }]);
      const w = await watch(node, ['t06000']);
      await inMode(w, 'notify');
      await seen(w, node);
      const polls = headPolls(node);
      const http = node.callsOver().http;
      node.chain.declareFaults('t06000', [5]); // deadline 2
      await step(w, node, 9); // 109: deadline 2 opened at risk at 104, closed missed at 108
      await recorded(w, 't06000', 'WindowPoStMissed');
      expect(headPolls(node)).toBe(polls);
      // The state calls went over the subscribed socket too.
      expect(node.callsOver().http).toBe(http);
      expect(node.served.get('Filecoin.ChainNotify')).toBe(1);
      // The fault in deadline 2 (not read yet) was placed by asking where its sector lives.
      expect(node.served.get('Filecoin.StateSectorPartition')).toBe(1);
      // No ChainHead term: M × (1 + 4 / window) + 2 to place the fault, over the epochs seen.
      const before = status(w)!;
      expect(before.headPollsPerEpoch).toBe(0);
      expect(before.callsPerEpoch!).toBeLessThanOrEqual(1 * (1 + 4 / PARAMS.challengeWindow) + 2 / (before.epochsSeen - 1) + 0.1);

      // A sibling head at the same height: observed again (the new fault is seen at once).

      node.chain.declareFaults('t06000', [6]);
      node.reorg();
      await recorded(w, 't06000', 'SectorsFaulted', 3);
      expect(status(w)!.epochsSeen).toBe(before.epochsSeen);
      expect(status(w)!.headsNotified).toBe(before.headsNotified + 1);

      const events = await stream(w, 't06000');
      expect(events.map((e) => e.type)).toEqual(['SectorsFaulted', 'ProvingDeadlineAtRisk', 'WindowPoStMissed', 'SectorsFaulted', 'SectorsFaulted']);
      expect(ofType(events, 'SectorsFaulted').map((d) => [d['sectors'], d['epoch']])).toEqual([
        [[5], 101],
        [[4], 108],
        [[6], 109],
      ]);
    });

    it('the socket dropped: polls ChainHead at once, loses and doubles nothing, and returns to ChainNotify when the socket is back', async () => {
      const node = await newNode([{ id: 't07000', periodOffset: 0, partitionsPerDeadline: 1, sectorsPerPartition: 2 }]);
      const w = await watch(node, ['t07000']);
      await inMode(w, 'notify');
      await seen(w, node);

      // A fault and a new epoch at the moment the socket goes: its notification may never be sent.
      node.chain.declareFaults('t07000', [5]);
      node.advance(1); // 101
      node.setWebSocket('down');
      await inMode(w, 'poll');
      await seen(w, node);
      await recorded(w, 't07000', 'SectorsFaulted');
      expect(status(w)!.notifyProblem).toMatch(/simnet|127\.0\.0\.1/);
      const polls = headPolls(node);
      const http = node.callsOver().http;
      await step(w, node, 3); // 104: deadline 2 opens at risk, seen by polling
      await recorded(w, 't07000', 'ProvingDeadlineAtRisk');
      expect(headPolls(node)).toBeGreaterThan(polls);
      // Without the socket every state call is made over HTTP.
      expect(node.callsOver().http - http).toBeGreaterThanOrEqual(3 * 2 + (headPolls(node) - polls));

      node.setWebSocket('up');
      await inMode(w, 'notify');
      const notified = status(w)!.headsNotified;
      await step(w, node, 4); // 108: deadline 2 closed unproven
      await recorded(w, 't07000', 'WindowPoStMissed');
      expect(status(w)!.headsNotified).toBeGreaterThanOrEqual(notified + 4);
      expect(status(w)!.mode).toBe('notify');

      const events = await stream(w, 't07000');
      expect(events.map((e) => e.type)).toEqual(['SectorsFaulted', 'ProvingDeadlineAtRisk', 'WindowPoStMissed', 'SectorsFaulted']);
      expect(ofType(events, 'SectorsFaulted').map((d) => [d['sectors'], d['epoch']])).toEqual([
        [[5], 101],
        [[4], 108],
      ]);
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    });

    it('a node without ChainNotify (method not found) is polled, and says why', async () => {
      const node = await newNode([{ id: 't08000', periodOffset: 0 }], 'no-notify');
      const w = await watch(node, ['t08000']);
      await waitFor(() => /not offered by this node/.test(status(w)?.notifyProblem ?? ''), { timeoutMs: 10_000, message: 'ChainNotify refused' });
      expect(status(w)!.mode).toBe('poll');
      await seen(w, node);
      node.chain.declareFaults('t08000', [9]);
      await step(w, node);
      await recorded(w, 't08000', 'SectorsFaulted');
      expect(status(w)!.headsNotified).toBe(0);
    });

    it('reads a miner at the tipset it observes: a fault that comes with the next head is recorded at that head; a tipset the node no longer has is read at its head', async () => {
      const node = await newNode([{ id: 't09500', periodOffset: 0, partitionsPerDeadline: 1, sectorsPerPartition: 2 }]);
      const w = await watch(node, ['t09500'], 'cw-a', false);
      await waitFor(() => proving(w).status().length === 1, { message: 'leader' });
      await seen(w, node);
      // Right after the node tells the watch its head is 101, the chain moves to 102 and a fault is declared
      // there: the reads for 101 must not see it.
      let moveAt: number | undefined = 101;
      let epochs = 1;
      node.onAnswered = (method) => {
        if (method !== 'Filecoin.ChainHead' || node.chain.height !== moveAt) return;
        moveAt = undefined;
        node.advance(epochs);
        node.chain.declareFaults('t09500', [5]);
      };
      node.advance(1);
      await recorded(w, 't09500', 'SectorsFaulted');
      await seen(w, node);
      expect(ofType(await stream(w, 't09500'), 'SectorsFaulted').map((d) => [d['sectors'], d['epoch']])).toEqual([[[5], 102]]);
      expect(status(w)!.keyFallbacks).toBe(0);

      // The chain moves on by more heads than the node keeps before the reads of the head just announced.
      moveAt = 103;
      epochs = 20;
      node.advance(1);
      await recorded(w, 't09500', 'SectorsFaulted', 2);
      expect(status(w)!.keyFallbacks).toBeGreaterThan(0);
    });

    it('FLEETVISOR_FILECOIN_NOTIFY=off: polls only, never opens a socket', async () => {
      const node = await newNode([{ id: 't09000', periodOffset: 0 }]);
      const w = await watch(node, ['t09000'], 'cw-a', false);
      await waitFor(() => proving(w).status().length === 1, { message: 'leader' });
      await seen(w, node);
      await step(w, node, 2);
      expect(status(w)).toMatchObject({ mode: 'poll', headsNotified: 0 });
      expect(status(w)!.notifyProblem).toBeUndefined();
      expect(node.sockets().connections).toBe(0);
      expect(node.served.get('Filecoin.ChainNotify')).toBeUndefined();
    });
  });
});

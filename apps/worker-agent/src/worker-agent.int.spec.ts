// The worker-agent against real NATS: reports with threads and transitions, the agent commands
// addressed to its name, bridge mode over real HTTP JSON-RPC, and riding out a NATS outage. The
// agent runs as `fleetvisor worker-agent run` starts it: the Nest app of startWorkerAgent.
// A test-side CommandBus serving WorkerReportCommand stands in for the worker-registry.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { connect, type NatsConnection } from 'nats';
import {
  AgentDrain,
  AgentPause,
  AgentResume,
  AgentThreadList,
  createSubjects,
  WorkerReportCommand,
  type ThreadTransition,
  type WorkerReport,
} from '@fleetvisor/contracts';
import { CommandBus } from '@fleetvisor/messaging/core';
import { SimulatedWorker, startVenusWorkerRpcServer, type VenusWorkerRpcServer } from '@fleetvisor/devnet';
import { expectEventually, sharedNatsUrl, startPrivateNats, testBusNames, testTrust, testTrustConfig, type PrivateNats } from '@fleetvisor/testing';
import { BridgeSource } from './sources/bridge-source';
import { SimulatedSource } from './sources/simulated-source';
import type { ThreadSource } from './sources/thread-source';
import { loadWorkerAgentConfig } from './config';
import { startWorkerAgent, type RunningWorkerAgent } from './worker-agent.module';

const logger = pino({ level: 'silent' });

/** Stands in for the registry: records reports, accepts transitions by (bootId, seq) like the real one. */
class FakeRegistry {
  readonly reports: WorkerReport[] = [];
  readonly accepted = new Map<string, Set<number>>();
  constructor(readonly bus: CommandBus) {}
  async serve(): Promise<void> {
    await this.bus.serve(
      WorkerReportCommand,
      async (r, ctx) => {
      // The agent reports on its own worker's subject (<root>.cmd.worker-registry.report.<name>).
      if (ctx.scope !== r.name) throw new Error(`report of ${r.name} came on the subject of ${ctx.scope}`);
      this.reports.push(r);
      const seen = this.accepted.get(r.bootId) ?? new Set<number>();
      this.accepted.set(r.bootId, seen);
      let appended = 0;
      for (const t of r.transitions) {
        if (seen.has(t.seq)) continue;
        seen.add(t.seq);
        appended++;
      }
      let acceptedSeq = 0;
      while (seen.has(acceptedSeq + 1)) acceptedSeq++;
      return { appended, acceptedSeq };
      },
      { scoped: true },
    ).ready;
  }
  last(name: string): WorkerReport | undefined {
    return this.reports.filter((r) => r.name === name).at(-1);
  }
}

async function busOn(url: string, root: string): Promise<{ nc: NatsConnection; bus: CommandBus }> {
  const nc = await connect({ servers: url, reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  // Signs as an operator would: the agent carries out only signed pause / resume / drain.
  return { nc, bus: new CommandBus({ nc, subjects: createSubjects(root), logger, signer: testTrust().signer('operate', 'test-operator') }) };
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The agent as `fleetvisor worker-agent run` starts it (Nest app on the bus), with this source. */
async function agentWith(source: ThreadSource, natsUrl: string, root: string, name: string, reportIntervalMs = 200): Promise<RunningWorkerAgent> {
  const base = loadWorkerAgentConfig({}, () => 'test-host');
  const config = { ...base, name, dest: `${name}:17890`, reportIntervalMs, reportTimeoutMs: 1_000, core: { ...base.core, natsUrl, subjectRoot: root }, trust: testTrustConfig() };
  const running = await startWorkerAgent(config, { logger, source });
  cleanups.push(() => running.app.close());
  return running;
}

describe('worker-agent on the shared NATS', () => {
  const root = testBusNames().subjectRoot;
  let nc: NatsConnection;
  let bus: CommandBus;
  let registry: FakeRegistry;

  beforeAll(async () => {
    ({ nc, bus } = await busOn(sharedNatsUrl(), root));
    registry = new FakeRegistry(bus);
    await registry.serve();
  });
  afterAll(async () => {
    await bus?.close();
    await nc?.close();
  });

  it('reports every thread and each transition once, with seq strictly increasing', async () => {
    const sim = new SimulatedWorker({ threads: 4, stepMs: 40, temporaryErrorRate: 0.1, permanentErrorRate: 0, seed: 3 });
    const { agent } = await agentWith(new SimulatedSource(sim, { tickMs: 20 }), sharedNatsUrl(), root, 'wa-report');
    await expectEventually(() => expect(registry.accepted.get(agent.bootId)?.size ?? 0).toBeGreaterThan(30), { timeoutMs: 15_000 });
    const mine = registry.reports.filter((r) => r.name === 'wa-report');
    expect(mine[0]).toMatchObject({ name: 'wa-report', dest: 'wa-report:17890', version: '0.11.0-sim', bootId: agent.bootId });
    expect(mine.at(-1)!.threads.map((t) => t.index)).toEqual([0, 1, 2, 3]);
    const seqs = mine.flatMap((r) => r.transitions.map((t) => t.seq));
    // Acknowledged transitions are never sent again: every seq arrives once, in order.
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(mine.flatMap((r) => r.transitions).some((t) => t.failure?.level === 'temporary')).toBe(true);
  });

  it('answers list, pause, resume and drain for its name, and reports each change at once', async () => {
    const sim = new SimulatedWorker({ threads: 3, stepMs: 50, temporaryErrorRate: 0, permanentErrorRate: 0, plans: ['sealer', 'unseal', 'sealer'], seed: 5 });
    const name = 'wa-cmd.host-01';
    // A long interval: any report after the first comes from a command.
    const { connected } = await agentWith(new SimulatedSource(sim, { tickMs: 20 }), sharedNatsUrl(), root, name, 60_000);
    await connected;
    await expectEventually(() => expect(registry.last(name)).toBeDefined());
    const at = { instance: name, timeoutMs: 3_000 };

    const list = await bus.request(AgentThreadList, {}, at);
    expect(list.ok && list.result).toMatchObject({ name, dest: `${name}:17890`, version: '0.11.0-sim' });
    expect(list.ok && list.result!.threads.map((t) => [t.index, t.plan])).toEqual([[0, 'sealer'], [1, 'unseal'], [2, 'sealer']]);

    const reportsBefore = registry.reports.filter((r) => r.name === name).length;
    const bootId = registry.last(name)!.bootId;
    // Each command answers with the agent's boot and its count; the report it sends at once carries it.
    expect(await bus.request(AgentPause, { index: 0 }, at)).toEqual({ ok: true, result: { index: 0, changed: true, bootId, controls: 1 } });
    expect(sim.pauseReason(0)).toBe('manual');
    await expectEventually(() => expect(registry.reports.filter((r) => r.name === name).length).toBeGreaterThan(reportsBefore), { timeoutMs: 3_000 });
    expect(registry.last(name)).toMatchObject({ controls: 1 });
    expect(registry.last(name)!.threads[0]!.threadState).toBe('paused');
    expect(await bus.request(AgentPause, { index: 0 }, at)).toEqual({ ok: true, result: { index: 0, changed: false, bootId, controls: 2 } });

    expect(await bus.request(AgentPause, { index: 7 }, at)).toEqual({ ok: false, error: { code: 'not_found', message: `worker #7 not found on ${name} (threads: 0..2)` } });

    const stateBefore = sim.threadInfos()[0]!.state;
    const bad = await bus.request(AgentResume, { index: 0, state: 'Unsealed' }, at);
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.code).toBe('invalid_request');
    expect(!bad.ok && bad.error.message).toContain('valid: Empty, Allocated, DealsAcquired');
    expect(sim.threadInfos()[0]).toMatchObject({ threadState: 'paused', state: stateBefore });

    expect(await bus.request(AgentResume, { index: 0, state: 'PC2Done' }, at)).toEqual({ ok: true, result: { index: 0, state: 'PC2Done', changed: true, bootId, controls: 3 } });
    await expectEventually(() => expect(registry.last(name)!.transitions.some((t) => t.index === 0 && t.event === 'SetState' && t.next === 'PC2Done')).toBe(true));
    expect(await bus.request(AgentResume, { index: 1 }, at)).toMatchObject({ ok: true, result: { index: 1, changed: false } });

    const drain = await bus.request(AgentDrain, {}, at);
    expect(drain.ok && drain.result!.threads).toBe(3);
    await expectEventually(async () => expect(await bus.request(AgentDrain, {}, at)).toMatchObject({ ok: true, result: { threads: 3, paused: 3, finished: true, bootId } }), { timeoutMs: 5_000 });
    expect([0, 1, 2].map((i) => sim.pauseReason(i))).toEqual(['drain', 'drain', 'drain']);
    await expectEventually(() => expect(registry.last(name)!.threads.every((t) => t.threadState === 'paused')).toBe(true));
  });

  it('bridge mode: reads a VenusWorker JSON-RPC server over HTTP, derives transitions, passes pause/resume through', async () => {
    const sim = new SimulatedWorker({ threads: 2, stepMs: 150, jitter: 0, temporaryErrorRate: 0, permanentErrorRate: 0, plans: ['sealer'], seed: 9 });
    sim.start(20);
    const rpc: VenusWorkerRpcServer = await startVenusWorkerRpcServer({ worker: sim });
    cleanups.push(() => rpc.close(), () => sim.stop());
    const name = 'wa-bridge';
    const { connected } = await agentWith(new BridgeSource({ adminUrl: rpc.url, pollMs: 50, logger }), sharedNatsUrl(), root, name);
    await connected;
    const at = { instance: name, timeoutMs: 3_000 };

    await expectEventually(() => expect(registry.last(name)?.transitions.length ?? 0).toBeGreaterThan(0), { timeoutMs: 10_000 });
    const tr = registry.reports.filter((r) => r.name === name).flatMap((r) => r.transitions);
    expect(tr[0]).toMatchObject({ seq: 1, plan: 'sealer', sectorId: expect.stringMatching(/^s-t01000-\d+$/), location: expect.stringMatching(/^\/data\/store[01]$/) });

    const list = await bus.request(AgentThreadList, {}, at);
    expect(list.ok && list.result!.threads.map((t) => t.index)).toEqual([0, 1]);
    expect(list.ok && list.result!.version).toBe('0.11.0-sim');

    expect(await bus.request(AgentPause, { index: 1 }, at)).toMatchObject({ ok: true, result: { index: 1, changed: true, controls: 1 } });
    expect(sim.pauseReason(1)).toBe('manual');
    expect(await bus.request(AgentPause, { index: 5 }, at)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const bad = await bus.request(AgentResume, { index: 1, state: 'SnapEncoded' }, at);
    expect(!bad.ok && bad.error).toMatchObject({ code: 'invalid_request' });
    expect(sim.pauseReason(1)).toBe('manual');
    expect(await bus.request(AgentResume, { index: 1, state: 'C1Done' }, at)).toMatchObject({ ok: true, result: { index: 1, state: 'C1Done', changed: true, controls: 2 } });
    await expectEventually(() => expect(registry.reports.filter((r) => r.name === name).flatMap((r) => r.transitions).some((t) => t.index === 1 && t.next === 'C1Done')).toBe(true));
    expect(rpc.requests).toBeGreaterThan(5);
  });
  it('bridge mode: every sector that is left behind ends with a transition to Empty on that sector', async () => {
    const sim = new SimulatedWorker({ threads: 2, stepMs: 15, jitter: 0, temporaryErrorRate: 0, permanentErrorRate: 0, plans: ['sealer', 'unseal'], seed: 17 });
    sim.start(5);
    const rpc = await startVenusWorkerRpcServer({ worker: sim });
    cleanups.push(() => rpc.close(), () => sim.stop());
    const name = 'wa-bridge-ends';
    const { connected } = await agentWith(new BridgeSource({ adminUrl: rpc.url, pollMs: 60, logger }), sharedNatsUrl(), root, name, 100);
    await connected;
    const transitions = () => registry.reports.filter((r) => r.name === name).flatMap((r) => r.transitions);
    const sectorsOf = (index: number) => new Set(transitions().filter((t) => t.index === index && t.sectorId !== undefined).map((t) => t.sectorId));
    await expectEventually(() => {
      expect(sectorsOf(0).size).toBeGreaterThan(3);
      expect(sectorsOf(1).size).toBeGreaterThan(3);
    }, { timeoutMs: 20_000 });
    for (const index of [0, 1]) {
      let last: ThreadTransition | undefined;
      const gaps: string[] = [];
      for (const t of transitions().filter((x) => x.index === index)) {
        if (last?.sectorId !== undefined && t.sectorId !== last.sectorId && last.next !== 'Empty') gaps.push(`${last.sectorId} ${last.next} -> ${t.sectorId ?? '-'} ${t.next}`);
        last = t;
      }
      expect(gaps).toEqual([]);
    }
  });

  it('bridge mode: reports a change as soon as a poll sees it, at most one report per poll, heartbeat or not', async () => {
    const sim = new SimulatedWorker({ threads: 4, stepMs: 30, jitter: 0, temporaryErrorRate: 0, permanentErrorRate: 0, plans: ['sealer'], seed: 13 });
    sim.start(10);
    const rpc = await startVenusWorkerRpcServer({ worker: sim });
    cleanups.push(() => rpc.close(), () => sim.stop());
    const name = 'wa-bridge-now';
    const pollMs = 100;
    const { connected } = await agentWith(new BridgeSource({ adminUrl: rpc.url, pollMs, logger }), sharedNatsUrl(), root, name, 60_000);
    await connected;
    const startedAt = Date.now();
    // The threads change all the time: every poll finds something new, with the heartbeat a minute away.
    await expectEventually(() => expect(registry.reports.filter((r) => r.name === name).length).toBeGreaterThan(8), { timeoutMs: 10_000 });
    const polls = (Date.now() - startedAt) / pollMs;
    // One report at connect, then at most one per poll.
    expect(registry.reports.filter((r) => r.name === name).length).toBeLessThanOrEqual(Math.ceil(polls) + 2);
  });
});

describe('worker-agent through a NATS outage (private NATS)', () => {
  let nats: PrivateNats;
  beforeAll(async () => {
    nats = await startPrivateNats();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it('keeps running while NATS is down and delivers the pending transitions once when it is back', async () => {
    const root = testBusNames().subjectRoot;
    const { nc, bus } = await busOn(nats.url, root);
    cleanups.push(() => nc.close());
    const registry = new FakeRegistry(bus);
    await registry.serve();
    const sim = new SimulatedWorker({ threads: 4, stepMs: 30, temporaryErrorRate: 0, permanentErrorRate: 0, seed: 11 });
    const { agent } = await agentWith(new SimulatedSource(sim, { tickMs: 10 }), nats.url, root, 'wa-outage', 150);
    await expectEventually(() => expect(registry.accepted.get(agent.bootId)?.size ?? 0).toBeGreaterThan(10), { timeoutMs: 10_000 });

    await nats.shutdown();
    const seqAtOutage = agent.outbox.lastSeq;
    // The worker goes on sealing; reports fail and their transitions pile up.
    await expectEventually(() => {
      expect(agent.reporter.stats.consecutiveFailures).toBeGreaterThan(2);
      expect(agent.outbox.lastSeq).toBeGreaterThan(seqAtOutage + 40);
    }, { timeoutMs: 15_000 });
    const pendingSeqs = agent.outbox.pending().map((t) => t.seq);
    expect(pendingSeqs.length).toBeGreaterThan(40);
    const reportsBefore = registry.reports.length;

    await nats.restart();
    await expectEventually(() => expect(registry.accepted.get(agent.bootId)!.size).toBeGreaterThanOrEqual(pendingSeqs.at(-1)!), { timeoutMs: 20_000 });
    const after = registry.reports.slice(reportsBefore).flatMap((r) => r.transitions.map((t) => t.seq));
    for (const s of pendingSeqs) expect(after.filter((x) => x === s)).toHaveLength(1);
    // Nothing lost across the outage: every seq of this boot is recorded, 1..n without a gap.
    const got = [...registry.accepted.get(agent.bootId)!].sort((a, b) => a - b);
    expect(got).toEqual(got.map((_, i) => i + 1));
    await expectEventually(() => expect(agent.reporter.stats.consecutiveFailures).toBe(0));
  });

  it('starts while NATS is down and reports once it comes up', async () => {
    await nats.shutdown();
    const root = testBusNames().subjectRoot;
    const sim = new SimulatedWorker({ threads: 2, stepMs: 30, temporaryErrorRate: 0, permanentErrorRate: 0, seed: 12 });
    const { agent } = await agentWith(new SimulatedSource(sim, { tickMs: 10 }), nats.url, root, 'wa-late', 150);
    await expectEventually(() => expect(agent.outbox.size).toBeGreaterThan(10), { timeoutMs: 10_000 });
    await nats.restart();
    const { nc, bus } = await busOn(nats.url, root);
    cleanups.push(() => nc.close());
    const registry = new FakeRegistry(bus);
    await registry.serve();
    await expectEventually(async () => expect(await bus.request(AgentThreadList, {}, { instance: 'wa-late', timeoutMs: 1_000 })).toMatchObject({ ok: true }), { timeoutMs: 20_000 });
    await expectEventually(() => expect(registry.accepted.get(agent.bootId)?.has(1)).toBe(true), { timeoutMs: 10_000 });
  });
});

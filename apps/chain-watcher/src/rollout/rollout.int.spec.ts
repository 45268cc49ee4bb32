// The rollout coordinator inside the real chain-watcher (devnet chain, Postgres log, NATS bus):
// runners' admission requests on their scoped subjects, hosts' outcomes as the intake stores them
// (UpgradeStarted + ServiceUpgraded / UpgradeFailed in service-<host>/<name>), the leader's
// RolloutHostHealthy / RolloutHalted, a watcher restarted mid-rollout that rebuilds the rollout from
// the log, and operators' signed resume / abort (an unsigned one refused).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import {
  ChainRolloutAbort,
  ChainRolloutAdmit,
  ChainRolloutResume,
  ChainRolloutStatus,
  createSubjects,
  newEventFor,
  ServiceUpgraded,
  UpgradeFailed,
  UpgradeStarted,
  uuidv7,
  type EventEnvelope,
  type ProtocolVersion,
} from '@fleetvisor/contracts';
import { startDevnetChain, type DevnetChain } from '@fleetvisor/devnet';
import { CommandBus } from '@fleetvisor/messaging';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { createLogger, type CoreConfig } from '@fleetvisor/platform';
import { createTestDatabase, expectEventually, testBusNames, testCoreConfig, testTrust, type TestDatabase } from '@fleetvisor/testing';
import { chainStream, deleteTestStreams, startWatcher, version, watcherConfig, type RunningWatcher } from '../../test/watcher-harness';
import { parseRolloutPolicies } from './rollout-policy';
import { rolloutStream } from './rollout-coordinator';

const logger = createLogger({ name: 'test', level: 'silent', format: 'json' });
const V1 = version('0.21.0', '0.20.0');
const V2 = version('0.23.2', '0.22.0');
const services = [{ service: 'p1', toVersion: '0.23.2' }];

describe('rollout coordinator (chain-watcher, Postgres, NATS)', () => {
  let db: TestDatabase;
  let core: CoreConfig;
  let chain: DevnetChain;
  let nc: NatsConnection;
  let bus: CommandBus;
  let operator: CommandBus;
  const trust = testTrust();
  const watchers: RunningWatcher[] = [];

  const watch = async (): Promise<RunningWatcher> => {
    const w = await startWatcher(
      watcherConfig(core, [{ chainId: chain.chainId, endpoints: [chain.rpcUrl] }], trust.signer('chain-watcher'), {
        trustRoots: [trust.root.publicKey],
        rollout: parseRolloutPolicies(`${chain.chainId}:canary=1,max_parallel=1,min_healthy_time=1500ms,healthy_deadline=60s`),
        rolloutTickMs: 100,
      }),
    );
    watchers.push(w);
    return w;
  };
  const admit = async (host: string, v: ProtocolVersion = V2) => {
    const r = await bus.request(ChainRolloutAdmit, { chainId: chain.chainId, version: v, services }, { scope: host, timeoutMs: 5_000 });
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.result!;
  };
  const status = async () => {
    const r = await bus.request(ChainRolloutStatus, { chainId: chain.chainId }, { timeoutMs: 5_000 });
    if (!r.ok) throw new Error(r.error.message);
    return r.result!.rollouts[0]!;
  };
  /** What a host's runner records for one upgrade attempt, stored as the intake stores it. */
  const hostUpgrade = async (w: RunningWatcher, host: string, outcome: 'healthy' | 'failed') => {
    const correlationId = uuidv7();
    const ids = { host, service: 'p1' };
    const events: EventEnvelope[] = [newEventFor(UpgradeStarted, { ...ids, chainId: chain.chainId, fromVersion: '0.21.0', toVersion: '0.23.2', reason: 'provider_target 0.23.2' }, { host, correlationId })];
    events.push(
      outcome === 'healthy'
        ? newEventFor(ServiceUpgraded, { ...ids, fromVersion: '0.21.0', toVersion: '0.23.2', durationMs: 500 }, { host, correlationId })
        : newEventFor(UpgradeFailed, { ...ids, fromVersion: '0.21.0', toVersion: '0.23.2', stage: 'health', reason: 'exited with code 1' }, { host, correlationId }),
    );
    await w.core.store.appendToStream(`service-${host}/p1`, events);
  };
  const rolloutTypes = async (w: RunningWatcher) => (await w.core.store.readStream(rolloutStream(chain.chainId))).events.map((e) => `${e.type}${(e.data as { host?: string }).host ? ` ${(e.data as { host: string }).host}` : ''}`);

  beforeAll(async () => {
    db = await createTestDatabase('rollout');
    core = testCoreConfig(db.url, testBusNames(), { host: 'cw-r' });
    await createTestStreams(core);
    nc = await connect({ servers: core.natsUrl });
    bus = new CommandBus({ nc, subjects: createSubjects(core.subjectRoot), logger });
    operator = new CommandBus({ nc, subjects: createSubjects(core.subjectRoot), logger, signer: trust.signer('operate', 'alice') });
    chain = await startDevnetChain({ blockTimeMs: 200, version: V1, chainId: 'lava-rollout-1' });
  });
  afterEach(async () => {
    await Promise.allSettled(watchers.splice(0).map((w) => w.stop()));
  });
  afterAll(async () => {
    await chain?.stop();
    await nc?.close();
    await deleteTestStreams(core);
    await db?.drop();
  });

  it('admits the canary first and the next host after min_healthy_time; halts on a failure; survives a restart; resume and abort are signed', async () => {
    let w = await watch();
    await chain.setVersion(V2);
    await expectEventually(async () => expect((await chainStream(w.core, chain.chainId)).filter((e) => e.type === 'VersionChanged').at(-1)?.data).toMatchObject({ current: V2 }), {
      timeoutMs: 10_000,
    });

    // A runner still on the old version is told to wait, never admitted.
    expect(await admit('h1', V1)).toMatchObject({ decision: 'wait' });
    expect(await admit('h1')).toMatchObject({ decision: 'admitted', wave: 0 });
    expect(await admit('h2')).toMatchObject({ decision: 'wait', reason: expect.stringContaining('canary wave: h1 not healthy yet') });
    expect(await admit('h3')).toMatchObject({ decision: 'wait' });

    // The canary's runner reports its upgrade through the intake; the leader sees it healthy.
    await hostUpgrade(w, 'h1', 'healthy');
    await expectEventually(async () => expect((await status()).hosts.find((h) => h.host === 'h1')?.state).toBe('healthy'));
    const healthyAt = Date.now();
    const early = await admit('h2');
    if (Date.now() - healthyAt < 1_000) expect(early).toMatchObject({ decision: 'wait', reason: expect.stringContaining('min_healthy_time') });

    // The coordinator restarts mid-rollout: the rollout is rebuilt from the log.
    await w.stop();
    watchers.splice(0);
    w = await watch();
    await expectEventually(async () => expect(await admit('h2')).toMatchObject({ decision: 'admitted', wave: 1 }), { timeoutMs: 10_000 });
    expect(await admit('h3')).toMatchObject({ decision: 'wait', reason: expect.stringContaining('wave 1: h2 not healthy yet') });

    // h2's upgrade fails: the rollout halts fleet-wide; h3 stays where it is.
    await hostUpgrade(w, 'h2', 'failed');
    await expectEventually(async () => expect((await status()).state).toBe('halted'));
    const halted = await status();
    expect(halted.haltReason).toContain('h2/p1: UpgradeFailed 0.21.0 -> 0.23.2 at health: exited with code 1');
    expect(await admit('h3')).toMatchObject({ decision: 'wait', reason: expect.stringContaining('rollout halted') });

    // Resume is a signed operator command: unsigned it is refused and changes nothing.
    const unsigned = await bus.request(ChainRolloutResume, { chainId: chain.chainId }, { timeoutMs: 5_000 });
    expect(unsigned).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    expect((await status()).state).toBe('halted');
    const resumed = await operator.request(ChainRolloutResume, { chainId: chain.chainId }, { timeoutMs: 5_000 });
    expect(resumed).toMatchObject({ ok: true, result: { state: 'running' } });
    expect(await admit('h3')).toMatchObject({ decision: 'admitted', wave: 2 });

    const aborted = await operator.request(ChainRolloutAbort, { chainId: chain.chainId, reason: 'enough for today' }, { timeoutMs: 5_000 });
    expect(aborted).toMatchObject({ ok: true, result: { state: 'aborted', abortReason: 'enough for today (by alice)' } });
    expect(await admit('h4')).toMatchObject({ decision: 'refused', reason: expect.stringContaining('enough for today') });

    const stored = await w.core.store.readStream(rolloutStream(chain.chainId));
    expect(await rolloutTypes(w)).toEqual([
      'RolloutStarted',
      'RolloutWaveStarted',
      'RolloutHostAdmitted h1',
      'RolloutHostWaiting h2',
      'RolloutHostWaiting h3',
      'RolloutHostHealthy h1',
      'RolloutWaveStarted',
      'RolloutHostAdmitted h2',
      'RolloutHalted h2',
      'RolloutResumed',
      'RolloutWaveStarted',
      'RolloutHostAdmitted h3',
      'RolloutAborted',
    ]);
    expect(stored.events.find((e) => e.type === 'RolloutResumed')?.metadata).toMatchObject({ actor: 'alice' });
    expect(stored.events.find((e) => e.type === 'RolloutAborted')?.metadata).toMatchObject({ actor: 'alice' });
  });
});

// Test harness for the chain-watcher's int tests: a watcher (the service's Nest microservice: its
// FleetCore with the relay, the ChainWatcher, the transport) on a test database and test bus names,
// a NATS subscriber recording the chain events that reach the bus, and helpers to read the chain
// stream. Only tests import it (it takes the CoreConfig and the chain-watcher key from the test
// harness rather than importing @fleetvisor/testing itself).
import { connect, type NatsConnection, type Subscription } from 'nats';
import { fleetEvents, sameProtocolVersion, streamName, type EventEnvelope, type ProtocolVersion } from '@fleetvisor/contracts';
import type { INestMicroservice } from '@nestjs/common';
import { createFleetMicroservice, deadLetterStreamName, FLEET_CORE, type FleetCore, listenOrClose } from '@fleetvisor/messaging';
import type { CoreConfig } from '@fleetvisor/platform';
import type { Signer } from '@fleetvisor/trust';
import { ChainWatcher } from '../src/chain-watcher';
import { ChainWatcherModule } from '../src/chain-watcher.module';
import type { ChainWatcherConfig, WatchedChain } from '../src/config';
import { ChainWatcherMetrics } from '../src/health/metrics';
import { parseRolloutPolicies } from '../src/rollout/rollout-policy';

export interface RunningWatcher {
  app: INestMicroservice;
  core: FleetCore;
  watcher: ChainWatcher;
  metrics: ChainWatcherMetrics;
  stop(): Promise<void>;
}

/** `signer`: the chain-watcher key it signs VersionChanged and UpgradePlanned with (the test trust's). */
export function watcherConfig(core: CoreConfig, chains: WatchedChain[], signer: Signer, overrides: Partial<ChainWatcherConfig> = {}): ChainWatcherConfig {
  return {
    core,
    chains,
    pollIntervalMs: 100,
    safetyNetBlocks: 5,
    rpcTimeoutMs: 1_000,
    wsRetryMaxMs: 300,
    wsStallMs: 3_000,
    preferredProbeMs: 200,
    maxGapScan: 100,
    backfillRps: 200,
    leaderRetryMs: 100,
    leaderHealthCheckMs: 1_000,
    httpHost: '127.0.0.1',
    httpPort: 0,
    relay: true,
    signer,
    trustRoots: [],
    rollout: parseRolloutPolicies(undefined),
    rolloutTickMs: 1_000,
    ...overrides,
  };
}

export async function startWatcher(config: ChainWatcherConfig): Promise<RunningWatcher> {
  const module = ChainWatcherModule.forRoot(config, { relay: config.relay ? { idleIntervalMs: 10, standbyRetryMs: 200 } : false, defaultMetrics: false });
  const app = await createFleetMicroservice(module, { serviceName: 'chain-watcher', nest: { logger: false } });
  await listenOrClose(app);
  return {
    app,
    core: app.get<FleetCore>(FLEET_CORE),
    watcher: app.get(ChainWatcher),
    metrics: app.get(ChainWatcherMetrics),
    stop: () => app.close(),
  };
}

export interface BusRecorder {
  events: { event: EventEnvelope; receivedAt: number }[];
  ofType(type: string): EventEnvelope[];
  close(): Promise<void>;
}

/** Every chain event of `chainId` published on the bus (core NATS sees JetStream publishes). */
export async function recordChainBus(core: CoreConfig, chainId: string): Promise<BusRecorder> {
  const nc: NatsConnection = await connect({ servers: core.natsUrl });
  const sub: Subscription = nc.subscribe(`${core.subjectRoot}.evt.chain.${chainId.replace(/\./g, '%2E')}.>`);
  const events: BusRecorder['events'] = [];
  void (async () => {
    for await (const m of sub) {
      const parsed = fleetEvents.parse(JSON.parse(Buffer.from(m.data).toString('utf8')));
      if (parsed.ok) events.push({ event: parsed.value, receivedAt: Date.now() });
    }
  })();
  await nc.flush();
  return {
    events,
    ofType: (type) => events.filter((e) => e.event.type === type).map((e) => e.event),
    close: async () => {
      await nc.drain();
    },
  };
}

export async function chainStream(core: FleetCore, chainId: string): Promise<EventEnvelope[]> {
  return (await core.store.readStream(streamName('chain', chainId))).events;
}

export function versionChanges(events: EventEnvelope[], current?: ProtocolVersion): EventEnvelope[] {
  // Field by field, not by key order (the log keeps the writer's order today, jsonb did not).
  return events.filter((e) => e.type === 'VersionChanged' && (!current || sameProtocolVersion((e.data as { current: ProtocolVersion }).current, current)));
}

export async function deleteTestStreams(core: CoreConfig): Promise<void> {
  const nc = await connect({ servers: core.natsUrl });
  const jsm = await nc.jetstreamManager();
  for (const name of [core.eventStreamName, deadLetterStreamName(core.eventStreamName)]) await jsm.streams.delete(name).catch(() => undefined);
  await nc.close();
}

export const version = (target: string, min: string): ProtocolVersion => ({ providerTarget: target, providerMin: min, consumerTarget: target, consumerMin: min });

// FleetCoreModule in a Nest application context: the injected store appends an event, the relay
// of the module publishes it, and an EventConsumer from the injected factory receives it.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { connect } from 'nats';
import { HostOffline, newEvent, type EventEnvelope } from '@fleetvisor/contracts';
import type { EventStore } from '@fleetvisor/event-store';
import type { CoreConfig } from '@fleetvisor/platform';
import { createTestDatabase, expectEventually, sharedNatsUrl, testBusNames, testCoreConfig, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '../testing/test-streams';
import { CommandBus } from './command-bus';
import { deadLetterStreamName } from './event-stream';
import type { EventConsumerFactory, FleetCore } from './fleet-core';
import type { OutboxRelay } from './outbox-relay';
import { FleetCoreModule } from './nest/fleet-core.module';
import { FLEET_COMMAND_BUS, FLEET_CORE, FLEET_EVENT_CONSUMERS, FLEET_EVENT_STORE, FLEET_OUTBOX_RELAY } from './nest/tokens';

/** A feature service of some app: it only injects what the core module provides. */
@Injectable()
class HostJournal {
  constructor(
    @Inject(FLEET_EVENT_STORE) readonly store: EventStore,
    @Inject(FLEET_EVENT_CONSUMERS) readonly consumers: EventConsumerFactory,
    @Inject(FLEET_COMMAND_BUS) readonly commands: CommandBus,
    @Inject(FLEET_OUTBOX_RELAY) readonly relay: OutboxRelay | null,
  ) {}
}

@Module({ providers: [HostJournal] })
class FeatureModule {}

describe('FleetCoreModule (Nest application context)', () => {
  const bus = testBusNames();
  let db: TestDatabase;
  let app: INestApplicationContext | undefined;
  let config: CoreConfig;

  beforeAll(async () => {
    db = await createTestDatabase('fvmsg_nest');
    config = testCoreConfig(db.url, bus);
    await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  });

  afterAll(async () => {
    await app?.close();
    const nc = await connect({ servers: sharedNatsUrl() });
    const jsm = await nc.jetstreamManager();
    await jsm.streams.delete(bus.eventStreamName).catch(() => undefined);
    await jsm.streams.delete(deadLetterStreamName(bus.eventStreamName)).catch(() => undefined);
    await nc.close();
    await db?.drop();
  });

  it('wires store, relay, consumers and commands with no per-app code, and closes them all', async () => {
    @Module({ imports: [FleetCoreModule.forRoot({ serviceName: 'nest-test', config, relay: { idleIntervalMs: 10 } }), FeatureModule] })
    class AppModule {}

    app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const journal = app.get(HostJournal);
    expect(journal.relay).not.toBeNull();

    const received: EventEnvelope[] = [];
    const consumer = journal.consumers.create({ name: 'journal', handler: async (e) => void received.push(e) });
    await consumer.start();

    const e = newEvent(HostOffline, 'nest-1', { host: 'nest-1', process: 'nest-test', pid: 42, reason: 'test' });
    await journal.store.appendToStream(e.stream, [e]);
    await expectEventually(() => expect(received).toEqual([e]), { timeoutMs: 10_000 });
    await expectEventually(() => expect(journal.relay!.status()).toMatchObject({ leader: true, published: 1 }));

    // /metrics (FLEETVISOR_HEALTH_LISTEN): an event the stopped consumer has not taken is pending
    // for it; the relay, which published it, has no lag.
    const core = app.get<FleetCore>(FLEET_CORE);
    await consumer.stop();
    const later = newEvent(HostOffline, 'nest-2', { host: 'nest-2', process: 'nest-test', pid: 43, reason: 'test' });
    await journal.store.appendToStream(later.stream, [later]);
    await expectEventually(async () => {
      const text = await core.health.registry.metrics();
      expect(text).toContain('fleetvisor_consumer_pending{consumer="journal",kind="undelivered",service="nest-test"} 1');
      expect(text).toContain('fleetvisor_relay_lag_events{service="nest-test"} 0');
      expect(text).toContain('fleetvisor_relay_leader{service="nest-test"} 1');
      expect(text).toContain('fleetvisor_relay_published_total{outcome="new",service="nest-test"} 2');
      expect(text).toContain('fleetvisor_dead_letters{service="nest-test"} 0');
    }, { timeoutMs: 10_000 });

    const served = journal.commands.serve({ service: 'nest-test', verb: 'ping' }, async () => 'pong');
    await served.ready;
    expect(await journal.commands.request({ service: 'nest-test', verb: 'ping' }, {})).toEqual({ ok: true, result: 'pong' });
    await served.stop();

    const closing = app;
    app = undefined;
    await closing.close();
    expect(journal.relay!.status().running).toBe(false);
    expect(journal.relay!.status().leader).toBe(false);
    // the relay's lock was released: its connection is gone from the database
    await expectEventually(async () => {
      const { Client } = await import('pg');
      const c = new Client({ connectionString: db.url });
      await c.connect();
      try {
        const r = await c.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'fleetvisor%'");
        expect(r.rows[0].n).toBe(0);
      } finally {
        await c.end();
      }
    });
  });
});

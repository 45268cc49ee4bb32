// The runner rides out a dead log and a dead bus: children keep running, events wait in the spool
// (the log behind the central intake down, or NATS down) and arrive once the server is back — none
// lost, none doubled. The runner holds no database credentials: the intake runs in this test's
// FleetCore. Private Postgres / NATS instances, so the shared servers are never touched.
import { copyFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { newEvent, VersionChanged, type EventEnvelope, type ProtocolVersion } from '@fleetvisor/contracts';
import { migrate } from '@fleetvisor/event-store';
import { FleetCore } from '@fleetvisor/messaging';
import { signEvent } from '@fleetvisor/trust';
import {
  createTestDatabase,
  expectEventually,
  freePort,
  startPrivateNats,
  startPrivatePostgres,
  testBusNames,
  testCoreConfig,
  waitFor,
  type PrivateNats,
  type PrivatePostgres,
  type TestDatabase,
  testTrust,
} from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import type { Runner } from '../runner';
import { startServiceRunner } from '../service-runner.module';
import { RunnerFixture } from '../../test/runner-fixture';
import { serveTestIntake } from '../../test/intake';

const silent = pino({ level: 'silent' });
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function setup(core: ReturnType<typeof testCoreConfig>, chain: string, stableMs = 400): Promise<{ fx: RunnerFixture; runner: Runner; names: string[]; recorded: EventEnvelope[] }> {
  const fx = new RunnerFixture(core, chain, undefined, [testTrust().root.publicKey]);
  cleanups.push(async () => fx.remove());
  fx.install('0.1.0');
  fx.install('0.2.0');
  fx.setCurrent('0.1.0');
  fx.writeHomeConfig();
  const names = [
    fx.addService({ role: 'provider', from: 'p1', chainLabel: 'LAV1', port: await freePort() }),
    fx.addService({ role: 'consumer', from: 'c1', chainLabel: 'ETH1', port: await freePort() }),
  ];
  const recorded: EventEnvelope[] = [];
  const running = await startServiceRunner(
    { config: fx.config({ healthStableMs: stableMs }), logger: silent },
    { beforeStart: (r) => r.recorder.onRecorded((e) => recorded.push(e)) },
  );
  const { runner } = running;
  cleanups.push(() => running.close());
  await waitFor(() => names.every((n) => runner.services.get(n)!.svc.state === 'running'), { timeoutMs: 15_000 });
  return { fx, runner, names, recorded };
}

describe('Postgres down', () => {
  let pg: PrivatePostgres;

  it('keeps supervising, spools events, and records each exactly once, in order, when the log is back', async () => {
    pg = await startPrivatePostgres();
    cleanups.push(() => pg.stop());
    const url = pg.databaseUrl('postgres');
    await migrate(url);
    const core = testCoreConfig(url, testBusNames(), { host: 'host-pg' });
    await createTestStreams(core);
    // The central side: the intake appends the runner's events to this log (no relay needed here).
    const central = await FleetCore.open({ serviceName: 'intake-pg-outage', config: core, migrations: 'skip', logger: silent });
    cleanups.push(() => central.close());
    await serveTestIntake(central);
    const { runner, names, recorded } = await setup(core, 'lava-pg-1');
    await waitFor(() => runner.spool.count() === 0, { timeoutMs: 10_000, message: 'start events flushed' });

    await pg.kill();
    const before = recorded.length;
    const victim = runner.services.get(names[0]!)!.svc;
    const oldPid = victim.pid!;
    process.kill(oldPid, 'SIGKILL'); // a crash while the log is away: exited, restarted, started
    await runner.services.get(names[1]!)!.svc.restart(); // and an operator restart
    await waitFor(() => victim.running && victim.pid !== oldPid, { timeoutMs: 10_000, message: 'crashed child restarted without the log' });
    expect(recorded.length - before).toBeGreaterThanOrEqual(5);
    expect(runner.spool.count()).toBe(recorded.length - before);
    const spooled = runner.spool.pending().map((s) => s.file);

    // A crash between append and spool removal leaves a file that is already in the log: keep a copy.
    const copy = path.join(path.dirname(spooled[0]!), '..', 'copy.json');
    copyFileSync(spooled[0]!, copy);

    await pg.restart();
    await waitFor(() => runner.spool.count() === 0, { timeoutMs: 30_000, message: 'spool flushed after the log came back' });
    copyFileSync(copy, spooled[0]!);
    runner.flusher.kick();
    await waitFor(() => runner.spool.count() === 0, { timeoutMs: 10_000 });

    const { store } = central;
    // This suite's streams on the shared NATS go when it ends.
    cleanups.push(async () => {
      const jsm = await runner.links.nc?.jetstreamManager();
      for (const name of [core.eventStreamName, `${core.eventStreamName}_DLQ`]) await jsm?.streams.delete(name).catch(() => undefined);
    });
    for (const n of names) {
      const logged = (await store.readStream(`service-host-pg/${n}`)).events;
      const mine = recorded.filter((e) => e.stream === `service-host-pg/${n}`).map((e) => e.id);
      expect(logged[0]!.type).toBe('ServiceCreated'); // recorded by create-service, before the runner
      expect(logged.slice(1).map((e) => e.id)).toEqual(mine); // all of the runner's, once each, in recording order
    }
  });
});

describe('NATS down during an upgrade', () => {
  let nats: PrivateNats;
  let db: TestDatabase;

  it('finishes the upgrade; its events reach the bus after NATS is back, none lost, none doubled', async () => {
    nats = await startPrivateNats();
    cleanups.push(() => nats.stop());
    db = await createTestDatabase('fvt_runner_nats');
    cleanups.push(() => db.drop());
    const bus = testBusNames();
    const config = testCoreConfig(db.url, bus, { host: 'host-nats', natsUrl: nats.url });
    await createTestStreams(config);
    const fc = await FleetCore.open({ serviceName: 'nats-outage', config, relay: { idleIntervalMs: 50 }, logger: silent });
    cleanups.push(() => fc.close());
    fc.start();
    await serveTestIntake(fc);
    const chain = 'lava-nats-1';
    await fc.store.appendToStream(`chain-${chain}`, [signEvent(newEvent(VersionChanged, chain, { chainId: chain, height: 1, previous: null, current: pv('0.1.0') }), testTrust().signer('chain-watcher'))]);
    const { fx, runner, names } = await setup(config, chain, 1_500);

    await fc.store.appendToStream(`chain-${chain}`, [signEvent(newEvent(VersionChanged, chain, { chainId: chain, height: 2, previous: pv('0.1.0'), current: pv('0.2.0') }), testTrust().signer('chain-watcher'))]);
    await waitFor(() => Object.keys(runner.state.get().inProgress).length > 0, { timeoutMs: 15_000, message: 'upgrade under way' });
    await nats.kill();
    await waitFor(() => names.every((n) => fx.home.linkedVersion(fx.home.serviceLink(n)) === '0.2.0' && runner.services.get(n)!.svc.state === 'running'), {
      timeoutMs: 30_000,
      message: 'upgrade finished without the bus',
    });
    await nats.restart();
    await waitFor(() => runner.spool.count() === 0, { timeoutMs: 10_000 });
    const logged = await expectEventually(async () => {
      const all = (await fc.store.readAll('0:0', 10_000)).events;
      expect(all.filter((e) => e.type === 'ServiceUpgraded')).toHaveLength(2);
      return all;
    });
    // The client reconnects and the restarted server recovers JetStream in its own time: until
    // then JetStream API requests time out, so they are retried with the condition.
    const jsm = await expectEventually(
      async () => {
        const m = await fc.nc.jetstreamManager();
        expect((await m.streams.info(config.eventStreamName)).state.messages).toBeGreaterThanOrEqual(logged.length);
        return m;
      },
      { timeoutMs: 30_000 },
    );
    const consumer = await fc.js.consumers.get(config.eventStreamName);
    const seen: string[] = [];
    const total = (await jsm.streams.info(config.eventStreamName)).state.messages;
    while (seen.length < total) {
      const m = await consumer.next({ expires: 5_000 });
      if (!m) break;
      seen.push((m.json() as EventEnvelope).id);
    }
    const ids = logged.map((e) => e.id);
    expect(new Set(seen).size).toBe(seen.length); // none doubled
    expect([...seen].sort()).toEqual([...ids].sort()); // none lost
    expect(readdirSync(runner.home.spoolDir).filter((f) => f.endsWith('.json'))).toEqual([]);
  });
});

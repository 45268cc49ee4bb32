// ServiceControl and ServiceLogs on the bus (what the gateway's start / stop / restart / logs routes
// send): a real runner with a real child (fake lavap), signed commands addressed to its host; a stop
// is recorded with the signer as the actor, a read key may read logs but not stop, an unknown
// service is not_found naming those that exist.
import { ServiceControl, ServiceLogs, createSubjects, type CommandDefinition, type CommandRequestOf, type CommandResultOf, type RecordedEvent } from '@fleetvisor/contracts';
import { CommandBus, FleetCore } from '@fleetvisor/messaging';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, expectEventually, freePort, testBusNames, testCoreConfig, testTrust, waitFor, type TestDatabase } from '@fleetvisor/testing';
import type { Runner } from '../runner';
import { startServiceRunner, type RunningServiceRunner } from '../service-runner.module';
import { serveTestIntake } from '../../test/intake';
import { RunnerFixture } from '../../test/runner-fixture';

const CHAIN = 'lava-ctl-1';
const HOST = 'host-ctl';
const silent = pino({ level: 'silent' });
let db: TestDatabase;
let core: FleetCore;
let fx: RunnerFixture;
let app: RunningServiceRunner | undefined;
let runner: Runner;
let operate: CommandBus;
let reader: CommandBus;
let service = '';

/** One request addressed to the runner's host; a refusal thrown as an error with its code. */
async function ask<C extends CommandDefinition>(bus: CommandBus, def: C, payload: CommandRequestOf<C>): Promise<CommandResultOf<C>> {
  const r = await bus.request(def, payload, { instance: HOST });
  if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
  return r.result as CommandResultOf<C>;
}

async function serviceEvents(): Promise<RecordedEvent[]> {
  return (await core.store.readStream(`service-${HOST}/${service}`)).events;
}

beforeAll(async () => {
  db = await createTestDatabase('fvt_service_control');
  const bus = testBusNames();
  const config = testCoreConfig(db.url, bus, { host: HOST });
  await createTestStreams(config);
  core = await FleetCore.open({ serviceName: 'service-control-e2e', config, relay: { idleIntervalMs: 50 }, logger: silent });
  core.start();
  await serveTestIntake(core);
  fx = new RunnerFixture(config, CHAIN, 'fv-ctl-', [testTrust().root.publicKey]);
  fx.install('0.1.0');
  fx.setCurrent('0.1.0');
  fx.writeHomeConfig();
  service = fx.addService({ role: 'provider', from: 'provider1', chainLabel: 'LAV1', port: await freePort() });
  app = await startServiceRunner({ config: fx.config(), logger: silent });
  runner = app.runner;
  await app.bound;
  await waitFor(() => runner.services.get(service)?.svc.state === 'running', { timeoutMs: 15_000, message: 'service up' });
  const subjects = createSubjects(bus.subjectRoot);
  operate = new CommandBus({ nc: core.nc, subjects, logger: silent, signer: testTrust().signer('operate', 'ctl-operator') });
  reader = new CommandBus({ nc: core.nc, subjects, logger: silent, signer: testTrust().signer('read', 'ctl-reader') });
}, 60_000);

afterAll(async () => {
  await app?.close();
  fx?.killLeftovers();
  if (core) for (const name of [core.config.eventStreamName, `${core.config.eventStreamName}_DLQ`]) await core.jsm.streams.delete(name).catch(() => undefined);
  await core?.close();
  await db?.drop();
  fx?.remove();
});

describe('ServiceControl / ServiceLogs over the bus', () => {
  it('reads the tail of the service log', async () => {
    await expectEventually(async () => {
      const r = await ask(reader, ServiceLogs, { service, lines: 5 });
      expect(r.host).toBe(HOST);
      expect(r.lines.length).toBeGreaterThan(0);
      expect(r.lines.length).toBeLessThanOrEqual(5);
      expect(r.lines.join('\n')).toMatch(/listening on 127\.0\.0\.1:/);
    }, { timeoutMs: 15_000 });
  });

  it('a read key cannot stop a service: refused, and it keeps running', async () => {
    const pid = runner.services.get(service)!.svc.pid;
    await expect(ask(reader, ServiceControl, { service, action: 'stop' })).rejects.toMatchObject({ code: 'forbidden' });
    expect(runner.services.get(service)!.svc.state).toBe('running');
    expect(runner.services.get(service)!.svc.pid).toBe(pid);
  });

  it('stop is recorded with the signer as the actor and the service stays down; start brings it back; restart gives a new process', async () => {
    const stopped = await ask(operate, ServiceControl, { service, action: 'stop' });
    expect(stopped.status.state).toBe('stopped');
    await expectEventually(async () => expect((await serviceEvents()).filter((e) => e.type === 'ServiceStopped').map((e) => (e.data as { actor?: string }).actor)).toEqual(['ctl-operator']), { timeoutMs: 15_000 });
    const started = await ask(operate, ServiceControl, { service, action: 'start' });
    expect(started.status.pid).toBeDefined();
    await waitFor(() => runner.services.get(service)?.svc.state === 'running', { timeoutMs: 15_000, message: 'running again' });
    const before = runner.services.get(service)!.svc.pid;
    await ask(operate, ServiceControl, { service, action: 'restart' });
    await waitFor(() => runner.services.get(service)?.svc.state === 'running' && runner.services.get(service)!.svc.pid !== before, { timeoutMs: 15_000, message: 'restarted' });
  });

  it('an unknown service is not_found, naming the services this host has', async () => {
    await expect(ask(operate, ServiceControl, { service: 'nope-LAV1', action: 'restart' })).rejects.toMatchObject({ code: 'not_found', message: expect.stringContaining(service) });
    await expect(ask(reader, ServiceLogs, { service: 'nope-LAV1' })).rejects.toMatchObject({ code: 'not_found' });
  });
});

// Attack suite (issue 13, ADR 0006): forged chain events, published as an attacker with only a NATS
// connection would (straight onto the event subject, which JetStream stores and every runner's
// durable consumer delivers), against a real runner (real child processes, the real log and bus).
// Nothing forged may upgrade, downgrade or pin; each refusal is counted, logged with its subject
// and reason, and reported as ForgeryRejected at most once per source per minute. Every upgrade
// event names the VersionChanged that caused it.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubjects, newEvent, uuidv7, VersionChanged, type EventEnvelope, type ProtocolVersion, type RecordedEvent } from '@fleetvisor/contracts';
import { FleetCore } from '@fleetvisor/messaging';
import { createTestDatabase, expectEventually, fleetvisorEnv, freePort, testBusNames, testCoreConfig, testTrust, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { keysBucketName, revocationKey, signEvent, signRevocation, type Signer } from '@fleetvisor/trust';
import type { Runner } from '../../apps/service-runner/src/runner';
import { startServiceRunner, type RunningServiceRunner } from '../../apps/service-runner/src/service-runner.module';
import { RunnerFixture } from '../../apps/service-runner/test/runner-fixture';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { serveTestIntake } from '../../apps/service-runner/test/intake';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const CHAIN = 'lava-sec-1';
const HOST = 'sec-host';
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });

let db: TestDatabase;
let core: FleetCore;
let attacker: NatsConnection;
let fx: RunnerFixture;
let app: RunningServiceRunner | undefined;
let runner: Runner;
let bus: ReturnType<typeof testBusNames>;
const logLines: Record<string, unknown>[] = [];
const names: string[] = [];
let previous: ProtocolVersion | null = null;
/** The real changes the tests record, by target. */
const reals = new Map<string, EventEnvelope>();

/** A VersionChanged as the chain-watcher records it: signed, appended to the log, published by the relay. */
async function realChange(height: number, current: ProtocolVersion): Promise<EventEnvelope> {
  const e = signEvent(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height, previous, current }), testTrust().signer('chain-watcher'));
  await core.store.appendToStream(`chain-${CHAIN}`, [e]);
  previous = current;
  reals.set(current.providerTarget, e);
  return e;
}

/** What an attacker with a NATS connection does: publish an envelope on the event subject (JetStream stores it). */
async function publishForged(e: EventEnvelope): Promise<void> {
  await attacker.jetstream().publish(createSubjects(bus.subjectRoot).event(e.stream, e.type), JSON.stringify(e));
}

const forged = (height: number, current: ProtocolVersion, signer?: Signer): EventEnvelope => {
  const e = newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height, previous: null, current });
  return signer ? signEvent(e, signer) : e;
};

const serviceEvents = async (name: string): Promise<RecordedEvent[]> => (await core.store.readStream(`service-${HOST}/${name}`)).events;
const hostEvents = async (): Promise<RecordedEvent[]> => (await core.store.readStream(`host-${HOST}`)).events;
const running = (name: string, version: string): boolean => {
  const e = runner.services.get(name)!;
  return e.svc.running && e.svc.version === version && e.svc.state === 'running';
};
const allRunning = (version: string) => waitFor(() => names.every((n) => running(n, version)), { timeoutMs: 20_000, message: `services on ${version}` });
/** Until the runner has refused `n` chain events in all. */
const refusedSoFar = (n: number) => waitFor(() => runner.refusals.total('event') >= n, { timeoutMs: 10_000, message: `${n} refusals` });
const upgradeTargets = async (): Promise<string[]> =>
  (await Promise.all(names.map(serviceEvents))).flat().filter((e) => e.type === 'UpgradeStarted').map((e) => (e.data as { toVersion: string }).toVersion);

beforeAll(async () => {
  db = await createTestDatabase('fvt_sec_forge');
  bus = testBusNames();
  const config = testCoreConfig(db.url, bus, { host: HOST });
  await createTestStreams(config);
  core = await FleetCore.open({ serviceName: 'security-e2e', config, relay: { idleIntervalMs: 50 }, logger: pino({ level: 'silent' }) });
  core.start();
  // The runner holds no database credentials: its events reach the log through the central intake.
  await serveTestIntake(core);
  attacker = await connect({ servers: config.natsUrl });
  // What `fleetvisor migrate` makes: the revocation bucket of this subject root.
  await attacker.jetstream().views.kv(keysBucketName(bus.subjectRoot), { history: 1 });

  fx = new RunnerFixture(config, CHAIN, 'fv-sec-', [testTrust().root.publicKey]);
  for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.9.0']) fx.install(v);
  fx.setCurrent('0.1.0');
  fx.writeHomeConfig();
  names.push(fx.addService({ role: 'provider', from: 'provider1', chainLabel: 'LAV1', port: await freePort() }));
  names.push(fx.addService({ role: 'consumer', from: 'consumer', chainLabel: 'ETH1', port: await freePort() }));
  await realChange(10, pv('0.1.0'));
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _e, cb) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    }),
  );
  app = await startServiceRunner({ config: fx.config(), logger });
  runner = app.runner;
  await app.bound;
  await allRunning('0.1.0');
}, 60_000);

afterAll(async () => {
  await app?.close();
  if (attacker) {
    const jsm = await attacker.jetstreamManager();
    for (const name of [bus.eventStreamName, `${bus.eventStreamName}_DLQ`, `KV_${keysBucketName(bus.subjectRoot)}`]) await jsm.streams.delete(name).catch(() => undefined);
    await attacker.close();
  }
  await core?.close();
  await db?.drop();
  fx?.remove();
});

describe('forged chain events (security)', () => {
  it('a forged VersionChanged with a high height and older targets upgrades nothing and pins nothing; it is logged and reported; a real change afterwards still upgrades, caused by it', async () => {
    const real2 = await realChange(20, pv('0.2.0'));
    await allRunning('0.2.0');
    expect(runner.state.get().protocol).toMatchObject({ height: 20, eventId: real2.id });

    const attack = forged(1_000_000, pv('0.1.0'));
    await publishForged(attack);
    await refusedSoFar(1);
    // Nothing moved: no downgrade, and the runner still knows height 20 (a pin would be 1000000).
    expect(names.every((n) => running(n, '0.2.0'))).toBe(true);
    expect(runner.state.get().protocol).toMatchObject({ height: 20, version: pv('0.2.0'), eventId: real2.id });
    expect(await upgradeTargets()).not.toContain('0.1.0');

    const subject = createSubjects(bus.subjectRoot).event(`chain-${CHAIN}`, 'VersionChanged');
    expect(logLines).toContainEqual(expect.objectContaining({ subject, reason: 'the event is not signed', id: attack.id, msg: expect.stringContaining('refused event') }));
    await expectEventually(async () =>
      expect((await hostEvents()).filter((e) => e.type === 'ForgeryRejected').map((e) => e.data)).toEqual([
        { host: HOST, kind: 'event', source: `chain-${CHAIN}`, subject, reason: 'the event is not signed', refused: 1, eventId: attack.id },
      ]),
    );

    // The next real change is below the forged height and must still be acted on.
    const real3 = await realChange(30, pv('0.3.0'));
    await allRunning('0.3.0');
    // Every upgrade event of that change names it as its cause (they reach the log through the intake, a moment after the switch).
    await expectEventually(async () => {
      for (const name of names) {
        const evs = (await serviceEvents(name)).filter((e) => ['UpgradeStarted', 'ServiceUpgraded'].includes(e.type) && (e.data as { toVersion: string }).toVersion === '0.3.0');
        expect(evs.map((e) => e.type)).toEqual(['UpgradeStarted', 'ServiceUpgraded']);
        for (const e of evs) expect(e.metadata.causationId).toBe(real3.id);
      }
    });
    const earlier = (await serviceEvents(names[0]!)).filter((e) => e.type === 'UpgradeStarted' && (e.data as { toVersion: string }).toVersion === '0.2.0');
    expect(earlier.map((e) => e.metadata.causationId)).toEqual([real2.id]);
  });

  it('a forged VersionChanged with an unannounced target (installed here) upgrades nothing, nor does a real one with its target changed; a flood adds no report within the minute', async () => {
    const before = runner.refusals.total('event');
    await publishForged(forged(40, pv('0.9.0')));
    // The last real event, its proof kept, its target changed (under a new id: the consumer skips an id
    // it has handled, so a copy under the real id never reaches the runner at all).
    const { type, stream, version, data, metadata, occurredAt } = (await core.store.readStream(`chain-${CHAIN}`)).events.at(-1)!;
    await publishForged({ id: uuidv7(), type, stream, version, metadata, occurredAt, data: { ...(data as object), height: 41, current: pv('0.9.0') } });
    for (let i = 0; i < 20; i++) await publishForged(forged(50 + i, pv('0.9.0')));
    await refusedSoFar(before + 22);
    expect(names.every((n) => running(n, '0.3.0'))).toBe(true);
    expect(await upgradeTargets()).not.toContain('0.9.0');
    expect(runner.state.get().protocol).toMatchObject({ height: 30 });
    expect(runner.refusals.totals()).toContainEqual({ kind: 'event', code: 'unauthorized', count: before + 22 });
    // 23 forgeries in all, still one ForgeryRejected: the rest wait for the minute to end.
    expect((await hostEvents()).filter((e) => e.type === 'ForgeryRejected')).toHaveLength(1);
  });

  it('one signed by a key that is not a chain-watcher key, or by a revoked chain-watcher key, is refused', async () => {
    const before = runner.refusals.total('event');
    await publishForged(forged(60, pv('0.9.0'), testTrust().signer('operate')));
    await publishForged(forged(61, pv('0.9.0'), testTrust().signer('admin', 'test-admin-2')));
    await refusedSoFar(before + 2);

    // Revoked over the bus as `keys revoke` does: an admin-signed entry in the keys bucket.
    const leaked = testTrust().signer('chain-watcher', 'leaked-watcher');
    const kv = await attacker.jetstream().views.kv(keysBucketName(bus.subjectRoot));
    await kv.put(revocationKey(leaked.cert.kid), JSON.stringify(signRevocation(testTrust().root, leaked.cert.kid, { reason: 'leaked' })));
    await waitFor(() => runner.verifier!.isRevoked(leaked.cert.kid), { timeoutMs: 10_000, message: 'revocation heard' });
    await publishForged(forged(62, pv('0.9.0'), leaked));
    await refusedSoFar(before + 3);

    const reasons = logLines.filter((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('refused event')).slice(-3).map((l) => l['reason']);
    expect(reasons).toEqual([expect.stringContaining('has role operate; this needs chain-watcher'), expect.stringContaining('has role admin; this needs chain-watcher'), expect.stringContaining('is revoked')]);
    expect(runner.refusals.totals()).toContainEqual({ kind: 'event', code: 'forbidden', count: 2 });
    expect(names.every((n) => running(n, '0.3.0'))).toBe(true);
    expect(await upgradeTargets()).not.toContain('0.9.0');
    expect(runner.state.get().protocol).toMatchObject({ height: 30 });
  });

  it('a new host replays the stream, forgeries included: it ends on the last real version, caused by it, and acts on no forgery (not even one of a key revoked before it started)', async () => {
    const fx2 = new RunnerFixture({ ...fx.core, host: 'sec-new-host' }, CHAIN, 'fv-sec-new-', [testTrust().root.publicKey]);
    let app2: RunningServiceRunner | undefined;
    try {
      for (const v of ['0.1.0', '0.2.0', '0.3.0', '0.9.0']) fx2.install(v);
      fx2.setCurrent('0.1.0');
      fx2.writeHomeConfig();
      const name = fx2.addService({ role: 'provider', from: 'provider9', chainLabel: 'LAV9', port: await freePort() });
      app2 = await startServiceRunner({ config: fx2.config(), logger: pino({ level: 'silent' }) });
      const r2 = app2.runner;
      // Its durable consumer is new: JetStream delivers the whole stream, 26 forgeries among the real changes.
      await waitFor(() => r2.refusals.total('event') >= 26, { timeoutMs: 20_000, message: 'every forgery in the stream refused' });
      const real3 = reals.get('0.3.0')!;
      await waitFor(() => r2.state.get().protocol?.eventId === real3.id, { timeoutMs: 10_000, message: 'on the last real change' });
      await waitFor(() => r2.services.get(name)!.svc.version === '0.3.0' && r2.services.get(name)!.svc.state === 'running', { timeoutMs: 20_000, message: 'upgraded to 0.3.0' });
      expect(r2.state.get().protocol).toMatchObject({ height: 30, version: pv('0.3.0') });
      const started = (await core.store.readStream(`service-sec-new-host/${name}`)).events.filter((e) => e.type === 'UpgradeStarted');
      // Each upgrade names the real change that caused it (0.2.0 may come first while the stream replays).
      for (const e of started) expect(e.metadata.causationId).toBe(reals.get((e.data as { toVersion: string }).toVersion)?.id);
      expect(started.at(-1)!.data).toMatchObject({ toVersion: '0.3.0' });
      expect(r2.refusals.totals()).toEqual(expect.arrayContaining([{ kind: 'event', code: 'forbidden', count: 2 }]));
    } finally {
      await app2?.close();
      fx2.remove();
    }
  });

  it('`fleetvisor start` refuses to run without the fleet\'s trust root, naming FLEETVISOR_TRUST_ROOT_FILE', async () => {
    const other = new RunnerFixture(fx.core, CHAIN, 'fv-sec-noroot-', [testTrust().root.publicKey]);
    try {
      other.writeHomeConfig();
      const env = fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'sec-noroot', HOME: other.dir, FLEETVISOR_RUNNER_LIVE_RESTORE: 'false' });
      delete env['FLEETVISOR_TRUST_ROOT_FILE'];
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'start', '--directory', other.dir], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('FLEETVISOR_TRUST_ROOT_FILE');
      expect(r.stderr).toContain('trust root');
    } finally {
      other.remove();
    }
  });
});

// The HTTP health probe (config.yml `upgrade.probe: http`): against real loopback servers, and in
// an upgrade with real fake-lavap children — a binary that answers HTTP passes, one that never
// listens fails its health check and is rolled back.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, VersionChanged, type ProtocolVersion, type RecordedEvent } from '@fleetvisor/contracts';
import { FleetCore } from '@fleetvisor/messaging';
import { createTestDatabase, expectEventually, freePort, testBusNames, testCoreConfig, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import type { Runner } from '../runner';
import { startServiceRunner, type RunningServiceRunner } from '../service-runner.module';
import { serveTestIntake } from '../../test/intake';
import { RunnerFixture } from '../../test/runner-fixture';
import { probeOnce } from './health-check';

const CHAIN = 'lava-http-probe';
const silent = pino({ level: 'silent' });
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });
const addr = (s: HttpServer | TcpServer) => `127.0.0.1:${(s.address() as AddressInfo).port}`;
const listen = <S extends HttpServer | TcpServer>(s: S) => new Promise<S>((r) => s.listen(0, '127.0.0.1', () => r(s)));

describe('probeOnce', () => {
  const servers: (HttpServer | TcpServer)[] = [];
  afterAll(async () => {
    for (const s of servers) {
      if ('closeAllConnections' in s) s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('http needs an HTTP answer below 500; tcp only a connection', async () => {
    const status = (code: number) => listen(createHttpServer((_req, res) => res.writeHead(code).end()));
    const [ok, notFound, unavailable] = await Promise.all([status(200), status(404), status(503)]);
    // Accepts and closes without a word: a TCP service, not an HTTP one.
    const mute = await listen(createTcpServer((s) => s.destroy()));
    servers.push(ok, notFound, unavailable, mute);
    expect(await probeOnce('http', addr(ok))).toBe(true);
    expect(await probeOnce('http', addr(notFound))).toBe(true);
    expect(await probeOnce('http', addr(unavailable))).toBe(false);
    expect(await probeOnce('http', addr(mute))).toBe(false);
    expect(await probeOnce('tcp', addr(mute))).toBe(true);
    const closed = `127.0.0.1:${await freePort()}`;
    expect(await probeOnce('http', closed)).toBe(false);
    expect(await probeOnce('tcp', closed)).toBe(false);
  });
});

describe('upgrade with upgrade.probe: http', () => {
  let db: TestDatabase;
  let core: FleetCore;
  let fx: RunnerFixture;
  let runner: Runner;
  let app: RunningServiceRunner | undefined;
  let name: string;
  let height = 10;
  let previous: ProtocolVersion | null = null;

  const versionChanged = async (current: ProtocolVersion) => {
    height += 10;
    await core.store.appendToStream(`chain-${CHAIN}`, [newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height, previous, current })]);
    previous = current;
  };
  const events = async (): Promise<RecordedEvent[]> => (await core.store.readStream(`service-${fx.core.host}/${name}`)).events;
  const running = (version: string) => {
    const e = runner.services.get(name)!;
    return e.svc.running && e.svc.version === version && e.svc.state === 'running';
  };

  beforeAll(async () => {
    db = await createTestDatabase('fvt_http_probe');
    const bus = testBusNames();
    const config = testCoreConfig(db.url, bus, { host: 'host-http-probe' });
    await createTestStreams(config);
    core = await FleetCore.open({ serviceName: 'http-probe-e2e', config, relay: { idleIntervalMs: 50 }, logger: silent });
    core.start();
    // The central event intake: the runner holds no database credentials and sends its events here.
    await serveTestIntake(core);
    fx = new RunnerFixture(config, CHAIN, 'fv-http-probe-');
    fx.install('0.1.0');
    fx.install('0.2.0', 'no-listen');
    fx.install('0.3.0');
    fx.setCurrent('0.1.0');
    fx.writeHomeConfig({ upgrade: { probe: 'http' } });
    name = fx.addService({ role: 'provider', from: 'provider1', chainLabel: 'LAV1', port: await freePort() });
    await versionChanged(pv('0.1.0'));
    app = await startServiceRunner({ config: fx.config({ healthTimeoutMs: 1_500 }), logger: silent });
    runner = app.runner;
    await waitFor(() => running('0.1.0'), { timeoutMs: 15_000, message: 'service up on 0.1.0' });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    if (core) for (const s of [core.config.eventStreamName, `${core.config.eventStreamName}_DLQ`]) await core.jsm.streams.delete(s).catch(() => undefined);
    await core?.close();
    await db?.drop();
    fx?.remove();
  });

  it('a binary that never answers HTTP fails its health check and is rolled back', async () => {
    const before = (await events()).length;
    await versionChanged(pv('0.2.0'));
    const evs = await expectEventually(
      async () => {
        const e = (await events()).slice(before).filter((x) => /^(Upgrade|ServiceUpgraded)/.test(x.type));
        expect(e.map((x) => x.type)).toEqual(['UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack']);
        return e;
      },
      { timeoutMs: 20_000 },
    );
    expect(evs[1]!.data).toMatchObject({ toVersion: '0.2.0', stage: 'health' });
    expect((evs[1]!.data as { reason: string }).reason).toMatch(/no HTTP answer on 127\.0\.0\.1:\d+ within 1500 ms/);
    await waitFor(() => running('0.1.0'), { timeoutMs: 10_000 });
    expect(fx.home.linkedVersion(fx.home.serviceLink(name))).toBe('0.1.0');
  }, 40_000);

  it('a binary that answers HTTP passes and stays', async () => {
    const before = (await events()).length;
    await versionChanged(pv('0.3.0'));
    await expectEventually(
      async () => expect((await events()).slice(before).filter((x) => /^(Upgrade|ServiceUpgraded)/.test(x.type)).map((x) => x.type)).toEqual(['UpgradeStarted', 'ServiceUpgraded']),
      { timeoutMs: 20_000 },
    );
    expect(running('0.3.0')).toBe(true);
    expect(await probeOnce('http', runner.services.get(name)!.def.networkAddress!)).toBe(true);
  }, 40_000);
});

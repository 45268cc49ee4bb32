// The steady band over real rollups: six hours of a miner's message sending seeded through the
// ingest path (one batch per minute), a stuck retry loop in the middle; the watcher, its clock moved
// through those hours, records CallRateAnomaly then CallRateRecovered once each, and the anomalies
// query shows the band and the rates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetCore } from '@fleetvisor/messaging';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { createTestDatabase, sharedNatsUrl, testBusNames, testCoreConfig, type TestDatabase } from '@fleetvisor/testing';
import { readStatsCollectorSettings } from '../config';
import { StatsQueries } from '../query/stats-queries';
import { StatsCollector } from '../stats-collector';
import { batch, record } from '../../test/batches';
import { BandWatcher } from './band-watcher';
import { DEFAULT_BAND_SETTINGS } from './steady-band';
import { MIGRATIONS } from '../migrations';

const MIN = 60_000;
let db: TestDatabase;
const bus = testBusNames();
let core: FleetCore;
let collector: StatsCollector;
const T0 = Math.floor(Date.now() / MIN) * MIN - 360 * MIN;
const steady = (i: number) => [3, 5, 4, 4, 6, 2][i % 6]!;
let t = T0;

beforeAll(async () => {
  db = await createTestDatabase('statsband');
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  core = await FleetCore.open({ serviceName: 'stats-collector', config: testCoreConfig(db.url, bus), poolSize: 4, schemaMigrations: MIGRATIONS });
  collector = new StatsCollector({ pool: core.pool, store: core.store, logger: core.logger, settings: { ...readStatsCollectorSettings({}), compactIntervalMs: 0 } });
  await collector.start();
  for (let i = 0; i < 360; i++) {
    const sends = i >= 240 && i < 280 ? 30 : steady(i);
    await collector.intake.append(
      batch('damocles-t01000', T0 + i * MIN, [record('t01000-sealer', 'venus-messager', 'Filecoin.MpoolPushMessage', sends), record('t01000-sealer', 'venus', 'Filecoin.ChainHead', 90), record('t02000-sealer', 'venus-messager', 'Filecoin.MpoolPushMessage', steady(i + 1))], 60),
    );
  }
  await collector.runner.whenCaughtUp();
}, 120_000);

afterAll(async () => {
  await collector?.stop();
  if (core) {
    for (const s of [bus.eventStreamName, `${bus.eventStreamName}_DLQ`]) await core.jsm.streams.delete(s).catch(() => undefined);
    await core.close();
  }
  await db?.drop();
});

describe('steady band over the rollups', () => {
  it('records one anomaly when a caller leaves its band and one recovery when it is back, not for the steady caller', async () => {
    const watcher = new BandWatcher(core.pool, core.store, core.logger, { band: DEFAULT_BAND_SETTINGS, methods: '(^|\\.)MpoolPush[A-Za-z]*$', intervalMs: 0, clock: () => t });
    await watcher.start();
    const queries = new StatsQueries(core.pool, { band: DEFAULT_BAND_SETTINGS, methods: '(^|\\.)MpoolPush[A-Za-z]*$', methodsName: 'message-sending', clock: () => t });
    for (t = T0 + 200 * MIN; t < T0 + 280 * MIN; t += 5 * MIN) await watcher.tick();
    expect(watcher.anomalies).toBe(0); // the burst is not older than the ignored last half hour yet
    for (; t <= T0 + 300 * MIN; t += MIN) await watcher.tick();
    expect(watcher.anomalies).toBe(1);
    // What /metrics shows as fleetvisor_stats_callers_outside_band.
    expect(watcher.outsideBand()).toEqual({ above: 1, below: 0 });
    await collector.runner.whenCaughtUp();
    const open = await queries.anomalies({ open: true });
    expect(open.anomalies).toHaveLength(1);
    const a = open.anomalies[0]!;
    expect(a).toMatchObject({ caller: 't01000-sealer', component: 'venus-messager', methods: 'message-sending', direction: 'above', recoveredAt: null });
    expect(a.band.high).toBeLessThan(7);
    expect(a.observedPerMin).toBeGreaterThan(20);
    expect(Date.parse(a.outsideSince)).toBeGreaterThanOrEqual(T0 + 240 * MIN);

    // The chart's view: the band the anomaly left, the rates judged (the newest one above it), the
    // steady caller inside its own band; ChainHead is not a watched call, so venus has no band.
    const bands = await queries.bands({ minutes: 120 });
    expect(bands).toMatchObject({ methods: 'message-sending', smoothMinutes: DEFAULT_BAND_SETTINGS.smoothMinutes });
    expect(bands.bands.map((b) => `${b.caller}/${b.component}`)).toEqual(['t01000-sealer/venus-messager', 't02000-sealer/venus-messager']);
    const stuck = bands.bands[0]!;
    expect(stuck).toMatchObject({ band: a.band, outside: 'above' });
    expect(stuck.rates).toHaveLength(120);
    expect(stuck.rates.at(-1)!).toBeGreaterThan(a.band.high);
    // The rates end at the newest minute the watcher judges: the last half hour is left out.
    expect(Date.parse(stuck.from) + 120 * MIN).toBe(Math.floor(t / MIN) * MIN - DEFAULT_BAND_SETTINGS.edgeMs);
    const quiet = bands.bands[1]!;
    expect(quiet.outside).toBeNull();
    expect(quiet.band!.low).toBeLessThanOrEqual(Math.min(...quiet.rates.slice(-30)));
    expect(quiet.band!.high).toBeGreaterThanOrEqual(Math.max(...quiet.rates.slice(-30)));
    expect((await queries.bands({ caller: 't02000-sealer', limit: 5 })).bands.map((b) => b.caller)).toEqual(['t02000-sealer']);

    // A second watcher (a restart) knows the anomaly is open and records it again nowhere.
    const again = new BandWatcher(core.pool, core.store, core.logger, { band: DEFAULT_BAND_SETTINGS, methods: '(^|\\.)MpoolPush[A-Za-z]*$', intervalMs: 0, clock: () => t });
    await again.start();
    await again.tick();
    expect(again.anomalies).toBe(0);
    expect(again.outsideBand()).toEqual({ above: 1, below: 0 });

    for (; t <= T0 + 330 * MIN; t += MIN) await watcher.tick();
    expect(watcher.recoveries).toBe(1);
    expect(watcher.outsideBand()).toEqual({ above: 0, below: 0 });
    await collector.runner.whenCaughtUp();
    const all = await queries.anomalies({});
    expect(all.anomalies).toHaveLength(1);
    expect(all.anomalies[0]!.recoveredAt).not.toBeNull();
    expect(all.anomalies[0]!.recoveredPerMin).toBeLessThan(7);
    expect((await queries.bands({ component: 'venus-messager' })).bands[0]).toMatchObject({ caller: 't01000-sealer', outside: null });
    const events = (await core.store.readStream('stats-t01000-sealer')).events.map((e) => e.type);
    expect(events).toEqual(['CallRateAnomaly', 'CallRateRecovered']);
    expect((await core.store.readStream('stats-t02000-sealer')).events).toEqual([]);
  });
});

// The stats-collector against real Postgres and NATS, started as `stats-collector run` starts it
// (its Nest module on the Fleetvisor transport): batches pushed on fleet.cmd.stats-collector.push.<source>
// reach the rollups exactly (duplicates and out-of-order windows included), bad batches are refused
// with a reason and store nothing, queries answer from every resolution, compaction keeps totals,
// and a rebuild from the log equals the live projection.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { INestMicroservice } from '@nestjs/common';
import { StatsCalls, StatsTop, type CommandReply } from '@fleetvisor/contracts';
import { createFleetMicroservice, deadLetterStreamName, FleetCore } from '@fleetvisor/messaging';
import { rebuildProjection } from '@fleetvisor/event-store';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { createTestDatabase, sharedNatsUrl, expectEventually, testBusNames, testCoreConfig, type TestDatabase } from '@fleetvisor/testing';
import { readStatsCollectorSettings, type StatsCollectorSettings } from './config';
import { pushSubject } from './ingest/push-server';
import { compactRollups } from './projection/compaction';
import { StatsProjection } from './projection/stats-projection';
import { StatsCollector } from './stats-collector';
import { StatsCollectorModule } from './stats-collector.module';
import { batch, record, windowOf } from '../test/batches';

const SETTINGS: StatsCollectorSettings = { ...readStatsCollectorSettings({}), compactIntervalMs: 0, anomalyIntervalMs: 0, minuteAgeMs: 3_600_000, tenMinuteAgeMs: 2 * 3_600_000 };

let db: TestDatabase;
const bus = testBusNames();
let core: FleetCore;
let app: INestMicroservice;

const collector = (): StatsCollector => app.get(StatsCollector);

async function push(source: string, body: unknown): Promise<CommandReply<{ records: number; calls: number; duplicate: boolean }>> {
  const data = typeof body === 'string' ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
  const msg = await core.nc.request(pushSubject(core.subjects, source), data, { timeout: 5_000 });
  return JSON.parse(Buffer.from(msg.data).toString('utf8')) as CommandReply<{ records: number; calls: number; duplicate: boolean }>;
}

async function ask<R>(p: Promise<{ ok: true; result?: R } | { ok: false; error: { code: string; message: string } }>): Promise<R> {
  const reply = await p;
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result as R;
}

async function table(): Promise<unknown[]> {
  const r = await core.pool.query('SELECT * FROM fv_stats_rollups ORDER BY view, res, bucket, caller, component, method');
  return r.rows;
}

async function streamLength(stream: string): Promise<number> {
  return (await core.store.readStream(stream)).events.length;
}

beforeAll(async () => {
  db = await createTestDatabase('stats');
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  const config = { core: testCoreConfig(db.url, bus), stats: SETTINGS };
  core = await FleetCore.open({ serviceName: 'stats-test', config: config.core, poolSize: 4 });
  app = await createFleetMicroservice(StatsCollectorModule.forRoot(config, { relay: false }), { serviceName: 'stats-collector', nest: { logger: false } });
  await app.listen();
});

afterAll(async () => {
  await app?.close();
  if (core) {
    for (const s of [bus.eventStreamName, deadLetterStreamName(bus.eventStreamName)]) await core.jsm.streams.delete(s).catch(() => undefined);
    await core.close();
  }
  await db?.drop();
});

const now = Date.now();
const w0 = windowOf(now - 30 * 60_000, 60); // a minute half an hour ago: per-minute rows
const from = new Date(w0 - 60 * 60_000).toISOString();
const to = new Date(now + 60_000).toISOString();

describe('stats-collector: ingest and queries', () => {
  it('counts exactly what was pushed, a batch pushed twice once, windows in any order', async () => {
    const a0 = batch('meter-a', w0, [record('t01000-sealer', 'venus', 'Filecoin.ChainHead', 100, 2, 3), record('t01000-sealer', 'venus-messager', 'Filecoin.MpoolPushMessage', 5, 0, 6)]);
    const a1 = batch('meter-a', w0 + 10_000, [record('t01000-sealer', 'venus', 'Filecoin.ChainHead', 50, 0, 4), record('t02000-sealer', 'venus', 'Filecoin.StateMinerInfo', 7)]);
    const b0 = batch('meter-b', w0 + 120_000, [record('t02000-sealer', 'venus', 'Filecoin.ChainHead', 30, 1)]);
    // Later window first, the first one twice.
    expect(await push('meter-a', a1)).toEqual({ ok: true, result: { records: 2, calls: 57, duplicate: false } });
    expect(await push('meter-b', b0)).toMatchObject({ ok: true, result: { duplicate: false } });
    expect(await push('meter-a', a0)).toEqual({ ok: true, result: { records: 2, calls: 105, duplicate: false } });
    expect(await push('meter-a', a0)).toEqual({ ok: true, result: { records: 2, calls: 105, duplicate: true } });
    expect(await streamLength('stats-meter-a')).toBe(2);

    await collector().runner.whenCaughtUp();
    const byCaller = await ask(core.commands.request(StatsCalls, { from, to, stepSeconds: 60, by: 'caller' }));
    const t1 = byCaller.series.find((s) => s.key === 't01000-sealer')!;
    const t2 = byCaller.series.find((s) => s.key === 't02000-sealer')!;
    expect(t1).toMatchObject({ calls: 155, errors: 2 });
    expect(t2).toMatchObject({ calls: 37, errors: 1 });
    // Both windows of meter-a fall in one minute; meter-b's two minutes later.
    const minute = (ms: number) => Math.floor((ms - Date.parse(from)) / 60_000);
    expect(t1.points[minute(w0)]).toBe(155);
    expect(t2.points[minute(w0)]).toBe(7);
    expect(t2.points[minute(w0 + 120_000)]).toBe(30);
    expect(t1.points.reduce((a, b) => a + b, 0)).toBe(155);

    // One component's calls by method (filecoin-interface.png), with latency percentiles.
    const venus = await ask(core.commands.request(StatsCalls, { from, to, stepSeconds: 3600, component: 'venus', by: 'method' }));
    expect(venus.series.map((s) => [s.key, s.calls])).toEqual([
      ['Filecoin.ChainHead', 180],
      ['Filecoin.StateMinerInfo', 7],
    ]);
    // ChainHead: 100 calls in bucket 3 (<= 10 ms), 50 in bucket 4 (<= 25 ms), 30 without a histogram.
    expect(venus.series[0]).toMatchObject({ p50Ms: 10, p99Ms: 25 });

    const top = await ask(core.commands.request(StatsTop, { from, to, by: 'method', limit: 2 }));
    expect(top.rows.map((r) => [r.key, r.calls])).toEqual([
      ['Filecoin.ChainHead', 180],
      ['Filecoin.StateMinerInfo', 7],
    ]);
    expect(top.total.calls).toBe(192);
  });

  it('refuses bad batches with a reason, counts the reason, and stores nothing', async () => {
    const before = { ...collector().intake.refused };
    const good = batch('meter-c', w0, [record('t01000-sealer', 'venus', 'Filecoin.ChainHead', 1)]);
    const cases: [string, unknown, string][] = [
      ['malformed', '{not json', 'request is not valid JSON'],
      ['schema', { ...good, records: [{ ...good.records[0], calls: -1 }] }, 'schema: stats-collector.push request at /records/0/calls'],
      ['rules', { ...good, records: [{ ...good.records[0], errors: 2 }] }, 'rules: records/0: errors + transportErrors 2 is above calls 1'],
      ['scope', { ...good, source: 'meter-a' }, 'scope: source "meter-a" is not the subject\'s "meter-c"'],
      ['window', { ...good, windowSeconds: 7 }, 'window: windowSeconds 7 must divide 60'],
      ['window', { ...good, windowStart: new Date(w0 + 5_000).toISOString() }, 'window: windowStart'],
      ['window', { ...good, windowStart: new Date(windowOf(now + 3_600_000)).toISOString() }, 'is in the future'],
    ];
    for (const [, body, message] of cases) {
      const r = await push('meter-c', body);
      expect(r.ok, message).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe('invalid_request');
        expect(r.error.message).toContain(message);
      }
    }
    const after = collector().intake.refused;
    expect(after.schema - before.schema).toBe(1);
    expect(after.rules - before.rules).toBe(1);
    expect(after.scope - before.scope).toBe(1);
    expect(after.window - before.window).toBe(3);
    expect(await streamLength('stats-meter-c')).toBe(0);
    expect(await streamLength('stats-meter-a')).toBe(2);
  });

  it('compaction drops per-minute and 10-minute rows past their ages, keeping the coarser ones and every total', async () => {
    const old = windowOf(now - 5 * 3_600_000, 3600); // an hour older than the ten-minute age (2 h): hourly
    const mid = windowOf(now - 90 * 60_000, 600); // ten minutes older than the minute age (1 h): 10-minute
    await push('meter-d', batch('meter-d', old, [record('lava-consumer-1', 'lavap-provider-1', 'eth_blockNumber', 40, 4, 2)]));
    await push('meter-d', batch('meter-d', old + 20 * 60_000, [record('lava-consumer-1', 'lavap-provider-1', 'eth_blockNumber', 60, 0, 2)]));
    await push('meter-d', batch('meter-d', mid, [record('lava-consumer-1', 'lavap-provider-1', 'eth_call', 9)]));
    await push('meter-d', batch('meter-d', mid + 60_000, [record('lava-consumer-1', 'lavap-provider-1', 'eth_call', 11)]));
    await collector().runner.whenCaughtUp();
    const wide = { from: new Date(now - 24 * 3_600_000).toISOString(), to, component: 'lavap-provider-1' } as const;
    const before = await ask(core.commands.request(StatsTop, { ...wide, by: 'method' }));
    await compactRollups(core.pool, SETTINGS, now);
    const res = await core.pool.query<{ res: number; n: number }>(`SELECT res, count(*)::int AS n FROM fv_stats_rollups WHERE view = 0 AND component = 'lavap-provider-1' GROUP BY res ORDER BY res`);
    // Past the ten-minute age (old): the hour only; past the minute age (mid): its 10 minutes and its hour.
    expect(res.rows).toEqual([
      { res: 600, n: 1 },
      { res: 3600, n: 2 },
    ]);
    const after = await ask(core.commands.request(StatsTop, { ...wide, by: 'method' }));
    expect(after).toEqual(before);
    expect(after.rows.map((r) => [r.key, r.calls, r.errors])).toEqual([
      ['eth_blockNumber', 100, 4],
      ['eth_call', 20, 0],
    ]);
    // Compacting again changes nothing.
    const t = await table();
    await compactRollups(core.pool, SETTINGS, now);
    expect(await table()).toEqual(t);
  });

  it('answers the same from every view and resolution', async () => {
    const q = { from: new Date(now - 24 * 3_600_000).toISOString(), to } as const;
    const byMethod = await ask(core.commands.request(StatsTop, { ...q, by: 'method' })); // component × method view
    const byCaller = await ask(core.commands.request(StatsTop, { ...q, by: 'caller' })); // caller × component view
    const full = await ask(core.commands.request(StatsTop, { ...q, by: 'method', caller: 'lava-consumer-1' })); // the full view
    expect(byMethod.total).toEqual(byCaller.total);
    expect(full.total.calls).toBe(120);
    const hourly = await ask(core.commands.request(StatsCalls, { ...q, stepSeconds: 3600 }));
    const minutely = await ask(core.commands.request(StatsCalls, { ...q, stepSeconds: 60 }));
    expect(hourly.series[0]!.calls).toBe(byMethod.total.calls);
    expect(minutely.series[0]!.calls).toBe(byMethod.total.calls);
  });

  it('a rebuild from the log equals the live projection (compacted at the same time)', async () => {
    await expectEventually(async () => expect(collector().runner.lastError).toBeUndefined());
    await collector().runner.whenCaughtUp();
    await compactRollups(core.pool, SETTINGS, now);
    const live = await table();
    expect(live.length).toBeGreaterThan(5);
    await app.close();
    await rebuildProjection(core.pool, core.store, new StatsProjection());
    await compactRollups(core.pool, SETTINGS, now);
    expect(await table()).toEqual(live);
  });
});

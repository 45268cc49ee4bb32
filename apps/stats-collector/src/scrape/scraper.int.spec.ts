// Scraping into the same counts, and the collector's own /metrics: a lavap-like /metrics endpoint
// the test serves (its counters moved by the test), the collector started as `run` starts it with
// that target configured, its rollups and its /metrics read back.
import 'reflect-metadata';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { INestMicroservice } from '@nestjs/common';
import { StatsTop } from '@fleetvisor/contracts';
import { createFleetMicroservice, deadLetterStreamName, FleetCore } from '@fleetvisor/messaging';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { createTestDatabase, sharedNatsUrl, expectEventually, freePort, testBusNames, testCoreConfig, type TestDatabase } from '@fleetvisor/testing';
import { readStatsCollectorSettings, type StatsCollectorSettings } from '../config';
import { StatsCollectorModule } from '../stats-collector.module';

let db: TestDatabase;
const bus = testBusNames();
let core: FleetCore;
let app: INestMicroservice;
let target: http.Server;
let relays = 1000;
let errored = 10;
let metricsUrl: string;

beforeAll(async () => {
  target = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`# HELP lava_provider_total_relays_serviced The total number of relays serviced by the provider over time.
# TYPE lava_provider_total_relays_serviced counter
lava_provider_total_relays_serviced{apiInterface="jsonrpc",spec="ETH1"} ${relays}
# TYPE lava_provider_total_errored counter
lava_provider_total_errored{apiInterface="jsonrpc",spec="ETH1"} ${errored}
`);
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const settings: StatsCollectorSettings = {
    ...readStatsCollectorSettings({}),
    compactIntervalMs: 0,
    anomalyIntervalMs: 0,
    minWindowSeconds: 1,
    scrapeSeconds: 1,
    scrapeTargets: [{ name: 'provider-1', url: `http://127.0.0.1:${(target.address() as { port: number }).port}/metrics` }],
    metricsListen: `127.0.0.1:${metricsPort}`,
  };
  db = await createTestDatabase('statsscrape');
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  const config = { core: testCoreConfig(db.url, bus), stats: settings };
  core = await FleetCore.open({ serviceName: 'stats-test', config: config.core, poolSize: 2 });
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
  await new Promise<void>((r) => (target ? target.close(() => r()) : r()));
});

describe('stats-collector: scraping and /metrics', () => {
  it('counts the growth of a lavap provider counters from the first scrape on, as calls it served', async () => {
    relays = 1300;
    errored = 14;
    const range = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };
    await expectEventually(
      async () => {
        const r = await core.commands.request(StatsTop, { ...range, by: 'component' });
        expect(r.ok && r.result!.rows.map((x) => [x.key, x.calls, x.errors])).toEqual([['provider-1', 300, 4]]);
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    // A restarted provider (counters back near zero) counts its new value once.
    relays = 50;
    errored = 0;
    await expectEventually(
      async () => {
        const r = await core.commands.request(StatsTop, { ...range, by: 'component' });
        expect(r.ok && r.result!.rows.map((x) => [x.key, x.calls, x.errors])).toEqual([['provider-1', 350, 4]]);
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    const stored = (await core.store.readStream('stats-scrape-provider-1')).events;
    expect(stored.length).toBe(2);
  });

  it('exports the counted calls and its own health as Prometheus text', async () => {
    const text = await expectEventually(async () => {
      const res = await fetch(metricsUrl);
      expect(res.status).toBe(200);
      const t = await res.text();
      expect(t).toContain('fleetvisor_stats_calls_total{caller="unknown",component="provider-1",method="jsonrpc",service="stats-collector"} 350');
      return t;
    });
    expect(text).toContain('fleetvisor_stats_errors_total{caller="unknown",component="provider-1",method="jsonrpc",service="stats-collector"} 4');
    expect(text).toMatch(/fleetvisor_stats_push_refused_total\{reason="scope",service="stats-collector"\} 0/);
    expect(text).toMatch(/fleetvisor_stats_batches_total\{outcome="stored",service="stats-collector"\} 2/);
    expect(text).toMatch(/fleetvisor_stats_records_ingested_total\{outcome="stored",service="stats-collector"\} 2/);
    expect(text).toMatch(/fleetvisor_stats_scrapes_total\{outcome="ok",service="stats-collector"\} \d+/);
    expect(text).toContain('# TYPE fleetvisor_stats_batches_total counter');
    expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });
});

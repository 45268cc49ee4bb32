// The collector as an orchestrator and Prometheus see it (FLEETVISOR_HEALTH_LISTEN): a real
// `fleetvisor stats-collector run` is live, and ready once Postgres and NATS answer and its
// projection has caught up; its /metrics counts what the test pushed (records stored, duplicate,
// refused by reason; calls per caller, component and method) as true counters, shows the callers
// outside their steady band, and passes `promtool check metrics`.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubjects, StatsPush } from '@fleetvisor/contracts';
import { CommandBus } from '@fleetvisor/messaging/core';
import { createLogger, freePort } from '@fleetvisor/platform';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, promtool, sharedNatsUrl, testBusNames, type TestDatabase, fetchText, metricSample } from '@fleetvisor/testing';
import { batch, record, windowOf } from '../test/batches';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin', 'fleetvisor.js');

describe('stats-collector health and metrics', () => {
  const bus = testBusNames();
  let db: TestDatabase;
  let base: string;
  let nc: NatsConnection;
  let commands: CommandBus;
  let collector: ChildProcess;
  let output = '';

  beforeAll(async () => {
    db = await createTestDatabase('fvt_stats_health');
    const env = fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'stats-health', FLEETVISOR_LOG_LEVEL: 'warn', FLEETVISOR_STATS_COMPACT_INTERVAL: '0', FLEETVISOR_STATS_MIN_WINDOW_SECONDS: '1' });
    const migrate = spawn(process.execPath, [BIN, 'migrate'], { env, stdio: 'ignore' });
    expect(await new Promise((r) => migrate.once('exit', r))).toBe(0);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    collector = spawn(process.execPath, [BIN, 'stats-collector', 'run'], { env: { ...env, FLEETVISOR_HEALTH_LISTEN: `127.0.0.1:${port}` }, stdio: ['ignore', 'ignore', 'pipe'] });
    collector.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-10_000)));
    nc = await connect({ servers: sharedNatsUrl() });
    commands = new CommandBus({ nc, subjects: createSubjects(bus.subjectRoot), logger: createLogger({ name: 'stats-health-e2e', level: 'silent', format: 'json' }) });
  }, 120_000);

  afterAll(async () => {
    collector?.kill('SIGKILL');
    await nc?.close();
    await deleteTestStreams(bus, sharedNatsUrl()).catch(() => undefined);
    await db?.drop();
  });

  it('is live, and ready naming what it checked (its projection among them)', async () => {
    const ready = await expectEventually(
      async () => {
        expect(collector.exitCode, output).toBeNull();
        const r = await fetchText(`${base}/health/ready`);
        expect(r.status).toBe(200);
        return JSON.parse(r.body) as { status: string; checks: { name: string; ok: boolean }[] };
      },
      { timeoutMs: 60_000 },
    );
    expect(ready.status).toBe('ready');
    expect(ready.checks.map((c) => c.name).sort()).toEqual(['nats', 'postgres', 'projection']);
    expect((await fetchText(`${base}/health/live`)).status).toBe(200);
  });

  it('counts records stored, duplicate and refused by reason, and the calls folded, as counters that promtool accepts', async () => {
    const w = windowOf(Date.now(), 10) - 10_000;
    const good = batch('health-meter', w, [record('t01000-sealer', 'venus', 'Filecoin.ChainHead', 7, 1), record('t01000-sealer', 'venus', 'Filecoin.MpoolPush', 3)]);
    const stored = await commands.request(StatsPush, good, { scope: 'health-meter', timeoutMs: 10_000 });
    expect(stored).toMatchObject({ ok: true, result: { records: 2, calls: 10, duplicate: false } });
    // The same batch again (a re-delivery): stored once, counted as a duplicate.
    expect(await commands.request(StatsPush, good, { scope: 'health-meter', timeoutMs: 10_000 })).toMatchObject({ ok: true, result: { duplicate: true } });
    // Another source's name on this subject: refused (scope) with its three records.
    const forged = batch('other-meter', w, [record('x', 'venus', 'a', 1), record('x', 'venus', 'b', 1), record('x', 'venus', 'c', 1)]);
    expect(await commands.request(StatsPush, forged, { scope: 'health-meter', timeoutMs: 10_000 })).toMatchObject({ ok: false });
    // A window not aligned to its length: refused (window).
    expect(await commands.request(StatsPush, { ...good, windowStart: new Date(w + 3_000).toISOString() }, { scope: 'health-meter', timeoutMs: 10_000 })).toMatchObject({ ok: false });

    const s = 'service="stats-collector"';
    const text = await expectEventually(
      async () => {
        const t = (await fetchText(`${base}/metrics`)).body;
        expect(metricSample(t, `fleetvisor_stats_calls_total{caller="t01000-sealer",component="venus",method="Filecoin.ChainHead",${s}}`)).toBe(7);
        return t;
      },
      { timeoutMs: 30_000 },
    );
    expect(metricSample(text, `fleetvisor_stats_errors_total{caller="t01000-sealer",component="venus",method="Filecoin.ChainHead",${s}}`)).toBe(1);
    expect(metricSample(text, `fleetvisor_stats_calls_total{caller="t01000-sealer",component="venus",method="Filecoin.MpoolPush",${s}}`)).toBe(3);
    expect(metricSample(text, `fleetvisor_stats_records_ingested_total{outcome="stored",${s}}`)).toBe(2);
    expect(metricSample(text, `fleetvisor_stats_records_ingested_total{outcome="duplicate",${s}}`)).toBe(2);
    expect(metricSample(text, `fleetvisor_stats_records_rejected_total{reason="scope",${s}}`)).toBe(3);
    expect(metricSample(text, `fleetvisor_stats_records_rejected_total{reason="window",${s}}`)).toBe(2);
    expect(metricSample(text, `fleetvisor_stats_records_rejected_total{reason="schema",${s}}`)).toBe(0);
    expect(metricSample(text, `fleetvisor_stats_push_refused_total{reason="scope",${s}}`)).toBe(1);
    expect(metricSample(text, `fleetvisor_stats_batches_total{outcome="stored",${s}}`)).toBe(1);
    expect(metricSample(text, `fleetvisor_stats_batches_total{outcome="duplicate",${s}}`)).toBe(1);
    // The steady-band watcher runs by default: nobody is outside a band yet.
    expect(metricSample(text, `fleetvisor_stats_callers_outside_band{direction="above",${s}}`)).toBe(0);
    expect(metricSample(text, `fleetvisor_stats_callers_outside_band{direction="below",${s}}`)).toBe(0);
    for (const name of ['fleetvisor_stats_records_ingested_total', 'fleetvisor_stats_records_rejected_total', 'fleetvisor_stats_push_refused_total', 'fleetvisor_stats_batches_total', 'fleetvisor_stats_compactions_total']) {
      expect(text).toContain(`# TYPE ${name} counter`);
    }
    expect(text).toContain(`process_resident_memory_bytes{${s}}`);
    // Prometheus's own checker: exposition format and naming conventions.
    const checked = await promtool(['check', 'metrics'], text);
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.code).toBe(0);
  });
});

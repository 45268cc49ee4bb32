// The registry as an orchestrator and Prometheus see it (FLEETVISOR_HEALTH_LISTEN): a real
// `fleetvisor worker-registry run` is live and ready (Postgres and NATS answer), leads the outbox
// relay, and its /metrics counts the workers and threads a real worker-agent reports; the agent,
// an edge process, serves its own (ready once NATS answers; its reports by outcome).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fleetvisor/platform';
import { createTestDatabase, deleteTestStreams, promtool, expectEventually, fleetvisorEnv, sharedNatsUrl, testBusNames, testTrust, type TestDatabase, fetchText, metricSample } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin', 'fleetvisor.js');

describe('worker-registry health and metrics', () => {
  const bus = testBusNames();
  let db: TestDatabase;
  let port: number;
  let agentBase: string;
  const procs: ChildProcess[] = [];
  let base: string;

  beforeAll(async () => {
    db = await createTestDatabase('fvt_reg_health');
    await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const agentPort = await freePort();
    agentBase = `http://127.0.0.1:${agentPort}`;
    const env = fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_LOG_LEVEL: 'warn' });
    procs.push(
      spawn(process.execPath, [BIN, 'worker-registry', 'run'], {
        env: { ...env, FLEETVISOR_HOST: 'health-central', FLEETVISOR_HEALTH_LISTEN: `127.0.0.1:${port}`, FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('service', 'worker-registry') },
        stdio: 'ignore',
      }),
    );
    procs.push(
      spawn(process.execPath, [BIN, 'worker-agent', 'run'], {
        env: { ...env, FLEETVISOR_WORKER_NAME: 'health-w1', FLEETVISOR_WORKER_SIM_THREADS: '3', FLEETVISOR_WORKER_REPORT_INTERVAL: '500ms', FLEETVISOR_HEALTH_LISTEN: `127.0.0.1:${agentPort}` },
        stdio: 'ignore',
      }),
    );
  });

  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await deleteTestStreams(bus, sharedNatsUrl()).catch(() => undefined);
    await db?.drop();
  });

  it('is live and ready, naming what it checked', async () => {
    const ready = await expectEventually(async () => {
      const r = await fetchText(`${base}/health/ready`);
      expect(r.status).toBe(200);
      return JSON.parse(r.body) as { status: string; checks: { name: string; ok: boolean }[] };
    }, { timeoutMs: 60_000 });
    expect(ready.checks.map((c) => c.name).sort()).toEqual(['nats', 'postgres']);
    expect((await fetchText(`${base}/health/live`)).status).toBe(200);
  });

  it('counts the reported worker and its threads, and says it leads the relay', async () => {
    const text = await expectEventually(async () => {
      const r = await fetchText(`${base}/metrics`);
      expect(metricSample(r.body, 'fleetvisor_workers{state="live",service="worker-registry"}')).toBe(1);
      return r.body;
    }, { timeoutMs: 60_000 });
    const threads = ['empty', 'paused', 'running', 'waiting'].map((s) => metricSample(text, `fleetvisor_worker_threads{state="${s}",service="worker-registry"}`) ?? NaN);
    expect(threads.reduce((a, b) => a + b, 0)).toBe(3);
    expect(metricSample(text, 'fleetvisor_worker_reports_total{service="worker-registry"}')).toBeGreaterThan(0);
    await expectEventually(async () => expect(metricSample((await fetchText(`${base}/metrics`)).body, 'fleetvisor_relay_leader{service="worker-registry"}')).toBe(1), { timeoutMs: 30_000 });
    expect(text).toContain('# TYPE fleetvisor_relay_lag_events gauge');
    expect(metricSample(text, 'fleetvisor_dead_letters{service="worker-registry"}')).toBe(0);
    expect(text).toContain('process_resident_memory_bytes{service="worker-registry"}');
    // Prometheus's own checker: exposition format and naming conventions.
    const checked = await promtool(['check', 'metrics'], (await fetchText(`${base}/metrics`)).body);
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.code).toBe(0);
  });

  it('the agent is ready once NATS answers, and counts its reports', async () => {
    const ready = await expectEventually(async () => {
      const r = await fetchText(`${agentBase}/health/ready`);
      expect(r.status).toBe(200);
      return JSON.parse(r.body) as { checks: { name: string }[] };
    }, { timeoutMs: 60_000 });
    expect(ready.checks.map((c) => c.name)).toEqual(['nats']);
    await expectEventually(async () => {
      const text = (await fetchText(`${agentBase}/metrics`)).body;
      expect(metricSample(text, 'fleetvisor_agent_reports_total{outcome="ok",service="worker-agent"}')).toBeGreaterThan(0);
      expect(metricSample(text, 'fleetvisor_agent_dropped_transitions_total{service="worker-agent"}')).toBe(0);
    }, { timeoutMs: 30_000 });
    const checked = await promtool(['check', 'metrics'], (await fetchText(`${agentBase}/metrics`)).body);
    expect(checked.stdout + checked.stderr).toBe('');
  });
});

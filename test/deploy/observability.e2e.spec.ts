// Issue 17, observability: the shipped Prometheus alert rules and Grafana dashboard
// (docker/observability/) are valid (promtool check rules; the rules' own unit tests with promtool
// test rules; every dashboard query parses), and every metric they read is one the services export:
// a real devnet, chain-watcher, worker-registry, worker-agent, stats-collector, gateway and
// service-runner are started, their /metrics
// scraped (each passes promtool check metrics), and the names the rules and panels use are looked
// up in what they answered.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort } from '@fleetvisor/platform';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, promtool, sharedNatsUrl, testBusNames, testTrust, type TestDatabase, fetchText } from '@fleetvisor/testing';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { providerConfigYaml, writeFakeLavap } from '@fleetvisor/devnet';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/fleetvisor.js');
const DIR = path.join(ROOT, 'docker/observability');

interface Rules {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}
interface Dashboard {
  panels: { type: string; title: string; targets?: { expr: string }[]; datasource?: { uid: string } }[];
}

const rules = parse(readFileSync(path.join(DIR, 'alerts.yml'), 'utf8')) as Rules;
const dashboard = JSON.parse(readFileSync(path.join(DIR, 'grafana-fleet.json'), 'utf8')) as Dashboard;
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const ruleExprs = rules.groups.flatMap((g) => g.rules.map((r) => ({ rule: r.alert ?? r.record ?? '?', expr: r.expr })));

/** Metric names a PromQL expression reads: identifiers of the families Fleetvisor and prom-client export. */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  return [...withoutStrings.matchAll(/\b(fleetvisor_[a-z0-9_]+|chain_watcher_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

/** Family names in an exposition text (histograms and summaries by their base name too). */
function exported(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      names.add(type[1]!);
      // A histogram's series exist before its first observation only by its TYPE line.
      if (type[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(type[1]! + suffix);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

describe('alert rules and the Grafana dashboard', () => {
  it('the rules pass promtool check rules and their own unit tests', async () => {
    const checked = await promtool(['check', 'rules', path.join(DIR, 'alerts.yml')]);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    const tested = await promtool(['test', 'rules', path.join(DIR, 'alerts.test.yml')]);
    expect(tested.code, tested.stdout + tested.stderr).toBe(0);
    expect(tested.stdout).toContain('SUCCESS');
    // Every alert has a unit test that expects it to fire.
    const testText = readFileSync(path.join(DIR, 'alerts.test.yml'), 'utf8');
    for (const r of ruleExprs) expect(testText, r.rule).toMatch(new RegExp(`alertname: ${r.rule}\\n\\s+exp_alerts:\\n\\s+- exp_labels`));
  });

  it('every dashboard query parses, and every panel asks the chosen Prometheus', async () => {
    expect(dashboardExprs.length).toBeGreaterThanOrEqual(15);
    const dir = mkdtempSync(path.join(tmpdir(), 'fv-dash-'));
    try {
      // promtool parses PromQL in rule files: each panel query as a recording rule.
      const file = path.join(dir, 'panels.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'panels', rules: dashboardExprs.map((e, i) => ({ record: `fleetvisor:panel_${i}`, expr: e.expr })) }] }));
      const r = await promtool(['check', 'rules', file]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const p of dashboard.panels.filter((p) => p.type !== 'row')) expect(p.datasource?.uid, p.title).toBe('${datasource}');
  });

  describe('against the services', () => {
    const bus = testBusNames();
    let db: TestDatabase;
    const procs: ChildProcess[] = [];
    const endpoints: Record<string, string> = {};
    const dirs: string[] = [];

    beforeAll(async () => {
      db = await createTestDatabase('fvt_observability');
      await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() }, { keys: true });
      const env = fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_LOG_LEVEL: 'warn' });
      const devnetPort = await freePort();
      const start = (args: string[], extra: Record<string, string>): void => {
        procs.push(spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extra }, stdio: 'ignore' }));
      };
      start(['devnet', 'start', '--port', String(devnetPort), '--chain-id', 'obs-1', '--block-time', '200ms'], {});
      const cw = await freePort();
      endpoints['chain-watcher'] = `http://127.0.0.1:${cw}/metrics`;
      const cwCore = await freePort();
      endpoints['chain-watcher (core)'] = `http://127.0.0.1:${cwCore}/metrics`;
      start(['chain-watcher', 'run'], {
        FLEETVISOR_HOST: 'obs-cw',
        FLEETVISOR_CHAINS: `obs-1=http://127.0.0.1:${devnetPort}`,
        FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: String(cw),
        FLEETVISOR_CHAIN_WATCHER_HTTP_HOST: '127.0.0.1',
        FLEETVISOR_HEALTH_LISTEN: `127.0.0.1:${cwCore}`,
        FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('chain-watcher'),
      });
      const reg = await freePort();
      endpoints['worker-registry'] = `http://127.0.0.1:${reg}/metrics`;
      start(['worker-registry', 'run'], { FLEETVISOR_HOST: 'obs-reg', FLEETVISOR_HEALTH_LISTEN: `127.0.0.1:${reg}`, FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('service', 'worker-registry') });
      const agent = await freePort();
      endpoints['worker-agent'] = `http://127.0.0.1:${agent}/metrics`;
      start(['worker-agent', 'run'], { FLEETVISOR_WORKER_NAME: 'obs-w1', FLEETVISOR_WORKER_REPORT_INTERVAL: '500ms', FLEETVISOR_HEALTH_LISTEN: `127.0.0.1:${agent}` });
      const stats = await freePort();
      endpoints['stats-collector'] = `http://127.0.0.1:${stats}/metrics`;
      start(['stats-collector', 'run', '--no-relay'], { FLEETVISOR_HOST: 'obs-stats', FLEETVISOR_HEALTH_LISTEN: `127.0.0.1:${stats}` });
      const gateway = await freePort();
      endpoints['gateway'] = `http://127.0.0.1:${gateway}/metrics`;
      start(['gateway', 'run'], { FLEETVISOR_HOST: 'obs-gw', FLEETVISOR_GATEWAY_LISTEN: `127.0.0.1:${gateway}`, FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('gateway', 'obs-gateway') });
      // A runner supervising one (fake) lavap: its services, upgrades and quarantines.
      const runnerDir = mkdtempSync(path.join(tmpdir(), 'fv-obs-runner-'));
      dirs.push(runnerDir);
      const lavap = writeFakeLavap(path.join(runnerDir, 'bin'), { version: '0.9.0' });
      const cfg = path.join(runnerDir, 'p.yml');
      writeFileSync(cfg, providerConfigYaml('LAV1', `127.0.0.1:${await freePort()}`));
      const runner = await freePort();
      endpoints['service-runner'] = `http://127.0.0.1:${runner}/metrics`;
      start(['wrap', '--directory', runnerDir, '--cmd', `${lavap} rpcprovider ${cfg} --from p1`], { FLEETVISOR_HOST: 'obs-host', FLEETVISOR_HEALTH_LISTEN: `127.0.0.1:${runner}` });
    }, 60_000);

    afterAll(async () => {
      // The runner first, with SIGTERM: it stops the process it supervises (SIGKILL would orphan it).
      const runner = procs.at(-1)!;
      if (runner.exitCode === null) {
        const exited = new Promise((resolve) => runner.once('exit', resolve));
        runner.kill('SIGTERM');
        await exited;
      }
      for (const p of procs) p.kill('SIGKILL');
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
      await deleteTestStreams(bus, sharedNatsUrl()).catch(() => undefined);
      await db?.drop();
    });

    it('export every metric the rules and the dashboard read, each passing promtool check metrics', async () => {
      const names = new Set<string>();
      for (const [service, url] of Object.entries(endpoints)) {
        // Wait for the figures that appear once the service has work: a chain height, a worker.
        const text = await expectEventually(async () => {
          const r = await fetchText(url);
          expect(r.status, service).toBe(200);
          if (service === 'chain-watcher') expect(r.body).toMatch(/^chain_watcher_latest_height\{/m);
          if (service === 'worker-registry') expect(r.body).toMatch(/^fleetvisor_workers\{state="live",service="worker-registry"\} 1$/m);
          if (service === 'service-runner') expect(r.body).toMatch(/^fleetvisor_runner_services\{state="running",service="service-runner"\} 1$/m);
          return r.body;
        }, { timeoutMs: 60_000 });
        const checked = await promtool(['check', 'metrics'], text);
        expect(checked.stdout + checked.stderr, service).toBe('');
        for (const n of exported(text)) names.add(n);
      }
      const missing = [...ruleExprs.map((r) => ({ where: `rule ${r.rule}`, expr: r.expr })), ...dashboardExprs.map((d) => ({ where: `panel ${d.panel}`, expr: d.expr }))]
        .flatMap(({ where, expr }) => metricNames(expr).filter((n) => !names.has(n)).map((n) => `${where}: ${n}`));
      expect(missing).toEqual([]);
    });
  });
});

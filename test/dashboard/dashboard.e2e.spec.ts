// The dashboard in a real headless Chromium (Debian's chromium, driven by playwright-core), served
// by the compiled gateway in front of a real worker-registry, worker-agent and stats-collector:
// load with a token, see the workers, pause a thread and see it paused, see an upgrade arrive live
// (no reload), see the call chart, a read token gets no buttons, and the phone-width layout.
// Screenshots are kept in tmp/artifacts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { createSubjects, StatsPush } from '@fleetvisor/contracts';
import { startProvingNode, type ProvingNodeHandle } from '@fleetvisor/devnet';
import { CommandBus } from '@fleetvisor/messaging/core';
import { createLogger } from '@fleetvisor/platform';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { artifactsDir, createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, freePort, launchBrowser, sharedNatsUrl, testBusNames, testTrust, type TestDatabase } from '@fleetvisor/testing';

const BIN = path.resolve(__dirname, '../../bin/fleetvisor.js');
const bus = testBusNames();
const WORKER = 'dash-w1';
let db: TestDatabase;
let browser: Browser;
let base = '';
const children: ChildProcess[] = [];
let proving: ProvingNodeHandle | undefined;
const tokens = { read: '', operate: '' };

const env = (extra: Record<string, string> = {}) => fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_HOST: 'dash-host', FLEETVISOR_LOG_LEVEL: 'warn', ...extra });

function start(args: string[], extra: Record<string, string> = {}): void {
  children.push(spawn(process.execPath, [BIN, ...args], { env: env(extra), stdio: 'ignore' }));
}

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: env(), encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`fleetvisor ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function append(stream: string, type: string, data: unknown): void {
  cli(['events', 'append', '--stream', stream, '--type', type, '--data', JSON.stringify(data)]);
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByLabel('Gateway token').fill(token);
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await page.getByRole('heading', { name: 'Fleet', exact: true }).waitFor();
}

beforeAll(async () => {
  db = await createTestDatabase('dashboard');
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() }, { keys: true });
  start(['worker-registry', 'run'], { FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('service', 'worker-registry') });
  start(['worker-agent', 'run'], {
    FLEETVISOR_WORKER_NAME: WORKER,
    FLEETVISOR_WORKER_REPORT_INTERVAL: '300ms',
    FLEETVISOR_WORKER_SIM_THREADS: '3',
    FLEETVISOR_WORKER_SIM_STEP: '60s',
    FLEETVISOR_WORKER_SIM_TEMPORARY_ERROR_RATE: '0',
    FLEETVISOR_WORKER_SIM_PERMANENT_ERROR_RATE: '0',
  });
  // A band from 100 minutes of history: the edges and the detection window made short.
  // A Filecoin chain for the proving watch: the Fleet view lists it with its watch mode and miners.
  proving = await startProvingNode({ epochMs: 500, params: { periodDeadlines: 4, challengeWindow: 4, challengeLookback: 2, faultDeclarationCutoff: 3 }, miners: [{ id: 't01000' }] });
  start(['chain-watcher', 'run'], {
    FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('chain-watcher'),
    FLEETVISOR_FILECOIN_CHAINS: `dashnet=${proving.url}`,
    FLEETVISOR_FILECOIN_MINERS: 't01000',
    FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0',
  });
  start(['stats-collector', 'run', '--no-relay'], { FLEETVISOR_STATS_ANOMALY_EDGE: '1m', FLEETVISOR_STATS_ANOMALY_AFTER: '2m' });
  const port = await freePort();
  start(['gateway', 'run'], { FLEETVISOR_GATEWAY_LISTEN: `127.0.0.1:${port}`, FLEETVISOR_SIGNING_KEY_FILE: testTrust().keyFile('gateway', 'gateway-dash') });
  base = `http://127.0.0.1:${port}`;
  await expectEventually(async () => expect((await fetch(`${base}/health/ready`)).status).toBe(200), { timeoutMs: 60_000 });
  for (const role of ['read', 'operate'] as const) tokens[role] = (JSON.parse(cli(['token', 'create', '--role', role, '--name', `dash-${role}`, '--json'])) as { token: string }).token;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const c of children) c.kill('SIGKILL');
  await proving?.close();
  await deleteTestStreams(bus, sharedNatsUrl()).catch(() => undefined);
  await db?.drop();
});

describe('dashboard', () => {
  it("lists the proving watch's Filecoin chain on the Fleet view: how it follows the head, its miners", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(page, tokens.read);
    const table = page.getByRole('table', { name: 'Filecoin chains' });
    await table.waitFor({ timeout: 60_000 });
    const row = table.getByRole('row').filter({ hasText: 'dashnet' });
    await expectEventually(async () => expect(await row.textContent()).toMatch(/dashnet\s*notify.*t01000/), { timeoutMs: 60_000, intervalMs: 1_000 });
    // The epoch moves without an event: the view reloads on its own, no page reload.
    const epochCell = row.getByRole('cell').nth(3);
    const first = Number(await epochCell.textContent());
    await expectEventually(async () => expect(Number(await epochCell.textContent())).toBeGreaterThan(first), { timeoutMs: 30_000, intervalMs: 1_000 });
    await page.close();
  });

  it('shows the workers, pauses a thread for an operate token, and sees it paused', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(page, tokens.operate);
    await page.getByRole('link', { name: 'Workers' }).click();
    const table = page.getByRole('table', { name: 'Workers' });
    await table.getByRole('link', { name: WORKER }).waitFor({ timeout: 30_000 });
    await table.getByRole('link', { name: WORKER }).click();
    await page.getByRole('table', { name: `Threads of ${WORKER}` }).waitFor();
    await page.getByRole('button', { name: 'Pause thread 1' }).click();
    await page.getByLabel('thread 1 paused').waitFor({ timeout: 30_000 });
    // The registry recorded it with the token's name as the actor.
    const history = cli(['worker', 'history', WORKER, '--index', '1', '--json']);
    expect(history).toMatch(/token:dash-operate/);
    await page.screenshot({ path: path.join(artifactsDir(), 'dashboard-worker.png'), fullPage: true });
    await page.close();
  });

  it('sees an upgrade arrive live, without a reload', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(page, tokens.read);
    await page.getByRole('link', { name: 'Upgrades' }).click();
    await page.getByText('No upgrade recorded yet.').waitFor();
    await expectEventually(async () => expect(await page.getByLabel('live updates on').count()).toBe(1), { timeoutMs: 15_000 });
    const at = new Date().toISOString();
    append('service-dash-host/lava-provider', 'UpgradeStarted', { host: 'dash-host', service: 'lava-provider', chainId: 'lava-local-1', fromVersion: '5.1.0', toVersion: '5.2.0', reason: `provider_target 5.2.0 > running 5.1.0 (${at})` });
    append('service-dash-host/lava-provider', 'ServiceUpgraded', { host: 'dash-host', service: 'lava-provider', fromVersion: '5.1.0', toVersion: '5.2.0', durationMs: 4200 });
    const timeline = page.getByRole('table', { name: 'Upgrade timeline' });
    await timeline.getByText('5.1.0 → 5.2.0').waitFor({ timeout: 30_000 });
    await timeline.getByText('succeeded').waitFor({ timeout: 30_000 });
    await page.close();
  });

  it('draws the call chart from the statistics', async () => {
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000).toISOString();
    append('stats-dash-meter', 'ApiCallsRecorded', {
      source: 'dash-meter',
      windowStart: minute,
      windowSeconds: 60,
      part: 0,
      records: [
        { caller: 't01000-sealer', component: 'venus-messager', method: 'Filecoin.MpoolPushMessage', calls: 12, errors: 1 },
        { caller: 't01000-sealer', component: 'venus', method: 'Filecoin.ChainHead', calls: 40, errors: 0 },
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(page, tokens.read);
    await page.getByRole('link', { name: 'Call statistics' }).click();
    await page.getByRole('img', { name: 'Calls over time by component' }).waitFor({ timeout: 30_000 });
    await expectEventually(async () => expect(await page.locator('.recharts-line').count()).toBeGreaterThanOrEqual(2), { timeoutMs: 30_000 });
    await page.screenshot({ path: path.join(artifactsDir(), 'dashboard-calls.png'), fullPage: true });
    await page.close();
  });

  it("draws each caller's steady band around its rate, and says when the rate is outside it", async () => {
    // 100 minutes of message sending pushed as a meter would: f03000 steady, f04000 steady then a
    // stuck retry loop in its last minutes.
    const nc = await connect({ servers: sharedNatsUrl() });
    try {
      const commands = new CommandBus({ nc, subjects: createSubjects(bus.subjectRoot), logger: createLogger({ name: 'dash-test', level: 'silent', format: 'json' }) });
      const now = Math.floor(Date.now() / 60_000) * 60_000;
      for (let i = 100; i >= 1; i--) {
        const steady = [3, 5, 4, 4, 6, 2][i % 6]!;
        const r = await commands.request(
          StatsPush,
          {
            source: 'band-meter',
            windowStart: new Date(now - i * 60_000).toISOString(),
            windowSeconds: 60,
            part: 0,
            records: [
              { caller: 'f03000-sealer', component: 'venus-messager', method: 'Filecoin.MpoolPushMessage', calls: steady, errors: 0 },
              { caller: 'f04000-sealer', component: 'venus-messager', method: 'Filecoin.MpoolPushMessage', calls: i <= 15 ? 40 : steady, errors: 0 },
            ],
          },
          { scope: 'band-meter', timeoutMs: 30_000 },
        );
        expect(r.ok, JSON.stringify(r)).toBe(true);
      }
    } finally {
      await nc.close();
    }
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    await signIn(page, tokens.read);
    await page.getByRole('link', { name: 'Call statistics' }).click();
    await page.getByRole('combobox', { name: 'Component' }).click();
    await page.getByRole('option', { name: 'venus-messager' }).click();
    const stuck = page.getByRole('img', { name: 'Steady band of f04000-sealer at venus-messager' });
    const steady = page.getByRole('img', { name: 'Steady band of f03000-sealer at venus-messager' });
    await stuck.waitFor({ timeout: 30_000 });
    await expectEventually(async () => expect(await stuck.textContent()).toMatch(/band \d+\.\d–\d+\.\d\/min .*, now above it/), { timeoutMs: 30_000 });
    expect(await steady.textContent()).toMatch(/band \d+\.\d–\d+\.\d\/min/);
    expect(await steady.textContent()).not.toContain('now above');
    // The band is drawn: its two lines on each chart.
    expect(await stuck.locator('.recharts-reference-line').count()).toBe(2);
    expect(await steady.locator('.recharts-reference-line').count()).toBe(2);
    await page.screenshot({ path: path.join(artifactsDir(), 'dashboard-bands.png'), fullPage: true });
    await page.close();
  });

  it('gives a read token no buttons that change anything, and fits a phone-width screen', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await signIn(page, tokens.read);
    await page.goto(`${base}/#/workers/${WORKER}`);
    await page.getByRole('table', { name: `Threads of ${WORKER}` }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: /^(Pause|Resume) thread/ }).count()).toBe(0);
    // The navigation folds behind a labelled burger on a phone.
    await page.getByRole('button', { name: 'Toggle navigation' }).click();
    await page.getByRole('link', { name: 'Upgrades' }).click();
    await page.getByRole('heading', { name: 'Upgrades', exact: true }).waitFor();
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: path.join(artifactsDir(), 'dashboard-phone.png'), fullPage: true });
    await page.close();
  });

  it('takes a token from the URL fragment and removes it from the address bar', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/#token=${tokens.read}`);
    await page.getByRole('heading', { name: 'Fleet', exact: true }).waitFor({ timeout: 15_000 });
    expect(page.url()).not.toContain(tokens.read);
    await page.close();
  });

  it('refuses a wrong token at the prompt, saying so', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.getByLabel('Gateway token').fill('fvt_not-a-token');
    await page.getByRole('button', { name: 'Open the dashboard' }).click();
    await page.getByText('That token was refused').waitFor({ timeout: 15_000 });
    await page.close();
  });
});

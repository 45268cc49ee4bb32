// The README's walk-through, exactly as written: `fleetvisor up` (the compiled program), then every
// command of the "Try from another terminal" block, each expected to succeed and to do what the
// README says (a version change upgrades the demo services; the broken release is rolled back).
// If the README changes, this test runs the new commands. Then a second start, as a user's second
// `npm start`: the demo comes back on the last good version.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, expectEventually, fleetvisorEnv, testBusNames, type TestDatabase, deleteTestStreams } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'fleetvisor.js');

/** The commands of the README block that follows "Try from another terminal". */
function walkthroughCommands(readme: string): string[] {
  const start = readme.search(/Try\s+from another terminal/);
  if (start < 0) throw new Error('README has no "Try from another terminal" section');
  const block = /```bash\n([\s\S]*?)```/.exec(readme.slice(start));
  if (!block) throw new Error('README: no bash block after "Try from another terminal"');
  return block[1]!
    .split('\n')
    .map((l) => l.replace(/(^|\s+)#.*$/, '').trim())
    .filter((l) => l !== '');
}

const bus = testBusNames();
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let up: ChildProcess | undefined;
let upOut = '';
let upErr = '';

describe('the README walk-through (compiled program)', () => {
  beforeAll(async () => {
    db = await createTestDatabase('fvt_readme');
    env = { ...fleetvisorEnv({ databaseUrl: db.url, bus }), FLEETVISOR_HOST: 'readme-host', FLEETVISOR_CHAIN_WATCHER_HTTP_PORT: '0', FLEETVISOR_UP_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'fvt-readme-up-')) } as NodeJS.ProcessEnv;
  });

  afterAll(async () => {
    if (up && up.exitCode === null) {
      up.kill('SIGINT');
      await new Promise((resolve) => up!.once('exit', resolve));
    }
    await db?.drop().catch(() => undefined);
    await deleteTestStreams(bus);
  });

  it('runs every command the README tells a new user to try, against `npm start`', async () => {
    const commands = walkthroughCommands(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
    expect(commands.length).toBeGreaterThanOrEqual(8);
    for (const c of commands) expect(c, 'every walk-through line is a fleetvisor command').toMatch(/^npx fleetvisor /);

    // `npm start` is `npm run build && node bin/fleetvisor.js up`; the build ran in the e2e setup.
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['start']).toMatch(/node bin\/fleetvisor\.js up$/);
    // A free devnet port instead of 26657; the README's devnet commands find it through FLEETVISOR_DEVNET_URL.
    up = spawn(process.execPath, [BIN, 'up', '--json', '--devnet-port', '0', '--gateway-port', '0', '--block-time', '500ms'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    up.stdout!.on('data', (d: Buffer) => (upOut += d.toString()));
    up.stderr!.on('data', (d: Buffer) => (upErr += d.toString()));
    const events = (type: string) => upOut.split('\n').filter((l) => l.includes(`"type":"${type}"`));
    await expectEventually(() => expect(upOut).toMatch(/"type":"WorkerRegistered".*"name":"sim-worker-01"/), { timeoutMs: 90_000 });
    await expectEventually(() => expect(events('ServiceStarted')).toHaveLength(2), { timeoutMs: 90_000 });
    const rpc = /"rpc":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(upErr)?.[1];
    expect(rpc, 'up logs the devnet RPC address').toBeDefined();
    const cmdEnv = { ...env, FLEETVISOR_DEVNET_URL: rpc! };
    // The dashboard URL up prints works with the token it names (the value itself is never logged).
    const dashboard = /"dashboard":"(http:\/\/127\.0\.0\.1:\d+\/)"/.exec(upErr)?.[1];
    const tokenFile = /"tokenFile":"([^"]+)"/.exec(upErr)?.[1];
    expect(dashboard, 'up logs the dashboard URL').toBeDefined();
    const token = readFileSync(tokenFile!, 'utf8').trim();
    expect(upErr).not.toContain(token);
    await expectEventually(async () => expect((await fetch(`${dashboard}api/v1/whoami`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200), { timeoutMs: 60_000 });
    const page = await (await fetch(dashboard!)).text();
    expect(page).toContain('<div id="root"></div>');
    expect(page).toMatch(/src="\.\/assets\/index-[\w-]+\.js"/);

    const upgradedTo = (v: string) => events('ServiceUpgraded').filter((l) => l.includes(`"toVersion":"${v}"`));
    for (const line of commands) {
      const shell = line.replace(/npx fleetvisor /g, `"${process.execPath}" "${BIN}" `);
      const r = spawnSync('bash', ['-c', shell], { env: cmdEnv, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${line}\n${r.stderr}`).toBe(0);
      // What the README promises each step does.
      if (/set-version .*0\.22\.1/.test(line)) {
        await expectEventually(() => expect(upgradedTo('0.22.1')).toHaveLength(2), { timeoutMs: 60_000 });
      } else if (/set-version .*0\.23\.1/.test(line)) {
        await expectEventually(() => expect(events('UpgradeRolledBack').length).toBeGreaterThanOrEqual(1), { timeoutMs: 60_000 });
      } else if (/^npx fleetvisor worker list/.test(line)) {
        expect(r.stdout).toMatch(/sim-worker-01/);
      } else if (/^npx fleetvisor chain versions/.test(line)) {
        expect(r.stdout).toMatch(/0\.22\.1/);
      } else if (/^npx fleetvisor events tail/.test(line)) {
        expect(r.stdout).toMatch(/UpgradeRolledBack/);
      }
    }
    // The services run the last good version again after the broken one.
    expect(upgradedTo('0.23.1')).toHaveLength(0);
    up.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => up!.once('exit', (c) => resolve(c)));
    expect(code, upErr.slice(-2000)).toBe(0);

    // A second `npm start` after the walk-through: the same demo host and log, the chain continuing
    // where it was. Both services come back on the last good version, not the broken one the chain
    // still names, and nothing is tried again.
    upOut = '';
    upErr = '';
    up = spawn(process.execPath, [BIN, 'up', '--json', '--devnet-port', '0', '--gateway-port', '0', '--block-time', '500ms'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    up.stdout!.on('data', (d: Buffer) => (upOut += d.toString()));
    up.stderr!.on('data', (d: Buffer) => (upErr += d.toString()));
    await expectEventually(() => expect(events('ServiceStarted')).toHaveLength(2), { timeoutMs: 90_000 });
    for (const line of events('ServiceStarted')) expect(line).toMatch(/"version":"0\.22\.1"/);
    await expectEventually(() => expect(upErr).toMatch(/local chain \(devnet\) continues where the log left it/), { timeoutMs: 30_000 });
    expect(events('UpgradeStarted').filter((l) => l.includes('"toVersion":"0.23.1"'))).toHaveLength(0);
    up.kill('SIGINT');
    const again = await new Promise<number | null>((resolve) => up!.once('exit', (c) => resolve(c)));
    expect(again, upErr.slice(-2000)).toBe(0);
  });
});

// Issue 17, the release tree: `scripts/release-tree.js` assembles what ships (compiled output,
// the launcher, production dependencies only), and that tree works on its own, as an unprivileged
// user, from a directory that user cannot write: it migrates a fresh database, runs a service, and
// answers the CLI. The Dockerfile copies exactly this tree, so this is the image's content tested
// without a Docker engine.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, deleteTestStreams, expectEventually, fleetvisorEnv, sharedNatsUrl, testBusNames, testTrust, type TestDatabase } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
/** Packages only the workspace's development needs (the lock marks them `dev`; a package a production dependency also needs is not). */
const devOnly = Object.entries((JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }).packages)
  .filter(([key, entry]) => entry.dev === true && /^node_modules\/(@[^/]+\/)?[^/]+$/.test(key))
  .map(([key]) => key.slice('node_modules/'.length));
const run = promisify(execFile);

/** Root runs the tree as `nobody`; any other user is already unprivileged and runs it as itself. */
const asRoot = process.getuid?.() === 0;
const USER = asRoot ? { uid: 65534, gid: 65534 } : {};

function files(dir: string, skip: (name: string) => boolean = () => false): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (skip(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, skip));
    else out.push(p);
  }
  return out;
}

describe('the release tree', () => {
  const bus = testBusNames();
  let out: string;
  let home: string;
  let db: TestDatabase;
  let env: Record<string, string | undefined>;
  let summary: { version: string; dir: string; bytes: number };
  const children: ChildProcess[] = [];

  /** `fleetvisor` from the release tree, as the unprivileged user. */
  const fleetvisor = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const r = await run(process.execPath, [path.join(out, 'bin/fleetvisor.js'), ...args], { env, cwd: home, ...USER });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  };

  beforeAll(async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'fv-release-'));
    chmodSync(parent, 0o755); // mkdtemp makes it 0700: the user must reach the tree inside
    out = path.join(parent, 'tree');
    // The e2e setup has built dist/ already; the script copies it and installs production dependencies.
    const built = await run(process.execPath, [path.join(ROOT, 'scripts/release-tree.js'), '--out', out, '--skip-build', '--json'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    summary = JSON.parse(built.stdout.trim().split('\n').pop()!) as typeof summary;

    // The user's own home, and copies of the trust files it may read (the originals are 0600, root's).
    home = mkdtempSync(path.join(tmpdir(), 'fv-release-home-'));
    const trust = testTrust();
    const rootFile = path.join(home, 'root.pub');
    const keyFile = path.join(home, 'admin.key.json');
    copyFileSync(trust.rootFile, rootFile);
    copyFileSync(trust.keyFile('admin'), keyFile);
    if (asRoot) for (const p of [home, rootFile, keyFile]) chownSync(p, 65534, 65534);

    db = await createTestDatabase('fvt_release');
    env = {
      ...fleetvisorEnv({ databaseUrl: db.url, bus }, { FLEETVISOR_TRUST_ROOT_FILE: rootFile, FLEETVISOR_SIGNING_KEY_FILE: keyFile, FLEETVISOR_LOG_LEVEL: 'warn' }),
      HOME: home,
    };
  }, 120_000);

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await deleteTestStreams(bus, sharedNatsUrl()).catch(() => undefined);
    await db?.drop();
    if (out) rmSync(path.dirname(out), { recursive: true, force: true });
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('holds the compiled program and production dependencies only', () => {
    expect(summary.dir).toBe(out);
    expect(summary.version).toBe(pkg.version);
    expect(JSON.parse(readFileSync(path.join(out, 'RELEASE.json'), 'utf8'))).toMatchObject({ name: 'fleetvisor', version: pkg.version });
    const ours = files(out, (name) => name === 'node_modules');
    // No TypeScript source, no test, no bench: only what the program loads.
    expect(ours.filter((f) => f.endsWith('.ts'))).toEqual([]);
    expect(ours.filter((f) => /\.(spec|test)\.js$/.test(f) || f.includes(`${path.sep}test${path.sep}`) || f.includes(`${path.sep}bench${path.sep}`))).toEqual([]);
    expect(existsSync(path.join(out, 'dist/apps/cli/src/main.js'))).toBe(true);
    // The dashboard's built bundle, which the gateway serves; React and Mantine are inside it, so
    // they stay development dependencies.
    expect(existsSync(path.join(out, 'dist/apps/dashboard/index.html'))).toBe(true);
    expect(readdirSync(path.join(out, 'dist/apps/dashboard/assets')).some((f) => f.endsWith('.js'))).toBe(true);
    expect(devOnly).toEqual(expect.arrayContaining(['react', '@mantine/core']));
    // No dev tool came along: none of the packages only development needs (vitest, nx, typescript, ...).
    expect(devOnly).toEqual(expect.arrayContaining(['vitest', 'nx', 'typescript']));
    expect(devOnly.filter((d) => existsSync(path.join(out, 'node_modules', d)))).toEqual([]);
    expect(JSON.parse(readFileSync(path.join(out, 'package.json'), 'utf8'))).not.toHaveProperty('scripts');
  });

  it('runs as an unprivileged user from a directory that user cannot write', async () => {
    const v = await fleetvisor(['--version']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    if (asRoot) {
      // The tree is root's and read-only to others: the program never needs to write beside itself.
      const w = await run('sh', ['-c', `touch ${JSON.stringify(path.join(out, 'probe'))} 2>&1 || echo denied`], USER);
      expect(w.stdout).toContain('denied');
    }
  });

  it('migrates, serves and answers as that user', async () => {
    const m = await fleetvisor(['migrate', '--json']);
    expect(m.code, m.stderr).toBe(0);
    expect((JSON.parse(m.stdout.trim().split('\n').pop()!) as { applied: string[] }).applied).toEqual(expect.arrayContaining(['CreateEventLog1767225600000']));

    const registry = spawn(process.execPath, [path.join(out, 'bin/fleetvisor.js'), 'worker-registry', 'run'], { env: { ...env, FLEETVISOR_HOST: 'release-central' }, cwd: home, stdio: ['ignore', 'pipe', 'pipe'], ...USER });
    children.push(registry);
    let log = '';
    registry.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    registry.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));

    // The service process is the unprivileged user's, not root's.
    const uidLine = readFileSync(`/proc/${registry.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'))!;
    expect(Number(uidLine.split(/\s+/)[1])).toBe(asRoot ? 65534 : process.getuid!());

    await expectEventually(async () => {
      expect(registry.exitCode, log).toBeNull();
      const list = await fleetvisor(['worker', 'list', '--json']);
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout)).toMatchObject({ workers: [] });
    }, { timeoutMs: 60_000 });
  });
});

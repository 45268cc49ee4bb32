// A PostgreSQL server of the test's own, for fault tests that crash or restart the database
// without touching the shared one on 5432.
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { readTestingConfig } from './config';
import { freePort } from '@fleetvisor/platform';
import {
  createInstanceDir,
  isExecutable,
  isRoot,
  lookupOsUser,
  ManagedProcess,
  type OsUser,
  removeTreeSync,
  tailFile,
  whichSync,
} from './private-process';
import {
  ContainerServerLifecycle,
  lifecycleMethods,
  DEFAULT_START_TIMEOUT_MS,
  ProcessServerLifecycle,
  type PrivateServer,
  type PrivateServerOptions,
  resolveBackend,
} from './private-server';

const execFileAsync = promisify(execFile);

export interface PrivatePostgresOptions extends PrivateServerOptions {
  /** Folder with initdb and postgres. Default: FLEETVISOR_TEST_PG_BIN_DIR, then PATH, then /usr/lib/postgresql/<newest>/bin. */
  binDir?: string;
  /** OS user that runs the server when we are root (Postgres refuses root). Default `postgres`. */
  osUser?: string;
  /** Extra server settings (`-c name=value`), e.g. `{ max_connections: '20' }`. */
  settings?: Record<string, string>;
}

export interface PrivatePostgres extends PrivateServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (superuser `postgres`, trust auth). */
  readonly url: string;
  /** The cluster's data folder (inside the container for the container backend). */
  readonly dataDir: string;
  /** The URL of another database on this server. */
  databaseUrl(database: string): string;
}

/** Where initdb and postgres live, or a clear error. */
export function findPostgresBinDir(explicit?: string): string {
  const has = (dir: string) => isExecutable(path.join(dir, 'postgres')) && isExecutable(path.join(dir, 'initdb'));
  const configured = explicit ?? readTestingConfig().postgresBinDir;
  if (configured) {
    if (!has(configured)) throw new Error(`no initdb and postgres in ${configured} (FLEETVISOR_TEST_PG_BIN_DIR / binDir)`);
    return configured;
  }
  const onPath = whichSync('postgres', readTestingConfig().searchPath);
  if (onPath && has(path.dirname(onPath))) return path.dirname(onPath);
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = path.join(debianRoot, v, 'bin');
      if (has(dir)) return dir;
    }
  }
  for (const dir of ['/usr/local/pgsql/bin', '/usr/pgsql/bin']) if (has(dir)) return dir;
  throw new Error(
    'PostgreSQL server binaries (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin: ' +
      'install the Debian package `postgresql`, or set FLEETVISOR_TEST_PG_BIN_DIR',
  );
}

function serverUser(name: string): OsUser | undefined {
  if (!isRoot()) return undefined; // not root: run as ourselves
  const user = lookupOsUser(name);
  if (!user) {
    throw new Error(
      `Postgres refuses to run as root and there is no OS user "${name}" to run the private instance as: ` +
        `create one (useradd --system --user-group --home-dir /var/lib/postgresql ${name}) or install the postgresql package`,
    );
  }
  return user;
}

/** Ready when a real query goes through (not merely when the port opens: recovery may still run). */
async function pgAnswers(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

function pgUrl(host: string, port: number, database = 'postgres'): string {
  return `postgres://postgres@${host}:${port}/${encodeURIComponent(database)}`;
}

/**
 * Starts a private PostgreSQL server on a free port: a fresh cluster (initdb, trust auth,
 * superuser `postgres`) in a temp folder, listening on 127.0.0.1 only, fsync off. Resolves once it
 * answers a query. Call stop() in afterAll; a run that dies leaves nothing behind (exit hooks, and
 * the server gets SIGKILL when the test process dies).
 */
export async function startPrivatePostgres(opts: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const backend = await resolveBackend(opts.backend);
  const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  let port = opts.port ?? (await freePort());

  if (backend.kind === 'container') {
    const life = new ContainerServerLifecycle(
      backend.tc,
      {
        what: 'private Postgres (container)',
        image: opts.image ?? 'postgres:15',
        env: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
        command: ['postgres', ...settingsArgs({ fsync: 'off', full_page_writes: 'off', ...opts.settings })],
        ports: [{ container: 5432, host: port }],
        ready: (host) => pgAnswers(pgUrl(host, port)),
      },
      { startTimeoutMs },
    );
    await life.start();
    return {
      backend: 'container',
      get host() {
        return life.host;
      },
      get url() {
        return pgUrl(life.host, port);
      },
      port,
      dataDir: '/var/lib/postgresql/data',
      databaseUrl: (db) => pgUrl(life.host, port, db),
      ...lifecycleMethods(life),
      logTail: (lines) => life.logTail(lines),
    };
  }

  const binDir = findPostgresBinDir(opts.binDir);
  const user = serverUser(opts.osUser ?? 'postgres');
  const baseDir = createInstanceDir(opts.baseDir ?? tmpdir(), 'fv-pg-', (stale) => releaseSysvSegment(path.join(stale, 'data')));
  const dataDir = path.join(baseDir, 'data');
  const socketDir = path.join(baseDir, 'sock');
  const logFile = path.join(baseDir, 'postgres.log');
  const host = '127.0.0.1';

  try {
    mkdirSync(socketDir);
    if (user) {
      for (const d of [baseDir, socketDir]) chownSync(d, user.uid, user.gid);
      const probe = spawnSync('test', ['-w', baseDir], { uid: user.uid, gid: user.gid });
      if (probe.status !== 0) {
        throw new Error(
          `OS user ${user.name} cannot reach ${baseDir}: start the tests with TMPDIR (or baseDir) set to a folder it can enter, such as /tmp`,
        );
      }
    }
    chmodSync(baseDir, 0o700);
    await execFileAsync(
      path.join(binDir, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'],
      { ...(user ? { uid: user.uid, gid: user.gid } : {}), cwd: baseDir, timeout: startTimeoutMs },
    ).catch((e: Error & { stderr?: string }) => {
      throw new Error(`initdb failed (${path.join(binDir, 'initdb')}): ${e.message}\n${e.stderr ?? ''}`);
    });
  } catch (e) {
    removeTreeSync(baseDir);
    throw e;
  }

  const settings = {
    listen_addresses: host,
    fsync: 'off', // nothing here needs to survive a power cut; a process crash loses nothing
    full_page_writes: 'off',
    synchronous_commit: 'on', // keep: with it off a SIGKILL could lose acknowledged commits
    dynamic_shared_memory_type: 'mmap', // in the data folder, not /dev/shm: a crash leaves nothing outside it
    shared_buffers: '32MB',
    max_connections: '100',
    ...opts.settings,
  };

  const life = new ProcessServerLifecycle(
    {
      what: `private Postgres (${baseDir})`,
      baseDir,
      gracefulSignal: 'SIGINT', // "fast" shutdown
      spawn: () =>
        ManagedProcess.spawn({
          command: path.join(binDir, 'postgres'),
          args: ['-D', dataDir, '-p', String(port), '-k', socketDir, ...settingsArgs(settings)],
          logFile,
          cwd: baseDir,
          ...(user ? { user } : {}),
        }),
      ready: () => pgAnswers(pgUrl(host, port)),
      log: (lines) => tailFile(logFile, lines),
      repickPorts:
        opts.port === undefined
          ? async () => {
              port = await freePort();
            }
          : undefined,
      afterStopSync: () => releaseSysvSegment(dataDir),
    },
    { startTimeoutMs, keepFiles: opts.keepFiles ?? false },
  );
  await life.start();

  return {
    backend: 'process',
    host,
    get port() {
      return port;
    },
    get url() {
      return pgUrl(host, port);
    },
    dataDir,
    databaseUrl: (db) => pgUrl(host, port, db),
    ...lifecycleMethods(life),
    logTail: async (lines) => tailFile(logFile, lines),
  };
}

function settingsArgs(settings: Record<string, string>): string[] {
  return Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
}

/**
 * A postmaster killed with SIGKILL leaves its (tiny) SysV interlock segment behind; the next start
 * in the same folder removes it, but a stop() after kill() would leak it. Its id is on line 7 of
 * postmaster.pid, which only an unclean exit leaves.
 */
function releaseSysvSegment(dataDir: string): void {
  try {
    const line = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[6] ?? '';
    const shmId = line.trim().split(/\s+/)[1];
    if (shmId && /^\d+$/.test(shmId)) spawnSync('ipcrm', ['-m', shmId], { stdio: 'ignore', timeout: 5_000 });
  } catch {
    // no pid file: clean shutdown
  }
}

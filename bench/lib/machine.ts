// What the numbers were measured on: CPU count, memory, load, Node, Postgres (and what else was
// using that Postgres when the run started: the server is shared with other work).
import * as os from 'node:os';
import { Client } from 'pg';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  platform: string;
}

export interface LoadSnapshot {
  loadavg1m: number;
  loadavg5m: number;
  /** Backends on the shared Postgres outside the bench's own databases. */
  otherPostgresBackends: number;
  /** Databases on the shared Postgres besides the bench's and the templates. */
  otherDatabases: number;
}

const round = (v: number, d = 2): number => Math.round(v * 10 ** d) / 10 ** d;

export async function machineInfo(adminUrl: string): Promise<MachineInfo> {
  const c = new Client({ connectionString: adminUrl, application_name: 'bench-info' });
  await c.connect();
  try {
    const v = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    const settings = await c.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('shared_buffers','synchronous_commit','fsync','wal_level','max_connections','commit_delay','max_wal_size','work_mem')`,
    );
    const postgresSettings: Record<string, string> = {};
    for (const s of settings.rows) postgresSettings[s.name] = s.unit ? `${s.setting} (${s.unit})` : s.setting;
    return {
      nproc: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGb: round(os.totalmem() / 1024 ** 3, 1),
      node: process.version,
      postgres: v.rows[0]?.v ?? 'unknown',
      postgresSettings,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
    };
  } finally {
    await c.end();
  }
}

export async function loadSnapshot(adminUrl: string, ownDatabases: readonly string[]): Promise<LoadSnapshot> {
  const [l1, l5] = os.loadavg();
  const c = new Client({ connectionString: adminUrl, application_name: 'bench-info' });
  await c.connect();
  try {
    const b = await c.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND NOT (datname = ANY ($1::text[]))`,
      [ownDatabases],
    );
    const d = await c.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' AND NOT (datname = ANY ($1::text[]))`,
      [ownDatabases],
    );
    return { loadavg1m: round(l1 ?? 0), loadavg5m: round(l5 ?? 0), otherPostgresBackends: Number(b.rows[0]?.n ?? 0), otherDatabases: Number(d.rows[0]?.n ?? 0) };
  } finally {
    await c.end();
  }
}

/**
 * CHECKPOINT on the shared server before a run: what earlier work left dirty (a previous run's
 * 1M-event seed is ~1 GB of WAL) is written out now, instead of by a checkpoint in the middle of
 * the measurements. Needs a superuser (the test servers' `postgres`); skipped with a note otherwise.
 */
export async function checkpointFirst(adminUrl: string): Promise<string | undefined> {
  const c = new Client({ connectionString: adminUrl, application_name: 'bench-info' });
  await c.connect();
  try {
    await c.query('CHECKPOINT');
    return undefined;
  } catch (e) {
    return `no CHECKPOINT before the run: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    await c.end();
  }
}

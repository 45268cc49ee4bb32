// Opens the event log for one CLI command and closes it afterwards, turning a connection failure
// into an error that names FLEETVISOR_DATABASE_URL.
import { EventStoreConnection } from '@fleetvisor/event-store';
import { connectOrExplain } from '@fleetvisor/platform';
import type { CliConfig } from './config';

export async function withEventLog<T>(config: CliConfig, fn: (log: EventStoreConnection) => Promise<T>): Promise<T> {
  const log = await connectOrExplain('PostgreSQL', 'FLEETVISOR_DATABASE_URL', config.databaseUrl, () =>
    EventStoreConnection.open(config, { applicationName: 'fleetvisor-cli' }),
  );
  try {
    const t = await log.pool.query<{ t: string | null }>("SELECT to_regclass('fv_events')::text AS t");
    if (!t.rows[0]?.t) throw new Error("the event log has no schema yet: run 'fleetvisor migrate' first");
    return await fn(log);
  } finally {
    await log.close();
  }
}

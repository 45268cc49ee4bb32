// One-shot commands (init, create-service) record events to the spool like the runner does, then
// try once to flush them; if the log is away they stay spooled and the runner records them later.
import { Pool } from 'pg';
import type { NatsConnection } from 'nats';
import { PostgresEventStore, explainPgRefusal, pgConnectionSettings } from '@fleetvisor/event-store/core';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { ChainStatus, VersionChanged, createSubjects, streamName, type CommandResultOf, type ProtocolVersion } from '@fleetvisor/contracts';
import { DependencyUnreachableError, isConnectFailure, type CoreConfig, type Logger } from '@fleetvisor/platform';
import { EventRecorder } from '../events/event-recorder';
import { EventSpool, SpoolFlusher } from '../events/event-spool';
import type { RunnerHome } from '../home/runner-home';
import { validHost } from '../runner';

export function openRecorder(home: RunnerHome, core: CoreConfig): { spool: EventSpool; recorder: EventRecorder } {
  home.ensureLayout();
  const spool = new EventSpool(home.spoolDir);
  return { spool, recorder: new EventRecorder(spool, validHost(core.host), 'fleetvisor-cli') };
}

function pool(core: CoreConfig): Pool {
  const p = new Pool({ ...pgConnectionSettings(core), max: 1, connectionTimeoutMillis: 2_000 });
  p.on('error', () => undefined);
  return p;
}

/** Flushes the spool once; returns how many events are still spooled. */
export async function flushOnce(spool: EventSpool, core: CoreConfig, logger: Logger): Promise<number> {
  if (spool.count() === 0) return 0;
  const p = pool(core);
  const store = new PostgresEventStore(p);
  const flusher = new SpoolFlusher({ spool, logger, sink: () => ({ append: async (s, e) => void (await store.appendToStream(s, e)) }) });
  try {
    flusher.kick();
    await flusher.drain(3_000);
  } finally {
    await flusher.stop();
    await p.end().catch(() => undefined);
  }
  return spool.count();
}

/** Where a protocol version was looked for and what was found, or why nothing was. */
export type VersionLookup = { found: { version: ProtocolVersion; height?: number } } | { missing: string };

function unreachable(e: unknown, what: string, variable: string, url: string): string {
  if (isConnectFailure(e)) return new DependencyUnreachableError(variable, url, e, what).message;
  const explained = explainPgRefusal(e, url);
  return explained instanceof Error ? explained.message : String(explained);
}

/** The newest VersionChanged of chain-<id> in the log, or why there is none (the log unreachable, or no such event). */
export async function versionFromLog(core: CoreConfig, chainId: string): Promise<VersionLookup> {
  const p = pool(core);
  try {
    const store = new PostgresEventStore(p);
    let from = 1;
    let latest: { version: ProtocolVersion; height: number } | undefined;
    for (;;) {
      const { events } = await store.readStream(streamName('chain', chainId), { fromVersion: from, maxCount: 500 });
      for (const e of events) {
        if (e.type !== VersionChanged.type) continue; // reads from the log are validated by the store
        const d = e.data as { height: number; current: ProtocolVersion };
        latest = { version: d.current, height: d.height };
      }
      if (events.length < 500) {
        return latest ? { found: latest } : { missing: `the event log holds no VersionChanged for ${chainId} (no chain-watcher has recorded this chain)` };
      }
      from = events[events.length - 1]!.streamVersion + 1;
    }
  } catch (e) {
    return { missing: `the event log is unreachable: ${unreachable(e, 'PostgreSQL', 'FLEETVISOR_DATABASE_URL', core.databaseUrl)}` };
  } finally {
    await p.end().catch(() => undefined);
  }
}

/** The chain's version as the chain-watcher leading it reports it over the bus, or why there is none. */
export async function versionFromBus(core: CoreConfig, chainId: string, logger: Logger): Promise<VersionLookup> {
  let nc: NatsConnection;
  try {
    nc = await connectNats(core, logger, { name: 'fleetvisor:init', connectTimeoutMs: 2_000 });
  } catch (e) {
    return { missing: `the bus is unreachable: ${(e as Error).message}` };
  }
  try {
    const bus = new CommandBus({ nc, subjects: createSubjects(core.subjectRoot), logger });
    const reply = await bus.request(ChainStatus, { chainId }, { timeoutMs: 3_000 });
    if (!reply.ok) return { missing: `no chain-watcher answered on the bus (${reply.error.message}); start one with \`fleetvisor chain-watcher run\`` };
    const entry = (reply.result as CommandResultOf<typeof ChainStatus> | undefined)?.chains.find((c) => c.chainId === chainId);
    if (!entry?.version) return { missing: `the chain-watcher on the bus knows no version of ${chainId} (${entry ? entry.mode : 'not watched'})` };
    return { found: { version: entry.version, ...(entry.versionHeight ? { height: entry.versionHeight } : {}) } };
  } catch (e) {
    return { missing: `no chain-watcher answered on the bus: ${(e as Error).message}` };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

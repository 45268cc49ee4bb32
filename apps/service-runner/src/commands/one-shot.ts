// One-shot commands (init, create-service) record events to the spool like the runner does, then
// try once to flush them; if the log is away they stay spooled and the runner records them later.
import { Pool } from 'pg';
import { PostgresEventStore, pgConnectionSettings } from '@fleetvisor/event-store/core';
import { VersionChanged, streamName, type ProtocolVersion } from '@fleetvisor/contracts';
import type { CoreConfig, Logger } from '@fleetvisor/platform';
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

/** The newest VersionChanged of chain-<id> in the log, or undefined (also when the log is away). */
export async function latestVersionFromLog(core: CoreConfig, chainId: string): Promise<{ version: ProtocolVersion; height: number } | undefined> {
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
      if (events.length < 500) return latest;
      from = events[events.length - 1]!.streamVersion + 1;
    }
  } catch {
    return undefined;
  } finally {
    await p.end().catch(() => undefined);
  }
}

// `upgrades show`: a service's upgrade story from its own stream (service-<host>/<service>) in the
// log, plus the events the runner recorded that still wait in its spool (the log was away), each
// once, oldest first. With the log unreachable the spool alone is shown, and the answer says so.
import {
  CommandErrorCodes,
  streamName,
  UPGRADE_HISTORY_TYPES,
  type CommandRequestOf,
  type CommandResultOf,
  type EventEnvelope,
  type QuarantineStage,
  type UpgradeHistoryEntry,
  type UpgradesShow,
} from '@fleetvisor/contracts';
import { CommandFailure } from '@fleetvisor/messaging/core';
import type { EventSpool } from '../events/event-spool';
import { UpgradeRequestError, type UpgradeCoordinator } from './upgrade-coordinator';
import type { UpgradeStateStore } from './upgrade-state';

/** At most this many entries (the newest), as the contract allows. */
export const HISTORY_LIMIT = 1000;
const PAGE = 500;

export interface HistoryStore {
  readStream(stream: string, opts?: { fromVersion?: number; maxCount?: number }): Promise<{ events: (EventEnvelope & { streamVersion: number })[] }>;
}

export interface UpgradeHistory {
  history: UpgradeHistoryEntry[];
  historyFrom: 'log' | 'spool';
  historyNote?: string;
}

const isHistoryType = (t: string): t is UpgradeHistoryEntry['type'] => (UPGRADE_HISTORY_TYPES as readonly string[]).includes(t);

/** One event as a history entry: its ids, cause and actor, and the fields that say what happened. */
export function historyEntry(e: EventEnvelope): UpgradeHistoryEntry | undefined {
  if (!isHistoryType(e.type)) return undefined;
  const d = e.data as Record<string, unknown>;
  const str = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  const m = e.metadata;
  const dataActor = str('actor');
  return {
    eventId: e.id,
    type: e.type,
    at: e.occurredAt,
    actor: dataActor ?? m.actor ?? 'unknown',
    ...(m.causationId ? { causationId: m.causationId } : {}),
    ...(m.correlationId && m.correlationId !== e.id ? { correlationId: m.correlationId } : {}),
    ...(str('fromVersion') ? { fromVersion: str('fromVersion')! } : {}),
    ...(str('toVersion') ? { toVersion: str('toVersion')! } : {}),
    ...(str('version') ? { version: str('version')! } : {}),
    ...(str('restoredVersion') ? { restoredVersion: str('restoredVersion')! } : {}),
    ...(str('failedVersion') ? { failedVersion: str('failedVersion')! } : {}),
    ...(str('stage') ? { stage: str('stage') as QuarantineStage } : {}),
    ...(str('reason') ? { reason: str('reason')! } : {}),
    ...(typeof d['durationMs'] === 'number' ? { durationMs: d['durationMs'] } : {}),
  };
}

export async function readUpgradeHistory(store: HistoryStore, spool: Pick<EventSpool, 'pending'>, host: string, service: string): Promise<UpgradeHistory> {
  const stream = streamName('service', `${host}/${service}`);
  const byId = new Map<string, EventEnvelope>();
  let historyFrom: UpgradeHistory['historyFrom'] = 'log';
  let historyNote: string | undefined;
  try {
    for (let from = 1; ; ) {
      const { events } = await store.readStream(stream, { fromVersion: from, maxCount: PAGE });
      for (const e of events) if (isHistoryType(e.type)) byId.set(e.id, e);
      if (events.length < PAGE) break;
      from = events[events.length - 1]!.streamVersion + 1;
    }
  } catch (e) {
    historyFrom = 'spool';
    historyNote = `the log is unreachable (${(e as Error).message}): only the events not yet in it are shown`.slice(0, 2000);
  }
  for (const { event } of spool.pending()) {
    if (event.stream === stream && isHistoryType(event.type)) byId.set(event.id, event);
  }
  // uuid v7 ids sort by time; occurredAt breaks no tie they leave.
  const all = [...byId.values()].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.id.localeCompare(b.id));
  const kept = all.slice(-HISTORY_LIMIT);
  if (all.length > kept.length) historyNote = [historyNote, `the oldest ${all.length - kept.length} entries are left out`].filter(Boolean).join('; ');
  return { history: kept.map(historyEntry).filter((h): h is UpgradeHistoryEntry => h !== undefined), historyFrom, ...(historyNote ? { historyNote } : {}) };
}

/** What `showUpgrades` reads of a runner. */
export interface UpgradesShowView {
  host: string;
  services: ReadonlyMap<string, { svc: { version: string | undefined } }>;
  coordinator: Pick<UpgradeCoordinator, 'upgradesOf'> | undefined;
  state: Pick<UpgradeStateStore, 'get'>;
  links: { store: HistoryStore };
  spool: Pick<EventSpool, 'pending'>;
}

/** `upgrades show <service>` answered by its runner (control socket or UpgradesShow on the bus). */
export async function showUpgrades(view: UpgradesShowView, service: string): Promise<CommandResultOf<typeof UpgradesShow>> {
  const e = view.services.get(service);
  if (!e) throw new UpgradeRequestError('not_found', `no service ${service} on ${view.host}; it has: ${[...view.services.keys()].join(', ') || '(none)'}`);
  const upgrades = view.coordinator?.upgradesOf(service, e.svc.version);
  if (!upgrades) throw new UpgradeRequestError('invalid_request', `${service} on ${view.host} follows no chain (a wrapped command): it has no upgrades`);
  const lastGood = view.state.get().lastGood[service];
  const h = await readUpgradeHistory(view.links.store, view.spool, view.host, service);
  return { host: view.host, upgrades, ...(lastGood ? { lastGood } : {}), ...h };
}

/** The bus handler's side: refusals as command failures. */
export async function answerUpgradesShow(view: UpgradesShowView, req: CommandRequestOf<typeof UpgradesShow>): Promise<CommandResultOf<typeof UpgradesShow>> {
  try {
    return await showUpgrades(view, req.service);
  } catch (e) {
    if (e instanceof UpgradeRequestError) throw new CommandFailure(e.code === 'not_found' ? CommandErrorCodes.notFound : CommandErrorCodes.invalidRequest, e.message);
    throw e;
  }
}

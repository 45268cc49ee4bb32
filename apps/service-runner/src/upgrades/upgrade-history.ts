// `upgrades show`: a service's upgrade story from the event stream (FLEET_EVENTS, the subjects
// <root>.evt.service.<host>/<service>.<Type> of the upgrade events, read by subject: a host holds
// no database credentials, ADR 0006), plus the events the runner recorded that still wait in its spool (the
// intake was away), each once, oldest first. The stream keeps what its retention keeps; with the
// bus down the spool alone is shown, and the answer says so.
import type { JetStreamClient } from 'nats';
import {
  CommandErrorCodes,
  streamName,
  UPGRADE_HISTORY_TYPES,
  type CommandRequestOf,
  type CommandResultOf,
  type EventEnvelope,
  type QuarantineStage,
  type Subjects,
  type UpgradeHistoryEntry,
  type UpgradesShow,
} from '@fleetvisor/contracts';
import { CommandFailure } from '@fleetvisor/messaging/core';
import type { EventSpool } from '../events/event-spool';
import { UpgradeRequestError, type UpgradeCoordinator } from './upgrade-coordinator';
import type { UpgradeStateStore } from './upgrade-state';

/** At most this many entries (the newest), as the contract allows. */
export const HISTORY_LIMIT = 1000;
/** Where the recorded events of one event stream (e.g. service-h1/p1) come from, of some types. */
export interface HistorySource {
  events(stream: string, types: readonly string[]): Promise<EventEnvelope[]>;
}

/** JetStream's "no message found" (10037): nothing more on that subject. */
function isNoMessage(e: unknown): boolean {
  return (e as { api_error?: { err_code?: number } }).api_error?.err_code === 10037 || /no message found/i.test(e instanceof Error ? e.message : String(e));
}

/** At most this many events per type are read (a bound on the requests, far above any history). */
const PER_TYPE = 5_000;

/**
 * The event stream as a HistorySource, read one message at a time by subject (STREAM.MSG.GET with
 * next_by_subj, walking up from sequence 1), one subject per type: what a runner's NATS
 * permissions allow (no consumer of its own but its durable), and nothing is left behind.
 */
export function streamHistorySource(bus: { js: JetStreamClient; subjects: Subjects; eventStreamName: string }): HistorySource {
  return {
    async events(stream, types) {
      const s = await bus.js.streams.get(bus.eventStreamName);
      const found: { seq: number; event: EventEnvelope }[] = [];
      for (const type of types) {
        const subject = bus.subjects.event(stream, type);
        for (let seq = 1, n = 0; n < PER_TYPE; n++) {
          let m;
          try {
            // The server takes next_by_subj (2.9+); nats.js passes the request through but does not type it.
            m = await s.getMessage({ next_by_subj: subject, seq } as unknown as { seq: number });
          } catch (e) {
            if (isNoMessage(e)) break;
            throw e;
          }
          seq = m.seq + 1;
          try {
            found.push({ seq: m.seq, event: m.json<EventEnvelope>() });
          } catch {
            // not an event: nothing to show
          }
        }
      }
      return found.sort((a, b) => a.seq - b.seq).map((f) => f.event);
    },
  };
}

export interface UpgradeHistory {
  history: UpgradeHistoryEntry[];
  historyFrom: 'stream' | 'spool';
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
    ...(d['outcome'] === 'healthy' || d['outcome'] === 'unhealthy' ? { outcome: d['outcome'] } : {}),
    ...(str('nextCheckAt') ? { nextCheckAt: str('nextCheckAt')! } : {}),
  };
}

export async function readUpgradeHistory(source: HistorySource | undefined, spool: Pick<EventSpool, 'pending'>, host: string, service: string): Promise<UpgradeHistory> {
  const stream = streamName('service', `${host}/${service}`);
  const byId = new Map<string, EventEnvelope>();
  let historyFrom: UpgradeHistory['historyFrom'] = 'stream';
  let historyNote: string | undefined;
  try {
    if (!source) throw new Error('NATS has not answered yet');
    for (const e of await source.events(stream, UPGRADE_HISTORY_TYPES)) if (e && typeof e.id === 'string' && isHistoryType(e.type)) byId.set(e.id, e);
  } catch (e) {
    historyFrom = 'spool';
    historyNote = `the event stream is unreachable (${(e as Error).message}): only the events still in this runner's spool are shown`.slice(0, 2000);
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
  /** The event stream to read, when the bus is up. */
  historySource(): HistorySource | undefined;
  spool: Pick<EventSpool, 'pending'>;
}

/** `upgrades show <service>` answered by its runner (control socket or UpgradesShow on the bus). */
export async function showUpgrades(view: UpgradesShowView, service: string): Promise<CommandResultOf<typeof UpgradesShow>> {
  const e = view.services.get(service);
  if (!e) throw new UpgradeRequestError('not_found', `no service ${service} on ${view.host}; it has: ${[...view.services.keys()].join(', ') || '(none)'}`);
  const upgrades = view.coordinator?.upgradesOf(service, e.svc.version);
  if (!upgrades) throw new UpgradeRequestError('invalid_request', `${service} on ${view.host} follows no chain (a wrapped command): it has no upgrades`);
  const lastGood = view.state.get().lastGood[service];
  const h = await readUpgradeHistory(view.historySource(), view.spool, view.host, service);
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

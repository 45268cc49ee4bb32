// Where a host reads its chain's newest VersionChanged without the log (it holds no database
// credentials, ADR 0006):
//   1. the event stream (FLEET_EVENTS): the last message on <root>.evt.chain.<chainId>.VersionChanged,
//      read by subject (STREAM.MSG.GET last_by_subj): no consumer at all, so a runner's NATS
//      permissions need no consumer but its own durable one (nats-config);
//   2. when the stream no longer holds it (past its max age, or a stream re-created): the
//      chain-watcher's `version-event` query, which returns the envelope the log stores, unchanged.
// Both give the whole envelope as recorded, so the receiver can check it (its signature, next).
import type { JetStreamClient } from 'nats';
import { ChainVersionEvent, VersionChanged, streamName, type EventEnvelope, type Subjects } from '@fleetvisor/contracts';
import type { CommandBus } from '@fleetvisor/messaging/core';

export type VersionEventOrigin = 'stream' | 'chain-watcher';

export interface FoundVersionEvent {
  /** As received (not validated yet: the caller checks it, as it does every VersionChanged). */
  event: unknown;
  via: VersionEventOrigin;
}

export interface VersionSourceBus {
  js: JetStreamClient;
  subjects: Subjects;
  commands: Pick<CommandBus, 'request'>;
  eventStreamName: string;
}

function isStreamMissing(e: unknown): boolean {
  return /stream not found/i.test(e instanceof Error ? e.message : String(e));
}

/** JetStream's "no message found" (10037): the stream holds no message on that subject. */
function isNoMessage(e: unknown): boolean {
  return (e as { api_error?: { err_code?: number } }).api_error?.err_code === 10037 || /no message found/i.test(e instanceof Error ? e.message : String(e));
}

/** The last VersionChanged of the chain the event stream holds, or undefined. */
export async function versionEventFromStream(bus: Pick<VersionSourceBus, 'js' | 'subjects' | 'eventStreamName'>, chainId: string): Promise<unknown> {
  let m;
  try {
    const stream = await bus.js.streams.get(bus.eventStreamName);
    m = await stream.getMessage({ last_by_subj: bus.subjects.event(streamName('chain', chainId), VersionChanged.type) });
  } catch (e) {
    if (isStreamMissing(e) || isNoMessage(e)) return undefined;
    throw e;
  }
  try {
    return m.json();
  } catch {
    return { unreadable: 'payload is not JSON' };
  }
}

/** The newest VersionChanged the log stores, as the chain-watcher returns it; throws when no watcher answers. */
export async function versionEventFromWatcher(commands: Pick<CommandBus, 'request'>, chainId: string): Promise<EventEnvelope | undefined> {
  const reply = await commands.request(ChainVersionEvent, { chainId }, { timeoutMs: 5_000 });
  if (!reply.ok) throw new Error(`no chain-watcher answered ${ChainVersionEvent.service}.${ChainVersionEvent.verb} (${reply.error.code}: ${reply.error.message})`);
  return reply.result?.event;
}

/** The stream first, then the chain-watcher; undefined when neither holds a VersionChanged of the chain. */
export async function latestVersionEvent(bus: VersionSourceBus, chainId: string): Promise<FoundVersionEvent | undefined> {
  const fromStream = await versionEventFromStream(bus, chainId);
  if (fromStream !== undefined) return { event: fromStream, via: 'stream' };
  const fromWatcher = await versionEventFromWatcher(bus.commands, chainId);
  return fromWatcher ? { event: fromWatcher, via: 'chain-watcher' } : undefined;
}

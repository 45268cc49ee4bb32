// ChainLogStore on the Postgres event log: stream chain-<chainId>, read whole and folded, appended
// with an exact expected version (WrongExpectedVersionError when another replica got there first).
import { streamName, type EventEnvelope } from '@fleetvisor/contracts';
import type { EventStore } from '@fleetvisor/event-store';
import { foldChainLog, type ChainLogState, type ChainLogStore } from './chain-log';

export class PostgresChainLog implements ChainLogStore {
  constructor(private readonly store: EventStore) {}

  async load(chainId: string): Promise<ChainLogState> {
    const { events, currentVersion } = await this.store.readStream(streamName('chain', chainId));
    return foldChainLog(events, currentVersion);
  }

  async append(chainId: string, events: EventEnvelope[], expectedVersion: number): Promise<number> {
    const r = await this.store.appendToStream(streamName('chain', chainId), events, { expectedVersion: expectedVersion === 0 ? 'no_stream' : expectedVersion });
    return r.nextExpectedVersion;
  }
}

// The runner's link to the rest of the fleet: the bus (NATS) only. A host holds no database
// credentials (ADR 0006): its events go through the central event intake, and what it reads of
// the past (its chain's protocol version) comes from the event stream or a central query. The
// EdgeBus connects in the background (and reconnects forever once up), so NATS being down never
// stops the runner: whoever needs the bus asks for it and copes with it being absent.
import type { NatsConnection } from 'nats';
import type { EdgeBus, FleetBus } from '@fleetvisor/messaging/core';
import type { BusConfig } from '@fleetvisor/platform';
import type { EventSink } from '../events/event-spool';
import { IntakeSink } from '../events/intake-sink';
import { BusNotReadyError, type VersionCatchUp } from './version-follower';
import { versionEventFromStream, versionEventFromWatcher } from './version-source';

export class RunnerLinks {
  constructor(
    readonly config: BusConfig,
    readonly bus: EdgeBus,
  ) {}

  /** The bus once NATS answered; undefined before. */
  get current(): FleetBus | undefined {
    return this.bus.current;
  }

  /** The NATS connection once the bus answered; undefined before. */
  get nc(): NatsConnection | undefined {
    return this.bus.current?.nc;
  }

  /** Where the spool sends this host's events: the intake, once the bus is up. */
  sink(): EventSink | undefined {
    const bus = this.bus.current;
    return bus ? new IntakeSink(bus.commands, this.config.host) : undefined;
  }

  /** Where the version follower catches up on `chainId`: the event stream, then the chain-watcher. */
  versionCatchUp(chainId: string): VersionCatchUp {
    const bus = (): FleetBus => {
      const b = this.bus.current;
      if (!b) throw new BusNotReadyError();
      return b;
    };
    return {
      fromStream: async () => {
        const b = bus();
        return versionEventFromStream({ js: b.nc.jetstream(), subjects: b.subjects, eventStreamName: this.config.eventStreamName }, chainId);
      },
      fromWatcher: async () => versionEventFromWatcher(bus().commands, chainId),
    };
  }
}

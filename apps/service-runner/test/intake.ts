// Test helper: the central event intake served from a test's own FleetCore (what worker-registry
// and chain-watcher serve in production), so a runner under test, which holds no database
// credentials, gets its events into the test's log.
import { EventIntake, serveEventIntake, type CommandServer, type FleetCore } from '@fleetvisor/messaging';

export async function serveTestIntake(core: Pick<FleetCore, 'commands' | 'store' | 'logger'>): Promise<{ intake: EventIntake; server: CommandServer }> {
  const intake = new EventIntake({ store: core.store, logger: core.logger });
  const server = serveEventIntake(core.commands, intake);
  await server.ready;
  return { intake, server };
}

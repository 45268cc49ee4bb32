// Streams belong to `fleetvisor migrate`: an edge process (a runner) started before migrate ran
// neither creates them nor gives up; it says to run migrate and binds once they exist. A central
// service (FleetCore) stops at start with the same instruction.
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import { createLogger, type Logger } from '@fleetvisor/platform';
import { createTestDatabase, deleteTestStreams, sharedNatsUrl, testBusNames, testCoreConfig, waitFor, type TestDatabase } from '@fleetvisor/testing';
import { EdgeBus } from './edge-bus';
import { FleetStreamsMissingError } from './event-stream';
import { FleetCore } from './fleet-core';
import { createTestStreams } from '../testing/test-streams';

const bus = testBusNames();
const lines: string[] = [];
const logger: Logger = createLogger({ name: 'edge-streams', level: 'warn', format: 'json', destination: { write: (line: string) => void lines.push(line) } });
let db: TestDatabase | undefined;

afterAll(async () => {
  await deleteTestStreams(bus);
  await db?.drop();
});

describe('streams missing at start', () => {
  it('an edge bus waits, naming `fleetvisor migrate`, creates nothing, and is ready once the streams exist', async () => {
    const config = testCoreConfig('postgres://unused', bus, { host: 'edge-streams' });
    const edge = new EdgeBus({ serviceName: 'service-runner', config, logger, eventStream: true, reconnectTimeWaitMs: 100 });
    try {
      let ready = false;
      const readyP = edge.ready().then(() => (ready = true));
      await waitFor(() => lines.some((l) => l.includes('run `fleetvisor migrate`')), { timeoutMs: 10_000, message: 'the edge bus says to run migrate' });
      expect(JSON.parse(lines.find((l) => l.includes('run `fleetvisor migrate`'))!).err).toMatch(new RegExp(`${bus.eventStreamName}, ${bus.eventStreamName}_DLQ not found`));
      expect(ready).toBe(false);
      const nc = await connect({ servers: sharedNatsUrl() });
      try {
        const names: string[] = [];
        for await (const s of (await nc.jetstreamManager()).streams.list()) names.push(s.config.name);
        expect(names).not.toContain(bus.eventStreamName);
      } finally {
        await nc.close();
      }
      await createTestStreams(config);
      await readyP;
      expect(edge.current).toBeDefined();
    } finally {
      await edge.close();
    }
  });

  it('a FleetCore stops at start with FleetStreamsMissingError naming migrate', async () => {
    db = await createTestDatabase('fvmsg_nostreams');
    const other = testBusNames();
    const err = await FleetCore.open({ serviceName: 'central', config: testCoreConfig(db.url, other), logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FleetStreamsMissingError);
    expect((err as Error).message).toMatch(/not found on this NATS server: streams are created and updated by `fleetvisor migrate`/);
  });
});

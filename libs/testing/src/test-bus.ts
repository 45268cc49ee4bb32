// Per-suite bus names, so suites sharing one NATS server never see each other's messages.
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { readTestingConfig } from './config';

export interface TestBusNames {
  /** Subject root, e.g. `t3f9a1c2` -> subjects `t3f9a1c2.evt.>` */
  subjectRoot: string;
  /** JetStream stream for events. */
  eventStreamName: string;
}

export function testBusNames(): TestBusNames {
  const tag = randomBytes(4).toString('hex');
  return { subjectRoot: `t${tag}`, eventStreamName: `T_${tag.toUpperCase()}_EVENTS` };
}

export function sharedNatsUrl(): string {
  return readTestingConfig().natsUrl;
}

/**
 * Deletes a suite's event stream, dead-letter stream and key bucket (`KV_<root>_keys`, as
 * keysBucketName names it) from the shared NATS (after the suite). They are made by createTestStreams
 * of @fleetvisor/messaging/testing, the function `fleetvisor migrate` uses.
 */
export async function deleteTestStreams(bus: TestBusNames, natsUrl: string = sharedNatsUrl()): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    for (const name of [bus.eventStreamName, `${bus.eventStreamName}_DLQ`, `KV_${bus.subjectRoot}_keys`]) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

// Per-suite bus names, so suites sharing one NATS server never see each other's messages.
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { ensureFleetStreams, keysBucketName, type FleetStreamsResult } from '@fleetvisor/messaging/core';
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
 * Creates a suite's streams the way `fleetvisor migrate` does (the same function): its event
 * stream, dead-letter stream and key bucket, for its own subject root. Services only check that
 * streams exist, so a suite that starts one calls this first (in beforeAll). A CoreConfig is a
 * TestBusNames with a natsUrl: `createTestStreams(config)` uses its server.
 */
export async function createTestStreams(bus: TestBusNames & { natsUrl?: string }, natsUrl: string = bus.natsUrl ?? sharedNatsUrl(), opts: { maxAgeMs?: number } = {}): Promise<FleetStreamsResult> {
  const nc = await connect({ servers: natsUrl });
  try {
    return await ensureFleetStreams(nc, { subjectRoot: bus.subjectRoot, eventStreamName: bus.eventStreamName, eventStreamMaxAgeMs: opts.maxAgeMs ?? 3_600_000 });
  } finally {
    await nc.close();
  }
}

/** Deletes a suite's event stream, dead-letter stream and key bucket from the shared NATS (after the suite). */
export async function deleteTestStreams(bus: TestBusNames, natsUrl: string = sharedNatsUrl()): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    for (const name of [bus.eventStreamName, `${bus.eventStreamName}_DLQ`, `KV_${keysBucketName(bus.subjectRoot)}`]) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

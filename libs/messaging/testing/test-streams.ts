// A suite's streams, made the way `fleetvisor migrate` makes them (the same function,
// ensureFleetStreams): its event stream, dead-letter stream and key bucket, for its own subject
// root. Services only check that streams exist, so a suite that starts one calls this first.
// Here rather than in @fleetvisor/testing, which must not depend on this library (its tests use it).
import { connect } from 'nats';
import { ensureFleetStreams, type FleetStreamsResult } from '../src/event-stream';

export interface TestStreamsTarget {
  subjectRoot: string;
  eventStreamName: string;
  /** The server (a CoreConfig has it; for the shared one, sharedNatsUrl()). No credentials: test servers. */
  natsUrl: string;
}

/** `createTestStreams(config)` with a suite's CoreConfig, or `createTestStreams({ ...bus, natsUrl: sharedNatsUrl() })`. */
export async function createTestStreams(target: TestStreamsTarget, opts: { maxAgeMs?: number } = {}): Promise<FleetStreamsResult> {
  const nc = await connect({ servers: target.natsUrl });
  try {
    return await ensureFleetStreams(nc, { subjectRoot: target.subjectRoot, eventStreamName: target.eventStreamName, eventStreamMaxAgeMs: opts.maxAgeMs ?? 3_600_000 });
  } finally {
    await nc.close();
  }
}

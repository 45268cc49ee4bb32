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

/**
 * `createTestStreams(config)` with a suite's CoreConfig, or `createTestStreams({ ...bus, natsUrl: sharedNatsUrl() })`.
 * Smaller storage limits than production (64 MiB, 16 MiB): JetStream reserves a stream's max_bytes
 * on the server, and suites of several runs share one. The key bucket only with `keys: true` (no
 * suite needs it yet, and a suite that deletes its two streams then leaves nothing behind).
 */
export async function createTestStreams(target: TestStreamsTarget, opts: { maxAgeMs?: number; keys?: boolean } = {}): Promise<FleetStreamsResult> {
  const nc = await connect({ servers: target.natsUrl });
  try {
    return await ensureFleetStreams(nc, {
      subjectRoot: target.subjectRoot,
      eventStreamName: target.eventStreamName,
      eventStreamMaxAgeMs: opts.maxAgeMs ?? 3_600_000,
      eventStreamMaxBytes: 64 * 1024 ** 2,
      deadLetterMaxBytes: 16 * 1024 ** 2,
      ...(opts.keys ? {} : { keysBucket: false as const }),
    });
  } finally {
    await nc.close();
  }
}

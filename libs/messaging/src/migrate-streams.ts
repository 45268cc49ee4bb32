// `fleetvisor migrate`'s JetStream part (and `up`'s, which runs migrate first): connects with the
// configured credential — the admin identity, the only one whose NATS permissions allow stream
// administration — and creates or updates the Fleetvisor streams and the key-revocation bucket.
import type { CoreConfig, Logger } from '@fleetvisor/platform';
import { ensureFleetStreams, type FleetStreamsResult } from './event-stream';
import { connectNats } from './nats-connection';

export async function migrateFleetStreams(
  config: Pick<CoreConfig, 'natsUrl' | 'nats' | 'subjectRoot' | 'eventStreamName' | 'eventStreamMaxAgeMs' | 'host'> & Partial<Pick<CoreConfig, 'eventStreamMaxBytes' | 'deadLetterStreamMaxBytes' | 'eventStreamReplicas'>>,
  logger: Logger,
): Promise<FleetStreamsResult> {
  const nc = await connectNats(config, logger, { name: `fleetvisor:migrate@${config.host}` });
  try {
    return await ensureFleetStreams(
      nc,
      {
        subjectRoot: config.subjectRoot,
        eventStreamName: config.eventStreamName,
        eventStreamMaxAgeMs: config.eventStreamMaxAgeMs,
        ...(config.eventStreamMaxBytes !== undefined ? { eventStreamMaxBytes: config.eventStreamMaxBytes } : {}),
        ...(config.deadLetterStreamMaxBytes !== undefined ? { deadLetterMaxBytes: config.deadLetterStreamMaxBytes } : {}),
        ...(config.eventStreamReplicas !== undefined ? { replicas: config.eventStreamReplicas } : {}),
      },
      logger,
    );
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    // A non-admin credential is refused the stream API by the server's permissions.
    if (/permission/i.test(text)) {
      throw new Error(`NATS refused the stream administration (${text}): \`fleetvisor migrate\` needs the admin NATS credential (FLEETVISOR_NATS_NKEY_SEED_FILE of the admin identity from \`fleetvisor nats-config\`)`);
    }
    throw e;
  } finally {
    await nc.close().catch(() => undefined);
  }
}

// `init` (and `wrap`) take the chain's recorded version from the event stream only when it verifies:
// a forged VersionChanged published into the stream must not choose the binary a host installs.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { createSubjects, newEvent, VersionChanged, type ProtocolVersion } from '@fleetvisor/contracts';
import { createTestStreams } from '@fleetvisor/messaging/testing';
import { deleteTestStreams, sharedNatsUrl, testBusNames, testCoreConfig, testTrust } from '@fleetvisor/testing';
import { signEvent } from '@fleetvisor/trust';
import { versionFromEvents } from './one-shot';

const logger = pino({ level: 'silent' });
const bus = testBusNames();
const core = testCoreConfig('postgres://unused', bus);
const CHAIN = 'lava-oneshot-1';
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });
let nc: NatsConnection;

async function publish(e: ReturnType<typeof newEvent>): Promise<void> {
  await nc.jetstream().publish(createSubjects(bus.subjectRoot).event(e.stream, e.type), Buffer.from(JSON.stringify(e)), { msgID: e.id });
}

beforeAll(async () => {
  await createTestStreams({ ...bus, natsUrl: sharedNatsUrl() });
  nc = await connect({ servers: sharedNatsUrl() });
});

afterAll(async () => {
  await nc?.close();
  await deleteTestStreams(bus);
});

describe('versionFromEvents', () => {
  const roots = [testTrust().root.publicKey];

  it('takes a VersionChanged signed by a chain-watcher key of the roots', async () => {
    await publish(signEvent(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height: 10, previous: null, current: pv('0.2.0') }), testTrust().signer('chain-watcher')));
    expect(await versionFromEvents(core, CHAIN, logger, roots)).toEqual({ found: { version: pv('0.2.0'), height: 10 } });
  });

  it('refuses a newer one that is not signed, and says so; and reads nothing without a trust root', async () => {
    await publish(newEvent(VersionChanged, CHAIN, { chainId: CHAIN, height: 11, previous: pv('0.2.0'), current: pv('0.1.5') }));
    const r = await versionFromEvents(core, CHAIN, logger, roots);
    expect(r).toEqual({ missing: expect.stringMatching(/^the VersionChanged read from the stream does not verify \(the event is not signed\); it is not used/) });
    expect(await versionFromEvents(core, CHAIN, logger, [])).toEqual({ missing: expect.stringContaining('no trust root (set FLEETVISOR_TRUST_ROOT_FILE') });
  });
});

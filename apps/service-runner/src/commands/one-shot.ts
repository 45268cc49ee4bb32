// One-shot commands (init, create-service) record events to the spool like the runner does, then
// try once to flush them through the central event intake; if the bus or the intake is away they
// stay spooled and the runner sends them later. A host holds no database credentials (ADR 0006):
// what these commands read of the past comes from the event stream or the chain-watcher.
import type { NatsConnection } from 'nats';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { ChainStatus, VersionChanged, createSubjects, fleetEvents, type CommandResultOf, type ProtocolVersion } from '@fleetvisor/contracts';
import type { BusConfig, Logger } from '@fleetvisor/platform';
import { latestVersionEvent } from '../bus/version-source';
import { EventRecorder } from '../events/event-recorder';
import { EventSpool, SpoolFlusher } from '../events/event-spool';
import { IntakeSink, isIntakeRefusal } from '../events/intake-sink';
import type { RunnerHome } from '../home/runner-home';
import { validHost } from '../runner';
import { TrustVerifier, verifyEvent } from '@fleetvisor/trust';

export function openRecorder(home: RunnerHome, core: BusConfig): { spool: EventSpool; recorder: EventRecorder } {
  home.ensureLayout();
  const spool = new EventSpool(home.spoolDir);
  return { spool, recorder: new EventRecorder(spool, validHost(core.host), 'fleetvisor-cli') };
}

/** Flushes the spool once through the intake; returns how many events are still spooled. */
export async function flushOnce(spool: EventSpool, core: BusConfig, logger: Logger): Promise<number> {
  if (spool.count() === 0) return 0;
  let nc: NatsConnection;
  try {
    nc = await connectNats(core, logger, { name: 'fleetvisor:one-shot', connectTimeoutMs: 2_000 });
  } catch (e) {
    logger.debug({ err: (e as Error).message }, 'bus unreachable; events stay spooled');
    return spool.count();
  }
  const commands = new CommandBus({ nc, subjects: createSubjects(core.subjectRoot), logger });
  const sink = new IntakeSink(commands, validHost(core.host), 3_000);
  const flusher = new SpoolFlusher({ spool, logger, sink: () => sink, isPermanent: isIntakeRefusal });
  try {
    flusher.kick();
    await flusher.drain(3_000);
  } finally {
    await flusher.stop();
    await nc.close().catch(() => undefined);
  }
  return spool.count();
}

/** Where a protocol version was looked for and what was found, or why nothing was. */
export type VersionLookup = { found: { version: ProtocolVersion; height?: number } } | { missing: string };

/**
 * The newest VersionChanged of chain-<id> the log recorded, as the event stream holds it or, past
 * its retention, as the chain-watcher returns it from the log; or why there is none. Taken only if
 * it verifies against the fleet's roots (signed by a chain-watcher key, ADR 0006), as the runner
 * takes it: a forged copy in the stream must not choose the binary `init` installs.
 */
export async function versionFromEvents(core: BusConfig, chainId: string, logger: Logger, roots: readonly string[]): Promise<VersionLookup> {
  let nc: NatsConnection;
  try {
    nc = await connectNats(core, logger, { name: 'fleetvisor:init', connectTimeoutMs: 2_000 });
  } catch (e) {
    return { missing: `the recorded VersionChanged cannot be read: the bus is unreachable: ${(e as Error).message}` };
  }
  try {
    const subjects = createSubjects(core.subjectRoot);
    const found = await latestVersionEvent({ js: nc.jetstream(), subjects, commands: new CommandBus({ nc, subjects, logger }), eventStreamName: core.eventStreamName }, chainId);
    if (!found) return { missing: `no VersionChanged of ${chainId} is recorded (no chain-watcher has recorded this chain)` };
    const parsed = fleetEvents.parse(found.event);
    if (!parsed.ok || parsed.value.type !== VersionChanged.type) return { missing: `the VersionChanged read from the ${found.via} is invalid: ${parsed.ok ? parsed.value.type : parsed.reason}` };
    if (roots.length === 0) {
      return { missing: 'the recorded VersionChanged cannot be verified: no trust root (set FLEETVISOR_TRUST_ROOT_FILE to the .pub file of `fleetvisor keys init`)' };
    }
    const verdict = verifyEvent(parsed.value, new TrustVerifier([...roots]), 'chain-watcher');
    if (!verdict.ok) return { missing: `the VersionChanged read from the ${found.via} does not verify (${verdict.reason}); it is not used` };
    const d = parsed.value.data as { height: number; current: ProtocolVersion };
    return { found: { version: d.current, height: d.height } };
  } catch (e) {
    return { missing: `the recorded VersionChanged could not be read (event stream ${core.eventStreamName}, then the chain-watcher): ${(e as Error).message}` };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/** The chain's version as the chain-watcher leading it reports it over the bus, or why there is none. */
export async function versionFromBus(core: BusConfig, chainId: string, logger: Logger): Promise<VersionLookup> {
  let nc: NatsConnection;
  try {
    nc = await connectNats(core, logger, { name: 'fleetvisor:init', connectTimeoutMs: 2_000 });
  } catch (e) {
    return { missing: `the bus is unreachable: ${(e as Error).message}` };
  }
  try {
    const bus = new CommandBus({ nc, subjects: createSubjects(core.subjectRoot), logger });
    const reply = await bus.request(ChainStatus, { chainId }, { timeoutMs: 3_000 });
    if (!reply.ok) return { missing: `no chain-watcher answered on the bus (${reply.error.message}); start one with \`fleetvisor chain-watcher run\`` };
    const entry = (reply.result as CommandResultOf<typeof ChainStatus> | undefined)?.chains.find((c) => c.chainId === chainId);
    if (!entry?.version) return { missing: `the chain-watcher on the bus knows no version of ${chainId} (${entry ? entry.mode : 'not watched'})` };
    return { found: { version: entry.version, ...(entry.versionHeight ? { height: entry.versionHeight } : {}) } };
  } catch (e) {
    return { missing: `no chain-watcher answered on the bus: ${(e as Error).message}` };
  } finally {
    await nc.close().catch(() => undefined);
  }
}

import { describe, expect, it } from 'vitest';
import { newEvent, QuarantineLifted, ServiceStarted, UpgradeFailed, UpgradeStarted, type EventEnvelope } from '@fleetvisor/contracts';
import { historyEntry, readUpgradeHistory } from './upgrade-history';

const ids = { host: 'h1', service: 'p1' };
const ATTEMPT = '01890000-0000-7000-8000-0000000000cc';
const started = newEvent(UpgradeStarted, 'h1/p1', { ...ids, fromVersion: '0.1.0', toVersion: '0.2.0', reason: 'provider_target 0.2.0' }, { actor: 'service-runner', causationId: '01890000-0000-7000-8000-0000000000aa', correlationId: ATTEMPT });
const failed = newEvent(UpgradeFailed, 'h1/p1', { ...ids, fromVersion: '0.1.0', toVersion: '0.2.0', stage: 'health', reason: 'exited 1' }, { correlationId: ATTEMPT });
const lifted = newEvent(QuarantineLifted, 'h1/p1', { ...ids, version: '0.2.0', reason: 'upgrades retry', actor: 'alice@ops' }, { actor: 'alice@ops', causationId: '01890000-0000-7000-8000-0000000000bb' });
const other = newEvent(UpgradeStarted, 'h1/p2', { host: 'h1', service: 'p2', fromVersion: '0.1.0', toVersion: '0.2.0', reason: 'x' });
const noise = newEvent(ServiceStarted, 'h1/p1', { ...ids, pid: 10, version: '0.1.0', binaryPath: '/x/lavap' });
// The stream holds the service's events of every type; the source is asked for the upgrade ones.
const stored = (events: EventEnvelope[]) => ({ events: async (stream: string, types: readonly string[]) => events.filter((e) => e.stream === stream && types.includes(e.type)) });
const spool = (events: EventEnvelope[]) => ({ pending: () => events.map((event) => ({ file: `${event.id}.json`, event })) });

describe('upgrade history', () => {
  it('is the upgrade events of the service stream and of the spool, each once, oldest first, with cause and actor', async () => {
    const h = await readUpgradeHistory(stored([started, noise]), spool([started, failed, lifted, other]), 'h1', 'p1');
    expect(h.historyFrom).toBe('stream');
    expect(h.history.map((e) => e.type)).toEqual(['UpgradeStarted', 'UpgradeFailed', 'QuarantineLifted']);
    expect(h.history[0]).toMatchObject({ eventId: started.id, causationId: '01890000-0000-7000-8000-0000000000aa', actor: 'service-runner' });
    expect(h.history[1]).toMatchObject({ stage: 'health', reason: 'exited 1', correlationId: ATTEMPT });
    expect(h.history[2]).toMatchObject({ actor: 'alice@ops', version: '0.2.0', causationId: '01890000-0000-7000-8000-0000000000bb' });
  });

  it('with the event stream unreachable (or the bus not up yet), shows the spool and says why it may be incomplete', async () => {
    const down = { events: async () => Promise.reject(new Error('stream not found')) };
    const h = await readUpgradeHistory(down, spool([failed]), 'h1', 'p1');
    expect(h).toMatchObject({ historyFrom: 'spool', historyNote: expect.stringMatching(/event stream is unreachable \(stream not found\).*only the events still in this runner's spool/) });
    expect(h.history.map((e) => e.eventId)).toEqual([failed.id]);
    expect(await readUpgradeHistory(undefined, spool([]), 'h1', 'p1')).toMatchObject({ historyFrom: 'spool', historyNote: expect.stringContaining('NATS has not answered yet') });
  });

  it('ignores events that are not part of an upgrade', () => {
    expect(historyEntry(noise)).toBeUndefined();
  });
});

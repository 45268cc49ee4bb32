// The coordinator's shell over an in-memory log with expected versions: two replicas admitting at
// once cannot overfill a wave; a host's outcome is the attempt it started after its admission
// (an older failure is not held against it; a fallback after a failed target is a failure).
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import {
  newEventFor,
  ServiceUpgraded,
  UpgradeFailed,
  UpgradeStarted,
  uuidv7,
  VersionChanged,
  type EventEnvelope,
  type ProtocolVersion,
  type RecordedEvent,
} from '@fleetvisor/contracts';
import { expectedVersionMatches, WrongExpectedVersionError, type AppendOptions, type AppendResult, type CommandHandlerStore, type ReadStreamResult } from '@fleetvisor/event-store';
import { RolloutCoordinator, rolloutStream } from './rollout-coordinator';
import { parseRolloutPolicies } from './rollout-policy';

const logger = pino({ level: 'silent' });
const CHAIN = 'c1';
const V1: ProtocolVersion = { providerTarget: '1.0.0', providerMin: '1.0.0', consumerTarget: '1.0.0', consumerMin: '1.0.0' };
const V2: ProtocolVersion = { ...V1, providerTarget: '1.1.0' };
const services = [{ service: 'p1', toVersion: '1.1.0' }];

/** Streams in memory, refusing a stale expected version as the log does; reads yield once (like a round trip). */
class MemoryLog implements CommandHandlerStore {
  readonly streams = new Map<string, EventEnvelope[]>();
  async readStream(stream: string): Promise<ReadStreamResult> {
    await Promise.resolve();
    const events = (this.streams.get(stream) ?? []).map((e, i): RecordedEvent => ({ ...e, streamVersion: i + 1, globalPosition: String(i + 1), checkpoint: `1:${i + 1}` }));
    return { events, currentVersion: events.length };
  }
  async appendToStream(stream: string, events: readonly EventEnvelope[], opts: AppendOptions = {}): Promise<AppendResult> {
    await Promise.resolve();
    const cur = this.streams.get(stream) ?? [];
    const expected = opts.expectedVersion ?? 'any';
    if (!expectedVersionMatches(expected, cur.length)) throw new WrongExpectedVersionError(stream, expected, cur.length);
    this.streams.set(stream, [...cur, ...events]);
    return { nextExpectedVersion: cur.length + events.length, appended: events.length };
  }
}

function setup(policy = `${CHAIN}:canary=1,max_parallel=1,min_healthy_time=0s`) {
  const log = new MemoryLog();
  let now = Date.parse('2026-01-01T00:00:00.000Z');
  const clock = { advance: (ms: number) => (now += ms), now: () => new Date(now) };
  log.streams.set(`chain-${CHAIN}`, [newEventFor(VersionChanged, { chainId: CHAIN, height: 10, previous: V1, current: V2 })]);
  const replica = (host: string) => new RolloutCoordinator({ store: log, policies: parseRolloutPolicies(policy), host, logger, now: clock.now });
  return { log, clock, replica };
}

/** What host's runner records for one attempt, stamped at `at`. */
function attempt(log: MemoryLog, host: string, outcome: 'healthy' | 'failed' | 'fallback', at: Date): void {
  const correlationId = uuidv7();
  const ids = { host, service: 'p1' };
  const meta = { host, correlationId };
  const stream = `service-${host}/p1`;
  const evs: EventEnvelope[] = [newEventFor(UpgradeStarted, { ...ids, chainId: CHAIN, fromVersion: '1.0.0', toVersion: '1.1.0', reason: 'target' }, meta, { occurredAt: at })];
  if (outcome !== 'healthy') evs.push(newEventFor(UpgradeFailed, { ...ids, fromVersion: '1.0.0', toVersion: '1.1.0', stage: outcome === 'fallback' ? 'obtain' : 'health', reason: 'no good' }, meta, { occurredAt: at }));
  if (outcome !== 'failed') evs.push(newEventFor(ServiceUpgraded, { ...ids, fromVersion: '1.0.0', toVersion: outcome === 'fallback' ? '1.0.5' : '1.1.0', durationMs: 1 }, meta, { occurredAt: at }));
  log.streams.set(stream, [...(log.streams.get(stream) ?? []), ...evs]);
}

describe('RolloutCoordinator', () => {
  it('two replicas admitting at once never put two hosts in a wave of one: the log refuses the stale decision, which is made again', async () => {
    const { log, replica } = setup();
    const [a, b] = await Promise.all([replica('cw-a').admit('h1', { chainId: CHAIN, version: V2, services }), replica('cw-b').admit('h2', { chainId: CHAIN, version: V2, services })]);
    expect([a.decision, b.decision].sort()).toEqual(['admitted', 'wait']);
    const admitted = log.streams.get(rolloutStream(CHAIN))!.filter((e) => e.type === 'RolloutHostAdmitted');
    expect(admitted).toHaveLength(1);
  });

  it('an older failed attempt is not this admission\'s outcome; the attempt after admission is', async () => {
    const { log, clock, replica } = setup();
    const cw = replica('cw-a');
    attempt(log, 'h1', 'failed', new Date(clock.now().getTime() - 60 * 60_000));
    expect(await cw.admit('h1', { chainId: CHAIN, version: V2, services })).toMatchObject({ decision: 'admitted' });
    expect((await cw.tick(CHAIN)).hosts.get('h1')?.state).toBe('admitted');
    clock.advance(1_000);
    attempt(log, 'h1', 'healthy', clock.now());
    expect((await cw.tick(CHAIN)).hosts.get('h1')?.state).toBe('healthy');
  });

  it('a target that failed and fell back to an installed version is a failure: the rollout halts', async () => {
    const { log, clock, replica } = setup();
    const cw = replica('cw-a');
    await cw.admit('h1', { chainId: CHAIN, version: V2, services });
    attempt(log, 'h1', 'fallback', clock.now());
    const s = await cw.tick(CHAIN);
    expect(s.status).toBe('halted');
    expect(s.haltReason).toBe('h1/p1: UpgradeFailed 1.0.0 -> 1.1.0 at obtain: no good');
    await expect(cw.resume(CHAIN, { actor: 'alice', commandId: uuidv7() })).resolves.toMatchObject({ state: 'running' });
    await expect(cw.resume(CHAIN, { actor: 'alice', commandId: uuidv7() })).rejects.toThrow(/running, not halted/);
  });
});

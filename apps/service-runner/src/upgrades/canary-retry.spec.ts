// The canary retry policy's loop with its side effects faked (the canary process, the binary
// source, the clock): a check runs only when due, one at a time; an unhealthy canary keeps the
// quarantine and says when it runs next; a healthy one lifts it; every check is a CanaryChecked.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { fleetEvents, newEventFor, type EventData, type EventDefinition, type ProtocolVersion } from '@fleetvisor/contracts';
import type { ServiceDefinition } from '../home/runner-home';
import type { CanaryResult, CanaryRun } from './canary-process';
import { CanaryRetry } from './canary-retry';
import type { UpgradeStateData } from './upgrade-state';

const MIN = 60_000;
const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });
const def = (name: string): ServiceDefinition => ({ name, role: 'provider', binary: 'lavap', configPath: `/h/services/configs/${name}.yml`, args: ['rpcprovider', `/h/services/configs/${name}.yml`], networkAddress: '127.0.0.1:2221', keyringPassword: false });

function setup(o: { verdicts?: CanaryResult[]; obtain?: 'fail'; services?: string[] } = {}) {
  let now = T0;
  const names = o.services ?? ['p1'];
  let data: UpgradeStateData = {
    protocol: { version: pv('0.3.0'), height: 10 },
    inProgress: {},
    quarantine: Object.fromEntries(names.map((n) => [n, { '0.3.0': { stage: 'start', reason: 'exited with code 1', at: new Date(T0).toISOString() } }])),
    lastGood: {},
    canary: {},
  };
  const state = { get: () => data, update: (fn: (d: UpgradeStateData) => void) => ((data = structuredClone(data)), fn(data)) };
  const runs: CanaryRun[] = [];
  const lifted: string[] = [];
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const verdicts = [...(o.verdicts ?? [])];
  const services = new Map(names.map((n) => [n, { def: def(n) }]));
  const retry = new CanaryRetry({
    everyMs: 10 * MIN,
    services: () => services,
    linked: () => '0.2.0',
    state,
    obtain: async (version) => (o.obtain === 'fail' ? { stage: 'obtain', reason: `no release of ${version} yet` } : { path: `/h/upgrades/v${version}/lavap` }),
    canary: {
      run: async (r) => {
        runs.push(r);
        now += 5_000; // the health window
        return verdicts.shift() ?? { ok: false, stage: 'start', reason: 'exited with code 1 300 ms after start', address: '127.0.0.1:41001' };
      },
    },
    runSettings: () => ({ env: { PATH: '/bin' }, probe: 'tcp', stableMs: 5_000, timeoutMs: 10_000, stopGraceMs: 1_000 }),
    lift: (service, version, reason) => {
      lifted.push(`${service}@${version}: ${reason}`);
      state.update((d) => delete d.quarantine[service]![version]);
    },
    recorder: {
      host: 'host-c1',
      record: <D extends EventDefinition>(d: D, payload: EventData<D>) => {
        // Every event the policy records passes the catalog, as the spool would require.
        const parsed = fleetEvents.parse(newEventFor(d, payload));
        if (!parsed.ok) throw new Error(parsed.reason);
        events.push({ type: d.type, data: payload as Record<string, unknown> });
        return undefined as never;
      },
    },
    logger: pino({ level: 'silent' }),
    now: () => now,
  });
  return { retry, runs, lifted, events, state: () => data, setNow: (t: number) => (now = t), now: () => now };
}

describe('CanaryRetry', () => {
  it('waits for the interval after the quarantine; an unhealthy canary keeps it and says when the next one runs', async () => {
    const h = setup();
    h.setNow(T0 + 10 * MIN - 1);
    await h.retry.tick();
    expect(h.runs).toEqual([]);
    expect(h.retry.scheduleOf('p1')).toEqual({ version: '0.3.0', at: '2026-12-07T10:10:00.000Z' });

    h.setNow(T0 + 10 * MIN);
    await h.retry.tick();
    expect(h.runs.map((r) => [r.service, r.version, r.binaryPath])).toEqual([['p1', '0.3.0', '/h/upgrades/v0.3.0/lavap']]);
    expect(h.lifted).toEqual([]);
    expect(h.state().quarantine['p1']!['0.3.0']).toBeDefined();
    expect(h.events).toEqual([
      {
        type: 'CanaryChecked',
        data: {
          host: 'host-c1',
          service: 'p1',
          version: '0.3.0',
          outcome: 'unhealthy',
          stage: 'start',
          reason: 'exited with code 1 300 ms after start',
          address: '127.0.0.1:41001',
          durationMs: 5_000,
          nextCheckAt: '2026-12-07T10:20:05.000Z',
        },
      },
    ]);
    expect(h.retry.scheduleOf('p1')).toEqual({ version: '0.3.0', at: '2026-12-07T10:20:05.000Z', lastCheck: 'unhealthy at 2026-12-07T10:10:05.000Z: exited with code 1 300 ms after start' });
    // Not again before the next interval.
    await h.retry.tick();
    expect(h.runs).toHaveLength(1);
  });

  it('a healthy canary lifts the quarantine (the normal upgrade follows) and leaves no schedule', async () => {
    const h = setup({ verdicts: [{ ok: false, stage: 'health', reason: 'no TCP answer' }, { ok: true, reason: 'up 5000 ms and answered TCP on 127.0.0.1:41003', address: '127.0.0.1:41003' }] });
    h.setNow(T0 + 10 * MIN);
    await h.retry.tick();
    h.setNow(T0 + 21 * MIN);
    await h.retry.tick();
    expect(h.events.map((e) => e.data['outcome'])).toEqual(['unhealthy', 'healthy']);
    expect(h.events[1]!.data).not.toHaveProperty('nextCheckAt');
    expect(h.events[1]!.data).not.toHaveProperty('stage');
    expect(h.lifted).toEqual(['p1@0.3.0: canary healthy: up 5000 ms and answered TCP on 127.0.0.1:41003']);
    expect(h.state().canary).toEqual({});
    expect(h.retry.scheduleOf('p1')).toBeUndefined();
  });

  it('a release that cannot be had is a failed check at obtain, and no canary starts', async () => {
    const h = setup({ obtain: 'fail' });
    h.setNow(T0 + 10 * MIN);
    await h.retry.tick();
    expect(h.runs).toEqual([]);
    expect(h.events[0]!.data).toMatchObject({ outcome: 'unhealthy', stage: 'obtain', reason: 'no release of 0.3.0 yet', nextCheckAt: '2026-12-07T10:20:00.000Z' });
  });

  it('one canary at a time: two services due are checked on successive ticks', async () => {
    const h = setup({ services: ['p1', 'p2'] });
    h.setNow(T0 + 10 * MIN);
    const first = h.retry.tick();
    const second = h.retry.tick(); // while the first runs: the same check, not a second canary
    await Promise.all([first, second]);
    expect(h.runs.map((r) => r.service)).toEqual(['p1']);
    await h.retry.tick();
    expect(h.runs.map((r) => r.service)).toEqual(['p1', 'p2']);
  });

  it('no canary while the service is being upgraded, or for a version an operator rolled back from', async () => {
    const h = setup({ services: ['p1', 'p2'] });
    h.state().inProgress['p1'] = { correlationId: 'c', fromVersion: '0.2.0', toVersion: '0.3.0', phase: 'health', startedAt: new Date(T0).toISOString() };
    h.state().quarantine['p2']!['0.3.0']!.stage = 'operator_rollback';
    h.setNow(T0 + 60 * MIN);
    await h.retry.tick();
    expect(h.runs).toEqual([]);
  });
});

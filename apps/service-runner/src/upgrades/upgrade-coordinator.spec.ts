// The upgrade coordinator's decisions, with every side effect faked (no process, no network, no
// disk): one service at a time, health-checked; rollback to the previous binary on a failed health
// check or hook (Cosmovisor exit codes through runPreUpgradeHook); fallback when the target cannot
// be had; quarantine of a failed version (no timer retries it, only a new announcement or
// `upgrades retry`); start on the last good version; crash recovery; and the events it records.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { fleetEvents, newEventFor, type EventData, type EventDefinition, type EventEnvelope, type ProtocolVersion } from '@fleetvisor/contracts';
import type { ServiceDefinition } from '../home/runner-home';
import type { ExitInfo } from '../supervision/supervised-service';
import { ObtainError } from './binary-fetcher';
import type { HealthResult } from './health-check';
import { runPreUpgradeHook } from './pre-upgrade-hook';
import { UpgradeCoordinator, type UpgradeCoordinatorOptions } from './upgrade-coordinator';
import type { BinaryLinks, PreUpgradeHook, ServiceProcess, UpgradeHome } from './upgrade-seams';
import type { UpgradeStateData } from './upgrade-state';

/** A verified operator's command, as the bus hands it over. */
const ALICE = { actor: 'alice@ops', commandId: '0190b6e0-0000-7000-8000-00000000a11c' };

const logger = pino({ level: 'silent' });
const HOST = 'host-u1';
const CHAIN = 'lava-unit-1';
const pv = (target: string, min = '0.1.0'): ProtocolVersion => ({ providerTarget: target, providerMin: min, consumerTarget: target, consumerMin: min });
const TUNING = { healthStableMs: 1, healthTimeoutMs: 1, upgradeParallelism: 1 };

interface Recorded {
  type: string;
  service: string;
  data: Record<string, unknown>;
  correlationId: string | undefined;
  causationId: string | undefined;
}

/** A host with installed versions, links, processes and a health verdict per version, all in memory. */
class FakeHost {
  readonly installed = new Set<string>();
  readonly links = new Map<string, string>();
  /** Versions whose process fails its health check. */
  readonly unhealthy = new Set<string>();
  readonly timeline: string[] = [];
  readonly events: Recorded[] = [];
  readonly state = new MemoryState();
  readonly procs = new Map<string, { def: ServiceDefinition; svc: ServiceProcess }>();

  readonly home: UpgradeHome = {
    serviceLink: (name) => `/h/services/${name}`,
    currentLink: (binary) => `/h/current/${binary}`,
    binaryPath: (version, binary) => `/h/upgrades/v${version}/${binary}`,
    installedVersions: () => [...this.installed],
  };

  readonly store: BinaryLinks = {
    switchLink: (link, version) => {
      if (!this.installed.has(version)) throw new Error(`${version} is not installed`);
      this.links.set(link, version);
    },
    linkedVersion: (link) => this.links.get(link),
    reportedVersion: async (file) => /\/v([^/]+)\//.exec(file)?.[1],
  };

  readonly recorder = {
    host: HOST,
    record: <D extends EventDefinition>(def: D, data: EventData<D>, opts: { correlationId?: string; causationId?: string } = {}): EventEnvelope => {
      const event = newEventFor(def, data, { host: HOST, actor: 'test', ...opts });
      const parsed = fleetEvents.parse(event);
      if (!parsed.ok) throw new Error(`invalid ${def.type}: ${parsed.reason}`);
      const d = data as Record<string, unknown>;
      this.events.push({ type: def.type, service: String(d.service), data: d, correlationId: opts.correlationId, causationId: opts.causationId });
      return event;
    },
  };

  install(...versions: string[]): void {
    for (const v of versions) this.installed.add(v);
  }

  addProvider(name: string, version: string): void {
    this.links.set(this.home.serviceLink(name), version);
    const def: ServiceDefinition = { name, role: 'provider', chainId: CHAIN, binary: 'lavap', configPath: `/c/${name}.yml`, args: [], networkAddress: `127.0.0.1:${this.procs.size + 1}`, keyringPassword: false };
    const t = this.timeline;
    const linked = (): string => this.links.get(this.home.serviceLink(name)) ?? '?';
    const svc: ServiceProcess = {
      restart: async ({ hold }) => void t.push(`${name} restart ${linked()}${hold ? ' (held)' : ''}`),
      release: () => void t.push(`${name} release`),
      currentExit: () => new Promise<ExitInfo>(() => undefined),
    };
    this.procs.set(name, { def, svc });
  }

  coordinator(extra: Partial<UpgradeCoordinatorOptions> = {}): UpgradeCoordinator {
    return new UpgradeCoordinator({
      home: this.home,
      config: { chainId: CHAIN, download: {}, upgrade: {} },
      store: this.store,
      fetcher: {
        obtain: async (version, binary) => {
          if (!this.installed.has(version)) throw new ObtainError('obtain', `no release ${version}`);
          return this.home.binaryPath(version, binary);
        },
      },
      state: this.state,
      recorder: this.recorder,
      services: () => this.procs,
      tuning: TUNING,
      logger,
      health: {
        check: async (o): Promise<HealthResult> => {
          const name = [...this.procs.values()].find((p) => p.def.networkAddress === o.networkAddress)!.def.name;
          const version = this.links.get(this.home.serviceLink(name))!;
          this.timeline.push(`${name} health ${version}`);
          return this.unhealthy.has(version) ? { ok: false, stage: 'health', reason: `no TCP answer on ${o.networkAddress}` } : { ok: true };
        },
      },
      ...extra,
    });
  }

  of(service: string): Recorded[] {
    return this.events.filter((e) => e.service === service);
  }

  linked(service: string): string | undefined {
    return this.links.get(this.home.serviceLink(service));
  }
}

class MemoryState {
  private data: UpgradeStateData = { protocol: null, inProgress: {}, quarantine: {}, lastGood: {}, canary: {} };
  get(): Readonly<UpgradeStateData> {
    return this.data;
  }
  update(fn: (d: UpgradeStateData) => void): void {
    const next = structuredClone(this.data);
    fn(next);
    this.data = next;
  }
}

async function upgradeTo(c: UpgradeCoordinator, version: ProtocolVersion, height = 10): Promise<void> {
  c.onProtocolVersion(version, { height, eventId: `e-${height}` });
  await c.idle();
}

describe('UpgradeCoordinator', () => {
  it('upgrades the services below the target one at a time, each restarted on the new link and healthy before the next', async () => {
    const h = new FakeHost();
    h.install('0.1.0', '0.2.0');
    h.addProvider('p1', '0.1.0');
    h.addProvider('p2', '0.1.0');
    await upgradeTo(h.coordinator(), pv('0.2.0'));

    expect(h.timeline).toEqual(['p1 restart 0.2.0 (held)', 'p1 health 0.2.0', 'p1 release', 'p2 restart 0.2.0 (held)', 'p2 health 0.2.0', 'p2 release']);
    for (const s of ['p1', 'p2']) {
      const evs = h.of(s);
      expect(evs.map((e) => e.type)).toEqual(['UpgradeStarted', 'ServiceUpgraded']);
      expect(evs[0]!.data).toMatchObject({ chainId: CHAIN, fromVersion: '0.1.0', toVersion: '0.2.0' });
      expect(evs[1]!.data).toMatchObject({ fromVersion: '0.1.0', toVersion: '0.2.0' });
      expect(evs[1]!.correlationId).toBe(evs[0]!.correlationId);
      expect(h.linked(s)).toBe('0.2.0');
    }
    expect(h.links.get('/h/current/lavap')).toBe('0.2.0'); // new services start on the newest version
    expect(h.state.get().inProgress).toEqual({});
  });

  it('leaves a service at or above its target alone', async () => {
    const h = new FakeHost();
    h.install('0.2.0');
    h.addProvider('p1', '0.2.0');
    await upgradeTo(h.coordinator(), pv('0.2.0'));
    expect(h.timeline).toEqual([]);
    expect(h.events).toEqual([]);
  });

  it('rolls back to the previous binary when the new one fails its health check, and says why', async () => {
    const h = new FakeHost();
    h.install('0.1.0', '0.3.0');
    h.unhealthy.add('0.3.0');
    h.addProvider('p1', '0.1.0');
    const c = h.coordinator();
    await upgradeTo(c, pv('0.3.0'));

    expect(h.timeline).toEqual(['p1 restart 0.3.0 (held)', 'p1 health 0.3.0', 'p1 restart 0.1.0']);
    expect(h.linked('p1')).toBe('0.1.0');
    const evs = h.of('p1');
    expect(evs.map((e) => e.type)).toEqual(['UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack', 'VersionQuarantined']);
    expect(evs[1]!.data).toMatchObject({ fromVersion: '0.1.0', toVersion: '0.3.0', stage: 'health', reason: expect.stringContaining('no TCP answer') });
    expect(evs[2]!.data).toMatchObject({ restoredVersion: '0.1.0', failedVersion: '0.3.0', reason: expect.stringMatching(/^health: no TCP answer/) });
    expect(evs[3]!.data).toMatchObject({ version: '0.3.0', stage: 'health', reason: expect.stringContaining('no TCP answer') });
    expect(new Set(evs.map((e) => e.correlationId)).size).toBe(1);
    // Every event of the attempt names the VersionChanged that caused it.
    expect(evs.map((e) => e.causationId)).toEqual(['e-10', 'e-10', 'e-10', 'e-10']);
    expect(h.state.get().inProgress).toEqual({});
    expect(h.state.get().quarantine.p1?.['0.3.0']).toMatchObject({ stage: 'health' });
    expect(h.state.get().lastGood.p1).toBe('0.1.0');
    await c.stop();
  });

  describe('quarantine: a failed version is not retried into an outage', () => {
    const broken = async (): Promise<{ h: FakeHost; c: UpgradeCoordinator }> => {
      const h = new FakeHost();
      h.install('0.1.0', '0.3.0', '0.4.0');
      h.unhealthy.add('0.3.0');
      h.addProvider('p1', '0.1.0');
      const c = h.coordinator();
      await upgradeTo(c, pv('0.3.0'), 10);
      h.timeline.length = 0;
      h.events.length = 0;
      return { h, c };
    };

    it('the same target again (a replay at a higher height, another min, a reconcile) restarts nothing', async () => {
      const { h, c } = await broken();
      await upgradeTo(c, pv('0.3.0'), 11);
      await upgradeTo(c, pv('0.3.0', '0.0.9'), 12);
      c.reconcile();
      await c.idle();
      expect(h.timeline).toEqual([]);
      expect(h.events).toEqual([]);
      expect(h.linked('p1')).toBe('0.1.0');
    });

    it('a different target is acted on; the quarantined one is no fallback', async () => {
      const { h, c } = await broken();
      await upgradeTo(c, pv('0.4.0'), 11);
      expect(h.linked('p1')).toBe('0.4.0');
      expect(h.of('p1').map((e) => e.type)).toEqual(['UpgradeStarted', 'ServiceUpgraded']);
      const fresh = await broken();
      // 0.5.0 cannot be had; 0.3.0 is installed and in range but quarantined: 0.4.0 is chosen.
      fresh.h.installed.delete('0.4.0');
      await upgradeTo(fresh.c, pv('0.5.0', '0.2.0'), 11);
      expect(fresh.h.timeline).toEqual([]);
      expect(fresh.h.of('p1').map((e) => [e.type, e.data.stage])).toEqual([
        ['UpgradeStarted', undefined],
        ['UpgradeFailed', 'obtain'],
        ['UpgradeRolledBack', undefined],
        ['VersionQuarantined', 'obtain'],
      ]);
    });

    it('the chain announcing the version anew lifts the quarantine (QuarantineLifted) and tries it', async () => {
      const { h, c } = await broken();
      await upgradeTo(c, pv('0.4.0'), 11);
      h.unhealthy.delete('0.3.0');
      h.install('0.3.0');
      h.events.length = 0;
      await upgradeTo(c, pv('0.3.0', '0.3.0'), 12); // below its running 0.4.0: nothing to do, but lifted
      expect(h.of('p1').map((e) => [e.type, e.causationId])).toEqual([['QuarantineLifted', 'e-12']]);
      expect(h.of('p1')[0]!.data).toMatchObject({ version: '0.3.0', reason: 'provider_target set to 0.3.0 again at height 12' });
      expect(c.quarantineOf('p1')).toEqual({});
    });

    it('a healthy canary (retry policy) lifts it without an actor and the normal upgrade follows; nothing quarantined, nothing done', async () => {
      const { h, c } = await broken();
      c.liftProven('p1', '0.4.0', 'canary healthy: not quarantined'); // not quarantined: ignored
      c.liftProven('nope', '0.3.0', 'canary healthy');
      await c.idle();
      expect(h.events).toEqual([]);
      h.unhealthy.delete('0.3.0');
      c.liftProven('p1', '0.3.0', 'canary healthy: up 5000 ms and answered TCP on 127.0.0.1:41001');
      await c.idle();
      expect(h.of('p1').map((e) => e.type)).toEqual(['QuarantineLifted', 'UpgradeStarted', 'ServiceUpgraded']);
      expect(h.of('p1')[0]!.data).toEqual({ host: HOST, service: 'p1', version: '0.3.0', reason: 'canary healthy: up 5000 ms and answered TCP on 127.0.0.1:41001' });
      expect(h.timeline).toEqual(['p1 restart 0.3.0 (held)', 'p1 health 0.3.0', 'p1 release']);
    });

    it('upgrades list shows when the retry policy tries a quarantined version next', async () => {
      const h = new FakeHost();
      h.install('0.1.0', '0.3.0');
      h.unhealthy.add('0.3.0');
      h.addProvider('p1', '0.1.0');
      const c = h.coordinator({ retrySchedule: (s, v) => (s === 'p1' && v === '0.3.0' ? { at: '2026-12-07T10:10:00.000Z', lastCheck: 'unhealthy at 2026-12-07T10:00:00.000Z: no TCP answer' } : undefined) });
      await upgradeTo(c, pv('0.3.0'));
      expect(c.upgradesOf('p1', '0.1.0')!.quarantined).toEqual([
        expect.objectContaining({ version: '0.3.0', stage: 'health', nextRetryAt: '2026-12-07T10:10:00.000Z', lastCheck: 'unhealthy at 2026-12-07T10:00:00.000Z: no TCP answer' }),
      ]);
      const without = new FakeHost();
      without.install('0.1.0', '0.3.0');
      without.unhealthy.add('0.3.0');
      without.addProvider('p1', '0.1.0');
      const c2 = without.coordinator();
      await upgradeTo(c2, pv('0.3.0'));
      expect(c2.upgradesOf('p1', '0.1.0')!.quarantined[0]).not.toHaveProperty('nextRetryAt');
    });

    it('upgrades retry lifts it with the actor and tries the target again at once', async () => {
      const { h, c } = await broken();
      h.unhealthy.delete('0.3.0');
      expect(c.retry('p1', undefined, ALICE)).toEqual(['0.3.0']);
      await c.idle();
      expect(h.of('p1').map((e) => e.type)).toEqual(['QuarantineLifted', 'UpgradeStarted', 'ServiceUpgraded']);
      expect(h.of('p1')[0]!.data).toMatchObject({ version: '0.3.0', reason: 'upgrades retry', actor: 'alice@ops' });
      expect(h.of('p1')[0]!.causationId).toBe(ALICE.commandId);
      expect(h.linked('p1')).toBe('0.3.0');
      expect(() => c.retry('p1', '0.3.0', ALICE)).toThrow(/0.3.0 of p1 is not quarantined/);
      expect(() => c.retry('nope', undefined, undefined)).toThrow(/no service nope on host-u1; it has: p1/);
    });

    it('at start, a service linked to a quarantined version is switched to the last good one before it starts', async () => {
      const { h, c } = await broken();
      h.links.set(h.home.serviceLink('p1'), '0.3.0'); // e.g. relinked by hand, or by init from the log's last target
      c.avoidQuarantinedAtStart();
      expect(h.linked('p1')).toBe('0.1.0');
      expect(h.of('p1').map((e) => e.type)).toEqual(['UpgradeRolledBack']);
      expect(h.of('p1')[0]!.data).toMatchObject({ restoredVersion: '0.1.0', failedVersion: '0.3.0', reason: expect.stringContaining('0.3.0 is quarantined') });
    });

    it('upgrades rollback: to an installed version, health-checked, with the actor; the version left is quarantined', async () => {
      const { h, c } = await broken();
      await upgradeTo(c, pv('0.4.0'), 11);
      h.events.length = 0;
      h.timeline.length = 0;
      expect(await c.rollback('p1', '0.1.0', ALICE)).toEqual({ fromVersion: '0.4.0', outcome: 'switched' });
      expect(h.timeline).toEqual(['p1 restart 0.1.0 (held)', 'p1 health 0.1.0', 'p1 release']);
      expect(h.of('p1').map((e) => e.type)).toEqual(['UpgradeStarted', 'ServiceUpgraded', 'VersionQuarantined']);
      expect(h.of('p1')[0]!.data).toMatchObject({ fromVersion: '0.4.0', toVersion: '0.1.0', actor: 'alice@ops', reason: 'rollback to 0.1.0 requested by alice@ops' });
      expect(h.of('p1')[2]!.data).toMatchObject({ version: '0.4.0', stage: 'operator_rollback', reason: 'rolled back to 0.1.0 by alice@ops' });
      // The chain's target (0.4.0, now quarantined) does not bring it back.
      c.reconcile();
      await c.idle();
      expect(h.linked('p1')).toBe('0.1.0');
      await expect(c.rollback('p1', '0.9.9', ALICE)).rejects.toThrow(/0.9.9 is not installed for p1; installed: 0.4.0, 0.3.0, 0.1.0/);
      await expect(c.rollback('p1', '0.3.0', ALICE)).rejects.toThrow(/0.3.0 is quarantined for p1 .*upgrades retry p1 --version 0.3.0/);
      await expect(c.rollback('p1', '0.1.0', ALICE)).rejects.toThrow(/p1 already runs 0.1.0/);
      await expect(c.rollback('nope', '0.1.0', undefined)).rejects.toThrow(/no service nope/);
    });

    it('a rollback to a version that fails its health check goes back and quarantines that version', async () => {
      const { h, c } = await broken();
      await upgradeTo(c, pv('0.4.0'), 11);
      h.unhealthy.add('0.1.0');
      h.events.length = 0;
      expect(await c.rollback('p1', '0.1.0', { actor: 'bob', commandId: '0190b6e0-0000-7000-8000-000000000b0b' })).toMatchObject({ fromVersion: '0.4.0', outcome: 'failed', reason: expect.stringMatching(/^health: /) });
      expect(h.linked('p1')).toBe('0.4.0');
      expect(h.of('p1').map((e) => e.type)).toEqual(['UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack', 'VersionQuarantined']);
      expect(c.quarantineOf('p1')['0.4.0']).toBeUndefined();
    });

    it('lists running, linked, installed and quarantined versions', async () => {
      const { c } = await broken();
      expect(c.upgradesOf('p1', '0.1.0')).toMatchObject({
        service: 'p1',
        role: 'provider',
        running: '0.1.0',
        linked: '0.1.0',
        installed: ['0.4.0', '0.3.0', '0.1.0'],
        quarantined: [{ version: '0.3.0', stage: 'health', reason: expect.stringContaining('no TCP answer'), at: expect.any(String) }],
      });
    });
  });

  describe('pre-upgrade hook (Cosmovisor exit codes)', () => {
    const withExits = (h: FakeHost, codes: number[]): PreUpgradeHook => {
      const left = [...codes];
      return {
        run: (command, ctx) =>
          runPreUpgradeHook(command, ctx, {
            exec: async (_cmd, env) => {
              h.timeline.push(`hook ${env.FLEETVISOR_SERVICE} ${env.FLEETVISOR_TO_VERSION}`);
              return left.shift() ?? 0;
            },
            sleep: async () => undefined,
          }),
      };
    };
    const hosted = (): FakeHost => {
      const h = new FakeHost();
      h.install('0.1.0', '0.2.0');
      h.addProvider('p1', '0.1.0');
      return h;
    };
    const config = { chainId: CHAIN, download: {}, upgrade: { preUpgrade: '/opt/hooks/pre-upgrade' } };

    it('exit 1 (not implemented) goes on with the upgrade', async () => {
      const h = hosted();
      await upgradeTo(h.coordinator({ config, hook: withExits(h, [1]) }), pv('0.2.0'));
      expect(h.timeline[0]).toBe('hook p1 0.2.0');
      expect(h.of('p1').map((e) => e.type)).toEqual(['UpgradeStarted', 'ServiceUpgraded']);
    });

    it('exit 30 fails the upgrade before anything is switched: the previous binary never stopped', async () => {
      const h = hosted();
      await upgradeTo(h.coordinator({ config, hook: withExits(h, [30]) }), pv('0.2.0'));
      expect(h.timeline).toEqual(['hook p1 0.2.0']); // no restart at all
      expect(h.linked('p1')).toBe('0.1.0');
      const evs = h.of('p1');
      expect(evs.map((e) => e.type)).toEqual(['UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack', 'VersionQuarantined']);
      expect(evs[1]!.data).toMatchObject({ stage: 'pre_upgrade', reason: 'pre-upgrade hook failed the upgrade (exit 30)' });
      expect(evs[2]!.data).toMatchObject({ restoredVersion: '0.1.0', reason: expect.stringContaining('0.1.0 kept running, never stopped') });
    });

    it('exit 31 runs the hook again, and the upgrade goes on once it passes', async () => {
      const h = hosted();
      await upgradeTo(h.coordinator({ config, hook: withExits(h, [31, 31, 0]) }), pv('0.2.0'));
      expect(h.timeline.filter((t) => t.startsWith('hook'))).toHaveLength(3);
      expect(h.of('p1').map((e) => e.type)).toEqual(['UpgradeStarted', 'ServiceUpgraded']);
      expect(h.linked('p1')).toBe('0.2.0');
    });

    it('exit 31 until the retries run out fails the upgrade', async () => {
      const h = hosted();
      await upgradeTo(h.coordinator({ config, hook: withExits(h, [31, 31, 31, 31, 31, 31, 31]) }), pv('0.2.0'));
      expect(h.of('p1').map((e) => e.type)).toEqual(['UpgradeStarted', 'UpgradeFailed', 'UpgradeRolledBack', 'VersionQuarantined']);
      expect(h.of('p1')[1]!.data).toMatchObject({ stage: 'pre_upgrade', reason: 'pre-upgrade hook asked to retry 6 times (exit 31)' });
      expect(h.linked('p1')).toBe('0.1.0');
    });
  });

  it('falls back to the best installed version >= min when the target cannot be had', async () => {
    const h = new FakeHost();
    h.install('0.1.0', '0.2.0');
    h.addProvider('p1', '0.1.0');
    await upgradeTo(h.coordinator(), pv('0.3.0', '0.2.0'));
    const evs = h.of('p1');
    expect(evs.map((e) => e.type)).toEqual(['UpgradeStarted', 'UpgradeFailed', 'VersionQuarantined', 'ServiceUpgraded']);
    expect(evs[0]!.data).toMatchObject({ toVersion: '0.3.0' });
    expect(evs[1]!.data).toMatchObject({ toVersion: '0.3.0', stage: 'obtain', reason: 'no release 0.3.0; falling back to 0.2.0' });
    expect(evs[2]!.data).toMatchObject({ version: '0.3.0', stage: 'obtain' });
    expect(evs[3]!.data).toMatchObject({ toVersion: '0.2.0' });
    expect(h.linked('p1')).toBe('0.2.0');
    expect(h.state.get().quarantine.p1?.['0.3.0']).toBeDefined(); // not asked for again until announced anew or retried
  });

  it('fails without touching the service when neither the target nor a fallback exists', async () => {
    const h = new FakeHost();
    h.install('0.1.0');
    h.addProvider('p1', '0.1.0');
    await upgradeTo(h.coordinator(), pv('0.3.0'));
    expect(h.timeline).toEqual([]);
    expect(h.of('p1').map((e) => [e.type, e.data.stage])).toEqual([['UpgradeStarted', undefined], ['UpgradeFailed', 'obtain'], ['UpgradeRolledBack', undefined], ['VersionQuarantined', 'obtain']]);
  });

  it('ignores a protocol version from an older height than the one it has', async () => {
    const h = new FakeHost();
    h.install('0.1.0', '0.2.0', '0.3.0');
    h.addProvider('p1', '0.1.0');
    const c = h.coordinator();
    await upgradeTo(c, pv('0.2.0'), 20);
    await upgradeTo(c, pv('0.3.0'), 19);
    expect(h.linked('p1')).toBe('0.2.0');
    expect(h.state.get().protocol).toMatchObject({ height: 20, version: pv('0.2.0') });
  });

  it('after a crash, rolls an upgrade cut short back to the link it came from', () => {
    const h = new FakeHost();
    h.install('0.1.0', '0.2.0');
    h.addProvider('p1', '0.2.0'); // the crash came after the switch
    h.state.update((d) => {
      d.inProgress.p1 = { correlationId: 'c-1', fromVersion: '0.1.0', toVersion: '0.2.0', phase: 'health', startedAt: new Date().toISOString() };
    });
    h.coordinator().recoverInterrupted();
    expect(h.linked('p1')).toBe('0.1.0');
    expect(h.of('p1').map((e) => [e.type, e.correlationId])).toEqual([['UpgradeFailed', 'c-1'], ['UpgradeRolledBack', 'c-1']]);
    expect(h.of('p1')[1]!.data).toMatchObject({ restoredVersion: '0.1.0', failedVersion: '0.2.0', reason: expect.stringContaining('runner stopped during the upgrade (health)') });
    expect(h.state.get().inProgress).toEqual({});
  });
});

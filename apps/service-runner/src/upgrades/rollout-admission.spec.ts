// The runner's admission seam (ADR 0009): a coordinated runner upgrades only once the rollout
// coordinator admitted its host; without an answer it waits and asks again with backoff, and says
// what it waits for. The upgrade coordinator around it is the real one, its side effects faked.
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { type CommandReply, type ProtocolVersion } from '@fleetvisor/contracts';
import { expectEventually } from '@fleetvisor/testing';
import type { ServiceDefinition } from '../home/runner-home';
import type { ExitInfo } from '../supervision/supervised-service';
import { RolloutAdmission, type AdmissionRequest, type AdmitResult } from './rollout-admission';
import { UpgradeCoordinator } from './upgrade-coordinator';
import type { ServiceProcess } from './upgrade-seams';
import type { UpgradeStateData } from './upgrade-state';

const logger = pino({ level: 'silent' });
const pv = (target: string): ProtocolVersion => ({ providerTarget: target, providerMin: '0.1.0', consumerTarget: target, consumerMin: '0.1.0' });

/** A coordinator (ask) that answers what the test says, recording each request. */
class FakeCoordinator {
  readonly asked: AdmissionRequest[] = [];
  answer: CommandReply<AdmitResult> | Error = { ok: false, error: { code: 'unavailable', message: 'no chain-watcher serves rollout-admit' } };
  ask = async (req: AdmissionRequest): Promise<CommandReply<AdmitResult>> => {
    this.asked.push(req);
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  };
}

function coordinatorWith(admission: RolloutAdmission | undefined) {
  const links = new Map<string, string>([['/h/services/p1', '1.0.0']]);
  const installed = new Set(['1.0.0', '1.1.0']);
  const recorded: string[] = [];
  let data: UpgradeStateData = { inProgress: {}, quarantine: {}, lastGood: {} } as unknown as UpgradeStateData;
  const def: ServiceDefinition = { name: 'p1', role: 'provider', chainId: 'c1', binary: 'lavap', configPath: '/c/p1.yml', args: [], networkAddress: '127.0.0.1:1', keyringPassword: false };
  const svc: ServiceProcess = { restart: async () => undefined, release: () => undefined, currentExit: () => new Promise<ExitInfo>(() => undefined) };
  const c = new UpgradeCoordinator({
    home: { serviceLink: (n) => `/h/services/${n}`, currentLink: (b) => `/h/current/${b}`, binaryPath: (v, b) => `/h/upgrades/v${v}/${b}`, installedVersions: () => [...installed] },
    config: { chainId: 'c1', download: {}, upgrade: {} },
    store: { switchLink: (link, v) => void links.set(link, v), linkedVersion: (link) => links.get(link), reportedVersion: async (f) => /\/v([^/]+)\//.exec(f)?.[1] },
    fetcher: { obtain: async (v, b) => `/h/upgrades/v${v}/${b}` },
    state: {
      get: () => data,
      update: (fn: (d: UpgradeStateData) => void) => {
        data = structuredClone(data);
        fn(data);
      },
    } as never,
    recorder: { host: 'h1', record: ((d: { type: string }) => void recorded.push(d.type)) as never },
    services: () => new Map([['p1', { def, svc }]]),
    tuning: { healthStableMs: 1, healthTimeoutMs: 1, upgradeParallelism: 1 },
    logger,
    health: { check: async () => ({ ok: true }) },
    ...(admission ? { admission } : {}),
  });
  return { c, links, recorded };
}

describe('rollout admission in the upgrade path', () => {
  it('upgrades nothing while the coordinator does not answer, asks again with backoff, and upgrades once admitted', async () => {
    const fake = new FakeCoordinator();
    let admission!: RolloutAdmission;
    const { c, links, recorded } = coordinatorWith(
      (admission = new RolloutAdmission({ chainId: 'c1', ask: fake.ask, retry: () => c.reconcile(), logger, retryInitialMs: 20, retryMaxMs: 80 })),
    );
    c.onProtocolVersion(pv('1.1.0'), { height: 10 });
    await expectEventually(() => expect(fake.asked.length).toBeGreaterThanOrEqual(3));
    expect(fake.asked[0]).toEqual({ chainId: 'c1', version: pv('1.1.0'), services: [{ service: 'p1', toVersion: '1.1.0' }] });
    expect(recorded).toEqual([]);
    expect(links.get('/h/services/p1')).toBe('1.0.0');
    expect(admission.pendingAdmission()).toMatchObject({ services: 'p1@1.1.0', reason: expect.stringContaining('no answer from the rollout coordinator (unavailable') });
    expect(admission.pendingAdmission()!.attempts).toBeGreaterThanOrEqual(3);

    // A coordinator that says wait is obeyed the same way, with its reason shown.
    fake.answer = { ok: true, result: { decision: 'wait', reason: 'canary wave: h0 not healthy yet', retryAfterMs: 30 } };
    await expectEventually(() => expect(admission.pendingAdmission()?.reason).toBe('wait: canary wave: h0 not healthy yet'));
    expect(recorded).toEqual([]);

    fake.answer = { ok: true, result: { decision: 'admitted', rolloutId: '01946a2b-3c00-7000-8000-0000000000aa', wave: 1 } };
    await expectEventually(() => expect(recorded).toEqual(['UpgradeStarted', 'ServiceUpgraded']));
    expect(links.get('/h/services/p1')).toBe('1.1.0');
    expect(admission.pendingAdmission()).toBeUndefined();
    await c.stop();
    admission.stop();
  });

  it('an admission is not remembered: the next pass asks again, so a retry after a failure cannot slip past a halted rollout', async () => {
    const fake = new FakeCoordinator();
    const admission = new RolloutAdmission({ chainId: 'c1', ask: fake.ask, retry: () => undefined, logger, retryInitialMs: 1_000, retryMaxMs: 5_000 });
    fake.answer = { ok: true, result: { decision: 'admitted', rolloutId: '01946a2b-3c00-7000-8000-0000000000aa', wave: 0 } };
    expect(await admission.admit(pv('1.1.0'), [{ service: 'p1', toVersion: '1.1.0' }])).toBe(true);
    fake.answer = { ok: true, result: { decision: 'refused', reason: 'this host failed in this rollout (health)' } };
    expect(await admission.admit(pv('1.1.0'), [{ service: 'p1', toVersion: '1.1.0' }])).toBe(false);
    expect(fake.asked).toHaveLength(2);
    expect(admission.pendingAdmission()?.reason).toBe('refused: this host failed in this rollout (health)');
    admission.stop();
  });

  it('a thrown transport error is no admission', async () => {
    const fake = new FakeCoordinator();
    fake.answer = new Error('connection closed');
    const admission = new RolloutAdmission({ chainId: 'c1', ask: fake.ask, retry: () => undefined, logger, retryInitialMs: 1_000, retryMaxMs: 5_000 });
    expect(await admission.admit(pv('1.1.0'), [{ service: 'p1', toVersion: '1.1.0' }])).toBe(false);
    expect(admission.pendingAdmission()).toMatchObject({ attempts: 1, reason: expect.stringContaining('connection closed') });
    admission.stop();
  });

  it('without the seam (independent runners) the upgrade goes at once, as before', async () => {
    const { c, recorded } = coordinatorWith(undefined);
    c.onProtocolVersion(pv('1.1.0'), { height: 10 });
    await c.idle();
    expect(recorded).toEqual(['UpgradeStarted', 'ServiceUpgraded']);
  });
});

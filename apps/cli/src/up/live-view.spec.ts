import { describe, expect, it } from 'vitest';
import { EVENT_EXAMPLES, fleetEvents, newEventFor, type EventDefinition } from '@fleetvisor/contracts';
import { LiveView } from './live-view';

function example(type: keyof typeof EVENT_EXAMPLES, data: object = {}, actor?: string) {
  const def = fleetEvents.get(type) as EventDefinition;
  return newEventFor(def, { ...(EVENT_EXAMPLES[type] as object), ...data } as never, actor ? { actor } : {}, { occurredAt: new Date('2026-12-07T02:11:03.120Z') });
}

describe('LiveView', () => {
  it('prints one readable line for what an operator watches, naming who asked', () => {
    const view = new LiveView();
    expect(view.onEvent(example('VersionChanged'))).toMatch(/^02:11:03  VersionChanged\s+lava-\S+ at height \d+: provider \d+\.\d+\.\d+ \(min \d+\.\d+\.\d+\), consumer/);
    expect(view.onEvent(example('UpgradeRolledBack'))).toBe('02:11:03  UpgradeRolledBack   host-01/consumer-ETH1: back on 0.23.1, 0.23.2 failed (crashed at start (exit code 1))');
    expect(view.onEvent(example('ThreadPaused', { reason: 'manual', lastError: undefined }, 'alice@ops'))).toMatch(/ThreadPaused .*w-01 .*\(by alice@ops\)$/);
    // A host that went silent, and came back, is what an operator watches too.
    expect(view.onEvent(example('HostExpired'))).toMatch(/HostExpired .*host-02 .*"silentMs":120000/);
    expect(view.onEvent(example('HostReturned'))).toMatch(/HostReturned .*host-02/);
  });

  it('prints the quarantine of a failed version, each canary check and the lifting of a quarantine', () => {
    const view = new LiveView();
    expect(view.onEvent(example('VersionQuarantined'))).toBe('02:11:03  VersionQuarantined  host-01/consumer-ETH1: 0.23.2 quarantined (start: exited with code 1 before it was healthy)');
    expect(view.onEvent(example('CanaryChecked'))).toMatch(/^02:11:03  CanaryChecked\s+host-01\/consumer-ETH1: canary of 0\.23\.2 unhealthy \(exited with code 1 310 ms after start \(needs 5000 ms up\)\), next check \S+$/);
    expect(view.onEvent(example('QuarantineLifted'))).toMatch(/QuarantineLifted .*host-01\/consumer-ETH1/);
  });

  it('prints what starts, stops and ends a fleet-wide rollout, with who resumed or aborted it; counts waves and admissions', () => {
    const view = new LiveView();
    expect(view.onEvent(example('RolloutHalted'))).toBe('02:11:03  RolloutHalted       lava-testnet-2: rollout halted by host-01/consumer-ETH1: UpgradeFailed at health: exited with code 1 within 30000 ms');
    expect(view.onEvent(example('RolloutResumed', {}, 'alice'))).toBe('02:11:03  RolloutResumed      lava-testnet-2: rollout resumed  (by alice)');
    expect(view.onEvent(example('RolloutCompleted'))).toMatch(/rollout completed on 12 host\(s\), 0 failed$/);
    expect(view.onEvent(example('RolloutHostAdmitted'))).toBeUndefined();
  });

  it('prints known trouble a service reported, with its remedy', () => {
    expect(new LiveView().onEvent(example('ServiceNeedsAttention'))).toMatch(/^02:11:03  ServiceNeedsAttention \S+: venus-wallet has no password: it cannot sign \(messages, blocks, PoSt\); remedy: fleetvisor secrets set-password wallet-1$/);
  });

  it("prints the proving watch's trouble: faults and recoveries with their sectors, missed and at-risk deadlines", () => {
    const view = new LiveView();
    expect(view.onEvent(example('SectorsFaulted', { minerId: 't01001', deadline: 11, partition: 0, sectors: [44, 45], epoch: 1031 }))).toBe(
      '02:11:03  SectorsFaulted      t01001 deadline 11 partition 0: sectors 44, 45 at epoch 1031',
    );
    expect(view.onEvent(example('SectorsRecovered', { sectors: Array.from({ length: 12 }, (_, i) => i) }))).toMatch(/sectors 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 \(and 2 more\) at epoch \d+$/);
    expect(view.onEvent(example('WindowPoStMissed', { minerId: 't01001', deadline: 11, close: 1031, partitions: [0] }))).toBe(
      '02:11:03  WindowPoStMissed    t01001 deadline 11 closed at epoch 1031 with partitions 0 not proven',
    );
    expect(view.onEvent(example('ProvingDeadlineAtRisk', { minerId: 't01001', deadline: 11, open: 1141 }))).toBe(
      '02:11:03  ProvingDeadlineAtRisk t01001 deadline 11 opened at epoch 1141 holding faults not declared recovered',
    );
  });

  it('counts routine events instead of printing them, and sums them up once per summary', () => {
    const view = new LiveView();
    for (let i = 0; i < 5; i++) expect(view.onEvent(example('ThreadStateChanged'))).toBeUndefined();
    expect(view.onEvent(example('ServiceStarted'))).toBeUndefined();
    expect(view.summary()).toMatch(/6 more events: 5 ThreadStateChanged, 1 ServiceStarted$/);
    expect(view.summary()).toMatch(/no other events$/);
  });

  it('keeps the fleet picture: chain version, workers (expired ones), each service on its version', () => {
    const view = new LiveView();
    view.onEvent(example('VersionChanged'));
    view.onEvent(example('WorkerRegistered'));
    view.onEvent(example('WorkerRegistered', { name: 'w-02' }));
    view.onEvent(example('WorkerExpired', { name: 'w-02' }));
    view.onEvent(example('ServiceStarted'));
    expect(view.state()).toMatchObject({ workers: 2, expiredWorkers: 1 });
    view.onEvent(example('ServiceUpgraded'));
    expect(view.state().services.get('host-01/consumer-ETH1')).toBe('0.23.2');
    view.onEvent(example('UpgradeRolledBack'));
    expect(view.state().services.get('host-01/consumer-ETH1')).toBe('0.23.1');
    view.onEvent(example('WorkerReturned', { name: 'w-02' }));
    view.onEvent(example('WorkerRemoved', { name: 'w-01' }));
    expect(view.summary()).toMatch(/^fleet: chain lava-\S+ \d+\.\d+\.\d+ \| 1 worker \| 1 service \(host-01\/consumer-ETH1 0\.23\.1\)/);
  });
});

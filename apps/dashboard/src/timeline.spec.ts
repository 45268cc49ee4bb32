import { describe, expect, it } from 'vitest';
import type { FleetEvent } from './api';
import { upgradeTimeline } from './timeline';

let n = 0;
const ev = (type: string, at: string, data: Record<string, unknown>): FleetEvent => ({ id: String(++n), type, stream: 'service-x', data, metadata: {}, occurredAt: at, checkpoint: `1:${n}` });

describe('upgradeTimeline', () => {
  it('pairs each start with its outcome per host and service, newest first', () => {
    const rows = upgradeTimeline([
      ev('UpgradeStarted', '2026-12-07T10:00:00Z', { host: 'h1', service: 'p1', fromVersion: '5.1.0', toVersion: '5.2.0', reason: 'provider_target 5.2.0' }),
      ev('UpgradeStarted', '2026-12-07T10:00:01Z', { host: 'h2', service: 'p1', fromVersion: '5.1.0', toVersion: '5.2.0', reason: 'provider_target 5.2.0' }),
      ev('ServiceUpgraded', '2026-12-07T10:00:05Z', { host: 'h1', service: 'p1', fromVersion: '5.1.0', toVersion: '5.2.0', durationMs: 5000 }),
      ev('UpgradeFailed', '2026-12-07T10:00:09Z', { host: 'h2', service: 'p1', stage: 'health_check', reason: 'no answer' }),
      ev('UpgradeRolledBack', '2026-12-07T10:00:11Z', { host: 'h2', service: 'p1', restoredVersion: '5.1.0', failedVersion: '5.2.0', reason: 'x' }),
      ev('UpgradeStarted', '2026-12-07T11:00:00Z', { host: 'h1', service: 'p1', fromVersion: '5.2.0', toVersion: '5.3.0', reason: 'retry', actor: 'alice' }),
    ]);
    expect(rows.map((r) => [r.host, r.toVersion, r.outcome, r.durationMs, r.cause, r.actor])).toEqual([
      ['h1', '5.3.0', 'in_progress', undefined, 'retry', 'alice'],
      ['h2', '5.2.0', 'rolled_back', 10_000, 'health_check: no answer; back on 5.1.0', undefined],
      ['h1', '5.2.0', 'succeeded', 5000, 'provider_target 5.2.0', undefined],
    ]);
  });
});

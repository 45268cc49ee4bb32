// The upgrade timeline from the log's upgrade events: each UpgradeStarted with what became of it
// (ServiceUpgraded, UpgradeFailed, then UpgradeRolledBack), per host and service, newest first.
import type { FleetEvent } from './api';

export const UPGRADE_EVENT_TYPES = ['UpgradeStarted', 'ServiceUpgraded', 'UpgradeFailed', 'UpgradeRolledBack', 'VersionQuarantined'] as const;

export interface UpgradeRow {
  host: string;
  service: string;
  fromVersion: string;
  toVersion: string;
  startedAt: string;
  outcome: 'in_progress' | 'succeeded' | 'failed' | 'rolled_back';
  durationMs?: number;
  cause: string;
  actor?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function upgradeTimeline(events: readonly FleetEvent[]): UpgradeRow[] {
  const open = new Map<string, UpgradeRow>();
  const rows: UpgradeRow[] = [];
  for (const e of events) {
    const host = str(e.data['host']) ?? e.metadata.host ?? '?';
    const service = str(e.data['service']) ?? '?';
    const key = `${host}/${service}`;
    if (e.type === 'UpgradeStarted') {
      const row: UpgradeRow = {
        host,
        service,
        fromVersion: str(e.data['fromVersion']) ?? '?',
        toVersion: str(e.data['toVersion']) ?? '?',
        startedAt: e.occurredAt,
        outcome: 'in_progress',
        cause: str(e.data['reason']) ?? '',
        ...(str(e.data['actor']) ? { actor: str(e.data['actor'])! } : {}),
      };
      open.set(key, row);
      rows.push(row);
      continue;
    }
    const row = open.get(key);
    if (!row) continue;
    const elapsed = Date.parse(e.occurredAt) - Date.parse(row.startedAt);
    if (e.type === 'ServiceUpgraded') {
      row.outcome = 'succeeded';
      row.durationMs = typeof e.data['durationMs'] === 'number' ? e.data['durationMs'] : elapsed;
      open.delete(key);
    } else if (e.type === 'UpgradeFailed') {
      row.outcome = 'failed';
      row.durationMs = elapsed;
      row.cause = `${str(e.data['stage']) ?? 'failed'}: ${str(e.data['reason']) ?? ''}`;
    } else if (e.type === 'UpgradeRolledBack') {
      row.outcome = 'rolled_back';
      row.durationMs = elapsed;
      row.cause = `${row.cause}; back on ${str(e.data['restoredVersion']) ?? '?'}`;
      open.delete(key);
    }
  }
  return rows.reverse();
}

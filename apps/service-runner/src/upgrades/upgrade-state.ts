// The upgrade state machine on disk (state/upgrade-state.json, written atomically), so that a
// runner killed at any point (kill -9 included) knows on restart what it was doing:
//   protocol     the last protocol version seen (from the bus, the log or the node) and its source
//   inProgress   per service: the upgrade under way, with the version to go back to
//   failures     per service and version: attempts and when to try again (backoff, not every block)
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isProtocolVersion, type ProtocolVersion } from '@fleetvisor/contracts';
import { writeFileAtomic } from '../home/atomic-file';

export interface InProgressUpgrade {
  correlationId: string;
  fromVersion: string;
  toVersion: string;
  phase: 'switching' | 'health' | 'rolling_back';
  startedAt: string;
}

export interface UpgradeFailureRecord {
  attempts: number;
  nextRetryAt: string;
  reason: string;
}

export interface UpgradeStateData {
  protocol: { version: ProtocolVersion; height?: number; eventId?: string } | null;
  inProgress: Record<string, InProgressUpgrade>;
  failures: Record<string, UpgradeFailureRecord>;
}

export class UpgradeStateStore {
  readonly file: string;
  private data: UpgradeStateData;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'upgrade-state.json');
    this.data = this.load();
  }

  private load(): UpgradeStateData {
    const empty: UpgradeStateData = { protocol: null, inProgress: {}, failures: {} };
    if (!existsSync(this.file)) return empty;
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<UpgradeStateData>;
      return {
        protocol: raw.protocol && isProtocolVersion(raw.protocol.version) ? raw.protocol : null,
        inProgress: raw.inProgress ?? {},
        failures: raw.failures ?? {},
      };
    } catch {
      return empty;
    }
  }

  get(): Readonly<UpgradeStateData> {
    return this.data;
  }

  update(fn: (d: UpgradeStateData) => void): void {
    const next = structuredClone(this.data);
    fn(next);
    writeFileAtomic(this.file, JSON.stringify(next, null, 2));
    this.data = next;
  }
}

export const failureKey = (service: string, version: string): string => `${service}@${version}`;

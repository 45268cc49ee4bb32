// The upgrade state machine on disk (state/upgrade-state.json, written atomically), so that a
// runner killed at any point (kill -9 included) knows on restart what it was doing:
//   protocol     the last protocol version seen (from the bus, the log or the node) and its source
//   inProgress   per service: the upgrade under way, with the version to go back to
//   quarantine   per service: the versions that failed for it, why and when (quarantine.ts)
//   lastGood     per service: the last version it ran healthily (what it starts on when its link
//                names a quarantined version)
//   canary       per service and quarantined version: the last canary check (retry policy canary,
//                canary-retry.ts), so the next one keeps its time across runner restarts
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isProtocolVersion, parseStrictVersion, QUARANTINE_STAGES, type ProtocolVersion } from '@fleetvisor/contracts';
import { writeFileAtomic } from '../home/atomic-file';
import type { QuarantineRecord } from './quarantine';

export interface InProgressUpgrade {
  correlationId: string;
  fromVersion: string;
  toVersion: string;
  phase: 'switching' | 'health' | 'rolling_back';
  startedAt: string;
}

export interface UpgradeStateData {
  protocol: { version: ProtocolVersion; height?: number; eventId?: string } | null;
  inProgress: Record<string, InProgressUpgrade>;
  /** service -> version -> why it is quarantined. */
  quarantine: Record<string, Record<string, QuarantineRecord>>;
  /** service -> the last version it ran healthily. */
  lastGood: Record<string, string>;
  /** service -> quarantined version -> its last canary check. */
  canary: Record<string, Record<string, CanaryCheckRecord>>;
}

export interface CanaryCheckRecord {
  /** ISO time the check ended. */
  at: string;
  outcome: 'healthy' | 'unhealthy';
  reason: string;
}

/**
 * A state file written before quarantines existed held `failures` ("<service>@<version>" with a
 * retry time): each of those versions failed, so each is quarantined now.
 */
function quarantineFromFailures(failures: unknown): UpgradeStateData['quarantine'] {
  const out: UpgradeStateData['quarantine'] = {};
  if (typeof failures !== 'object' || failures === null) return out;
  for (const [key, f] of Object.entries(failures as Record<string, { reason?: unknown; nextRetryAt?: unknown }>)) {
    const at = key.lastIndexOf('@');
    const service = key.slice(0, at);
    const version = key.slice(at + 1);
    if (at < 1 || !parseStrictVersion(version)) continue;
    (out[service] ??= {})[version] = { stage: 'start', reason: typeof f?.reason === 'string' && f.reason ? f.reason : 'failed before', at: new Date().toISOString() };
  }
  return out;
}

export class UpgradeStateStore {
  readonly file: string;
  private data: UpgradeStateData;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'upgrade-state.json');
    this.data = this.load();
  }

  private load(): UpgradeStateData {
    const empty: UpgradeStateData = { protocol: null, inProgress: {}, quarantine: {}, lastGood: {}, canary: {} };
    if (!existsSync(this.file)) return empty;
    try {
      const raw = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<UpgradeStateData> & { failures?: unknown };
      const quarantine = raw.quarantine ?? quarantineFromFailures(raw.failures);
      for (const versions of Object.values(quarantine)) {
        for (const q of Object.values(versions)) if (!(QUARANTINE_STAGES as readonly string[]).includes(q.stage)) q.stage = 'start';
      }
      return {
        protocol: raw.protocol && isProtocolVersion(raw.protocol.version) ? raw.protocol : null,
        inProgress: raw.inProgress ?? {},
        quarantine,
        lastGood: raw.lastGood ?? {},
        canary: raw.canary ?? {},
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


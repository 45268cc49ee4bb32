// What `fleetvisor up` shows a person while it runs: one line for each event that wants an
// operator's eye (version changes, upgrades and rollbacks, anomalies, what someone asked for and
// who, workers that expire or come back, services that crash), and every few seconds one line that
// sums the fleet up. Thread state changes and other routine events are counted into that line,
// not printed: they are most of the traffic. `--verbose` prints every event, `--json` every event
// as JSON for scripts. Plain logic: the command feeds it events and prints what it returns.
import type { EventEnvelope, RecordedEvent } from '@fleetvisor/contracts';

type AnyEvent = EventEnvelope | RecordedEvent;

/** Event types shown one line each. */
export const WATCHED_TYPES: ReadonlySet<string> = new Set([
  'VersionChanged',
  'UpgradePlanned',
  'ChainAnomaly',
  'UpgradeStarted',
  'ServiceUpgraded',
  'UpgradeFailed',
  'UpgradeRolledBack',
  'CanaryChecked',
  'VersionQuarantined',
  'QuarantineLifted',
  'ServiceCrashLooping',
  'ServiceNeedsAttention',
  'ServiceCreated',
  'ThreadPaused',
  'ThreadResumed',
  'WorkerDrainStarted',
  'WorkerDrainFinished',
  'WorkerRegistered',
  'WorkerExpired',
  'WorkerReturned',
  'WorkerRemoved',
  'HostOnline',
  'HostOffline',
  'HostExpired',
  'HostReturned',
  'CallRateAnomaly',
  'CallRateRecovered',
  // the proving watch (issue 18)
  'SectorsFaulted',
  'SectorsRecovered',
  'WindowPoStMissed',
  'ProvingDeadlineAtRisk',
  // fleet-wide rollouts (ADR 0009): what stops or ends one; waves and admissions are counted
  'RolloutStarted',
  'RolloutHalted',
  'RolloutResumed',
  'RolloutAborted',
  'RolloutCompleted',
]);

function field(data: unknown, key: string): unknown {
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[key] : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** The part of a stream id after its area: `service-host/name` -> `host/name`. */
function subjectOf(stream: string): string {
  const dash = stream.indexOf('-');
  return dash < 0 ? stream : stream.slice(dash + 1);
}

/** Numbers as `1, 2, 3` (at most 10, then how many more). */
function sectorList(v: unknown): string {
  if (!Array.isArray(v)) return '?';
  const shown = v.slice(0, 10).join(', ');
  return v.length > 10 ? `${shown} (and ${v.length - 10} more)` : shown;
}

function describe(e: AnyEvent): string {
  const d = e.data;
  switch (e.type) {
    case 'VersionChanged': {
      const cur = field(d, 'current');
      return `${str(field(d, 'chainId'))} at height ${str(field(d, 'height'))}: provider ${str(field(cur, 'providerTarget'))} (min ${str(field(cur, 'providerMin'))}), consumer ${str(field(cur, 'consumerTarget'))} (min ${str(field(cur, 'consumerMin'))})`;
    }
    case 'ServiceUpgraded':
      return `${subjectOf(e.stream)}: ${str(field(d, 'fromVersion'))} -> ${str(field(d, 'toVersion'))}`;
    case 'UpgradeStarted':
      return `${subjectOf(e.stream)}: ${str(field(d, 'fromVersion'))} -> ${str(field(d, 'toVersion'))} (${str(field(d, 'reason'))})`;
    case 'UpgradeFailed':
      return `${subjectOf(e.stream)}: ${str(field(d, 'toVersion'))} failed at ${str(field(d, 'stage'))}: ${str(field(d, 'reason'))}`;
    case 'UpgradeRolledBack':
      return `${subjectOf(e.stream)}: back on ${str(field(d, 'restoredVersion'))}, ${str(field(d, 'failedVersion'))} failed (${str(field(d, 'reason'))})`;
    case 'CanaryChecked':
      return `${subjectOf(e.stream)}: canary of ${str(field(d, 'version'))} ${str(field(d, 'outcome'))} (${str(field(d, 'reason'))})${field(d, 'nextCheckAt') ? `, next check ${str(field(d, 'nextCheckAt'))}` : ''}`;
    case 'VersionQuarantined':
      return `${subjectOf(e.stream)}: ${str(field(d, 'version'))} quarantined (${str(field(d, 'stage'))}: ${str(field(d, 'reason'))})`;
    case 'RolloutStarted':
      return `${str(field(d, 'chainId'))}: rollout of the version change at height ${str(field(d, 'height'))} started`;
    case 'RolloutHalted':
      return `${str(field(d, 'chainId'))}: rollout halted by ${str(field(d, 'host'))}${field(d, 'service') ? `/${str(field(d, 'service'))}` : ''}: ${str(field(d, 'reason'))}`;
    case 'RolloutResumed':
      return `${str(field(d, 'chainId'))}: rollout resumed`;
    case 'RolloutAborted':
      return `${str(field(d, 'chainId'))}: rollout aborted: ${str(field(d, 'reason'))}`;
    case 'RolloutCompleted':
      return `${str(field(d, 'chainId'))}: rollout completed on ${str(field(d, 'hosts'))} host(s), ${str(field(d, 'failed'))} failed`;
    case 'ServiceNeedsAttention':
      return `${subjectOf(e.stream)}: ${str(field(d, 'problem'))}; remedy: ${str(field(d, 'remedy'))}`;
    case 'SectorsFaulted':
    case 'SectorsRecovered':
      return `${str(field(d, 'minerId'))} deadline ${str(field(d, 'deadline'))} partition ${str(field(d, 'partition'))}: sectors ${sectorList(field(d, 'sectors'))} at epoch ${str(field(d, 'epoch'))}`;
    case 'WindowPoStMissed':
      return `${str(field(d, 'minerId'))} deadline ${str(field(d, 'deadline'))} closed at epoch ${str(field(d, 'close'))} with partitions ${sectorList(field(d, 'partitions'))} not proven`;
    case 'ProvingDeadlineAtRisk':
      return `${str(field(d, 'minerId'))} deadline ${str(field(d, 'deadline'))} opened at epoch ${str(field(d, 'open'))} holding faults not declared recovered`;
    default: {
      const data = JSON.stringify(d);
      return `${subjectOf(e.stream)} ${data.length > 140 ? data.slice(0, 139) + '…' : data}`;
    }
  }
}

export interface FleetSummary {
  workers: number;
  expiredWorkers: number;
  services: Map<string, string>;
  chainVersion: string | undefined;
}

export class LiveView {
  private readonly workers = new Map<string, { expired: boolean }>();
  private readonly services = new Map<string, string>();
  private chainVersion: string | undefined;
  private counted = new Map<string, number>();

  /** The line to print for this event, or undefined when it is only counted. */
  onEvent(e: AnyEvent): string | undefined {
    this.fold(e);
    if (!WATCHED_TYPES.has(e.type)) {
      this.counted.set(e.type, (this.counted.get(e.type) ?? 0) + 1);
      return undefined;
    }
    const actor = e.metadata?.actor;
    const time = e.occurredAt.slice(11, 19);
    return `${time}  ${e.type.padEnd(19)} ${describe(e)}${actor ? `  (by ${actor})` : ''}`;
  }

  /** One line about the fleet and what was counted since the last summary (which it resets). */
  summary(): string {
    const expired = [...this.workers.values()].filter((w) => w.expired).length;
    const services = [...this.services.entries()].map(([name, v]) => `${name} ${v}`).join(', ');
    const total = [...this.counted.values()].reduce((a, b) => a + b, 0);
    const top = [...this.counted.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([t, n]) => `${n} ${t}`)
      .join(', ');
    this.counted = new Map();
    const parts = [
      `chain ${this.chainVersion ?? 'not seen yet'}`,
      `${this.workers.size} worker${this.workers.size === 1 ? '' : 's'}${expired ? ` (${expired} expired)` : ''}`,
      `${this.services.size} service${this.services.size === 1 ? '' : 's'}${services ? ` (${services})` : ''}`,
      total ? `${total} more event${total === 1 ? '' : 's'}: ${top}` : 'no other events',
    ];
    return `fleet: ${parts.join(' | ')}`;
  }

  /** The fleet as the events so far describe it. */
  state(): FleetSummary {
    return { workers: this.workers.size, expiredWorkers: [...this.workers.values()].filter((w) => w.expired).length, services: new Map(this.services), chainVersion: this.chainVersion };
  }

  private fold(e: AnyEvent): void {
    const d = e.data;
    switch (e.type) {
      case 'VersionChanged': {
        const cur = field(d, 'current');
        this.chainVersion = `${str(field(d, 'chainId'))} ${str(field(cur, 'providerTarget'))}`;
        break;
      }
      case 'WorkerRegistered':
      case 'WorkerReturned':
        this.workers.set(String(field(d, 'name')), { expired: false });
        break;
      case 'WorkerExpired':
        this.workers.set(String(field(d, 'name')), { expired: true });
        break;
      case 'WorkerRemoved':
        this.workers.delete(String(field(d, 'name')));
        break;
      case 'ServiceStarted': {
        const v = str(field(d, 'version'));
        if (v) this.services.set(subjectOf(e.stream), v);
        break;
      }
      case 'ServiceUpgraded':
      case 'UpgradeRolledBack': {
        const v = str(field(d, e.type === 'ServiceUpgraded' ? 'toVersion' : 'restoredVersion'));
        if (v) this.services.set(subjectOf(e.stream), v);
        break;
      }
    }
  }
}

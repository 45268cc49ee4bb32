// `fleetvisor hosts list`: every runner host the worker-registry heard of (issue 14), online, silent
// since when (no heartbeat past FLEETVISOR_HOST_EXPIRATION, HostExpired) or offline (stopped cleanly).
import { HostsList, type HostSummary } from '@fleetvisor/contracts';
import { defineCliCommand } from '@fleetvisor/platform';
import { askRegistry, formatElapsed, formatTime, table } from './worker-common';

/** The STATE column: online, SILENT since <time>, offline since <time>. */
export function hostState(h: HostSummary): string {
  if (h.state === 'expired') return `SILENT since ${formatTime(h.since)}`;
  if (h.state === 'offline') return `offline since ${formatTime(h.since)}`;
  return 'online';
}

export function formatHostsList(hosts: readonly HostSummary[], nowMs: number): string {
  if (hosts.length === 0) return 'no host has reported to the worker-registry since it started\n';
  return table(
    ['HOST', 'STATE', 'LAST SEEN', 'VERSION'],
    hosts.map((h) => [h.host, hostState(h), `${formatTime(h.lastSeen)} (${formatElapsed(Math.max(0, nowMs - Date.parse(h.lastSeen)))} ago)`, h.version ?? '-']),
  );
}

export const hostsListCommand = defineCliCommand({
  path: ['hosts', 'list'],
  summary: 'Every runner host: online, silent since when (no heartbeat), or offline (asks the worker-registry)',
  options: { json: { type: 'boolean', description: 'the list as one JSON object' } },
  examples: ['fleetvisor hosts list', 'fleetvisor hosts list --json'],
  async run({ options, io }) {
    const { hosts } = await askRegistry(HostsList, {});
    if (options.json) io.out(JSON.stringify({ hosts }) + '\n');
    else io.out(formatHostsList(hosts, Date.now()));
  },
});

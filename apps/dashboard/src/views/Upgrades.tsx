// Upgrades: a timeline per host and service from the log (outcome, duration, cause), the versions
// quarantined now, and retry for roles that may.
import { Badge, Button, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { mayAct, type Api, type FleetEvent } from '../api';
import { formatElapsed, formatTime } from '../format';
import { useLive, useSession } from '../live';
import { upgradeTimeline, UPGRADE_EVENT_TYPES, type UpgradeRow } from '../timeline';
import { DataTable, Loading } from './common';

const OUTCOME_COLOR: Record<UpgradeRow['outcome'], string> = { in_progress: 'blue', succeeded: 'teal', failed: 'red', rolled_back: 'orange' };

interface Quarantined {
  host: string;
  service: string;
  versions: { version: string; stage: string; reason: string; at: string }[];
}

/** Every upgrade event of the log (the type filter is applied by the store, so this stays cheap). */
async function upgradeEvents(api: Api): Promise<FleetEvent[]> {
  const out: FleetEvent[] = [];
  let after: string | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await api.get<{ events: FleetEvent[]; next: string; caughtUp: boolean }>('/api/v1/events', { type: UPGRADE_EVENT_TYPES.join(','), limit: 1000, after });
    out.push(...page.events);
    if (page.caughtUp) break;
    after = page.next;
  }
  return out;
}

export function Upgrades() {
  const { api, who } = useSession();
  const [message, setMessage] = useState<string | undefined>();
  const isUpgradeEvent = (e: FleetEvent) => (UPGRADE_EVENT_TYPES as readonly string[]).includes(e.type) || e.type === 'QuarantineLifted';
  const timeline = useLive(async (a) => upgradeTimeline(await upgradeEvents(a)), isUpgradeEvent);
  const quarantine = useLive((a) => a.get<{ quarantined: Quarantined[] }>('/api/v1/upgrades/quarantined'), isUpgradeEvent);
  const retry = async (q: Quarantined) => {
    try {
      await api!.post(`/api/v1/hosts/${encodeURIComponent(q.host)}/services/${encodeURIComponent(q.service)}/upgrades/retry`, {});
      setMessage(`Retry of ${q.service} on ${q.host} asked.`);
      quarantine.reload();
    } catch (e) {
      setMessage(`Retry refused: ${(e as Error).message}`);
    }
  };
  return (
    <Stack>
      <Title order={2}>Upgrades</Title>
      {message && <Text role="status">{message}</Text>}
      <Title order={3}>Quarantined versions</Title>
      {quarantine.data ? (
        <DataTable
          caption="Quarantined versions"
          empty="No version is quarantined."
          head={['Host', 'Service', 'Version', 'Why', 'Since', '']}
          rows={quarantine.data.quarantined.flatMap((q) =>
            q.versions.map((v) => [
              q.host,
              q.service,
              v.version,
              `${v.stage}: ${v.reason}`,
              formatTime(v.at),
              mayAct(who, 'operate') ? (
                <Button size="xs" variant="light" onClick={() => void retry(q)} aria-label={`Retry ${q.service} on ${q.host}`}>
                  Retry
                </Button>
              ) : null,
            ]),
          )}
        />
      ) : (
        <Loading error={quarantine.error} what="quarantined versions" />
      )}
      <Title order={3}>Timeline</Title>
      {timeline.data ? (
        <DataTable
          caption="Upgrade timeline"
          empty="No upgrade recorded yet."
          head={['Started', 'Host', 'Service', 'From → to', 'Outcome', 'Duration', 'Cause', 'Asked by']}
          rows={timeline.data.map((r) => [
            formatTime(r.startedAt),
            r.host,
            r.service,
            `${r.fromVersion} → ${r.toVersion}`,
            <Badge color={OUTCOME_COLOR[r.outcome]}>{r.outcome.replace('_', ' ')}</Badge>,
            r.durationMs !== undefined ? formatElapsed(r.durationMs) : '-',
            r.cause,
            r.actor ?? 'the chain',
          ])}
        />
      ) : (
        <Loading error={timeline.error} what="the upgrade timeline" />
      )}
    </Stack>
  );
}

// The fleet at a glance: chains (height, watch health, target and minimum versions), runner hosts,
// services per host with their version against their chain's, upgrades in progress, anomalies.
import { Badge, SimpleGrid, Stack, Title, Text } from '@mantine/core';
import { formatElapsed, formatTime, versionStanding, type VersionStanding } from '../format';
import { useLive } from '../live';
import type { ChainStatusEntry, FilecoinChainEntry, HostSummary, ServiceSummary, StatsAnomaly } from '../types';
import { DataTable, Loading } from './common';

const STANDING: Record<VersionStanding, { color: string; label: string }> = {
  current: { color: 'teal', label: 'at target' },
  behind: { color: 'yellow', label: 'behind target' },
  below_min: { color: 'red', label: 'below minimum' },
  ahead: { color: 'blue', label: 'ahead of target' },
  unknown: { color: 'gray', label: 'unknown' },
};

interface FleetData {
  chains: ChainStatusEntry[];
  filecoin: FilecoinChainEntry[];
  hosts: HostSummary[];
  services: { host: string; services: ServiceSummary[] }[];
  upgrading: { host: string; service: ServiceSummary }[];
  anomalies: StatsAnomaly[];
  partial: string[];
}

async function settle<T>(p: Promise<T>, fallback: T, what: string, partial: string[]): Promise<T> {
  try {
    return await p;
  } catch (e) {
    partial.push(`${what}: ${(e as Error).message}`);
    return fallback;
  }
}

export function Overview() {
  const { data, error } = useLive<FleetData>(
    async (api) => {
      const partial: string[] = [];
      const [chains, hosts, services, upgrading, anomalies] = await Promise.all([
        settle(api.get<{ chains: ChainStatusEntry[]; filecoin?: FilecoinChainEntry[] }>('/api/v1/chains'), { chains: [] }, 'chains', partial),
        settle(api.get<{ hosts: HostSummary[] }>('/api/v1/hosts'), { hosts: [] }, 'hosts', partial),
        settle(api.get<{ hosts: { host: string; services: ServiceSummary[] }[] }>('/api/v1/services'), { hosts: [] }, 'services', partial),
        settle(api.get<{ upgrading: { host: string; service: ServiceSummary }[] }>('/api/v1/upgrades/in-progress'), { upgrading: [] }, 'upgrades', partial),
        settle(api.get<{ anomalies: StatsAnomaly[] }>('/api/v1/stats/anomalies', { open: true, limit: 50 }), { anomalies: [] }, 'anomalies', partial),
      ]);
      return { chains: chains.chains, filecoin: chains.filecoin ?? [], hosts: hosts.hosts, services: services.hosts, upgrading: upgrading.upgrading, anomalies: anomalies.anomalies, partial };
    },
    (e) => /^(Host|Service|Upgrade|Version|CallRate|Quarantine|Sectors|WindowPoSt|ProvingDeadline)/.test(e.type),
    [],
    // Heights, epochs, lag and last-seen times move without an event.
    10_000,
  );
  if (!data) return <Loading error={error} what="the fleet" />;
  const byChain = new Map(data.chains.map((c) => [c.chainId, c]));
  const now = Date.now();
  return (
    <Stack>
      <Title order={2}>Fleet</Title>
      {data.partial.length > 0 && <Text c="orange">Some parts did not answer: {data.partial.join('; ')}</Text>}
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Stat label="Chains" value={data.chains.length + data.filecoin.length} />
        <Stat label="Hosts online" value={`${data.hosts.filter((h) => h.state === 'online').length} / ${data.hosts.length}`} />
        <Stat label="Upgrading now" value={data.upgrading.length} />
        <Stat label="Open anomalies" value={data.anomalies.length} />
      </SimpleGrid>
      <Title order={3}>Chains</Title>
      <DataTable
        caption="Chains"
        empty="No chain is watched (or the chain-watcher does not answer)."
        head={['Chain', 'Watch', 'Leader', 'Height', 'Lag', 'Provider target / min', 'Consumer target / min', 'Problems']}
        rows={data.chains.map((c) => [
          c.chainId,
          <Badge color={c.mode === 'websocket' ? 'teal' : c.mode === 'polling' ? 'yellow' : 'red'}>{c.mode}</Badge>,
          c.leaderHost ?? '-',
          c.height ?? '-',
          c.lagMs !== undefined ? formatElapsed(c.lagMs) : '-',
          c.version ? `${c.version.providerTarget} / ${c.version.providerMin}` : '-',
          c.version ? `${c.version.consumerTarget} / ${c.version.consumerMin}` : '-',
          c.problems.join('; ') || 'none',
        ])}
      />
      {data.filecoin.length > 0 && (
        <>
          <Title order={3}>Filecoin chains (proving watch)</Title>
          <DataTable
            caption="Filecoin chains"
            empty="No Filecoin chain is watched."
            head={['Chain', 'Watch', 'Leader', 'Epoch', 'Miners', 'Calls per epoch', 'Problems']}
            rows={data.filecoin.map((c) => [
              c.chainId,
              <Badge color={c.mode === 'notify' ? 'teal' : c.mode === 'poll' ? 'yellow' : 'red'} title={c.notifyProblem}>
                {c.mode === 'no_leader' ? 'no leader' : c.mode}
              </Badge>,
              c.leaderHost ?? '-',
              c.height ?? '-',
              c.miners.join(', '),
              c.callsPerEpoch !== undefined ? c.callsPerEpoch.toFixed(1) : '-',
              [...c.problems, ...(c.notifyProblem ? [c.notifyProblem] : [])].join('; ') || 'none',
            ])}
          />
        </>
      )}
      <Title order={3}>Hosts</Title>
      <DataTable
        caption="Hosts"
        empty="No runner host has reported yet."
        head={['Host', 'State', 'Last seen', 'Services', 'Fleetvisor']}
        rows={data.hosts.map((h) => [
          h.host,
          <Badge color={h.state === 'online' ? 'teal' : h.state === 'expired' ? 'red' : 'gray'}>{h.state === 'expired' ? `silent since ${formatTime(h.since)}` : h.state}</Badge>,
          `${formatTime(h.lastSeen)} (${formatElapsed(now - Date.parse(h.lastSeen))} ago)`,
          h.services ?? '-',
          h.version ?? '-',
        ])}
      />
      <Title order={3}>Services</Title>
      <DataTable
        caption="Services"
        empty="No runner answered."
        head={['Host', 'Service', 'Role', 'Chain', 'Version', 'Against the chain', 'State', 'Restarts']}
        rows={data.services.flatMap((h) =>
          h.services.map((s) => {
            const v = s.chainId ? byChain.get(s.chainId)?.version : undefined;
            const standing = versionStanding(s.version, s.role === 'provider' ? v?.providerTarget : v?.consumerTarget, s.role === 'provider' ? v?.providerMin : v?.consumerMin);
            return [h.host, s.service, s.role, s.chainId ?? '-', s.version ?? '-', <Badge color={STANDING[standing].color}>{STANDING[standing].label}</Badge>, s.state, s.restarts];
          }),
        )}
      />
      <Title order={3}>Upgrades in progress</Title>
      <DataTable caption="Upgrades in progress" empty="None." head={['Host', 'Service', 'From version']} rows={data.upgrading.map((u) => [u.host, u.service.service, u.service.version ?? '-'])} />
      <Title order={3}>Call-rate anomalies</Title>
      <DataTable
        caption="Call-rate anomalies"
        empty="Every caller is inside its steady band."
        head={['Caller', 'Component', 'Rate', 'Band', 'Since']}
        rows={data.anomalies.map((a) => [a.caller, a.component, `${a.observedPerMin.toFixed(1)}/min (${a.direction})`, `${a.band.low.toFixed(1)}–${a.band.high.toFixed(1)}/min`, formatTime(a.outsideSince)])}
      />
    </Stack>
  );
}

function Stat({ label, value }: { label: string; value: string | number }) {
  return (
    <Stack gap={0} p="sm" style={{ border: '1px solid var(--mantine-color-default-border)', borderRadius: 8 }}>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700}>
        {value}
      </Text>
    </Stack>
  );
}

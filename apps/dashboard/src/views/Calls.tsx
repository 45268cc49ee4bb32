// The seed's charts (venus-all, venus-messager, filecoin-interface): calls over time per caller and
// component, one component's calls by caller, its per-method breakdown, and the steady band with
// its anomalies.
import { BarChart, LineChart } from '@mantine/charts';
import { Group, SegmentedControl, Select, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { bandRows, formatTime, seriesRows } from '../format';
import { useLive } from '../live';
import type { StatsAnomaly, StatsBand, StatsBands, StatsCalls } from '../types';
import { DataTable, Loading } from './common';

const PALETTE = ['teal.6', 'blue.6', 'orange.6', 'grape.6', 'red.6', 'lime.6', 'cyan.6', 'pink.6', 'yellow.6', 'indigo.6'];
const RANGES: Record<string, { hours: number; step: number }> = { '6h': { hours: 6, step: 300 }, '24h': { hours: 24, step: 1800 }, '7d': { hours: 168, step: 3600 * 3 } };

export function Calls() {
  const [range, setRange] = useState('24h');
  const [component, setComponent] = useState<string | null>(null);
  const r = RANGES[range]!;
  const window = () => {
    const to = new Date(Math.ceil(Date.now() / 60_000) * 60_000);
    return { from: new Date(to.getTime() - r.hours * 3_600_000).toISOString(), to: to.toISOString(), stepSeconds: r.step };
  };
  const isStats = (e: { type: string }) => e.type === 'ApiCallsRecorded' || e.type.startsWith('CallRate');
  const byComponent = useLive((a) => a.get<StatsCalls>('/api/v1/stats/calls', { ...window(), by: 'component', limit: 20 }), isStats, [range]);
  const components = byComponent.data?.series.map((s) => s.key) ?? [];
  const selected = component ?? components[0] ?? null;
  const byCaller = useLive(
    async (a) => (selected ? a.get<StatsCalls>('/api/v1/stats/calls', { ...window(), component: selected, by: 'caller', limit: 10 }) : undefined),
    isStats,
    [range, selected],
  );
  const byMethod = useLive(
    async (a) => (selected ? a.get<StatsCalls>('/api/v1/stats/calls', { ...window(), component: selected, by: 'method', limit: 30, stepSeconds: r.hours * 3600 }) : undefined),
    isStats,
    [range, selected],
  );
  const anomalies = useLive((a) => a.get<{ anomalies: StatsAnomaly[] }>('/api/v1/stats/anomalies', { limit: 50 }), isStats);
  const bands = useLive(async (a) => (selected ? a.get<StatsBands>('/api/v1/stats/bands', { component: selected, minutes: 360, limit: 6 }) : undefined), isStats, [selected]);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Call statistics</Title>
        <SegmentedControl value={range} onChange={setRange} data={Object.keys(RANGES)} aria-label="Time range" />
      </Group>
      <Title order={3}>Calls by component</Title>
      {byComponent.data ? (
        <Chart data={byComponent.data} label="Calls over time by component" />
      ) : (
        <Loading error={byComponent.error} what="calls by component" />
      )}
      <Select label="Component" data={components} value={selected} onChange={setComponent} allowDeselect={false} maw={320} />
      {selected && (
        <>
          <Title order={3}>{selected}: calls by caller</Title>
          {byCaller.data ? <Chart data={byCaller.data} label={`Calls to ${selected} by caller`} /> : <Loading error={byCaller.error} what="calls by caller" />}
          <Title order={3}>{selected}: calls by method</Title>
          {byMethod.data ? (
            byMethod.data.series.length === 0 ? (
              <Text c="dimmed">No call in this range.</Text>
            ) : (
              <BarChart
                h={Math.max(160, byMethod.data.series.length * 28)}
                data={byMethod.data.series.map((s) => ({ method: s.key, calls: s.calls, errors: s.errors + s.transportErrors }))}
                dataKey="method"
                orientation="vertical"
                yAxisProps={{ width: 200 }}
                series={[
                  { name: 'calls', color: 'teal.6' },
                  { name: 'errors', color: 'red.6' },
                ]}
                aria-label={`Calls to ${selected} by method`}
              />
            )
          ) : (
            <Loading error={byMethod.error} what="calls by method" />
          )}
        </>
      )}
      <Title order={3}>Steady band and anomalies</Title>
      {selected &&
        (bands.data ? (
          bands.data.bands.length === 0 ? (
            <Text c="dimmed">No {bands.data.methods} calls to {selected} yet: no band to draw.</Text>
          ) : (
            <>
              <Text size="sm" c="dimmed">
                {bands.data.methods} calls to {selected} per caller, per minute (mean of {bands.data.smoothMinutes} min), against the band each caller keeps while it seals normally
              </Text>
              {bands.data.bands.map((b) => (
                <BandChart key={`${b.caller}/${b.component}`} b={b} />
              ))}
            </>
          )
        ) : (
          <Loading error={bands.error} what="steady bands" />
        ))}
      {anomalies.data ? (
        <DataTable
          caption="Call-rate anomalies"
          empty="No call rate has left its steady band."
          head={['Caller', 'Component', 'Methods', 'Observed', 'Band (median)', 'Outside since', 'Recovered']}
          rows={anomalies.data.anomalies.map((a) => [
            a.caller,
            a.component,
            a.methods,
            `${a.observedPerMin.toFixed(1)}/min ${a.direction}`,
            `${a.band.low.toFixed(1)}–${a.band.high.toFixed(1)} (${a.band.median.toFixed(1)})/min`,
            formatTime(a.outsideSince),
            a.recoveredAt ? formatTime(a.recoveredAt) : 'not yet',
          ])}
        />
      ) : (
        <Loading error={anomalies.error} what="anomalies" />
      )}
    </Stack>
  );
}

/** One caller's rate with its band drawn as two lines, red when the rate is outside it. */
function BandChart({ b }: { b: StatsBand }) {
  const color = b.outside ? 'red.6' : 'teal.6';
  const band = b.band;
  return (
    <div role="img" aria-label={`Steady band of ${b.caller} at ${b.component}`}>
      <Text size="sm" fw={500}>
        {b.caller}
        {band ? `: band ${band.low.toFixed(1)}–${band.high.toFixed(1)}/min (median ${band.median.toFixed(1)}, from ${band.historyMinutes} min)` : ': not enough history for a band yet'}
        {b.outside ? `, now ${b.outside} it` : ''}
      </Text>
      <LineChart
        h={160}
        data={bandRows(b.from, b.rates)}
        dataKey="time"
        series={[{ name: 'rate', label: 'calls/min', color }]}
        curveType="linear"
        withDots={false}
        yAxisProps={band ? { domain: [0, (max: number) => Math.ceil(Math.max(max, band.high * 1.2))] } : {}}
        referenceLines={band ? [
          { y: band.high, label: 'band high', color: 'gray.6' },
          { y: band.low, label: 'band low', color: 'gray.6' },
        ] : []}
      />
    </div>
  );
}

function Chart({ data, label }: { data: StatsCalls; label: string }) {
  if (data.series.length === 0) return <Text c="dimmed">No call in this range.</Text>;
  return (
    <div role="img" aria-label={label}>
      <LineChart
        h={260}
        data={seriesRows(data.from, data.stepSeconds, data.series)}
        dataKey="time"
        series={data.series.map((s, i) => ({ name: s.key, color: PALETTE[i % PALETTE.length]! }))}
        curveType="linear"
        withDots={false}
        withLegend
      />
      <Text size="xs" c="dimmed">
        {formatTime(data.from)} – {formatTime(data.to)}, {data.stepSeconds / 60} min steps{data.others > 0 ? `; ${data.others} calls in smaller series` : ''}
      </Text>
    </div>
  );
}

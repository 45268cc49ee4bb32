// One worker's threads (location, sector, plan, state, paused elapsed, last error), pause / resume
// (in any state of the thread's plan) for roles that may, and a sector's recorded history.
import { Anchor, Badge, Button, Group, Modal, Select, Stack, Table, Text, Title } from '@mantine/core';
import { PLAN_STATES } from '@fleetvisor/contracts/plans';
import { useState } from 'react';
import { mayAct } from '../api';
import { formatElapsed, formatTime } from '../format';
import { useLive, useSession } from '../live';
import { hrefOf } from '../route';
import type { ThreadInfo, WorkerSummary } from '../types';
import { DataTable, Loading } from './common';

interface HistoryEntry {
  at: string;
  type: string;
  index?: number;
  prev?: string;
  next?: string;
  reason?: string;
  actor?: string;
}

const statesOf = (plan: string): readonly string[] => (PLAN_STATES as Record<string, readonly string[]>)[plan] ?? [];

export function WorkerDetail({ name }: { name: string }) {
  const { api, who } = useSession();
  const [message, setMessage] = useState<string | undefined>();
  const [resuming, setResuming] = useState<ThreadInfo | undefined>();
  const [resumeState, setResumeState] = useState<string | null>(null);
  const [sector, setSector] = useState<string | undefined>();
  const { data, error, reload } = useLive<{ worker: WorkerSummary; threads: ThreadInfo[] }>(
    (a) => a.get(`/api/v1/workers/${encodeURIComponent(name)}`),
    (e) => e.stream === `worker-${name}`,
    [name],
  );
  const history = useLive<{ entries: HistoryEntry[] } | undefined>(
    async (a) => (sector ? a.get(`/api/v1/sectors/${encodeURIComponent(sector)}/history`, { limit: 200 }) : undefined),
    (e) => sector !== undefined && e.stream === `worker-${name}`,
    [sector],
  );
  if (!data) return <Loading error={error} what={`worker ${name}`} />;
  const may = mayAct(who, 'operate');
  const act = async (what: string, path: string, body: unknown = {}) => {
    try {
      await api!.post(path, body);
      setMessage(`${what}: done.`);
      reload();
    } catch (e) {
      setMessage(`${what} refused: ${(e as Error).message}`);
    }
  };
  const base = `/api/v1/workers/${encodeURIComponent(name)}/threads`;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Worker {data.worker.name}</Title>
        <Anchor href={hrefOf({ view: 'workers' })}>All workers</Anchor>
      </Group>
      <Text size="sm">
        {data.worker.dest} · version {data.worker.version} · last ping {formatTime(data.worker.lastPing)}
        {data.worker.expired && (
          <Badge ml="xs" color="red">
            expired
          </Badge>
        )}
        {data.worker.unreachable && (
          <Badge ml="xs" color="orange">
            unreachable: {data.worker.unreachable}
          </Badge>
        )}
      </Text>
      {message && <Text role="status">{message}</Text>}
      <DataTable
        caption={`Threads of ${name}`}
        empty="This worker reported no thread."
        head={['Index', 'Location', 'Sector', 'Plan', 'State', 'Thread', 'Elapsed', 'Last error', '']}
        rows={data.threads.map((t) => [
          t.index,
          t.location ?? '-',
          t.sectorId ? (
            <Anchor component="button" onClick={() => setSector(t.sectorId)} aria-label={`History of sector ${t.sectorId}`}>
              {t.sectorId}
            </Anchor>
          ) : (
            '-'
          ),
          t.plan,
          `${t.state}${t.stage ? ` (${t.stage})` : ''}`,
          <Badge color={t.threadState === 'paused' ? 'yellow' : t.threadState === 'running' ? 'teal' : 'gray'} aria-label={`thread ${t.index} ${t.threadState}`}>
            {t.threadState}
            {t.pauseReason ? ` (${t.pauseReason})` : ''}
          </Badge>,
          t.elapsedMs !== undefined ? formatElapsed(t.elapsedMs) : '-',
          t.lastError ?? '',
          may ? (
            t.threadState === 'paused' ? (
              <Button size="xs" onClick={() => (setResuming(t), setResumeState(null))} aria-label={`Resume thread ${t.index}`}>
                Resume
              </Button>
            ) : (
              <Button size="xs" variant="light" onClick={() => void act(`Pause of thread ${t.index}`, `${base}/${t.index}/pause`)} aria-label={`Pause thread ${t.index}`}>
                Pause
              </Button>
            )
          ) : null,
        ])}
      />
      <Modal opened={resuming !== undefined} onClose={() => setResuming(undefined)} title={`Resume thread ${resuming?.index ?? ''}`}>
        {resuming && (
          <Stack>
            <Select
              label={`State to resume in (plan ${resuming.plan}; empty: its current state ${resuming.state})`}
              data={[...statesOf(resuming.plan)]}
              value={resumeState}
              onChange={setResumeState}
              clearable
            />
            <Button
              onClick={() => {
                const t = resuming;
                setResuming(undefined);
                void act(`Resume of thread ${t.index}`, `${base}/${t.index}/resume`, resumeState ? { state: resumeState } : {});
              }}
            >
              Resume
            </Button>
          </Stack>
        )}
      </Modal>
      {sector && (
        <Stack>
          <Title order={3}>Sector {sector}</Title>
          {history.data ? (
            <Table aria-label={`History of sector ${sector}`}>
              <Table.Tbody>
                {history.data.entries.map((h, i) => (
                  <Table.Tr key={i}>
                    <Table.Td>{formatTime(h.at)}</Table.Td>
                    <Table.Td>{h.type}</Table.Td>
                    <Table.Td>{h.prev && h.next ? `${h.prev} → ${h.next}` : (h.next ?? '')}</Table.Td>
                    <Table.Td>{h.reason ?? ''}</Table.Td>
                    <Table.Td>{h.actor ?? ''}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          ) : (
            <Loading error={history.error} what="the sector's history" />
          )}
        </Stack>
      )}
    </Stack>
  );
}

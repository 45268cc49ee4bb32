// Sealing workers as damocles' `util worker list` shows them (Name, Dest, Threads, Empty, Paused,
// Errors, LastPing with expiry), one page at a time, with drain for roles that may.
import { Anchor, Badge, Button, Group, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { mayAct } from '../api';
import { formatElapsed, formatTime } from '../format';
import { useLive, useSession } from '../live';
import { hrefOf } from '../route';
import type { WorkerSummary } from '../types';
import { DataTable, Loading } from './common';

interface Page {
  workers: WorkerSummary[];
  next?: string;
  total: number;
}

export function Workers() {
  const { who, api } = useSession();
  const [pages, setPages] = useState(1);
  const [message, setMessage] = useState<string | undefined>();
  const { data, error, reload } = useLive<Page>(
    async (a) => {
      // Every page shown so far, again: a live change may land on any of them.
      let all: WorkerSummary[] = [];
      let next: string | undefined;
      let total = 0;
      for (let i = 0; i < pages; i++) {
        const p = await a.get<Page>('/api/v1/workers', { limit: 100, cursor: next });
        all = all.concat(p.workers);
        total = p.total;
        next = p.next;
        if (!next) break;
      }
      return { workers: all, total, ...(next ? { next } : {}) };
    },
    (e) => e.stream.startsWith('worker-'),
    [pages],
  );
  if (!data) return <Loading error={error} what="the workers" />;
  const now = Date.now();
  const drain = async (name: string) => {
    try {
      await api!.post(`/api/v1/workers/${encodeURIComponent(name)}/drain`);
      setMessage(`Drain of ${name} asked: each thread pauses at its next state boundary.`);
      reload();
    } catch (e) {
      setMessage(`Drain of ${name} refused: ${(e as Error).message}`);
    }
  };
  return (
    <Stack>
      <Title order={2}>Workers</Title>
      <Text size="sm" c="dimmed">
        {data.workers.length} of {data.total} workers shown.
      </Text>
      {message && <Text role="status">{message}</Text>}
      <DataTable
        caption="Workers"
        empty="No sealing worker has reported."
        head={['Name', 'Dest', 'Threads', 'Empty', 'Paused', 'Errors', 'LastPing', '']}
        rows={data.workers.map((w) => [
          <Anchor href={hrefOf({ view: 'worker', name: w.name })}>{w.name}</Anchor>,
          w.dest,
          w.threads,
          w.empty,
          w.paused,
          w.errors > 0 ? <Badge color="red">{w.errors}</Badge> : 0,
          <Group gap={4} wrap="nowrap">
            <Text size="sm" c={w.expired ? 'red' : undefined}>
              {formatElapsed(now - Date.parse(w.lastPing))}
              {w.expired ? '!' : ''}
            </Text>
            {w.expired && <Badge color="red">expired</Badge>}
            {w.unreachable && (
              <Badge color="orange" title={w.unreachable}>
                unreachable
              </Badge>
            )}
            {w.draining && <Badge color="yellow">draining</Badge>}
          </Group>,
          mayAct(who, 'operate') ? (
            <Button size="xs" variant="light" onClick={() => void drain(w.name)} aria-label={`Drain ${w.name}`} title={`last ping ${formatTime(w.lastPing)}`}>
              Drain
            </Button>
          ) : null,
        ])}
      />
      {data.next && (
        <Button variant="default" onClick={() => setPages((p) => p + 1)}>
          Show more workers
        </Button>
      )}
    </Stack>
  );
}

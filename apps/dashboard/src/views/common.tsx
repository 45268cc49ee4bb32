import { Alert, Loader, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';

export function Loading({ error, what }: { error: string | undefined; what: string }) {
  if (error)
    return (
      <Alert color="red" title={`Could not load ${what}`}>
        {error}
      </Alert>
    );
  return <Loader size="sm" aria-label={`loading ${what}`} />;
}

/** A scrollable table with a caption (its accessible name). */
export function DataTable({ caption, head, rows, empty }: { caption: string; head: string[]; rows: ReactNode[][]; empty: string }) {
  if (rows.length === 0) return <Text c="dimmed">{empty}</Text>;
  return (
    <Table.ScrollContainer minWidth={600}>
      <Table striped highlightOnHover aria-label={caption}>
        <Table.Thead>
          <Table.Tr>
            {head.map((h) => (
              <Table.Th key={h}>{h}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r, i) => (
            <Table.Tr key={i}>
              {r.map((c, j) => (
                <Table.Td key={j}>{c}</Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

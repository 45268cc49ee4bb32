import { AppShell, Badge, Burger, Button, Group, NavLink, PasswordInput, Stack, Text, Title, Alert } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useState, type FormEvent } from 'react';
import { useSession } from './live';
import { hrefOf, useRoute, type Route } from './route';
import { Calls } from './views/Calls';
import { Overview } from './views/Overview';
import { Upgrades } from './views/Upgrades';
import { WorkerDetail } from './views/WorkerDetail';
import { Workers } from './views/Workers';

const NAV: { label: string; route: Route }[] = [
  { label: 'Fleet', route: { view: 'overview' } },
  { label: 'Workers', route: { view: 'workers' } },
  { label: 'Upgrades', route: { view: 'upgrades' } },
  { label: 'Call statistics', route: { view: 'calls' } },
];

function TokenPrompt() {
  const { setToken, authError } = useSession();
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) setToken(value.trim());
  };
  return (
    <Stack maw={460} mx="auto" mt="xl" p="md">
      <Title order={2}>Fleetvisor</Title>
      <Text>Paste a gateway token (fleetvisor token create --role read|operate|admin --name you).</Text>
      {authError && (
        <Alert color="red" title="That token was refused">
          {authError}
        </Alert>
      )}
      <form onSubmit={submit}>
        <Stack>
          <PasswordInput label="Gateway token" value={value} onChange={(e) => setValue(e.currentTarget.value)} autoFocus />
          <Button type="submit">Open the dashboard</Button>
        </Stack>
      </form>
    </Stack>
  );
}

export function App() {
  const { api, who, live, setToken } = useSession();
  const route = useRoute();
  const [opened, { toggle, close }] = useDisclosure();
  if (!api) return <TokenPrompt />;
  const current = route.view === 'worker' ? 'workers' : route.view;
  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={3}>Fleetvisor</Title>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <Badge color={live ? 'teal' : 'gray'} variant="dot" aria-label={live ? 'live updates on' : 'live updates off'}>
              {live ? 'live' : 'offline'}
            </Badge>
            {who && (
              <Text size="sm" visibleFrom="xs">
                {who.name} ({who.role})
              </Text>
            )}
            <Button size="xs" variant="subtle" onClick={() => setToken(undefined)}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Views">
        {NAV.map((n) => (
          <NavLink key={n.label} href={hrefOf(n.route)} label={n.label} active={current === n.route.view} onClick={close} />
        ))}
      </AppShell.Navbar>
      <AppShell.Main>
        {route.view === 'overview' && <Overview />}
        {route.view === 'workers' && <Workers />}
        {route.view === 'worker' && <WorkerDetail name={route.name} />}
        {route.view === 'upgrades' && <Upgrades />}
        {route.view === 'calls' && <Calls />}
      </AppShell.Main>
    </AppShell>
  );
}

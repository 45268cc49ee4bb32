// Entry point of the gateway (`fleetvisor gateway …` and `fleetvisor token …` hand the process over
// to this file): `gateway run` serves the REST API; `token` manages its API tokens.
import 'reflect-metadata';
import { lazyCommand, runMain } from '@fleetvisor/platform';

const token = (verb: 'create' | 'list' | 'revoke', summary: string) =>
  lazyCommand({ path: ['token', verb], summary, load: async () => (await import('./commands/token.command')).tokenCommands.find((c) => c.path[1] === verb)! });

runMain(
  'fleetvisor',
  [
    lazyCommand({ path: ['gateway', 'run'], summary: 'Run the REST gateway: the fleet over HTTP with bearer tokens, OpenAPI, live events (SSE)', load: async () => (await import('./commands/run.command')).runCommand }),
    token('create', 'Make a gateway API token with a role (read, operate, admin); it is printed once'),
    token('list', 'Every gateway API token: name, role, created, revoked (never the token)'),
    token('revoke', 'Revoke a gateway API token: every gateway refuses it within a second, no restart'),
  ],
  'fleetvisor gateway — the fleet over HTTP (REST, OpenAPI, SSE) for people and scripts.',
);

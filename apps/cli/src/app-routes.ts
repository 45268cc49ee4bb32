// The `fleetvisor` words that belong to a service app (chain-watcher, worker-registry, worker-agent,
// service-runner). Apps never import each other, so the CLI does not link them in: it hands its own
// process over to the app's entry point (like exec), and the app parses the same arguments with its
// own commands and --help. `fleetvisor worker-registry run` is therefore the registry itself, one
// process, and `up` starts each app's entry point directly (appProcess).
import { existsSync } from 'node:fs';
import type { SchemaMigrations } from '@fleetvisor/event-store';
import path from 'node:path';

export interface AppRoute {
  /** Words that select the app, e.g. ['worker-agent', 'run']. */
  path: readonly string[];
  app: string;
  summary: string;
  args?: string;
}

export const APP_ROUTES: readonly AppRoute[] = [
  { path: ['chain-watcher'], app: 'chain-watcher', summary: 'Run the chain-watcher: one watch of each chain for the whole fleet (chain-watcher run --help)' },
  { path: ['worker-registry'], app: 'worker-registry', summary: 'Run the worker registry, or rebuild its projection (worker-registry run|rebuild --help)' },
  { path: ['worker-agent', 'run'], app: 'worker-agent', summary: 'Run the worker-agent beside a sealing worker: reports its threads, executes pause/resume/drain (worker-agent run --help)' },
  { path: ['init'], app: 'service-runner', summary: 'Create the runner home (~/.fleetvisor), install and link the binary of the current protocol version (init --help)' },
  { path: ['create-service'], app: 'service-runner', args: 'provider|consumer <config.yml>', summary: 'Define a lavap provider/consumer service from its config file (create-service --help)' },
  { path: ['start'], app: 'service-runner', summary: "Run the service-runner: supervise this host's services, upgrade on VersionChanged (start --help)" },
  { path: ['wrap'], app: 'service-runner', summary: 'Supervise one process, for containers; lavap follows the chain (wrap --cmd "<binary args>")' },
  { path: ['pod'], app: 'service-runner', summary: 'One lavap in the foreground for a container/pod, following the chain with downloaded binaries (pod --help)' },
  { path: ['services'], app: 'service-runner', summary: 'Services of this host or the fleet: services list|status|restart|stop|start|logs (--help)' },
  { path: ['upgrades'], app: 'service-runner', summary: 'Versions per service, quarantined ones and why; try one again or go back: upgrades list|show|retry|rollback, fleet-wide upgrades rollout status|resume|abort (--help)' },
  { path: ['secrets'], app: 'service-runner', summary: "Store the keyring password, or one service's own (a venus-wallet's), encrypted at rest (secrets set-password --help)" },
  { path: ['stats-collector'], app: 'stats-collector', summary: 'Run the stats-collector (API-call counts, rollups, queries), or rebuild its rollups (stats-collector run|rebuild --help)' },
  { path: ['meter'], app: 'stats-collector', summary: 'Metering proxy for JSON-RPC over HTTP/WebSocket: forwards calls unchanged, counts them per caller and method (meter --help)' },
  { path: ['gateway'], app: 'gateway', summary: 'Run the REST gateway: the fleet over HTTP with bearer tokens, OpenAPI, live events (gateway run --help)' },
  { path: ['token'], app: 'gateway', summary: "The gateway's API tokens with roles read, operate, admin: token create|list|revoke (--help)" },
  { path: ['install-systemd', 'service-runner'], app: 'service-runner', summary: 'Write a hardened systemd unit for the service-runner of a runner home (install-systemd service-runner --help)' },
];

/** The app whose words begin argv, if any. */
export function appRouteFor(argv: readonly string[], routes: readonly AppRoute[] = APP_ROUTES): AppRoute | undefined {
  return routes.find((r) => r.path.every((word, i) => argv[i] === word));
}

// This file sits at apps/cli/src/ in the source tree and at dist/apps/cli/src/ in the compiled one;
// every app's entry point is at the same place relative to it in both.
const compiled = path.extname(__filename) === '.js';

/** The entry point of an app next to this CLI (compiled main.js, or main.ts when run from source). */
export function appEntryFile(app: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(app)) throw new Error(`invalid app name "${app}"`);
  const file = path.resolve(__dirname, '..', '..', app, 'src', compiled ? 'main.js' : 'main.ts');
  if (!existsSync(file)) throw new Error(`app ${app} has no entry point at ${file}${compiled ? ' (run `npm run build`)' : ''}`);
  return file;
}

/**
 * Hands this process over to the app: loads its entry point, which runs its own command line from
 * process.argv (the same words the user typed). Call before anything else is set up.
 */
export function handOverToApp(app: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(appEntryFile(app));
}

/**
 * The command line that starts an app as its own process, with the Node flags its start
 * definition gives (V8 reads heap sizes only at start-up). Run from source (tests), the entry
 * point goes through the workspace's TypeScript loader.
 */
export function appProcess(app: string, args: readonly string[], nodeFlags: readonly string[] = []): { file: string; argv: string[] } {
  const entry = appEntryFile(app);
  const loader = compiled ? [] : [path.resolve(__dirname, '..', '..', '..', 'bin', 'run-ts.js')];
  return { file: process.execPath, argv: [...nodeFlags, ...loader, entry, ...args] };
}

/**
 * Every app's own schema migrations (`apps/<app>/src/migrations`, exporting MIGRATIONS), loaded by
 * path like the apps themselves: `fleetvisor migrate` and `up` apply them with the event store's.
 */
export async function appSchemaMigrations(apps: readonly string[] = [...new Set(APP_ROUTES.map((r) => r.app))]): Promise<SchemaMigrations> {
  const all: SchemaMigrations[number][] = [];
  for (const app of apps) {
    const index = path.join(path.dirname(appEntryFile(app)), 'migrations', compiled ? 'index.js' : 'index.ts');
    if (!existsSync(index)) continue;
    const { MIGRATIONS } = (await import(index)) as { MIGRATIONS?: SchemaMigrations };
    if (!Array.isArray(MIGRATIONS)) throw new Error(`${index} exports no MIGRATIONS list`);
    all.push(...MIGRATIONS);
  }
  return all;
}

// Services and upgrades across hosts: the fleet-wide queries every service-runner answers for its
// own host (gathered like `services list --fleet`), and the commands addressed to one host's runner
// (`upgrades show|retry|rollback`). Retry needs operate, rollback admin, as on the bus.
import { Type } from '@sinclair/typebox';
import {
  HostName,
  ServiceControl,
  ServiceLogs,
  SERVICE_ACTIONS,
  ServiceName,
  ServicesList,
  ServicesStatus,
  ServiceSummarySchema,
  ServiceUpgradesSchema,
  QuarantinedVersionSchema,
  UpgradeRetry,
  UpgradeRollback,
  UpgradesList,
  UpgradesShow,
} from '@fleetvisor/contracts';
import { Problem } from '../http/problem';
import { route, type RouteDef } from '../http/route';
import { actorOf } from './common';

const byHost = <T extends { host: string }>(rows: T[]): T[] => rows.sort((a, b) => a.host.localeCompare(b.host));
const hostService = Type.Object({ host: HostName(), service: ServiceName() }, { additionalProperties: false });

/** start / stop / restart of one service on one host, signed for the token holder (operate), as `services start|stop|restart` there. */
const controlRoutes: RouteDef[] = SERVICE_ACTIONS.map((action) =>
  route({
    method: 'POST',
    path: `/api/v1/hosts/:host/services/:service/${action}`,
    operationId: `${action}Service`,
    tag: 'services',
    role: 'operate',
    summary: `${action[0]!.toUpperCase()}${action.slice(1)} one service of one host (\`services ${action}\` there${action === 'stop' ? '; it stays down until started, recorded with the token\'s name' : ''})`,
    params: hostService,
    response: ServiceControl.result,
    handle: ({ params, holder }, { bus }) => bus.ask(ServiceControl, { service: params.service, action }, { instance: params.host, act: actorOf(holder) }),
  }),
);

export const serviceRoutes: RouteDef[] = [
  ...controlRoutes,
  route({
    method: 'GET',
    path: '/api/v1/hosts/:host/services/:service/logs',
    operationId: 'getServiceLogs',
    tag: 'services',
    role: 'read',
    summary: "The last lines of one service's log on its host (`services logs`)",
    params: hostService,
    query: Type.Object({ lines: ServiceLogs.request.properties.lines }, { additionalProperties: false }),
    response: ServiceLogs.result,
    handle: ({ params, query }, { bus }) => bus.ask(ServiceLogs, { service: params.service, ...(query.lines !== undefined ? { lines: query.lines } : {}) }, { instance: params.host }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/services',
    operationId: 'listServices',
    tag: 'services',
    role: 'read',
    summary: 'Services of every runner that answers, per host (`services list --fleet`)',
    query: ServicesList.request,
    response: Type.Object({ hosts: Type.Array(ServicesList.result, { maxItems: 100_000 }) }, { additionalProperties: false }),
    handle: async ({ query }, { bus }) => ({ hosts: byHost(await bus.gather(ServicesList, query)) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/services/:service',
    operationId: 'getServiceStatus',
    tag: 'services',
    role: 'read',
    summary: 'Detailed status of one service on every host that has it (`services status --fleet`)',
    params: Type.Object({ service: ServiceName() }, { additionalProperties: false }),
    query: Type.Object({ host: Type.Optional(HostName()) }, { additionalProperties: false }),
    response: Type.Object({ statuses: Type.Array(ServicesStatus.result, { maxItems: 100_000 }) }, { additionalProperties: false }),
    async handle({ params, query }, { bus }) {
      const statuses = byHost(await bus.gather(ServicesStatus, { service: params.service, ...(query.host !== undefined ? { host: query.host } : {}) }));
      if (statuses.length === 0) throw new Problem(404, `no runner that answered has a service ${params.service}${query.host !== undefined ? ` on ${query.host}` : ''}`, { code: 'not_found' });
      return { statuses };
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/upgrades',
    operationId: 'listUpgrades',
    tag: 'upgrades',
    role: 'read',
    summary: 'Per host and service: running, linked, installed and quarantined versions (`upgrades list --fleet`)',
    query: UpgradesList.request,
    response: Type.Object({ hosts: Type.Array(UpgradesList.result, { maxItems: 100_000 }) }, { additionalProperties: false }),
    handle: async ({ query }, { bus }) => ({ hosts: byHost(await bus.gather(UpgradesList, query)) }),
  }),
  route({
    method: 'GET',
    path: '/api/v1/upgrades/quarantined',
    operationId: 'listQuarantined',
    tag: 'upgrades',
    role: 'read',
    summary: 'Every version set aside after it failed, per host and service, with why',
    query: UpgradesList.request,
    response: Type.Object(
      {
        quarantined: Type.Array(
          Type.Object({ host: HostName(), service: ServiceName(), binary: ServiceUpgradesSchema.properties.binary, versions: Type.Array(QuarantinedVersionSchema, { maxItems: 1000 }) }, { additionalProperties: false }),
          { maxItems: 100_000 },
        ),
      },
      { additionalProperties: false },
    ),
    async handle({ query }, { bus }) {
      const hosts = byHost(await bus.gather(UpgradesList, query));
      return {
        quarantined: hosts.flatMap((h) => h.services.filter((s) => s.quarantined.length > 0).map((s) => ({ host: h.host, service: s.service, binary: s.binary, versions: s.quarantined }))),
      };
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/upgrades/in-progress',
    operationId: 'listUpgradesInProgress',
    tag: 'upgrades',
    role: 'read',
    summary: 'Services being upgraded now (state upgrading), per host',
    query: ServicesList.request,
    response: Type.Object({ upgrading: Type.Array(Type.Object({ host: HostName(), service: ServiceSummarySchema }, { additionalProperties: false }), { maxItems: 100_000 }) }, { additionalProperties: false }),
    async handle({ query }, { bus }) {
      const hosts = byHost(await bus.gather(ServicesList, query));
      return { upgrading: hosts.flatMap((h) => h.services.filter((s) => s.state === 'upgrading').map((s) => ({ host: h.host, service: s }))) };
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/hosts/:host/services/:service/upgrades',
    operationId: 'getUpgradeHistory',
    tag: 'upgrades',
    role: 'read',
    summary: 'One service of one host: versions, quarantine, and its upgrade history with outcome and cause (`upgrades show`)',
    params: hostService,
    response: UpgradesShow.result,
    handle: ({ params }, { bus }) => bus.ask(UpgradesShow, { service: params.service }, { instance: params.host }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/hosts/:host/services/:service/upgrades/retry',
    operationId: 'retryUpgrade',
    tag: 'upgrades',
    role: 'operate',
    summary: 'Lift the quarantine of a version (default: all of the service\'s) and try the chain\'s target again (`upgrades retry`)',
    params: hostService,
    body: Type.Object({ version: UpgradeRetry.request.properties.version }, { additionalProperties: false }),
    response: UpgradeRetry.result,
    handle: ({ params, body, holder }, { bus }) =>
      bus.ask(UpgradeRetry, { service: params.service, ...(body.version !== undefined ? { version: body.version } : {}) }, { instance: params.host, act: actorOf(holder) }),
  }),
  route({
    method: 'POST',
    path: '/api/v1/hosts/:host/services/:service/upgrades/rollback',
    operationId: 'rollbackUpgrade',
    tag: 'upgrades',
    role: 'admin',
    summary: 'Switch a service to an installed version, health-checked; the version it leaves is quarantined (`upgrades rollback`)',
    params: hostService,
    body: Type.Object({ version: UpgradeRollback.request.properties.version }, { additionalProperties: false }),
    response: UpgradeRollback.result,
    // As `upgrades rollback` waits: the switch and its health check take up to two minutes.
    handle: ({ params, body, holder }, { bus }) => bus.ask(UpgradeRollback, { service: params.service, version: body.version }, { instance: params.host, act: actorOf(holder), timeoutMs: 120_000 }),
  }),
];

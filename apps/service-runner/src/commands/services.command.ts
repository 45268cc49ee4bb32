// `fleetvisor services list|status|restart|stop|start|logs`: this host's runner through its local
// control socket; `list`/`status` with --fleet ask every runner over the bus, or with --fleet
// --host H only H's runner (its addressed subject, so a missing host or service is an error).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, RequestStrategy } from 'nats';
import {
  CommandReplySchema,
  HostsList,
  ServicesList,
  ServicesStatus,
  createSubjects,
  type CommandDefinition,
  type CommandRequestOf,
  type CommandResultOf,
  type HostSummary,
  type PendingAdmission,
  type PendingVerification,
  type ServiceStatus,
  type ServiceSummary,
} from '@fleetvisor/contracts';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { callGateway, defineCliCommand, queryString, readGatewayClientEnv, REMOTE_OPTIONS, remoteOf, UsageError, type CliCommand, type CliContext, type Remote } from '@fleetvisor/platform';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { validServiceName } from '../home/names';
import { RunnerHome } from '../home/runner-home';
import { controlRequest, type ControlReply, type ControlRequest } from '../supervision/control-socket';
import { directoryOption, duration, jsonOption, setup, table } from './common';
import type { RunnerConfig } from '../config';
import type { Logger } from '@fleetvisor/platform';
import { cliSigner } from '@fleetvisor/trust';

/** A GET through the REST gateway (--url); a refusal is an error naming it, as a bus refusal is. */
async function gatewayGet(remote: Remote, pathAndQuery: string): Promise<unknown> {
  const answer = await callGateway(remote, 'GET', pathAndQuery);
  if (!answer.ok) throw new Error(`${answer.error.code}: ${answer.error.message}`);
  return answer.body;
}

export const fleetOptions = {
  fleet: { type: 'boolean', description: 'ask every runner of the fleet over the bus' },
  host: { type: 'string', description: 'with --fleet: ask only this host\'s runner (an error if it does not answer)', placeholder: 'host' },
  timeout: { type: 'string', description: 'with --fleet: how long to gather replies, or to wait for --host (ms)', default: '2000', placeholder: 'ms' },
} as const;

const replyCheck = TypeCompiler.Compile(CommandReplySchema);

export async function askFleet(config: RunnerConfig, logger: Logger, verb: string, payload: unknown, timeoutMs: number): Promise<unknown[]> {
  const subjects = createSubjects(config.core.subjectRoot);
  const nc = await connectNats(config.core, logger, { name: 'fleetvisor:services-cli' });
  try {
    const out: unknown[] = [];
    const replies = await nc.requestMany(subjects.command('service-runner', verb), Buffer.from(JSON.stringify(payload)), { strategy: RequestStrategy.Timer, maxWait: timeoutMs });
    try {
      for await (const m of replies) {
        try {
          const r = JSON.parse(Buffer.from(m.data).toString('utf8')) as unknown;
          if (replyCheck.Check(r) && r.ok) out.push(r.result);
        } catch {
          // a reply that is not ours
        }
      }
    } catch (e) {
      // No runner listens at all: NATS answers "no responders" (503) at once. That is an empty fleet.
      if ((e as { code?: string }).code !== ErrorCode.NoResponders) throw e;
    }
    return out;
  } finally {
    await nc.close();
  }
}

export function timeoutMs(text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 600_000) throw new UsageError(`--timeout must be a whole number of milliseconds between 1 and 600000, got "${text}"`);
  return n;
}

/** One runner, on its addressed subject (<root>.cmd.service-runner.<host>.<verb>): its answer, or an error saying why there is none. */
export async function askHost(config: RunnerConfig, logger: Logger, def: CommandDefinition, payload: Record<string, unknown>, host: string, timeout: number): Promise<unknown> {
  const nc = await connectNats(config.core, logger, { name: 'fleetvisor:services-cli' });
  try {
    // Mutating commands are signed with the operator's key (ADR 0006); queries need none.
    const signer = def.role === undefined ? undefined : cliSigner();
    const bus = new CommandBus({ nc, subjects: createSubjects(config.core.subjectRoot), logger, ...(signer ? { signer } : {}) });
    const reply = await bus.request(def, payload as CommandRequestOf<CommandDefinition>, { instance: host, timeoutMs: timeout });
    if (!reply.ok) throw new Error(reply.error.message.includes(host) ? reply.error.message : `${host}: ${reply.error.message}`);
    return reply.result;
  } finally {
    await nc.close();
  }
}

/**
 * Hosts the worker-registry marked silent (HostExpired: no heartbeat past the expiration), for
 * `services list --fleet`: a silent host's runner cannot answer, so without this it would just be
 * missing from the table. Best effort: no registry, no answer, no line.
 */
export async function silentHosts(config: RunnerConfig, logger: Logger, timeout: number): Promise<HostSummary[]> {
  try {
    const nc = await connectNats(config.core, logger, { name: 'fleetvisor:services-cli' });
    try {
      const reply = await new CommandBus({ nc, subjects: createSubjects(config.core.subjectRoot), logger }).request(HostsList, {}, { timeoutMs: timeout });
      return reply.ok ? (reply.result?.hosts ?? []).filter((h) => h.state === 'expired') : [];
    } finally {
      await nc.close();
    }
  } catch {
    return [];
  }
}

/** One line per silent host, under the table. */
export function silentText(hosts: readonly HostSummary[], nowMs: number): string {
  return [...hosts]
    .sort((a, b) => a.host.localeCompare(b.host))
    .map((h) => `host ${h.host}: silent since ${h.lastSeen} (no heartbeat for ${duration(Math.max(0, nowMs - Date.parse(h.lastSeen)))})\n`)
    .join('');
}

/** Which home and control socket a local command asks, as said to the operator. */
export function lookedAt(config: RunnerConfig): string {
  const home = new RunnerHome(config.directory);
  return `home ${home.root}, control socket ${home.socketPath}`;
}

export async function local(config: RunnerConfig, req: ControlRequest): Promise<unknown> {
  const socket = new RunnerHome(config.directory).socketPath;
  let reply: ControlReply;
  try {
    reply = await controlRequest(socket, req);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      const demo = path.join(config.upStateDir, 'demo-host');
      throw new Error(
        `no runner is running on this host for ${lookedAt(config)} (${code === 'ENOENT' ? 'no socket there' : 'nothing listens on it'}). ` +
          `Start one with \`fleetvisor start\`; for the \`fleetvisor up\` demo host use --directory ${demo} (its state directory is FLEETVISOR_UP_STATE_DIR, default ~/.fleetvisor-up); ` +
          `or ask every runner over the bus with --fleet`,
      );
    }
    throw e;
  }
  if (!reply.ok) throw new Error(reply.error);
  return reply.result;
}

function listRows(rows: (ServiceSummary & { host: string })[]): string {
  const now = Date.now();
  // NEXT RETRY only when a retry policy has one to show (a quarantined target's canary, ADR 0008).
  const retries = rows.some((r) => r.nextRetry);
  // HEALTH and ATTENTION only when some service has its own probe or an open problem (venus components).
  const probed = rows.some((r) => r.health);
  const attention = rows.some((r) => r.attention?.length);
  const text = table([
    ['HOST', 'SERVICE', 'ROLE', 'CHAIN', 'VERSION', 'STATE', 'UPTIME', 'RESTARTS', ...(retries ? ['NEXT RETRY'] : []), ...(probed ? ['HEALTH'] : []), ...(attention ? ['ATTENTION'] : [])],
    ...rows.map((r) => [
      r.host,
      r.service,
      r.role,
      r.chainId ?? '-',
      r.version ?? '-',
      r.adopted ? `${r.state} (adopted)` : r.state,
      duration(r.startedAt ? now - Date.parse(r.startedAt) : undefined),
      String(r.restarts),
      ...(retries ? [r.nextRetry ? `${r.nextRetry.version} canary at ${r.nextRetry.at}` : '-'] : []),
      ...(probed ? [r.health ? (r.health.ok ? 'ok' : 'failing') : '-'] : []),
      ...(attention ? [r.attention?.length ? `${r.attention.length} problem(s)` : '-'] : []),
    ]),
  ]);
  return text + attentionText(rows);
}

/** Each open problem with its remedy, under the table: what the operator has to do. */
function attentionText(rows: (ServiceSummary & { host: string })[]): string {
  return rows
    .flatMap((r) => (r.attention ?? []).map((a) => `${r.host}/${r.service} needs attention since ${a.since}: ${a.problem}\n  remedy: ${a.remedy}\n`))
    .join('');
}

const listCommand = defineCliCommand({
  path: ['services', 'list'],
  summary: 'services of this host (or of the fleet with --fleet): host, service, role, chain, version, state, uptime, restarts; and a chain event held for the own node\'s confirmation',
  options: { ...directoryOption, ...fleetOptions, 'chain-id': { type: 'string', description: 'only this chain', placeholder: 'id' }, ...jsonOption, ...REMOTE_OPTIONS },
  async run(ctx) {
    const o = ctx.options;
    const { config, logger } = setup(o.directory, { query: true });
    let rows: (ServiceSummary & { host: string; pendingVerification?: PendingVerification; pendingAdmission?: PendingAdmission })[];
    let held: { host: string; pending: PendingVerification }[] = [];
    let admissions: { host: string; pending: PendingAdmission }[] = [];
    let silent: HostSummary[] = [];
    const remote = remoteOf(o, readGatewayClientEnv());
    if (remote) {
      // Through the REST gateway (docs/gateway.md): the same answers, gathered by the gateway.
      const results = (await gatewayGet(remote, `/api/v1/services${queryString({ host: o.host, chainId: o['chain-id'] })}`)) as { hosts: CommandResultOf<typeof ServicesList>[] };
      rows = results.hosts.flatMap((r) => r.services.map((s) => ({ host: r.host, ...s, ...(r.pendingVerification ? { pendingVerification: r.pendingVerification } : {}) })));
      held = results.hosts.filter((r) => r.pendingVerification).map((r) => ({ host: r.host, pending: r.pendingVerification! }));
      if (!o.json) silent = ((await gatewayGet(remote, '/api/v1/hosts')) as { hosts: HostSummary[] }).hosts.filter((h) => h.state === 'expired' && (!o.host || h.host === o.host));
    } else if (o.fleet) {
      const wait = timeoutMs(o.timeout);
      const req = o['chain-id'] ? { chainId: o['chain-id'] } : {};
      const results = (o.host ? [await askHost(config, logger, ServicesList, req, o.host, wait)] : await askFleet(config, logger, ServicesList.verb, req, wait)) as CommandResultOf<typeof ServicesList>[];
      rows = results.flatMap((r) =>
        r.services.map((s) => ({ host: r.host, ...s, ...(r.pendingVerification ? { pendingVerification: r.pendingVerification } : {}), ...(r.pendingAdmission ? { pendingAdmission: r.pendingAdmission } : {}) })),
      );
      held = results.filter((r) => r.pendingVerification).map((r) => ({ host: r.host, pending: r.pendingVerification! }));
      admissions = results.filter((r) => r.pendingAdmission).map((r) => ({ host: r.host, pending: r.pendingAdmission! }));
      if (!o.json) silent = (await silentHosts(config, logger, wait)).filter((h) => !o.host || h.host === o.host);
    } else {
      const r = (await local(config, { op: 'list' })) as CommandResultOf<typeof ServicesList>;
      // Said on stderr so the table (and --json) stay as they are for scripts.
      if (!o.json) ctx.io.err(`${lookedAt(config)}\n`);
      const pv = r.pendingVerification;
      const pa = r.pendingAdmission;
      rows = r.services.filter((s) => !o['chain-id'] || s.chainId === o['chain-id']).map((s) => ({ host: r.host, ...s, ...(pv ? { pendingVerification: pv } : {}), ...(pa ? { pendingAdmission: pa } : {}) }));
      if (pv) held = [{ host: r.host, pending: pv }];
      if (r.pendingAdmission) admissions = [{ host: r.host, pending: r.pendingAdmission }];
    }
    rows.sort((a, b) => a.host.localeCompare(b.host) || a.service.localeCompare(b.service));
    ctx.io.out(o.json ? JSON.stringify(rows) + '\n' : listRows(rows) + heldText(held) + admissionText(admissions) + silentText(silent, Date.now()));
    return 0;
  },
});

/** Upgrades a runner holds until the fleet-wide rollout admits its host (ADR 0009), under the table. */
function admissionText(admissions: { host: string; pending: PendingAdmission }[]): string {
  return admissions
    .sort((a, b) => a.host.localeCompare(b.host))
    .map(({ host, pending: p }) => `${host}: pending admission (fleet-wide rollout) for ${p.services} since ${p.since}: ${p.reason}; try ${p.attempts}, next at ${p.nextRetryAt}\n`)
    .join('');
}

/** Chain events a runner holds for its own node's confirmation (not acted on yet), under the table. */
function heldText(held: { host: string; pending: PendingVerification }[]): string {
  return held
    .sort((a, b) => a.host.localeCompare(b.host))
    .map(({ host, pending: p }) => `${host}: ${p.type} ${p.eventId} (height ${p.height}) not acted on yet, awaiting its node's confirmation: ${p.reason}; try ${p.attempts}, next at ${p.nextRetryAt}\n`)
    .join('');
}

function statusText(host: string, s: ServiceStatus): string {
  const lines = [
    ['host', host],
    ['service', s.service],
    ['role', s.role],
    ['chain', s.chainId ?? '-'],
    ['binary', `${s.binary} ${s.version ?? ''}`.trim()],
    ['binary path', s.binaryPath ?? '-'],
    ['config', s.configPath],
    ['state', s.adopted ? `${s.state} (adopted from the previous runner)` : s.state],
    ...(s.nextRetry ? [['next retry', `${s.nextRetry.version} canary at ${s.nextRetry.at}`]] : []),
    ['pid', s.pid ? String(s.pid) : '-'],
    ['uptime', duration(s.uptimeMs)],
    ['restarts', String(s.restarts)],
    ['last exit', s.lastExit ? `${s.lastExit.signal ?? `code ${s.lastExit.code}`} at ${s.lastExit.at}` : '-'],
    ...(s.kind ? [['kind', s.kind]] : []),
    ...(s.health ? [['health', `${s.health.ok ? 'ok' : 'failing'}: ${s.health.probe}${s.health.detail ? ` (${s.health.detail})` : ''} at ${s.health.at}`]] : []),
    ...(s.attention ?? []).flatMap((a) => [
      ['attention', `${a.problem} (since ${a.since})`],
      ['  remedy', a.remedy],
    ]),
  ];
  return table(lines);
}

const statusCommand = defineCliCommand({
  path: ['services', 'status'],
  args: '<service>',
  summary: 'detailed status of one service (on every host that has it with --fleet)',
  options: { ...directoryOption, ...fleetOptions, ...jsonOption, ...REMOTE_OPTIONS },
  async run(ctx) {
    const name = ctx.positionals[0];
    if (!name) throw new UsageError('expected a service name');
    validServiceName(name);
    const o = ctx.options;
    const { config, logger } = setup(o.directory, { query: true });
    const remote = remoteOf(o, readGatewayClientEnv());
    const results: { host: string; status: ServiceStatus }[] = remote
      ? ((await gatewayGet(remote, `/api/v1/services/${encodeURIComponent(name)}${queryString({ host: o.host })}`)) as { statuses: { host: string; status: ServiceStatus }[] }).statuses
      : !o.fleet
      ? [(await local(config, { op: 'status', service: name })) as { host: string; status: ServiceStatus }]
      : o.host
        ? [(await askHost(config, logger, ServicesStatus, { service: name }, o.host, timeoutMs(o.timeout))) as { host: string; status: ServiceStatus }]
        : ((await askFleet(config, logger, ServicesStatus.verb, { service: name }, timeoutMs(o.timeout))) as { host: string; status: ServiceStatus }[]);
    if (results.length === 0) throw new Error(`no runner answered for service ${name}`);
    ctx.io.out(o.json ? JSON.stringify(results) + '\n' : results.map((r) => statusText(r.host, r.status)).join('\n'));
    return 0;
  },
});

function actionCommand(op: 'restart' | 'stop' | 'start', summary: string): CliCommand {
  return defineCliCommand({
    path: ['services', op],
    args: '<service>',
    summary,
    options: { ...directoryOption, ...jsonOption },
    async run(ctx: CliContext<{ directory: string | undefined; json: boolean }>) {
      const name = ctx.positionals[0];
      if (!name) throw new UsageError('expected a service name');
      validServiceName(name);
      const { config } = setup(ctx.options.directory);
      const r = (await local(config, { op, service: name })) as { host: string; status: ServiceStatus };
      ctx.io.out(ctx.options.json ? JSON.stringify(r) + '\n' : `${name}: ${r.status.state}${r.status.pid ? ` (pid ${r.status.pid})` : ''}\n`);
      return 0;
    },
  }) as unknown as CliCommand;
}

const logsCommand = defineCliCommand({
  path: ['services', 'logs'],
  args: '<service>',
  summary: 'the last lines of a service\'s log file (logs/<service>.log)',
  options: { ...directoryOption, lines: { type: 'string', description: 'how many lines', default: '100', placeholder: 'n' } },
  async run(ctx) {
    const name = ctx.positionals[0];
    if (!name) throw new UsageError('expected a service name');
    const { home } = setup(ctx.options.directory);
    const file = home.logFile(validServiceName(name));
    if (!existsSync(file)) throw new Error(`no log for ${name} at ${file}`);
    const n = Number(ctx.options.lines);
    if (!Number.isInteger(n) || n < 1) throw new UsageError('--lines must be a positive integer');
    const size = statSync(file).size;
    const text = readFileSync(file).subarray(Math.max(0, size - 4 * 1024 * 1024)).toString('utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    ctx.io.out(lines.slice(-n).join('\n') + '\n');
    return 0;
  },
});

export const servicesCommands: CliCommand[] = [
  listCommand as unknown as CliCommand,
  statusCommand as unknown as CliCommand,
  actionCommand('restart', 'restart a service of this host (SIGTERM, SIGKILL after the grace, start)'),
  actionCommand('stop', 'stop a service of this host and keep it down'),
  actionCommand('start', 'start a stopped service of this host'),
  logsCommand as unknown as CliCommand,
];

// service-runner commands. Each is served addressed to one host (fleet.cmd.service-runner.<host>.<verb>,
// the host in the subject so a NATS permission lets only that host's runner take it). The read-only
// queries (list, status, upgrades-list) are also served fleet-wide (fleet.cmd.service-runner.<verb>):
// every runner hears them (no queue group) and answers only when `host` is absent or names its own
// host, so a caller gathers one reply per matching host until its timeout. Anything a runner
// executes (upgrades-retry, upgrades-rollback) is addressed only.
import { Type, type Static } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { AbsolutePath, BinaryName, BinaryVersion, ChainId, DateTime, DurationMs, HostName, Pid, Reason, ServiceName, StrictVersion, StringEnum } from '../fields';
import { QUARANTINE_STAGES, SERVICE_ROLES } from '../events/service';

const SERVICE = 'service-runner';

export const SERVICE_STATES = ['starting', 'running', 'stopped', 'exited', 'backoff', 'crash_looping', 'upgrading'] as const;
export type ServiceState = (typeof SERVICE_STATES)[number];

const summaryFields = {
  service: ServiceName(),
  role: StringEnum(SERVICE_ROLES),
  chainId: Type.Optional(ChainId()),
  binary: BinaryName(),
  version: Type.Optional(BinaryVersion({ description: 'Version running (or last run)' })),
  state: StringEnum(SERVICE_STATES, 'Supervision state'),
  pid: Type.Optional(Pid()),
  startedAt: Type.Optional(DateTime({ description: 'When the current process started' })),
  restarts: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Restarts since the runner started' }),
};

export const ServiceSummarySchema = Type.Object(summaryFields, { additionalProperties: false, description: 'One line of `services list`' });
export type ServiceSummary = Static<typeof ServiceSummarySchema>;

export const ServiceStatusSchema = Type.Object(
  {
    ...summaryFields,
    configPath: AbsolutePath({ description: 'Service config file' }),
    binaryPath: Type.Optional(AbsolutePath({ description: 'Binary it runs' })),
    uptimeMs: Type.Optional(DurationMs('Uptime of the current process')),
    lastExit: Type.Optional(
      Type.Object(
        {
          code: Type.Union([Type.Null(), Type.Integer({ minimum: -2_147_483_648, maximum: 4_294_967_295 })]),
          signal: Type.Union([Type.Null(), Type.String({ minLength: 4, maxLength: 16, pattern: '^SIG[A-Z0-9]+$' })]),
          at: DateTime(),
        },
        { additionalProperties: false, description: 'How the previous process ended' },
      ),
    ),
  },
  { additionalProperties: false, description: '`services status` of one service' },
);
export type ServiceStatus = Static<typeof ServiceStatusSchema>;

export const ServicesList = defineCommand({
  service: SERVICE,
  verb: 'list',
  description: 'Services supervised by each runner (one reply per host; filter by host and/or chain).',
  request: Type.Object({ host: Type.Optional(HostName()), chainId: Type.Optional(ChainId()) }, { additionalProperties: false }),
  result: Type.Object({ host: HostName(), services: Type.Array(ServiceSummarySchema, { maxItems: 10_000 }) }, { additionalProperties: false }),
});

export const ServicesStatus = defineCommand({
  service: SERVICE,
  verb: 'status',
  description: 'Detailed status of one service (on every host that has it, unless host is given). not_found lists the services that exist.',
  request: Type.Object({ service: ServiceName(), host: Type.Optional(HostName()) }, { additionalProperties: false }),
  result: Type.Object({ host: HostName(), status: ServiceStatusSchema }, { additionalProperties: false }),
});

export const QuarantinedVersionSchema = Type.Object(
  {
    version: StrictVersion(),
    stage: StringEnum(QUARANTINE_STAGES, 'Where it failed, or operator_rollback'),
    reason: Reason(),
    at: DateTime({ description: 'When it was quarantined' }),
  },
  { additionalProperties: false, description: 'A version set aside for a service after it failed' },
);
export type QuarantinedVersion = Static<typeof QuarantinedVersionSchema>;

export const ServiceUpgradesSchema = Type.Object(
  {
    service: ServiceName(),
    role: StringEnum(SERVICE_ROLES),
    binary: BinaryName(),
    running: Type.Optional(BinaryVersion({ description: 'Version the running process reported' })),
    linked: Type.Optional(StrictVersion({ description: 'Version its link selects (what the next start runs)' })),
    installed: Type.Array(StrictVersion(), { maxItems: 1000, description: 'Installed versions of its binary, newest first' }),
    quarantined: Type.Array(QuarantinedVersionSchema, { maxItems: 1000 }),
  },
  { additionalProperties: false, description: 'One service of `upgrades list`' },
);
export type ServiceUpgrades = Static<typeof ServiceUpgradesSchema>;

export const UpgradesList = defineCommand({
  service: SERVICE,
  verb: 'upgrades-list',
  description: 'Per service of each runner: running, linked, installed and quarantined versions (one reply per host).',
  request: Type.Object({ host: Type.Optional(HostName()) }, { additionalProperties: false }),
  result: Type.Object({ host: HostName(), services: Type.Array(ServiceUpgradesSchema, { maxItems: 10_000 }) }, { additionalProperties: false }),
});

export const UpgradeRetry = defineCommand({
  service: SERVICE,
  verb: 'upgrades-retry',
  role: 'operate',
  description:
    'Lift the quarantine of a service\'s version (default: every quarantined version of it) and reconcile: the chain\'s target is tried again. ' +
    'Recorded as QuarantineLifted with the signer as actor. not_found names the services, invalid_request when nothing is quarantined.',
  request: Type.Object({ service: ServiceName(), version: Type.Optional(StrictVersion()) }, { additionalProperties: false }),
  result: Type.Object({ host: HostName(), service: ServiceName(), lifted: Type.Array(StrictVersion(), { maxItems: 1000 }) }, { additionalProperties: false }),
});

export const UpgradeRollback = defineCommand({
  service: SERVICE,
  verb: 'upgrades-rollback',
  role: 'admin',
  description:
    'Switch a service to an installed version, health-checked like an upgrade (UpgradeStarted with the signer as actor, then ServiceUpgraded, or UpgradeFailed + UpgradeRolledBack). ' +
    'The version it leaves is quarantined (operator_rollback), so the chain\'s target does not bring it back. not_found names the services; invalid_request for a version that is not installed, quarantined, or already linked.',
  request: Type.Object({ service: ServiceName(), version: StrictVersion() }, { additionalProperties: false }),
  result: Type.Object(
    {
      host: HostName(),
      service: ServiceName(),
      fromVersion: BinaryVersion(),
      version: StrictVersion(),
      outcome: StringEnum(['switched', 'failed'] as const, 'switched: runs the version and passed its health check; failed: back on fromVersion'),
      reason: Type.Optional(Reason()),
    },
    { additionalProperties: false },
  ),
});

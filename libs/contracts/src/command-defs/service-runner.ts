// service-runner commands. Each is served addressed to one host (fleet.cmd.service-runner.<host>.<verb>,
// the host in the subject so a NATS permission lets only that host's runner take it). The read-only
// queries (list, status, upgrades-list) are also served fleet-wide (fleet.cmd.service-runner.<verb>):
// every runner hears them (no queue group) and answers only when `host` is absent or names its own
// host, so a caller gathers one reply per matching host until its timeout. Anything a runner
// executes (upgrades-retry, upgrades-rollback) is addressed only.
import { Type, type Static } from '@sinclair/typebox';
import { defineCommand } from '../commands';
import { Actor, AbsolutePath, BinaryName, BinaryVersion, ChainId, DateTime, DurationMs, HostName, Pid, Reason, ServiceName, StrictVersion, StringEnum } from '../fields';
import { CANARY_OUTCOMES, QUARANTINE_STAGES, SERVICE_ROLES } from '../events/service';
import { UUID_PATTERN } from '../uuid';

const SERVICE = 'service-runner';

/** [host]:port of a metrics endpoint: a DNS name, an IPv4 address, a bracketed IPv6 address, or nothing (every interface). */
export const METRICS_ADDRESS_PATTERN = '^(\\[[0-9A-Fa-f:.]{2,45}\\]|[A-Za-z0-9.-]{0,253}):([1-9][0-9]{0,4})$';

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
  adopted: Type.Optional(Type.Boolean({ description: 'The current process was started by an earlier life of this runner and adopted (live-restore)' })),
  nextRetry: Type.Optional(
    Type.Object(
      { version: StrictVersion(), at: DateTime({ description: 'When the canary of it runs' }) },
      { additionalProperties: false, description: 'The quarantined target the retry policy (canary) tries next, and when' },
    ),
  ),
  metricsAddress: Type.Optional(
    Type.String({
      pattern: METRICS_ADDRESS_PATTERN,
      maxLength: 300,
      description:
        "Where the service serves Prometheus /metrics, as configured (lavap's --metrics-listen-address or its config's metrics-listen-address): [host]:port, an empty or wildcard host meaning every interface of the runner's host. The stats-collector scrapes it (scrape discovery).",
    }),
  ),
  kind: Type.Optional(Type.String({ minLength: 1, maxLength: 40, pattern: '^[a-z][a-z0-9-]*$', description: 'What the service runs when it is not lavap: venus-wallet, damocles-manager, venus-sealer or other' })),
  health: Type.Optional(
    Type.Object(
      {
        ok: Type.Boolean({ description: 'The last probe answered' }),
        probe: Type.String({ minLength: 1, maxLength: 300, description: 'What was probed, e.g. "json-rpc Filecoin.Version on 127.0.0.1:5678"' }),
        detail: Type.Optional(Type.String({ maxLength: 300, description: 'Why it failed, or what it answered' })),
        at: DateTime({ description: 'When it was probed' }),
      },
      { additionalProperties: false, description: "The service's own health probe (services/<name>.yml probe:, or its kind's default), run while it runs" },
    ),
  ),
  attention: Type.Optional(
    Type.Array(
      Type.Object(
        {
          problem: Type.String({ minLength: 1, maxLength: 300 }),
          remedy: Type.String({ minLength: 1, maxLength: 500 }),
          pattern: Type.String({ minLength: 1, maxLength: 100 }),
          since: DateTime({ description: 'When its line was seen' }),
        },
        { additionalProperties: false },
      ),
      { maxItems: 32, description: 'Problems of the current run that need the operator (ServiceNeedsAttention), until cleared (a new run, or the remedy applied)' },
    ),
  ),
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

export const PendingVerificationSchema = Type.Object(
  {
    eventId: Type.String({ minLength: 1, maxLength: 200, description: 'Id of the chain event held' }),
    type: Type.String({ minLength: 1, maxLength: 100, description: 'Its type (VersionChanged, UpgradePlanned)' }),
    height: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Chain height it claims' }),
    reason: Reason(),
    attempts: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Confirmations tried so far' }),
    nextRetryAt: DateTime({ description: 'When the runner asks its node again' }),
  },
  {
    additionalProperties: false,
    description: 'A validly signed chain event this runner has not acted on yet: its own node could not confirm it (unreachable, behind); retried with backoff',
  },
);
export type PendingVerification = Static<typeof PendingVerificationSchema>;

export const PendingAdmissionSchema = Type.Object(
  {
    reason: Reason({ description: 'Why it may not upgrade yet: the rollout coordinator\'s answer, or that none came' }),
    services: Reason({ description: 'What it would upgrade: service@version, ...' }),
    attempts: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Requests for admission so far' }),
    since: DateTime({ description: 'Waiting since' }),
    nextRetryAt: DateTime({ description: 'When the runner asks again' }),
  },
  {
    additionalProperties: false,
    description: 'An upgrade this runner holds until the fleet-wide rollout admits its host (ADR 0009); it never upgrades unadmitted',
  },
);
export type PendingAdmission = Static<typeof PendingAdmissionSchema>;

export const ServicesList = defineCommand({
  service: SERVICE,
  verb: 'list',
  description: 'Services supervised by each runner (one reply per host; filter by host and/or chain), and the chain event it holds unconfirmed or the upgrade it holds for the rollout\'s admission, if any.',
  request: Type.Object({ host: Type.Optional(HostName()), chainId: Type.Optional(ChainId()) }, { additionalProperties: false }),
  result: Type.Object(
    {
      host: HostName(),
      services: Type.Array(ServiceSummarySchema, { maxItems: 10_000 }),
      pendingVerification: Type.Optional(PendingVerificationSchema),
      pendingAdmission: Type.Optional(PendingAdmissionSchema),
    },
    { additionalProperties: false },
  ),
});

export const ServicesStatus = defineCommand({
  service: SERVICE,
  verb: 'status',
  description: 'Detailed status of one service (on every host that has it, unless host is given). not_found lists the services that exist.',
  request: Type.Object({ service: ServiceName(), host: Type.Optional(HostName()) }, { additionalProperties: false }),
  result: Type.Object({ host: HostName(), status: ServiceStatusSchema }, { additionalProperties: false }),
});

export const SERVICE_ACTIONS = ['start', 'stop', 'restart'] as const;
export type ServiceAction = (typeof SERVICE_ACTIONS)[number];

export const ServiceControl = defineCommand({
  service: SERVICE,
  verb: 'control',
  role: 'operate',
  description:
    'Start, stop or restart one service of the host the command is addressed to (as `services start|stop|restart` on that host); a stop is recorded with the actor and the service stays down until started.',
  request: Type.Object({ service: ServiceName(), action: StringEnum(SERVICE_ACTIONS, 'start, stop or restart') }, { additionalProperties: false }),
  result: Type.Object({ host: HostName(), status: ServiceStatusSchema }, { additionalProperties: false }),
});

/** At most this many log lines in one answer (they must fit a NATS message: max_payload 512 KiB). */
export const SERVICE_LOG_LINES_MAX = 1000;

export const ServiceLogs = defineCommand({
  service: SERVICE,
  verb: 'logs',
  description: "The last lines of one service's log file on the host the command is addressed to (as `services logs` there).",
  request: Type.Object(
    { service: ServiceName(), lines: Type.Optional(Type.Integer({ minimum: 1, maximum: SERVICE_LOG_LINES_MAX, description: `How many lines (default 100, at most ${SERVICE_LOG_LINES_MAX})` })) },
    { additionalProperties: false },
  ),
  result: Type.Object(
    {
      host: HostName(),
      service: ServiceName(),
      lines: Type.Array(Type.String({ maxLength: 4096 }), { maxItems: SERVICE_LOG_LINES_MAX, description: 'Oldest first; a longer line is cut at 4,096 characters' }),
    },
    { additionalProperties: false },
  ),
});

export const QuarantinedVersionSchema = Type.Object(
  {
    version: StrictVersion(),
    stage: StringEnum(QUARANTINE_STAGES, 'Where it failed, or operator_rollback'),
    reason: Reason(),
    at: DateTime({ description: 'When it was quarantined' }),
    nextRetryAt: Type.Optional(DateTime({ description: 'When the configured retry policy (canary) tries it next; absent: only a new VersionChanged or `upgrades retry` lifts it' })),
    lastCheck: Type.Optional(Reason({ description: 'What the last canary of it showed' })),
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

/** The events of a service's stream that tell its upgrade story, in `upgrades show`. */
export const UPGRADE_HISTORY_TYPES = ['UpgradeStarted', 'ServiceUpgraded', 'UpgradeFailed', 'UpgradeRolledBack', 'VersionQuarantined', 'QuarantineLifted', 'CanaryChecked'] as const;

const EventIdField = (description: string) => Type.String({ pattern: UUID_PATTERN, minLength: 36, maxLength: 36, description });

export const UpgradeHistoryEntrySchema = Type.Object(
  {
    eventId: EventIdField('The event'),
    type: StringEnum(UPGRADE_HISTORY_TYPES),
    at: DateTime({ description: 'When it occurred' }),
    actor: Actor({ description: 'Who acted: the runner itself, or the operator whose signed command caused it' }),
    causationId: Type.Optional(EventIdField('What caused it: the VersionChanged event or the operator\'s command id')),
    correlationId: Type.Optional(EventIdField('The upgrade attempt it belongs to (shared by its UpgradeStarted ... ServiceUpgraded | UpgradeRolledBack)')),
    fromVersion: Type.Optional(BinaryVersion()),
    toVersion: Type.Optional(BinaryVersion()),
    version: Type.Optional(BinaryVersion({ description: 'The version quarantined or lifted' })),
    restoredVersion: Type.Optional(BinaryVersion()),
    failedVersion: Type.Optional(BinaryVersion()),
    stage: Type.Optional(StringEnum(QUARANTINE_STAGES, 'Where it failed, or operator_rollback')),
    reason: Type.Optional(Reason()),
    durationMs: Type.Optional(DurationMs('ServiceUpgraded: from UpgradeStarted to healthy; CanaryChecked: how long the check took')),
    outcome: Type.Optional(StringEnum(CANARY_OUTCOMES, 'CanaryChecked: healthy (quarantine lifted) or unhealthy')),
    nextCheckAt: Type.Optional(DateTime({ description: 'CanaryChecked (unhealthy): when the next canary runs' })),
  },
  { additionalProperties: false, description: 'One event of a service\'s upgrade history' },
);
export type UpgradeHistoryEntry = Static<typeof UpgradeHistoryEntrySchema>;

export const UpgradesShow = defineCommand({
  service: SERVICE,
  verb: 'upgrades-show',
  description:
    'One service of a runner: running, linked, installed and quarantined versions (with why), and its upgrade history, oldest first, with outcome and cause (event ids, actors). ' +
    'The history is what the event stream holds of the service\'s upgrade events (its retention) plus the runner\'s events still in its spool; `historyFrom` says which the runner could read. not_found names the services.',
  request: Type.Object({ service: ServiceName() }, { additionalProperties: false }),
  result: Type.Object(
    {
      host: HostName(),
      upgrades: ServiceUpgradesSchema,
      lastGood: Type.Optional(StrictVersion({ description: 'The last version it ran healthily' })),
      history: Type.Array(UpgradeHistoryEntrySchema, { maxItems: 1000, description: 'Oldest first; the newest 1000 at most' }),
      historyFrom: StringEnum(['stream', 'spool'] as const, 'stream: the event stream and the spool; spool: the bus was unreachable, only the events still in the spool'),
      historyNote: Type.Optional(Reason({ description: 'Why the history may be incomplete' })),
    },
    { additionalProperties: false },
  ),
});

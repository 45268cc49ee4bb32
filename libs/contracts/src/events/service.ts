// Supervised services (lavap providers/consumers, wrapped processes) and their upgrades, as the
// service-runner on each host records them. Stream: service-<host>/<service>.
// No event here carries a secret: the keyring password goes to the child's stdin, never here.
import { Type } from '@sinclair/typebox';
import { defineEvent } from '../define-event';
import { AbsolutePath, Actor, BinaryName, BinaryVersion, ChainId, DateTime, DurationMs, HostName, Pid, Reason, ServiceName, StringEnum } from '../fields';

export const SERVICE_ROLES = ['provider', 'consumer', 'wrapped'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/** Where an upgrade failed: getting the binary, checking it, relinking, starting, health check, pre-upgrade hook. */
export const UPGRADE_STAGES = ['obtain', 'verify', 'switch', 'start', 'health', 'pre_upgrade'] as const;
export type UpgradeStage = (typeof UPGRADE_STAGES)[number];

/** Why a version is quarantined: the stage where its upgrade failed, or an operator rolled it back (`upgrades rollback`). */
export const QUARANTINE_STAGES = [...UPGRADE_STAGES, 'operator_rollback'] as const;
export type QuarantineStage = (typeof QUARANTINE_STAGES)[number];

const ids = {
  host: HostName({ description: 'Host the service runs on' }),
  service: ServiceName(),
};
const stream = { streamPattern: 'service-<host>/<service>', streamId: (d: { host: string; service: string }) => `${d.host}/${d.service}` };

export const ServiceCreated = defineEvent({
  type: 'ServiceCreated',
  area: 'service',
  description: 'A service was defined on a host (create-service or wrap): its role, chain, binary and config file.',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      role: StringEnum(SERVICE_ROLES, 'provider or consumer (lavap), or wrapped (any one process under supervision)'),
      chainId: Type.Optional(ChainId({ description: 'Chain whose protocol version the service follows' })),
      binary: BinaryName({ description: 'Binary the service runs, e.g. lavap' }),
      configPath: AbsolutePath({ description: 'The service config file, under the runner home' }),
    },
    { additionalProperties: false },
  ),
});

export const ServiceStarted = defineEvent({
  type: 'ServiceStarted',
  area: 'service',
  description:
    'The runner started the service process, or (adopted: true) a runner starting again took over the process a previous life of it started (live-restore: same pid, start time and binary; not restarted).',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      pid: Pid(),
      version: BinaryVersion({ description: 'Version of the binary it runs' }),
      binaryPath: AbsolutePath({ description: 'Resolved path of the binary it runs' }),
      adopted: Type.Optional(Type.Boolean({ description: 'True when the process was already running and this runner adopted it instead of starting it (ADR 0007)' })),
    },
    { additionalProperties: false },
  ),
});

export const ServiceExited = defineEvent({
  type: 'ServiceExited',
  area: 'service',
  description:
    'The service process exited, with an exit code or a signal (not both null, unless statusUnknown); `expected` is true when the runner asked it to stop.',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      pid: Pid(),
      code: Type.Union([Type.Null(), Type.Integer({ minimum: -2_147_483_648, maximum: 4_294_967_295 })], {
        description: 'Exit code, null when killed by a signal',
      }),
      signal: Type.Union([Type.Null(), Type.String({ minLength: 4, maxLength: 16, pattern: '^SIG[A-Z0-9]+$' })], {
        description: 'Signal that ended it (SIGTERM, SIGKILL...), null on a normal exit',
      }),
      expected: Type.Boolean({ description: 'True when the runner stopped it (stop, upgrade, shutdown)' }),
      statusUnknown: Type.Optional(
        Type.Literal(true, {
          description:
            'The process was adopted (live-restore, ADR 0007): it is not the runner\'s child, its exit status went to the process that reaped it, so code and signal are both null',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  validate: (d) => (d.code === null && d.signal === null && d.statusUnknown !== true ? 'code and signal are both null: one of them says how it ended' : undefined),
});

export const ServiceRestarted = defineEvent({
  type: 'ServiceRestarted',
  area: 'service',
  description: 'The runner restarts a crashed service after a backoff (capped exponential).',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      attempt: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Restart attempt since the last healthy run' }),
      backoffMs: DurationMs('Wait before this restart'),
    },
    { additionalProperties: false },
  ),
});

export const ServiceCrashLooping = defineEvent({
  type: 'ServiceCrashLooping',
  area: 'service',
  description: 'A service crashed too often within a window; the runner slows its restarts down.',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      crashes: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Crashes within the window' }),
      windowMs: DurationMs('Length of the window'),
      nextRetryMs: DurationMs('Wait before the next start'),
    },
    { additionalProperties: false },
  ),
});

export const ServiceStopped = defineEvent({
  type: 'ServiceStopped',
  area: 'service',
  description: 'The service was stopped on purpose (operator or runner shutdown) and stays down until started.',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      reason: Reason({ description: 'Why it was stopped' }),
      actor: Type.Optional(Actor()),
    },
    { additionalProperties: false },
  ),
});

export const UpgradeStarted = defineEvent({
  type: 'UpgradeStarted',
  area: 'service',
  description: 'The runner starts moving a service to another binary version.',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      chainId: Type.Optional(ChainId({ description: 'Chain whose VersionChanged caused it' })),
      fromVersion: BinaryVersion({ description: 'Version running now' }),
      toVersion: BinaryVersion({ description: 'Version it moves to' }),
      reason: Reason({ description: 'Why, e.g. "consumer_target 0.23.2 > running 0.22.1"' }),
      actor: Type.Optional(Actor({ description: 'Who asked, when an operator did (upgrades retry / rollback); absent when the chain\'s version caused it' })),
    },
    { additionalProperties: false },
  ),
});

export const ServiceUpgraded = defineEvent({
  type: 'ServiceUpgraded',
  area: 'service',
  description: 'The service runs the new version and passed its health check.',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      fromVersion: BinaryVersion(),
      toVersion: BinaryVersion(),
      durationMs: DurationMs('From UpgradeStarted to healthy'),
    },
    { additionalProperties: false },
  ),
});

export const UpgradeFailed = defineEvent({
  type: 'UpgradeFailed',
  area: 'service',
  description: 'An upgrade failed at a stage; UpgradeRolledBack always follows (with a restart of the previous binary when anything had been switched).',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      fromVersion: BinaryVersion(),
      toVersion: BinaryVersion(),
      stage: StringEnum(UPGRADE_STAGES, 'Where it failed'),
      reason: Reason({ description: 'What went wrong (e.g. checksum mismatch, crashed at start)' }),
    },
    { additionalProperties: false },
  ),
});

export const UpgradeRolledBack = defineEvent({
  type: 'UpgradeRolledBack',
  area: 'service',
  description: 'After a failed upgrade the previous binary is linked and running again (or still: a failure before the switch never stopped it; the reason says which).',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      restoredVersion: BinaryVersion({ description: 'Version running again' }),
      failedVersion: BinaryVersion({ description: 'Version that failed' }),
      reason: Reason(),
    },
    { additionalProperties: false },
  ),
});

export const VersionQuarantined = defineEvent({
  type: 'VersionQuarantined',
  area: 'service',
  description:
    'A version failed for this service (health check, start, checksum, obtain, verify, pre-upgrade hook) or an operator rolled it back, and is set aside: it is not tried again automatically, ' +
    'never started at runner start, and no fallback candidate, until the chain announces it anew, an operator runs `upgrades retry`, or a canary of it is healthy under `upgrade.retry: { policy: canary }` (CanaryChecked).',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      version: BinaryVersion({ description: 'The version set aside for this service' }),
      stage: StringEnum(QUARANTINE_STAGES, 'Where it failed, or operator_rollback'),
      reason: Reason({ description: 'Why (the UpgradeFailed reason)' }),
    },
    { additionalProperties: false },
  ),
});

export const QuarantineLifted = defineEvent({
  type: 'QuarantineLifted',
  area: 'service',
  description:
    'A quarantined version may be tried again for this service: an operator asked (`upgrades retry`, with the actor), the chain announced it anew, or a canary of it was healthy (retry policy canary, reason "canary healthy: …").',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      version: BinaryVersion(),
      reason: Reason({ description: 'Why, e.g. "upgrades retry", "provider_target set to 0.23.1 again at height 1200" or "canary healthy: up 5000 ms and answered TCP on 127.0.0.1:41234"' }),
      actor: Type.Optional(Actor()),
    },
    { additionalProperties: false },
  ),
});

/** How a canary check of a quarantined version ended. */
export const CANARY_OUTCOMES = ['healthy', 'unhealthy'] as const;
export type CanaryOutcome = (typeof CANARY_OUTCOMES)[number];

export const CanaryChecked = defineEvent({
  type: 'CanaryChecked',
  area: 'service',
  description:
    'Under `upgrade.retry: { policy: canary }` the runner started a quarantined version of a service as a canary (its own config copy on a spare port, its own folder and log, the running service untouched) ' +
    'and judged it: healthy lifts the quarantine (QuarantineLifted follows) and the normal upgrade proceeds; unhealthy keeps it quarantined until nextCheckAt (ADR 0008).',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      version: BinaryVersion({ description: 'The quarantined version tried' }),
      outcome: StringEnum(CANARY_OUTCOMES, 'healthy: the quarantine is lifted; unhealthy: it stays'),
      stage: Type.Optional(StringEnum(UPGRADE_STAGES, 'Where an unhealthy canary failed (obtain, verify, start, health)')),
      reason: Reason({ description: 'What the canary showed, e.g. "exited with code 1 300 ms after start" or "up 5000 ms and answered TCP on 127.0.0.1:41234"' }),
      address: Type.Optional(Type.String({ maxLength: 100, description: 'The spare host:port the canary listened on' })),
      durationMs: DurationMs('How long the check took'),
      nextCheckAt: Type.Optional(DateTime({ description: 'When the next canary runs (unhealthy only)' })),
    },
    { additionalProperties: false },
  ),
});

export const ServiceNeedsAttention = defineEvent({
  type: 'ServiceNeedsAttention',
  area: 'service',
  description:
    "A line of the service's output matched one of its attention patterns (built in for its kind, e.g. venus-wallet's \"password not set\", or configured in services/<name>.yml): known trouble, with the operator's remedy. " +
    'Recorded once per problem per process run (a restart is a new run), at most once a minute per problem across runs; the excerpt is capped and has tokens, keys and long hex/base64 values blanked.',
  ...stream,
  schema: Type.Object(
    {
      ...ids,
      problem: Type.String({ minLength: 1, maxLength: 300, description: 'What is wrong, e.g. "venus-wallet has no password: it cannot sign"' }),
      remedy: Type.String({ minLength: 1, maxLength: 500, description: 'What fixes it, e.g. "fleetvisor secrets set-password wallet-1"' }),
      pattern: Type.String({ minLength: 1, maxLength: 100, description: 'Id of the attention pattern that matched (built-in or configured)' }),
      excerpt: Type.String({ maxLength: 300, description: 'The matching line, capped, secrets blanked' }),
      pid: Type.Optional(Pid()),
    },
    { additionalProperties: false },
  ),
});

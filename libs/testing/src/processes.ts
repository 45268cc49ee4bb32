// Real processes under test: the environment they get, and what the OS says about them.
import { readFileSync } from 'node:fs';
import { inheritedEnvironment } from './config';
import { sharedNatsUrl } from './test-bus';
import { testTrust } from './test-trust';

/**
 * The environment of a Fleetvisor process under test: this process's (PATH, HOME), the shared
 * NATS, the test's own database and bus names when given, the test trust (its root, and the admin
 * root key as the signing key: override FLEETVISOR_SIGNING_KEY_FILE in `extra` for a chain-watcher
 * or a weaker role, with testTrust().keyFile(role)), JSON logs, then `extra`.
 */
export function fleetvisorEnv(
  opts: { databaseUrl?: string; bus?: { subjectRoot: string; eventStreamName: string } },
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  return {
    ...inheritedEnvironment(),
    FLEETVISOR_NATS_URL: sharedNatsUrl(),
    ...(opts.databaseUrl ? { FLEETVISOR_DATABASE_URL: opts.databaseUrl } : {}),
    ...(opts.bus ? { FLEETVISOR_SUBJECT_ROOT: opts.bus.subjectRoot, FLEETVISOR_EVENT_STREAM: opts.bus.eventStreamName } : {}),
    ...testTrust().env(),
    // What a `migrate` or `up` under test gives its streams: JetStream reserves the limit on the
    // shared server, and production's 8 GiB per suite exhausts it.
    FLEETVISOR_EVENT_STREAM_MAX_BYTES: String(64 * 1024 ** 2),
    FLEETVISOR_DEAD_LETTER_STREAM_MAX_BYTES: String(16 * 1024 ** 2),
    FLEETVISOR_LOG_FORMAT: 'json',
    ...extra,
  };
}

/** Whether a process with this pid exists (a zombie counts until its parent reaps it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The direct children of a process (Linux /proc). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

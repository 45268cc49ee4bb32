// Key revocations reach every process over the bus, without a database (ADR 0006): `keys revoke`
// writes an admin-signed KeyRevocation to the JetStream KV bucket `fleet_keys` under
// `revoked.<kid>`; each process watches the bucket and hands every entry to its TrustVerifier, which
// takes it only if a trusted root signed it. The bucket is made by `fleetvisor migrate`: while it is
// missing (or NATS is away) the watch is retried with backoff, and said once, not at every attempt.
import type { KvEntry, NatsConnection, QueuedIterator } from 'nats';
import type { Logger } from '@fleetvisor/platform';
import type { TrustVerifier } from './verifier';

export const KEYS_BUCKET = 'fleet_keys';

/**
 * The revocation bucket of a subject root: `fleet_keys` for the default root `fleet`, `<root>_keys`
 * for another (test suites and side-by-side installations each have their own, as their streams).
 */
export const keysBucketName = (subjectRoot = 'fleet'): string => (subjectRoot === 'fleet' ? KEYS_BUCKET : `${subjectRoot}_keys`);
export const REVOKED_PREFIX = 'revoked.';

/** The KV key of a key's revocation. */
export const revocationKey = (kid: string): string => `${REVOKED_PREFIX}${kid}`;

export interface RevocationWatchOptions {
  logger: Logger;
  /** Default `fleet_keys` (tests use a bucket of their own). */
  bucket?: string;
  /** Retry backoff while the bucket is missing or the watch broke (default 500 ms doubling to 30 s). */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** A revocation taken (after the verifier accepted it). */
  onRevoked?: (kid: string) => void;
  /** An entry refused (not a revocation, not signed by a trusted root, key and kid differ). */
  onRefused?: (key: string, reason: string) => void;
}

export interface RevocationWatch {
  /**
   * Resolves once the revocations in the bucket are all taken (the first watch delivered them), or
   * once the bucket is known not to exist (no bucket, no revocation). Not while NATS cannot say:
   * a receiver that waits for it never acts on a signature before it has heard the revocations.
   */
  readonly ready: Promise<void>;
  /** Revocations taken so far. */
  readonly taken: number;
  /** Failed attempts to watch the bucket so far (missing bucket, NATS away). */
  readonly failures: number;
  stop(): Promise<void>;
}

/** JetStream's answer when the bucket's stream does not exist (404, err_code 10059). */
function isMissingBucket(e: unknown): boolean {
  const err = e as { code?: unknown; api_error?: { err_code?: number } };
  return err?.api_error?.err_code === 10059 || (err?.code === '404' && /stream not found/i.test(String((e as Error).message)));
}

export function watchRevocations(nc: NatsConnection, verifier: TrustVerifier, opts: RevocationWatchOptions): RevocationWatch {
  const bucket = opts.bucket ?? KEYS_BUCKET;
  const log = opts.logger.child({ component: 'revocations', bucket });
  const initialMs = opts.retryInitialMs ?? 500;
  const maxMs = opts.retryMaxMs ?? 30_000;
  let stopped = false;
  let taken = 0;
  let failedAttempts = 0;
  let iterator: QueuedIterator<KvEntry> | undefined;
  let wake: (() => void) | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((r) => (markReady = r));

  const take = (e: KvEntry): void => {
    if (e.operation !== 'PUT') return; // a deleted revocation does not un-revoke a key already refused
    if (!e.key.startsWith(REVOKED_PREFIX)) return;
    const kid = e.key.slice(REVOKED_PREFIX.length);
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder().decode(e.value));
    } catch {
      return refused(e.key, 'not JSON');
    }
    if ((raw as { kid?: unknown } | null)?.kid !== kid) return refused(e.key, `the entry revokes ${String((raw as { kid?: unknown } | null)?.kid)}, not ${kid}`);
    const r = verifier.addRevocation(raw);
    if (!r.ok) return refused(e.key, r.reason);
    taken++;
    log.info({ kid }, 'key revoked: refused from now on');
    opts.onRevoked?.(kid);
  };
  const refused = (key: string, reason: string): void => {
    log.warn({ key, reason }, 'revocation entry refused');
    opts.onRefused?.(key, reason);
  };
  const pause = (ms: number): Promise<void> =>
    new Promise((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });

  const run = async (): Promise<void> => {
    let failures = 0;
    let saidMissing = false;
    while (!stopped && !nc.isClosed()) {
      try {
        const kv = await nc.jetstream().views.kv(bucket, { bindOnly: true });
        let initialized = false;
        iterator = await kv.watch({
          key: `${REVOKED_PREFIX}>`,
          initializedFn: () => {
            initialized = true;
            markReady();
          },
        });
        if (saidMissing) log.info('revocation bucket found: watching it');
        failures = 0;
        saidMissing = false;
        for await (const e of iterator) take(e);
        // The watch ends when the connection closes or the bucket goes; watch again unless stopping.
        if (!initialized) markReady();
      } catch (e) {
        if (stopped) break;
        failures++;
        failedAttempts++;
        if (isMissingBucket(e)) markReady();
        if (!saidMissing) {
          saidMissing = true;
          log.warn({ err: (e as Error).message }, `cannot watch key revocations in KV bucket ${bucket} (made by \`fleetvisor migrate\`): retrying with backoff; revocations are not heard until then`);
        }
      }
      if (stopped) break;
      await pause(Math.min(maxMs, initialMs * 2 ** Math.min(failures, 16)));
    }
  };
  const done = run();
  return {
    ready,
    get taken() {
      return taken;
    },
    get failures() {
      return failedAttempts;
    },
    async stop() {
      stopped = true;
      iterator?.stop();
      wake?.();
      await done;
    },
  };
}

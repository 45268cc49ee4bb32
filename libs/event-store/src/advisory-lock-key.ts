// Names of Postgres session advisory locks (leader election, migrations) as the bigint keys
// pg_advisory_lock takes.
import { createHash } from 'node:crypto';

/** Key of a session advisory lock for a name: 64 bits of its SHA-256, as a signed bigint. */
export function advisoryLockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE(0).toString();
}

// Which role satisfies which need (docs/security.md has the table per command).
import type { KeyRole } from '@fleetvisor/contracts';

const HUMAN_RANK: Partial<Record<KeyRole, number>> = { read: 1, operate: 2, admin: 3 };

/**
 * read < operate < admin. `service` keys (central services, e.g. the registry passing a verified
 * operator's pause on to the worker's agent) satisfy read and operate, never admin: an admin act is
 * always signed by the admin who made it. `chain-watcher` keys sign chain events and nothing else.
 */
export function roleSatisfies(role: KeyRole, needed: KeyRole): boolean {
  if (role === needed) return true;
  if (needed === 'chain-watcher' || role === 'chain-watcher') return false;
  if (role === 'service') return needed === 'operate' || needed === 'read';
  if (needed === 'service') return false;
  return (HUMAN_RANK[role] ?? 0) >= (HUMAN_RANK[needed] ?? Infinity);
}

import { describe, expect, it } from 'vitest';
import type { LeaderLock } from '@fleetvisor/event-store';
import { createLogger } from '@fleetvisor/platform';
import { RegistryLeadership, WORKER_REGISTRY_LOCK } from './registry-leadership';

/** A lock another holder keeps for `busyTries` tries; `lose()` drops it as a dead connection would. */
function fakeLock(busyTries: number) {
  const lost: (() => void)[] = [];
  let tries = 0;
  let released = false;
  const lock: LeaderLock = {
    tryAcquire: async () => ++tries > busyTries,
    get held() {
      return tries > busyTries && !released;
    },
    release: async () => void (released = true),
    onLost: (l) => void lost.push(l),
  };
  return { lock, tries: () => tries, released: () => released, lose: () => lost.forEach((l) => l()) };
}

const logger = createLogger({ name: 'leadership-test', level: 'silent', format: 'json' });

describe('RegistryLeadership', () => {
  it('stands by while another registry holds the lock, then leads; a lost lock is reported', async () => {
    const f = fakeLock(2);
    const names: string[] = [];
    let lostCalls = 0;
    const l = new RegistryLeadership({ leaderLock: (name) => (names.push(name), f.lock) }, logger, { retryMs: 1, onLost: () => lostCalls++ });
    await l.acquire();
    expect(names).toEqual([WORKER_REGISTRY_LOCK]);
    expect(f.tries()).toBe(3);
    f.lose();
    expect(lostCalls).toBe(1);
    await l.release();
    expect(f.released()).toBe(true);
  });

  it('stopping while standing by ends acquire with an error instead of waiting forever', async () => {
    const f = fakeLock(Number.MAX_SAFE_INTEGER);
    const l = new RegistryLeadership({ leaderLock: () => f.lock }, logger, { retryMs: 1 });
    const acquiring = l.acquire();
    l.stopStandingBy();
    await expect(acquiring).rejects.toThrow('worker registry stopped while standing by');
  });
});

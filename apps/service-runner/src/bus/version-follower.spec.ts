import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { newEvent, VersionChanged, type ProtocolVersion } from '@fleetvisor/contracts';
import { waitFor } from '@fleetvisor/testing';
import { VersionFollower, type VersionCatchUp } from './version-follower';

const pv = (v: string): ProtocolVersion => ({ providerTarget: v, providerMin: '0.1.0', consumerTarget: v, consumerMin: '0.1.0' });
const changed = (chain: string, height: number, v: string) => newEvent(VersionChanged, chain, { chainId: chain, height, previous: null, current: pv(v) });
const silent = pino({ level: 'silent' });

function follow(source: VersionCatchUp): { seen: { v: string; height: number }[]; follower: VersionFollower } {
  const seen: { v: string; height: number }[] = [];
  const follower = new VersionFollower(source, 'lava-1', (v, s) => seen.push({ v: v.providerTarget, height: s.height }), silent);
  return { seen, follower };
}

describe('VersionFollower', () => {
  it('catches up from the event stream when it holds the newest VersionChanged (the chain-watcher is not asked)', async () => {
    let asked = 0;
    const { seen, follower } = follow({ fromStream: async () => changed('lava-1', 7, '0.2.0'), fromWatcher: async () => void asked++ });
    follower.start();
    await waitFor(() => seen.length === 1);
    await follower.stop();
    expect(seen).toEqual([{ v: '0.2.0', height: 7 }]);
    expect(asked).toBe(0);
  });

  it('asks the chain-watcher when the stream cannot be read', async () => {
    const { seen, follower } = follow({
      fromStream: async () => {
        throw new Error('JetStream not ready');
      },
      fromWatcher: async () => changed('lava-1', 8, '0.2.5'),
    });
    follower.start();
    await waitFor(() => seen.length === 1);
    await follower.stop();
    expect(seen).toEqual([{ v: '0.2.5', height: 8 }]);
  });

  it("asks the chain-watcher for the log's copy when the stream no longer holds it, retrying while nobody answers", async () => {
    let attempts = 0;
    const { seen, follower } = follow({
      fromStream: async () => undefined,
      fromWatcher: async () => {
        if (++attempts < 2) throw new Error('no chain-watcher answered');
        return changed('lava-1', 9, '0.3.0');
      },
    });
    follower.start();
    await waitFor(() => seen.length === 1, { timeoutMs: 4_000 });
    await follower.stop();
    expect(seen).toEqual([{ v: '0.3.0', height: 9 }]);
    expect(attempts).toBe(2);
  });

  it('accept() is the one gate: a malformed event or one of another chain changes nothing; a refused stream copy falls back to the chain-watcher', async () => {
    const { seen, follower } = follow({ fromStream: async () => ({ ...changed('lava-1', 11, '0.4.0'), data: { chainId: 'lava-1', height: -1 } }), fromWatcher: async () => changed('lava-1', 10, '0.3.5') });
    expect(follower.accept(changed('lava-2', 50, '9.0.0'), 'bus')).toBe(false);
    expect(follower.accept({ id: 'x', type: 'VersionChanged' }, 'bus')).toBe(false);
    expect(seen).toEqual([]);
    follower.start();
    await waitFor(() => seen.length === 1);
    await follower.stop();
    expect(seen).toEqual([{ v: '0.3.5', height: 10 }]);
  });
});

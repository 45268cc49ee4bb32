import { describe, expect, it } from 'vitest';
import { ProvingChain } from '@fleetvisor/devnet';
import { FaultStory, PROVING_DEMO_MINERS, PROVING_DEMO_PARAMS } from './proving-demo';

describe("up's proving demo: the troubled miner's story", () => {
  it('t01001 misses a window, stays faulty through the next, is declared recovered, is proven, and does it again; t01000 never faults', () => {
    const chain = new ProvingChain(PROVING_DEMO_PARAMS, PROVING_DEMO_MINERS.map((id) => ({ id })), 1_000);
    const story = new FaultStory({ chain });
    const did: [number, string][] = [];
    const faultyAt: number[] = [];
    let recoveredAt: number | undefined;
    for (let i = 0; i < 6 * chain.period; i++) {
      chain.step();
      const what = story.onEpoch(chain.height);
      if (what) did.push([chain.height, what]);
      if (chain.faults('t01001').length > 0) faultyAt.push(chain.height);
      else if (faultyAt.length > 0 && recoveredAt === undefined) recoveredAt = chain.height;
      expect(chain.faults('t01000')).toEqual([]);
    }
    const misses = did.filter(([, w]) => w.startsWith('t01001 will miss'));
    const recoveries = did.filter(([, w]) => w.includes('declared'));
    expect(misses.length).toBeGreaterThanOrEqual(2);
    expect(recoveries.length).toBeGreaterThanOrEqual(1);
    // Faulty from the first missed window until the recovery is proven, more than a period later.
    expect(recoveredAt! - faultyAt[0]!).toBeGreaterThan(chain.period);
    // The recovery is declared while the sectors are faulty, after their deadline came round again.
    expect(recoveries[0]![0]).toBeGreaterThan(faultyAt[0]! + chain.period - chain.params.challengeWindow);
    expect(recoveries[0]![0]).toBeLessThan(recoveredAt!);
    // A quiet while, then the same again.
    expect(misses[1]![0]).toBeGreaterThan(recoveredAt!);
  });
});

// The proving part of `fleetvisor up`: a simulated Filecoin node (libs/devnet/src/filecoin/proving-node)
// with two miners on a fast epoch clock, watched by the chain-watcher like any Filecoin chain. t01000
// proves every window; t01001 develops a fault: it misses a window (WindowPoStMissed, SectorsFaulted),
// the deadline comes round again still faulty (ProvingDeadlineAtRisk) and misses again, the sectors
// are declared recovered and proven the period after (SectorsRecovered); then, after a quiet while,
// the same again, so an operator who opens `fleetvisor proving faults --miner t01001` has something to read.
import type { ProvingNodeHandle } from '@fleetvisor/devnet';

export const PROVING_DEMO_CHAIN = 'devnet-fil';
export const PROVING_DEMO_MINERS = ['t01000', 't01001'] as const;
const TROUBLED = 't01001';

/** Short windows so a deadline's whole story fits in minutes: 12 deadlines of 10 epochs. */
export const PROVING_DEMO_PARAMS = { periodDeadlines: 12, challengeWindow: 10, challengeLookback: 4, faultDeclarationCutoff: 5 };

export interface ProvingDemo {
  /** What the chain-watcher is given: FLEETVISOR_FILECOIN_CHAINS / _MINERS / _POLL_INTERVAL. */
  env: Record<string, string>;
  url: string;
  close(): Promise<void>;
}

type Phase = { kind: 'quiet'; until: number } | { kind: 'missing'; deadline: number; after: number } | { kind: 'recovering'; since: number };

/**
 * The troubled miner's story, one decision per epoch: plain logic over the chain, so a test can drive
 * it epoch by epoch. Returns what it did (for the log), or undefined.
 */
export class FaultStory {
  private phase: Phase;

  constructor(
    private readonly node: Pick<ProvingNodeHandle, 'chain'>,
    private readonly miner: string = TROUBLED,
    startEpoch: number = node.chain.height,
    private readonly quietEpochs = 20,
  ) {
    this.phase = { kind: 'quiet', until: startEpoch + quietEpochs };
  }

  onEpoch(epoch: number): string | undefined {
    const chain = this.node.chain;
    const period = chain.period;
    switch (this.phase.kind) {
      case 'quiet': {
        if (epoch < this.phase.until) return undefined;
        // The deadline after the open one: it has not been proven yet in this period.
        const open = chain.deadline(this.miner);
        const next = (open.Index + 1) % chain.params.periodDeadlines;
        chain.missDeadline(this.miner, next);
        // Its next window opens at risk and is missed again; the recovery is declared once that
        // window has closed (a declaration for an open window comes too late, as the actor's cutoff
        // says) and proven the period after.
        const reopens = open.Open + chain.params.challengeWindow + period;
        this.phase = { kind: 'missing', deadline: next, after: reopens + chain.params.challengeWindow + 1 };
        return `${this.miner} will miss deadline ${next}`;
      }
      case 'missing': {
        // Declared recovered once the deadline has come round again still faulty (at risk).
        if (epoch < this.phase.after) return undefined;
        const faults = chain.faults(this.miner);
        if (faults.length === 0) return undefined;
        chain.declareRecoveries(this.miner, faults);
        this.phase = { kind: 'recovering', since: epoch };
        return `${this.miner} declared ${faults.length} sector(s) recovered`;
      }
      case 'recovering': {
        if (chain.faults(this.miner).length > 0) return undefined;
        this.phase = { kind: 'quiet', until: epoch + period * 2 };
        return undefined;
      }
    }
  }
}

export async function startProvingDemo(opts: { epochMs?: number; log?: (msg: string) => void } = {}): Promise<ProvingDemo> {
  const { startProvingNode } = await import('@fleetvisor/devnet');
  const epochMs = opts.epochMs ?? 1_000;
  const node = await startProvingNode({
    miners: PROVING_DEMO_MINERS.map((id) => ({ id, partitionsPerDeadline: 1, sectorsPerPartition: 4 })),
    epochMs,
    params: PROVING_DEMO_PARAMS,
    startEpoch: 1_000,
  });
  const story = new FaultStory(node);
  let last = node.chain.height;
  // The node's own clock moves the chain; the story looks at each epoch it has not seen yet.
  const timer = setInterval(() => {
    for (; last < node.chain.height; ) {
      last++;
      const did = story.onEpoch(last);
      if (did) opts.log?.(did);
    }
  }, Math.max(50, Math.floor(epochMs / 4)));
  timer.unref();
  return {
    url: node.url,
    env: {
      FLEETVISOR_FILECOIN_CHAINS: `${PROVING_DEMO_CHAIN}=${node.url}`,
      FLEETVISOR_FILECOIN_MINERS: PROVING_DEMO_MINERS.join(','),
      // Four looks per epoch: an epoch's state is seen within a quarter of it.
      FLEETVISOR_FILECOIN_POLL_INTERVAL: `${Math.max(100, Math.floor(epochMs / 4))}ms`,
    },
    close: async () => {
      clearInterval(timer);
      await node.close();
    },
  };
}

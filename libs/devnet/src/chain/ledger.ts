// The chain itself, without any I/O: a list of committed blocks, the module state each block
// left behind (Lava version params, x/upgrade plan), and the changes waiting for the next block,
// as passed governance proposals would be applied in EndBlock.
import { createHash } from 'node:crypto';
import type { DevnetBlock, LavaVersionParams, UpgradePlanParams } from './api';

export interface ChainEvent {
  type: string;
  attributes: { key: string; value: string }[];
}

/** One committed block and the state after it. Hashes are upper-case hex, as CometBFT prints them. */
export interface BlockRecord {
  readonly height: number;
  readonly time: Date;
  readonly hash: string;
  readonly partsHash: string;
  /** undefined for the first block (no last block id). */
  readonly last?: { hash: string; partsHash: string; time: Date };
  /** App hash after the previous block (what the header carries). */
  readonly headerAppHash: string;
  /** App hash after this block (block results, abci_info). */
  readonly appHash: string;
  readonly lastResultsHash: string;
  readonly events: readonly ChainEvent[];
  readonly version: Readonly<LavaVersionParams>;
  readonly plan: Readonly<UpgradePlanParams> | undefined;
}

type PendingChange =
  | { kind: 'version'; version: LavaVersionParams; settle: Settle }
  | { kind: 'plan'; plan: UpgradePlanParams | undefined; settle: Settle };

interface Settle {
  resolve(v: { height: number }): void;
  reject(e: Error): void;
}

export const DEFAULT_VERSION: LavaVersionParams = {
  providerTarget: '0.21.0',
  providerMin: '0.20.0',
  consumerTarget: '0.21.0',
  consumerMin: '0.20.0',
};

export function hexHash(...parts: (string | number)[]): string {
  return createHash('sha256').update(parts.join('|')).digest('hex').toUpperCase();
}

/** Lava's param change value: the JSON the proposal carried (gogoproto json names). */
export function versionParamJson(v: LavaVersionParams): string {
  return JSON.stringify({
    provider_target: v.providerTarget,
    provider_min: v.providerMin,
    consumer_target: v.consumerTarget,
    consumer_min: v.consumerMin,
  });
}

export interface LedgerOptions {
  chainId: string;
  initialHeight: number;
  version: LavaVersionParams;
  /** Blocks kept for block/block_results/abci_query at a height; older ones are pruned. */
  retainBlocks: number;
}

export class ChainLedger {
  private readonly blocks: BlockRecord[] = [];
  private pending: PendingChange[] = [];
  private proposalId = 0;
  private version: LavaVersionParams;
  private plan: UpgradePlanParams | undefined;

  constructor(private readonly opts: LedgerOptions) {
    this.version = { ...opts.version };
  }

  get latest(): BlockRecord | undefined {
    return this.blocks[this.blocks.length - 1];
  }

  get earliest(): BlockRecord | undefined {
    return this.blocks[0];
  }

  height(): number {
    return this.latest?.height ?? 0;
  }

  at(height: number): BlockRecord | undefined {
    const first = this.blocks[0];
    if (!first) return undefined;
    return this.blocks[height - first.height];
  }

  currentVersion(): LavaVersionParams {
    return { ...this.version };
  }

  currentPlan(): UpgradePlanParams | undefined {
    return this.plan ? { ...this.plan } : undefined;
  }

  /** Queues a change for the next block; the promise resolves once that block is committed. */
  enqueueVersion(version: LavaVersionParams): Promise<{ height: number }> {
    return new Promise((resolve, reject) => this.pending.push({ kind: 'version', version: { ...version }, settle: { resolve, reject } }));
  }

  enqueuePlan(plan: UpgradePlanParams | undefined): Promise<{ height: number }> {
    return new Promise((resolve, reject) => this.pending.push({ kind: 'plan', plan: plan && { ...plan }, settle: { resolve, reject } }));
  }

  /** Commits the next block at `time`, applying every queued change in order. */
  commit(time: Date): { record: BlockRecord; settled: Settle[] } {
    const prev = this.latest;
    const height = prev ? prev.height + 1 : this.opts.initialHeight;
    const events: ChainEvent[] = [];
    const settled: Settle[] = [];
    for (const change of this.pending) {
      const id = String(++this.proposalId);
      if (change.kind === 'version') {
        this.version = change.version;
        // What Lava's param-change proposal handler emits, then gov's EndBlocker (SDK 0.50 adds mode).
        events.push({
          type: 'lava_param_change',
          attributes: [
            { key: 'param', value: 'Version' },
            { key: 'value', value: versionParamJson(change.version) },
            { key: 'mode', value: 'EndBlock' },
          ],
        });
      } else {
        this.plan = change.plan;
      }
      events.push({
        type: 'active_proposal',
        attributes: [
          { key: 'proposal_id', value: id },
          { key: 'proposal_result', value: 'proposal_passed' },
          { key: 'mode', value: 'EndBlock' },
        ],
      });
      settled.push(change.settle);
    }
    this.pending = [];
    const iso = time.toISOString();
    const headerAppHash = prev?.appHash ?? hexHash(this.opts.chainId, 'genesis-app');
    const appHash = hexHash(headerAppHash, height, events.length ? JSON.stringify(events) : '');
    const hash = hexHash(this.opts.chainId, height, iso, prev?.hash ?? '', headerAppHash);
    const record: BlockRecord = {
      height,
      time,
      hash,
      partsHash: hexHash('parts', hash),
      last: prev ? { hash: prev.hash, partsHash: prev.partsHash, time: prev.time } : undefined,
      headerAppHash,
      appHash,
      lastResultsHash: hexHash('results', prev?.height ?? 0, prev?.events.length ?? 0),
      events,
      version: this.version,
      plan: this.plan,
    };
    this.blocks.push(record);
    if (this.blocks.length > this.opts.retainBlocks) this.blocks.splice(0, this.blocks.length - this.opts.retainBlocks);
    return { record, settled };
  }

  /** Rejects every queued change (the chain is stopping). */
  abandonPending(reason: Error): void {
    for (const c of this.pending) c.settle.reject(reason);
    this.pending = [];
  }
}

export function toDevnetBlock(r: BlockRecord): DevnetBlock {
  return { height: r.height, time: r.time, events: r.events.map((e) => ({ type: e.type, attributes: e.attributes.map((a) => ({ ...a })) })) };
}

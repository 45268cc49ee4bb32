// One chain, watched by its leader: the blocks the feed delivers are processed in order; each block
// gets the queries its schedule calls for (at most one Params query per block), and what the chain
// answered is turned into events by the params/plan decision and appended at the stream version it
// was decided on. Blocks missed while disconnected are scanned (bounded); beyond the bound, Params
// at the first scanned block catch any change in between.
// The log is the only memory: the state is folded from stream chain-<chainId> at start, and on a
// conflicting append (another leader wrote meanwhile) it is folded again and the same answers
// decided again, so two leaders can never both announce a change.
import { WrongExpectedVersionError } from '@fleetvisor/event-store';
import type { ChainStatusEntry, ChainWatchMode, EventMetadata } from '@fleetvisor/contracts';
import { LAVA_PARAMS_PATH } from '@fleetvisor/lava';
import type { Logger } from '@fleetvisor/platform';
import { BlockFeed, type BlockFeedSettings } from '../connection/block-feed';
import { RpcAnswerError, type BlockEvent, type ChainConnector, type NewBlock } from '../connection/chain-rpc';
import { EndpointPool, type EndpointMetrics } from '../connection/endpoint-pool';
import { emptyChainLog, evolveChainLog, type ChainLogState, type ChainLogStore, type Observation } from '../recording/chain-log';
import { decideAtHeight, type HeightAnswers, type HeightDecision, type QueryAnswer, type RefusalMemory } from '../recording/height-decision';
import { CURRENT_PLAN_PATH } from '../recording/upgrade-plan';
import { nextBlock, queriesDue, type NextBlock } from './block-schedule';

/** What the monitor reports for /metrics. */
export interface ChainMetricsSink extends EndpointMetrics {
  height(chainId: string, height: number): void;
  paramsQueried(chainId: string, at: Date): void;
  webSocket(chainId: string, up: boolean): void;
  versionChanged(chainId: string): void;
  anomaly(chainId: string, kind: string): void;
}

export interface MonitorSettings extends BlockFeedSettings {
  /** Params (and CurrentPlan) are queried at least every N blocks. */
  safetyNetBlocks: number;
  /** While on a fallback endpoint, how often the preferred ones are probed. */
  preferredProbeMs: number;
  /** Most blocks scanned after a gap (each costs one block_results). */
  maxGapScan: number;
}

export interface ChainMonitorOptions {
  chainId: string;
  endpoints: readonly string[];
  connector: ChainConnector;
  log: ChainLogStore;
  settings: MonitorSettings;
  logger: Logger;
  metrics?: ChainMetricsSink;
  host: string;
  now?: () => Date;
}

/** Appends retried after a conflicting append before the block counts as failed. */
const CONFLICT_RETRIES = 3;

export class ChainMonitor {
  private readonly chainId: string;
  private readonly log: Logger;
  private readonly settings: MonitorSettings;
  private readonly metadata: EventMetadata;
  private readonly now: () => Date;
  private readonly endpoints: EndpointPool;
  private readonly feed: BlockFeed;

  private state: ChainLogState = emptyChainLog();
  private refusals: RefusalMemory = {};
  private running = false;
  private probeTimer: NodeJS.Timeout | undefined;

  private processed = 0;
  private target = 0;
  private lastBlockTime: Date | undefined;
  private readonly blockEvents = new Map<number, readonly BlockEvent[]>();
  private lastParamsHeight = 0;
  private lastPlanHeight = 0;
  private lastParamsQueryAt: Date | undefined;
  private draining: Promise<void> | undefined;
  private lastError: string | undefined;

  constructor(private readonly opts: ChainMonitorOptions) {
    this.chainId = opts.chainId;
    this.settings = opts.settings;
    this.log = opts.logger.child({ chainId: opts.chainId });
    this.metadata = { host: opts.host, actor: 'chain-watcher' };
    this.now = opts.now ?? (() => new Date());
    this.endpoints = new EndpointPool({
      chainId: opts.chainId,
      endpoints: opts.endpoints,
      connector: opts.connector,
      logger: this.log,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      onSwitch: () => this.feed.resubscribe(),
    });
    this.feed = new BlockFeed({
      chainId: opts.chainId,
      connector: opts.connector,
      endpoints: this.endpoints,
      settings: opts.settings,
      logger: this.log,
      onBlock: (block) => this.onBlock(block),
      onPollProblem: (message) => (this.lastError = message),
      onWebSocket: (up) => opts.metrics?.webSocket(this.chainId, up),
    });
  }

  /** Folds the log, connects, and processes the latest block (Params and plan at start). */
  async start(): Promise<void> {
    this.running = true;
    this.state = await this.opts.log.load(this.chainId);
    this.log.info({ version: this.state.version, versionHeight: this.state.versionHeight, streamVersion: this.state.streamVersion }, 'leading chain: state rebuilt from the log');
    this.endpoints.reportInUse();
    this.opts.metrics?.webSocket(this.chainId, false);
    this.feed.start();
    this.probeTimer = setInterval(() => {
      if (this.running && !this.endpoints.onPreferred) void this.endpoints.probePreferred(this.processed);
    }, this.settings.preferredProbeMs);
    await this.feed.pollOnce();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = undefined;
    this.feed.stop();
    await this.draining?.catch(() => undefined);
    this.endpoints.close();
    this.opts.metrics?.webSocket(this.chainId, false);
  }

  status(): ChainStatusEntry {
    const wsUp = this.feed.webSocketUp;
    const mode: ChainWatchMode = !this.running ? 'no_leader' : this.processed === 0 ? 'starting' : wsUp ? 'websocket' : 'polling';
    const now = this.now();
    return {
      chainId: this.chainId,
      mode,
      leaderHost: this.opts.host,
      ...(this.processed > 0 ? { height: this.processed } : {}),
      ...(this.lastBlockTime ? { lastBlockTime: this.lastBlockTime.toISOString(), lagMs: Math.max(0, now.getTime() - this.lastBlockTime.getTime()) } : {}),
      ...(this.state.version ? { version: this.state.version } : {}),
      ...(this.state.versionHeight ? { versionHeight: this.state.versionHeight } : {}),
      ...(this.lastParamsQueryAt ? { lastParamsQueryAt: this.lastParamsQueryAt.toISOString() } : {}),
      endpoint: this.endpoints.currentRedacted,
      preferredEndpoint: this.endpoints.onPreferred,
      wsConnected: wsUp,
      rpcErrors: this.endpoints.rpcErrors,
      problems: this.problems(),
    };
  }

  /** Why this chain is degraded (empty when healthy). */
  problems(): string[] {
    const out: string[] = [];
    if (!this.running) return out;
    if (!this.feed.webSocketUp) out.push('WebSocket down: polling');
    if (!this.endpoints.onPreferred) out.push(`on fallback endpoint ${this.endpoints.currentRedacted}`);
    if (this.lastError) out.push(this.lastError.slice(0, 500));
    return out;
  }

  // ---- blocks ---------------------------------------------------------------------------------

  /** A block seen over the WebSocket or by a poll; resolves once the blocks up to it are processed. */
  private onBlock(block: NewBlock): Promise<void> | undefined {
    if (!this.running) return undefined;
    if (block.events) this.blockEvents.set(block.height, block.events);
    if (block.height >= this.target) {
      this.target = block.height;
      this.lastBlockTime = block.time;
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        const next = nextBlock(this.processed, this.target, this.settings.maxGapScan);
        if (!next || !this.running) break;
        if (next.skipped) this.log.warn(next.skipped, 'gap larger than the scan bound: blocks skipped, Params queried at the first scanned block');
        await this.processBlock(next);
      }
      this.lastError = undefined;
    } catch (e) {
      this.lastError = `processing block ${this.processed + 1} failed: ${(e as Error).message}`;
      this.log.warn({ err: e, height: this.processed + 1 }, 'block processing failed; retried on the next block or poll');
    }
  }

  private async processBlock(block: NextBlock): Promise<void> {
    const { height } = block;
    const events = this.blockEvents.get(height) ?? (await this.endpoints.call((rpc) => rpc.blockEvents(height)));
    const due = queriesDue(block, events, { lastParamsHeight: this.lastParamsHeight, lastPlanHeight: this.lastPlanHeight, safetyNetBlocks: this.settings.safetyNetBlocks });
    const answers: HeightAnswers = {};
    if (due.params) {
      answers.params = await this.query(LAVA_PARAMS_PATH, height);
      if ('value' in answers.params) {
        this.lastParamsQueryAt = this.now();
        this.opts.metrics?.paramsQueried(this.chainId, this.lastParamsQueryAt);
      }
    }
    if (due.plan) answers.plan = await this.query(CURRENT_PLAN_PATH, height);
    if (answers.params || answers.plan) await this.record(height, answers, due.params);
    if (answers.params) this.lastParamsHeight = height;
    if (answers.plan) this.lastPlanHeight = height;
    this.processed = height;
    for (const h of this.blockEvents.keys()) if (h <= height) this.blockEvents.delete(h);
    this.opts.metrics?.height(this.chainId, height);
  }

  /** An ABCI query at a height; the node's refusal is an answer too (recorded as an anomaly). */
  private async query(path: string, height: number): Promise<QueryAnswer> {
    try {
      return { value: (await this.endpoints.call((rpc) => rpc.abciQuery(path, height))).value };
    } catch (e) {
      if (!(e instanceof RpcAnswerError)) throw e;
      return { refused: e.message, raw: e.raw };
    }
  }

  // ---- recording ------------------------------------------------------------------------------

  /** Decides on the answers and appends the events; on a conflict folds the log again and decides again. */
  private async record(height: number, answers: HeightAnswers, trigger: string | undefined): Promise<void> {
    const obs: Observation = { chainId: this.chainId, height, endpoint: this.endpoints.currentRedacted, metadata: this.metadata };
    let decision: HeightDecision;
    for (let attempt = 0; ; attempt++) {
      decision = decideAtHeight(this.state, this.refusals, obs, answers);
      if (decision.events.length === 0) break;
      try {
        const streamVersion = await this.opts.log.append(this.chainId, decision.events, this.state.streamVersion);
        this.state = { ...decision.events.reduce<ChainLogState>(evolveChainLog, this.state), streamVersion };
        break;
      } catch (e) {
        if (!(e instanceof WrongExpectedVersionError) || attempt >= CONFLICT_RETRIES) throw e;
        this.log.info({ expected: e.expected, actual: e.actual }, 'stream moved under us: reloading before deciding again');
        this.state = await this.opts.log.load(this.chainId);
      }
    }
    this.refusals = decision.memory;
    this.report(height, decision, trigger);
  }

  private report(height: number, decision: HeightDecision, trigger: string | undefined): void {
    for (const r of decision.refusals) {
      this.log.warn({ height, query: r.query, kind: r.kind, reason: r.reason, raw: r.raw, endpoint: this.endpoints.currentRedacted }, 'chain answer refused');
      if (r.recorded) this.opts.metrics?.anomaly(this.chainId, r.kind);
    }
    if (decision.version) {
      this.log.info({ height, ...decision.version, trigger }, 'protocol version changed');
      this.opts.metrics?.versionChanged(this.chainId);
    }
    if (decision.plan) this.log.info({ plan: decision.plan.name, planHeight: decision.plan.height }, 'upgrade planned');
  }
}

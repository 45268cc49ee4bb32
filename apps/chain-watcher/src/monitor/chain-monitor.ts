// One chain, watched by its leader: the blocks the feed delivers are processed in order; each block
// gets the queries its schedule calls for (at most one Params query per block), and what the chain
// answered is turned into events by the params/plan decision and appended at the stream version it
// was decided on. Blocks missed while disconnected are scanned (bounded); beyond the bound, Params
// at the first scanned block catch any change in between.
// The log is the only memory: the state is folded from stream chain-<chainId> at start, and each
// decision goes through the event store's handleCommand at the stream version it was made on: on a
// conflicting append (another leader wrote meanwhile) the stream is read again and the same answers
// decided again, so two leaders can never both announce a change. How far the history is known to be
// on the record is kept as a checkpoint (scan-checkpoint.ts), so a new leader does not scan again
// the blocks a previous one has covered.
import { handleCommand, type CheckpointStore, type CommandHandlerStore } from '@fleetvisor/event-store';
import { sameProtocolVersion, type ChainStatusEntry, type ChainWatchMode, type EventMetadata } from '@fleetvisor/contracts';
import { decodeLavaProtocolVersion, LAVA_PARAMS_PATH } from '@fleetvisor/lava';
import type { Logger } from '@fleetvisor/platform';
import type { Signer } from '@fleetvisor/trust';
import { BlockFeed, type BlockFeedSettings } from '../connection/block-feed';
import { RpcAnswerError, type BlockEvent, type ChainConnector, type NewBlock } from '../connection/chain-rpc';
import { EndpointPool, type EndpointMetrics } from '../connection/endpoint-pool';
import { chainLogStream, emptyChainLog, evolveChainLog, readChainLog, type ChainLogState, type Observation } from '../recording/chain-log';
import { decideAtHeight, type HeightAnswers, type HeightDecision, type QueryAnswer, type RefusalMemory, type UnseenBlocks } from '../recording/height-decision';
import { CURRENT_PLAN_PATH } from '../recording/upgrade-plan';
import { signChainEvents } from '../recording/event-signing';
import { bisectNarrow, bisectProbe, nextStep, queriesDue, type Bisection, type NextBlock } from './block-schedule';
import { RequestPacer } from './request-pacer';
import { formatScanCheckpoint, parseScanCheckpoint, resumePoint, scanCheckpointName, type ScanCheckpoint } from './scan-checkpoint';

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
  /** Most blocks scanned one by one after a gap (each costs one block_results); older ones are bisected. */
  maxGapScan: number;
  /** Requests per second of a catch-up (block_results of missed blocks, bisection probes). */
  backfillRps: number;
}

export interface ChainMonitorOptions {
  chainId: string;
  endpoints: readonly string[];
  connector: ChainConnector;
  /** The event store: chain-<chainId> is read and appended through it. */
  store: CommandHandlerStore;
  /** Signs the VersionChanged and UpgradePlanned it records (hosts act on nothing else). */
  signer: Signer;
  /** Where the scanned height is kept (scanCheckpointName). */
  checkpoints: CheckpointStore;
  settings: MonitorSettings;
  logger: Logger;
  metrics?: ChainMetricsSink;
  host: string;
  now?: () => Date;
}

/** Decisions of one height (the first and those after conflicting appends) before the block counts as failed. */
const RECORD_ATTEMPTS = 4;
/** A gap of more blocks than this is a catch-up: logged at its start, every PROGRESS_MS and at its end. */
const CATCH_UP_LOGGED = 20;
const PROGRESS_MS = 5_000;

/** How Params read at a height compare with the version on the record. */
type ParamsReading = 'same' | 'differs' | 'unreadable';

interface CatchUp {
  from: number;
  startedAt: number;
  loggedAt: number;
  changes: number;
}

export class ChainMonitor {
  private readonly chainId: string;
  private readonly log: Logger;
  private readonly settings: MonitorSettings;
  private readonly metadata: EventMetadata;
  private readonly now: () => Date;
  private readonly endpoints: EndpointPool;
  private readonly feed: BlockFeed;
  private readonly pacer: RequestPacer;

  private state: ChainLogState = emptyChainLog();
  /** Events in chain-<chainId> that `state` was folded from: the expected version of the next append. */
  private streamVersion = 0;
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
  /** Lowest height the node serves, from the last poll. */
  private earliest: number | undefined;
  /** The block at the target gets the queries of a first block (set at start). */
  private firstAtTarget = false;
  /** Blocks whose events could not be read since the last Params query. */
  private unseen: UnseenBlocks | undefined;
  /** Last height at which Params are known to equal the version on the record. */
  private sameAt = 0;
  /** Height of the scan checkpoint last saved (or trusted at start) by this leader. */
  private savedAt = 0;
  private catchUp: CatchUp | undefined;

  constructor(private readonly opts: ChainMonitorOptions) {
    this.chainId = opts.chainId;
    this.settings = opts.settings;
    this.log = opts.logger.child({ chainId: opts.chainId });
    this.metadata = { host: opts.host, actor: 'chain-watcher' };
    this.now = opts.now ?? (() => new Date());
    this.pacer = new RequestPacer(opts.settings.backfillRps);
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

  /**
   * Folds the log, connects, and catches up from the last height on the record (or the scan
   * checkpoint, when it is further) to the latest block (Params and plan queried there). Waits for
   * the first block only when the record is empty; a catch-up goes on in the background.
   */
  async start(): Promise<void> {
    this.running = true;
    const { state, version } = await readChainLog(this.opts.store, this.chainId);
    this.state = state;
    this.streamVersion = version;
    this.sameAt = state.lastHeight;
    const checkpoint = await this.loadCheckpoint();
    const resume = resumePoint({ lastHeight: state.lastHeight, streamVersion: version, hasVersion: state.version !== null }, checkpoint);
    this.processed = this.savedAt = resume.from;
    // The blocks the checkpoint skips count as unseen: Params at the next block are compared with the record.
    if (resume.unverified) this.unseen = resume.unverified;
    if (resume.ignored) {
      this.log.warn({ checkpoint, lastHeight: state.lastHeight, why: resume.ignored }, 'scan checkpoint not used: resuming from the last height on the record');
      // Replaced now: once the log has grown past its stream version, it would look trustworthy again.
      await this.saveCheckpoint(true);
    }
    this.firstAtTarget = true;
    this.log.info(
      { version: state.version, versionHeight: state.versionHeight, lastHeight: state.lastHeight, streamVersion: version, scannedTo: resume.from },
      'leading chain: state rebuilt from the log',
    );
    this.endpoints.reportInUse();
    this.opts.metrics?.webSocket(this.chainId, false);
    this.feed.start();
    this.probeTimer = setInterval(() => {
      if (this.running && !this.endpoints.onPreferred) void this.endpoints.probePreferred(this.processed);
    }, this.settings.preferredProbeMs);
    const first = this.feed.pollOnce();
    if (this.processed === 0) await first;
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
    if (block.earliest !== undefined) this.earliest = block.earliest;
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
        if (!this.running) break;
        const step = nextStep(this.processed, this.target, { maxGapScan: this.settings.maxGapScan, firstAtTarget: this.firstAtTarget, ...(this.earliest ? { earliest: this.earliest } : {}) });
        if (!step) break;
        this.progress();
        if (step.kind === 'block') {
          await this.processBlock(step);
          await this.saveCheckpoint();
        } else {
          this.log.warn(
            { from: step.from, to: step.to, why: step.kind === 'pruned' ? `pruned on the node (earliest height ${this.earliest})` : `more than ${this.settings.maxGapScan} blocks to scan` },
            'blocks not scanned: a version change in them is found by bisection on Params',
          );
          this.addUnseen(step.from, step.to);
          this.processed = step.to;
        }
      }
      this.progress();
      this.lastError = undefined;
    } catch (e) {
      this.lastError = `processing block ${this.processed + 1} failed: ${(e as Error).message}`;
      this.log.warn({ err: e, height: this.processed + 1 }, 'block processing failed; retried on the next block or poll');
    }
  }

  /** Logs a catch-up (a gap of more than a few blocks): its start, its progress now and then, its end. */
  private progress(): void {
    const now = Date.now();
    const behind = this.target - this.processed;
    if (!this.catchUp) {
      if (behind <= CATCH_UP_LOGGED || this.processed === 0) return;
      this.catchUp = { from: this.processed + 1, startedAt: now, loggedAt: now, changes: 0 };
      this.log.info({ from: this.processed + 1, to: this.target, rps: this.settings.backfillRps }, 'catching up on missed blocks');
      return;
    }
    if (behind <= 0) {
      const c = this.catchUp;
      this.catchUp = undefined;
      this.log.info({ from: c.from, to: this.processed, changes: c.changes, ms: now - c.startedAt }, 'caught up');
    } else if (now - this.catchUp.loggedAt >= PROGRESS_MS) {
      this.catchUp.loggedAt = now;
      this.log.info({ at: this.processed, target: this.target, remaining: behind, changes: this.catchUp.changes }, 'catching up');
    }
  }

  private addUnseen(from: number, to: number): void {
    this.unseen = { from: this.unseen?.from ?? from, to };
  }

  /** A block's events: from the NewBlock that carried them, else block_results (paced); undefined when the node cannot serve them. */
  private async eventsOf(height: number): Promise<readonly BlockEvent[] | undefined> {
    const known = this.blockEvents.get(height);
    if (known) return known;
    await this.pacer.take();
    try {
      return await this.endpoints.call((rpc) => rpc.blockEvents(height));
    } catch (e) {
      // A node behind the target has not got the block yet: retried, not given up.
      if (!(e instanceof RpcAnswerError) || /current blockchain height/.test(e.message)) throw e;
      this.log.warn({ height, err: e.message }, 'block results not served: the block is covered by Params');
      return undefined;
    }
  }

  private async processBlock(block: NextBlock): Promise<void> {
    const { height } = block;
    const events = await this.eventsOf(height);
    if (!events) this.addUnseen(height, height);
    // After blocks that could not be read, Params are queried at the next readable block (or the target).
    const first = block.first || (this.unseen !== undefined && (events !== undefined || height >= this.target));
    const due = events || first ? queriesDue({ height, first }, events ?? [], { lastParamsHeight: this.lastParamsHeight, lastPlanHeight: this.lastPlanHeight, safetyNetBlocks: this.settings.safetyNetBlocks }) : { plan: false };
    const answers: HeightAnswers = {};
    if (due.params) {
      answers.params = await this.query(LAVA_PARAMS_PATH, height);
      if ('value' in answers.params) {
        this.lastParamsQueryAt = this.now();
        this.opts.metrics?.paramsQueried(this.chainId, this.lastParamsQueryAt);
      }
      const reading = this.reading(answers.params);
      // A change no block event explains (a migration, unread blocks): find where it happened.
      if (reading === 'differs' && this.state.version && height - this.sameAt > 1 && (due.params !== 'lava_param_change' || this.unseen)) {
        await this.bisect({ lo: this.sameAt, hi: height }, answers.params);
        delete answers.params;
      }
    }
    if (due.plan) answers.plan = await this.query(CURRENT_PLAN_PATH, height);
    if (answers.params || answers.plan) await this.record(height, answers, due.params);
    if (due.params) {
      this.lastParamsHeight = height;
      this.unseen = undefined;
    }
    if (answers.plan) this.lastPlanHeight = height;
    if (block.first) this.firstAtTarget = false;
    this.processed = height;
    for (const h of this.blockEvents.keys()) if (h <= height) this.blockEvents.delete(h);
    this.opts.metrics?.height(this.chainId, height);
  }

  /** Params compared with the version on the record. */
  private reading(answer: QueryAnswer): ParamsReading {
    if (!('value' in answer)) return 'unreadable';
    let version;
    try {
      version = decodeLavaProtocolVersion(answer.value);
    } catch {
      return 'unreadable';
    }
    return this.state.version && sameProtocolVersion(this.state.version, version) ? 'same' : 'differs';
  }

  /**
   * Records every change in (lo, hi], each at the first height whose Params show it: Params at lo
   * are those on the record, `top` those at hi. A probe the node cannot answer ends the search:
   * the change is then recorded at hi after a ChainAnomaly naming the blocks it could not read.
   */
  private async bisect(range: Bisection, top: QueryAnswer): Promise<void> {
    const { hi } = range;
    let { lo } = range;
    // Each round finds the first height in (lo, hi] whose Params differ from the record, and records it.
    while (lo < hi && this.reading(top) === 'differs') {
      let b: Bisection = { lo, hi };
      let found = top;
      for (let probe = bisectProbe(b); probe !== undefined; probe = bisectProbe(b)) {
        await this.pacer.take();
        const answer = await this.query(LAVA_PARAMS_PATH, probe);
        const reading = this.reading(answer);
        if (reading === 'unreadable') {
          this.log.warn({ height: probe, from: lo + 1, to: hi }, 'Params not readable while bisecting: the change cannot be dated');
          await this.record(hi, { params: top }, 'bisection', { from: lo + 1, to: hi - 1 });
          return;
        }
        b = bisectNarrow(b, probe, reading === 'same');
        if (reading === 'differs') found = answer;
      }
      this.log.info({ height: b.hi, from: lo + 1, to: hi }, 'version change found by bisection');
      await this.record(b.hi, { params: found }, 'bisection');
      lo = b.hi;
    }
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

  /**
   * Decides on the answers and appends the events at the stream version decided on; on a conflict
   * handleCommand reads the stream again and they are decided again on what the other writer recorded.
   */
  private async record(height: number, answers: HeightAnswers, trigger: string | undefined, unseen?: UnseenBlocks): Promise<void> {
    const obs: Observation = { chainId: this.chainId, height, endpoint: this.endpoints.currentRedacted, metadata: this.metadata };
    let decided: { decision: HeightDecision; on: ChainLogState } | undefined;
    const result = await handleCommand(
      this.opts.store,
      chainLogStream(this.chainId),
      (state) => {
        // The refusal memory moves on only with a decision that is recorded: every attempt starts from the same one.
        decided = { decision: decideAtHeight(state, this.refusals, obs, answers, unseen), on: state };
        return signChainEvents(decided.decision.events, this.opts.signer);
      },
      {
        evolve: evolveChainLog,
        initialState: emptyChainLog,
        known: { state: this.state, version: this.streamVersion },
        maxAttempts: RECORD_ATTEMPTS,
        onConflict: (e) => this.log.info({ expected: e.expected, actual: e.actual }, 'stream moved under us: reading it again before deciding again'),
      },
    );
    const { decision, on } = decided!;
    // Decided again on what another writer recorded: the history up to its last height is on the record.
    if (result.attempts > 1) this.sameAt = Math.max(this.sameAt, on.lastHeight);
    this.state = result.state;
    this.streamVersion = result.version;
    this.refusals = decision.memory;
    if (answers.params && this.reading(answers.params) === 'same') this.sameAt = Math.max(this.sameAt, height);
    this.report(height, decision, trigger);
  }

  /** The scan checkpoint; a store that cannot be read, or a value this code did not write, costs a longer scan, nothing else. */
  private async loadCheckpoint(): Promise<ScanCheckpoint | undefined> {
    const name = scanCheckpointName(this.chainId);
    try {
      const value = await this.opts.checkpoints.load(name);
      const checkpoint = parseScanCheckpoint(value);
      if (!checkpoint) this.log.warn({ name, value }, 'scan checkpoint unreadable: ignored');
      return checkpoint;
    } catch (e) {
      this.log.warn({ err: e, name }, 'scan checkpoint not loaded: resuming from the last height on the record');
      return undefined;
    }
  }

  /** Saves how far the history is on the record (sameAt), when it moved; a failed save costs a longer scan after a restart. */
  private async saveCheckpoint(always = false): Promise<void> {
    if (this.sameAt <= this.savedAt && !always) return;
    const checkpoint = { height: this.sameAt, streamVersion: this.streamVersion };
    try {
      await this.opts.checkpoints.save(scanCheckpointName(this.chainId), formatScanCheckpoint(checkpoint));
      this.savedAt = checkpoint.height;
    } catch (e) {
      this.log.warn({ err: e, checkpoint }, 'scan checkpoint not saved');
    }
  }

  private report(height: number, decision: HeightDecision, trigger: string | undefined): void {
    for (const r of decision.refusals) {
      this.log.warn({ height, query: r.query, kind: r.kind, reason: r.reason, raw: r.raw, endpoint: this.endpoints.currentRedacted }, 'chain answer refused');
      if (r.recorded) this.opts.metrics?.anomaly(this.chainId, r.kind);
    }
    if (decision.version) {
      if (this.catchUp) this.catchUp.changes++;
      this.log.info({ height, ...decision.version, trigger }, 'protocol version changed');
      this.opts.metrics?.versionChanged(this.chainId);
    }
    if (decision.plan) this.log.info({ plan: decision.plan.name, planHeight: decision.plan.height }, 'upgrade planned');
  }
}

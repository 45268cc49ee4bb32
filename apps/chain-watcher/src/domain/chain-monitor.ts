// One chain, watched by its leader: follows blocks over the WebSocket (polling `status` while the
// socket is down), checks each block's results for Lava's `lava_param_change param=Version`, and
// queries Params at that block's height when it carries one, every N blocks as a safety net, and
// at start — at most one Params query per block. Blocks missed while disconnected are scanned
// (bounded); beyond the bound, Params at the first scanned block catch any change in between.
// Endpoints fail over in configured order and the preferred one is taken back once it answers.
// The log is the only memory: the state is folded from stream chain-<chainId> at start, and every
// append carries the stream version it decided on, so two leaders can never both announce a change.
import { WrongExpectedVersionError } from '@fleetvisor/event-store';
import { newEventFor, redactEndpoint, UpgradePlanned, type ChainStatusEntry, type ChainWatchMode, type EventEnvelope, type EventMetadata } from '@fleetvisor/contracts';
import { decodeLavaVersionFields, LAVA_PARAMS_PATH, LavaParamsError } from '@fleetvisor/lava';
import type { Logger } from '@fleetvisor/platform';
import { anomalyEvent, decideVersion, EMPTY_CHAIN_LOG, hasVersionParamChange, type ChainLogState, type Observation } from './chain-log';
import { RpcAnswerError, type BlockEvent, type BlockSubscription, type ChainConnector, type ChainRpc, type NewBlock } from './chain-rpc';
import { checkPlan, CURRENT_PLAN_PATH, decodeCurrentPlan, planKey, PlanDecodeError } from './upgrade-plan';

/** The stream of one chain in the log. */
export interface ChainLogStore {
  load(chainId: string): Promise<ChainLogState>;
  /** Appends at exactly `expectedVersion`; throws WrongExpectedVersionError otherwise. Returns the new version. */
  append(chainId: string, events: EventEnvelope[], expectedVersion: number): Promise<number>;
}

/** What the monitor reports for /metrics. */
export interface ChainMetricsSink {
  height(chainId: string, height: number): void;
  paramsQueried(chainId: string, at: Date): void;
  rpcError(chainId: string, endpoint: string): void;
  endpointInUse(chainId: string, endpoint: string, all: readonly string[]): void;
  webSocket(chainId: string, up: boolean): void;
  versionChanged(chainId: string): void;
  anomaly(chainId: string, kind: string): void;
}

export interface MonitorSettings {
  /** Params (and CurrentPlan) are queried at least every N blocks. */
  safetyNetBlocks: number;
  /** `status` polling interval while the WebSocket is down. */
  pollIntervalMs: number;
  /** WebSocket reconnect backoff: first delay, doubling up to the max. */
  wsRetryMinMs: number;
  wsRetryMaxMs: number;
  /** No NewBlock for this long on an open socket: treat it as dropped. */
  wsStallMs: number;
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

export class AllEndpointsFailedError extends Error {
  override name = 'AllEndpointsFailedError';
}

export class ChainMonitor {
  private readonly chainId: string;
  private readonly endpoints: readonly string[];
  private readonly log: Logger;
  private readonly settings: MonitorSettings;
  private readonly metadata: EventMetadata;
  private readonly now: () => Date;
  private readonly rpcs = new Map<number, ChainRpc>();

  private state: ChainLogState = { ...EMPTY_CHAIN_LOG, plans: new Set() };
  private running = false;
  private current = 0;

  private sub: BlockSubscription | undefined;
  private wsUp = false;
  private wsConnecting = false;
  private wsGeneration = 0;
  private wsAttempt = 0;
  private wsTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;

  private processed = 0;
  private target = 0;
  private lastBlockTime: Date | undefined;
  private readonly blockEvents = new Map<number, readonly BlockEvent[]>();
  private lastParamsHeight = 0;
  private lastPlanHeight = 0;
  private lastParamsQueryAt: Date | undefined;
  private draining: Promise<void> | undefined;
  private lastAnomalyKey: string | undefined;
  private lastError: string | undefined;
  private rpcErrors = 0;

  constructor(private readonly opts: ChainMonitorOptions) {
    if (opts.endpoints.length === 0) throw new RangeError(`chain ${opts.chainId}: no endpoints`);
    this.chainId = opts.chainId;
    this.endpoints = opts.endpoints;
    this.settings = opts.settings;
    this.log = opts.logger.child({ chainId: opts.chainId });
    this.metadata = { host: opts.host, actor: 'chain-watcher' };
    this.now = opts.now ?? (() => new Date());
  }

  /** Folds the log, connects, and processes the latest block (Params and plan at start). */
  async start(): Promise<void> {
    this.running = true;
    this.state = await this.opts.log.load(this.chainId);
    this.log.info({ version: this.state.version, versionHeight: this.state.versionHeight, streamVersion: this.state.streamVersion }, 'leading chain: state rebuilt from the log');
    this.opts.metrics?.endpointInUse(this.chainId, this.redacted(this.current), this.endpoints.map(redactEndpoint));
    this.opts.metrics?.webSocket(this.chainId, false);
    this.connectWebSocket();
    this.probeTimer = setInterval(() => void this.probePreferred(), this.settings.preferredProbeMs);
    // The first block: from status, so start does not wait for the next block to be produced.
    await this.pollOnce();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of [this.wsTimer, this.stallTimer]) if (t) clearTimeout(t);
    for (const t of [this.pollTimer, this.probeTimer]) if (t) clearInterval(t);
    this.wsTimer = this.stallTimer = this.pollTimer = this.probeTimer = undefined;
    this.wsGeneration++;
    this.sub?.close();
    this.sub = undefined;
    this.wsUp = false;
    await this.draining?.catch(() => undefined);
    for (const rpc of this.rpcs.values()) rpc.close();
    this.rpcs.clear();
    this.opts.metrics?.webSocket(this.chainId, false);
  }

  status(): ChainStatusEntry {
    const mode: ChainWatchMode = !this.running ? 'no_leader' : this.processed === 0 ? 'starting' : this.wsUp ? 'websocket' : 'polling';
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
      endpoint: this.redacted(this.current),
      preferredEndpoint: this.current === 0,
      wsConnected: this.wsUp,
      rpcErrors: this.rpcErrors,
      problems: this.problems(),
    };
  }

  /** Why this chain is degraded (empty when healthy). */
  problems(): string[] {
    const out: string[] = [];
    if (!this.running) return out;
    if (!this.wsUp) out.push('WebSocket down: polling');
    if (this.current !== 0) out.push(`on fallback endpoint ${this.redacted(this.current)}`);
    if (this.lastError) out.push(this.lastError.slice(0, 500));
    return out;
  }

  // ---- blocks ---------------------------------------------------------------------------------

  private onBlock(generation: number, block: NewBlock): void {
    if (generation !== this.wsGeneration || !this.running) return;
    this.armStallTimer();
    if (block.events) this.blockEvents.set(block.height, block.events);
    this.seen(block.height, block.time);
  }

  private seen(height: number, time: Date): void {
    if (height >= this.target) {
      this.target = height;
      this.lastBlockTime = time;
    }
    this.kick();
  }

  private kick(): void {
    if (this.draining || !this.running) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.running && this.processed < this.target) {
        let next = this.processed + 1;
        let force = false;
        if (this.processed === 0) {
          next = this.target;
          force = true;
        } else if (this.target - this.processed > this.settings.maxGapScan) {
          next = this.target - this.settings.maxGapScan + 1;
          force = true;
          this.log.warn({ from: this.processed + 1, to: next - 1 }, 'gap larger than the scan bound: blocks skipped, Params queried at the first scanned block');
        }
        await this.processBlock(next, force);
      }
      this.lastError = undefined;
    } catch (e) {
      this.lastError = `processing block ${this.processed + 1} failed: ${(e as Error).message}`;
      this.log.warn({ err: e, height: this.processed + 1 }, 'block processing failed; retried on the next block or poll');
    }
  }

  private async processBlock(height: number, force: boolean): Promise<void> {
    let events = this.blockEvents.get(height);
    if (!events) events = await this.call((rpc) => rpc.blockEvents(height));
    const changed = hasVersionParamChange(events);
    if (changed || force || height - this.lastParamsHeight >= this.settings.safetyNetBlocks) {
      await this.checkParams(height, changed ? 'lava_param_change' : force ? 'start or gap' : 'safety net');
    }
    if (force || height - this.lastPlanHeight >= this.settings.safetyNetBlocks) await this.checkPlan(height);
    this.processed = height;
    for (const h of this.blockEvents.keys()) if (h <= height) this.blockEvents.delete(h);
    this.opts.metrics?.height(this.chainId, height);
  }

  // ---- Params and plans -----------------------------------------------------------------------

  private observation(height: number): Observation {
    return { chainId: this.chainId, height, endpoint: this.redacted(this.current), metadata: this.metadata };
  }

  private async checkParams(height: number, why: string): Promise<void> {
    let answer: { value: Uint8Array };
    try {
      answer = await this.call((rpc) => rpc.abciQuery(LAVA_PARAMS_PATH, height));
    } catch (e) {
      if (!(e instanceof RpcAnswerError)) throw e;
      this.lastParamsHeight = height;
      await this.recordAnomaly(height, 'rpc_error', e.message, e.raw);
      return;
    }
    this.lastParamsHeight = height;
    this.lastParamsQueryAt = this.now();
    this.opts.metrics?.paramsQueried(this.chainId, this.lastParamsQueryAt);
    let decoded: unknown;
    try {
      decoded = decodeLavaVersionFields(answer.value);
    } catch (e) {
      if (!(e instanceof LavaParamsError)) throw e;
      await this.recordAnomaly(height, 'malformed_response', e.message, answer.value);
      return;
    }
    await this.decide(height, decoded, why);
  }

  private async decide(height: number, decoded: unknown, why: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const obs = this.observation(height);
      const decision = decideVersion(this.state, obs, decoded);
      if (decision.kind === 'unchanged') {
        this.lastAnomalyKey = undefined;
        return;
      }
      if (decision.kind === 'anomaly') {
        await this.recordAnomaly(height, decision.anomalyKind, decision.reason, decoded);
        return;
      }
      try {
        this.state.streamVersion = await this.opts.log.append(this.chainId, [decision.event], this.state.streamVersion);
      } catch (e) {
        if (!(e instanceof WrongExpectedVersionError) || attempt >= 3) throw e;
        // Another leader wrote meanwhile (a takeover overlapping): decide again on what the log says.
        this.log.info({ expected: e.expected, actual: e.actual }, 'stream moved under us: reloading before deciding again');
        this.state = await this.opts.log.load(this.chainId);
        continue;
      }
      this.log.info({ height, previous: this.state.version, current: decision.current, trigger: why }, 'protocol version changed');
      this.state.version = decision.current;
      this.state.versionHeight = height;
      this.lastAnomalyKey = undefined;
      this.opts.metrics?.versionChanged(this.chainId);
      return;
    }
  }

  private async checkPlan(height: number): Promise<void> {
    let answer: { value: Uint8Array };
    try {
      answer = await this.call((rpc) => rpc.abciQuery(CURRENT_PLAN_PATH, height));
    } catch (e) {
      if (!(e instanceof RpcAnswerError)) throw e;
      this.lastPlanHeight = height;
      await this.recordAnomaly(height, 'rpc_error', e.message, e.raw);
      return;
    }
    this.lastPlanHeight = height;
    let plan;
    try {
      plan = decodeCurrentPlan(answer.value);
    } catch (e) {
      if (!(e instanceof PlanDecodeError)) throw e;
      await this.recordAnomaly(height, 'invalid_upgrade_plan', e.message, answer.value);
      return;
    }
    if (!plan) return;
    const checked = checkPlan(this.chainId, plan);
    if (!checked.ok) {
      await this.recordAnomaly(height, 'invalid_upgrade_plan', checked.reason, { name: plan.name, height: String(plan.height), info: plan.info });
      return;
    }
    const key = planKey(checked.data);
    if (this.state.plans.has(key)) return;
    await this.appendOnce(newEventFor(UpgradePlanned, checked.data, this.metadata), () => this.state.plans.has(key));
    this.state.plans.add(key);
    this.log.info({ plan: checked.data.name, planHeight: checked.data.height }, 'upgrade planned');
  }

  /** Records an anomaly once per distinct answer (the same bad answer every block is logged, not re-recorded). */
  private async recordAnomaly(height: number, kind: Parameters<typeof anomalyEvent>[1], reason: string, raw: unknown): Promise<void> {
    const { event, raw: rawText } = anomalyEvent(this.observation(height), kind, reason, raw);
    this.log.warn({ height, kind, reason, raw: rawText, endpoint: this.redacted(this.current) }, 'chain answer refused');
    const key = `${kind}|${rawText}`;
    if (key === this.lastAnomalyKey) return;
    await this.appendOnce(event, () => false);
    this.lastAnomalyKey = key;
    this.opts.metrics?.anomaly(this.chainId, kind);
  }

  /** Appends at the known stream version; on a conflict reloads and appends again unless `alreadyThere`. */
  private async appendOnce(event: EventEnvelope, alreadyThere: () => boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        this.state.streamVersion = await this.opts.log.append(this.chainId, [event], this.state.streamVersion);
        return;
      } catch (e) {
        if (!(e instanceof WrongExpectedVersionError) || attempt >= 3) throw e;
        this.state = await this.opts.log.load(this.chainId);
        if (alreadyThere()) return;
      }
    }
  }

  // ---- endpoints ------------------------------------------------------------------------------

  private redacted(i: number): string {
    return redactEndpoint(this.endpoints[i]!);
  }

  private rpc(i: number): ChainRpc {
    let rpc = this.rpcs.get(i);
    if (!rpc) {
      rpc = this.opts.connector.rpc(this.endpoints[i]!);
      this.rpcs.set(i, rpc);
    }
    return rpc;
  }

  /** Runs a query on the current endpoint, failing over in configured order; an answer error does not fail over. */
  private async call<T>(fn: (rpc: ChainRpc) => Promise<T>): Promise<T> {
    let last: unknown;
    const n = this.endpoints.length;
    const start = this.current;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      try {
        const result = await fn(this.rpc(i));
        if (i !== this.current) this.switchTo(i, 'failover');
        return result;
      } catch (e) {
        if (e instanceof RpcAnswerError) {
          if (i !== this.current) this.switchTo(i, 'failover');
          throw e;
        }
        last = e;
        this.rpcErrors++;
        this.opts.metrics?.rpcError(this.chainId, this.redacted(i));
        this.log.warn({ endpoint: this.redacted(i), err: (e as Error).message }, 'RPC call failed');
      }
    }
    throw new AllEndpointsFailedError(`every endpoint failed; last: ${(last as Error)?.message ?? String(last)}`);
  }

  private switchTo(i: number, why: string): void {
    if (i === this.current) return;
    this.log.warn({ from: this.redacted(this.current), to: this.redacted(i), why }, 'switching endpoint');
    this.current = i;
    this.opts.metrics?.endpointInUse(this.chainId, this.redacted(i), this.endpoints.map(redactEndpoint));
    // The subscription follows the endpoint in use.
    this.dropWebSocket();
    this.wsAttempt = 0;
    this.connectWebSocket();
  }

  private async probePreferred(): Promise<void> {
    if (!this.running || this.current === 0) return;
    for (let i = 0; i < this.current; i++) {
      try {
        const s = await this.rpc(i).status();
        if (s.height + 1 >= this.processed) {
          this.log.info({ endpoint: this.redacted(i) }, 'preferred endpoint answers again: switching back');
          this.switchTo(i, 'preferred endpoint recovered');
          return;
        }
      } catch {
        // still down
      }
    }
  }

  // ---- WebSocket and polling ------------------------------------------------------------------

  private connectWebSocket(): void {
    if (!this.running || this.wsUp || this.wsConnecting) return;
    if (this.wsTimer) clearTimeout(this.wsTimer);
    this.wsTimer = undefined;
    this.wsConnecting = true;
    const generation = ++this.wsGeneration;
    const index = this.current;
    this.opts.connector
      .subscribe(this.endpoints[index]!, {
        onBlock: (b) => this.onBlock(generation, b),
        onClose: (reason) => this.onWebSocketClosed(generation, reason),
      })
      .then(
        (sub) => {
          this.wsConnecting = false;
          if (generation !== this.wsGeneration || !this.running) {
            sub.close();
            this.connectWebSocket();
            return;
          }
          this.sub = sub;
          this.wsUp = true;
          this.wsAttempt = 0;
          this.stopPolling();
          this.armStallTimer();
          this.opts.metrics?.webSocket(this.chainId, true);
          this.log.info({ endpoint: this.redacted(index) }, 'subscribed to NewBlock');
        },
        (e: unknown) => {
          this.wsConnecting = false;
          if (generation !== this.wsGeneration || !this.running) {
            this.connectWebSocket();
            return;
          }
          this.log.debug({ endpoint: this.redacted(index), err: (e as Error).message }, 'WebSocket subscribe failed');
          this.startPolling();
          this.scheduleWebSocketRetry();
        },
      );
  }

  private onWebSocketClosed(generation: number, reason: string): void {
    if (generation !== this.wsGeneration || !this.running) return;
    this.log.warn({ reason, endpoint: this.redacted(this.current) }, 'WebSocket dropped: polling until it is back');
    this.dropWebSocket();
    this.startPolling();
    this.scheduleWebSocketRetry();
  }

  private dropWebSocket(): void {
    this.wsGeneration++;
    this.sub?.close();
    this.sub = undefined;
    this.wsConnecting = false;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (this.wsUp) this.opts.metrics?.webSocket(this.chainId, false);
    this.wsUp = false;
  }

  private scheduleWebSocketRetry(): void {
    if (!this.running || this.wsTimer) return;
    const delay = Math.min(this.settings.wsRetryMinMs * 2 ** this.wsAttempt, this.settings.wsRetryMaxMs);
    this.wsAttempt++;
    this.wsTimer = setTimeout(() => {
      this.wsTimer = undefined;
      this.connectWebSocket();
    }, delay);
  }

  private armStallTimer(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      if (!this.wsUp) return;
      this.onWebSocketClosed(this.wsGeneration, `no NewBlock for ${this.settings.wsStallMs} ms`);
    }, this.settings.wsStallMs);
  }

  private startPolling(): void {
    if (this.pollTimer || !this.running) return;
    this.pollTimer = setInterval(() => void this.pollOnce(), this.settings.pollIntervalMs);
    void this.pollOnce();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private polling = false;

  private async pollOnce(): Promise<void> {
    if (this.polling || !this.running) return;
    this.polling = true;
    try {
      const s = await this.call((rpc) => rpc.status());
      if (s.chainId !== this.chainId) {
        this.lastError = `endpoint ${this.redacted(this.current)} serves chain ${s.chainId}, not ${this.chainId}`;
        this.log.error({ endpoint: this.redacted(this.current), served: s.chainId }, 'endpoint serves another chain: ignored');
        return;
      }
      this.seen(s.height, s.time);
      await this.draining;
    } catch (e) {
      this.lastError = (e as Error).message;
      this.log.warn({ err: (e as Error).message }, 'status poll failed');
    } finally {
      this.polling = false;
    }
  }
}

// Stand-ins for the chain-watcher's seams in unit tests: a chain (answers status, block results and
// ABCI queries from tables; no WebSocket, so the watcher polls), the chain's stream in memory with the
// event store's expected-version rules, named checkpoints in memory, leader locks that are always free, and a NATS connection that loops requests back to this process's
// subscriptions (so the real CommandBus, with its validation and reply shape, runs without a server).
import { ErrorCode, type Msg, type NatsConnection } from 'nats';
import { encodeLavaParamsResponse } from '@fleetvisor/devnet';
import type { EventEnvelope, ProtocolVersion, RecordedEvent } from '@fleetvisor/contracts';
import {
  expectedVersionMatches,
  parseCheckpoint,
  START_CHECKPOINT,
  WrongExpectedVersionError,
  type AppendOptions,
  type AppendResult,
  type CheckpointStore,
  type CommandHandlerStore,
  type LeaderLock,
  type ReadStreamResult,
} from '@fleetvisor/event-store';
import { LAVA_PARAMS_PATH } from '@fleetvisor/lava';
import { RpcAnswerError, type BlockEvent, type ChainConnector, type ChainRpc } from '../src/connection/chain-rpc';
import { chainLogStream } from '../src/recording/chain-log';

export const V1: ProtocolVersion = { providerTarget: '0.21.0', providerMin: '0.20.0', consumerTarget: '0.21.0', consumerMin: '0.20.0' };
export const V2: ProtocolVersion = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.2', consumerMin: '0.22.0' };
export const V3: ProtocolVersion = { providerTarget: '0.24.0', providerMin: '0.23.0', consumerTarget: '0.24.0', consumerMin: '0.23.0' };
export const VERSION_CHANGE: BlockEvent = { type: 'lava_param_change', attributes: [{ key: 'param', value: 'Version' }] };

export class FakeChain implements ChainConnector {
  height = 10;
  versionAt = new Map<number, ProtocolVersion>();
  eventsAt = new Map<number, BlockEvent[]>();
  paramsQueries: number[] = [];
  planAnswer: Uint8Array = new Uint8Array(0);
  /** Lowest height served (block results and state); below it the node refuses, as a pruned node does. */
  earliest = 1;
  blockResultsCalls: number[] = [];

  constructor(readonly chainId = 'c1') {}

  rpc(): ChainRpc {
    return {
      status: async () => ({ chainId: this.chainId, height: this.height, time: new Date(), earliestHeight: this.earliest }),
      blockEvents: async (h) => {
        this.blockResultsCalls.push(h);
        if (h < this.earliest) throw new RpcAnswerError(`height ${h} is not available, lowest height is ${this.earliest}`, {});
        return this.eventsAt.get(h) ?? [];
      },
      abciQuery: async (path, h) => {
        if (path === LAVA_PARAMS_PATH) this.paramsQueries.push(h!);
        if (h! < this.earliest) throw new RpcAnswerError(`failed to load state at height ${h}; version does not exist`, { code: 26 });
        let v = V1;
        for (const [at, ver] of this.versionAt) if (at <= h!) v = ver;
        return { value: path === LAVA_PARAMS_PATH ? encodeLavaParamsResponse(v) : this.planAnswer, height: h! };
      },
      close: () => undefined,
    };
  }

  subscribe(): Promise<never> {
    return Promise.reject(new Error('no WebSocket here'));
  }
}

/**
 * The event store's readStream and appendToStream over one chain's stream, in memory, with its rules:
 * an exact expected version or 'no_stream' (else WrongExpectedVersionError), events whose ids are
 * stored already skipped.
 */
export class MemoryChainLog implements CommandHandlerStore {
  events: EventEnvelope[] = [];
  reads = 0;
  readonly appends: AppendOptions[] = [];
  /** Runs once before the next append (another replica writing meanwhile). */
  interloper: (() => void) | undefined;
  /** Thrown by the next append instead of storing (a database that went away). */
  failNextAppend: Error | undefined;

  constructor(readonly chainId = 'c1') {}

  private check(stream: string): void {
    if (stream !== chainLogStream(this.chainId)) throw new Error(`unexpected stream ${stream}`);
  }

  async readStream(stream: string): Promise<ReadStreamResult> {
    this.check(stream);
    this.reads++;
    const events = this.events.map((e, i): RecordedEvent => ({ ...e, streamVersion: i + 1, globalPosition: String(i + 1), checkpoint: `1:${i + 1}` }));
    return { events, currentVersion: this.events.length };
  }

  async appendToStream(stream: string, events: readonly EventEnvelope[], opts: AppendOptions = {}): Promise<AppendResult> {
    this.check(stream);
    this.appends.push(opts);
    const run = this.interloper;
    this.interloper = undefined;
    run?.();
    const failure = this.failNextAppend;
    this.failNextAppend = undefined;
    if (failure) throw failure;
    const fresh = events.filter((e) => !this.events.some((x) => x.id === e.id));
    if (fresh.length === 0) return { nextExpectedVersion: this.events.length, appended: 0 };
    const expected = opts.expectedVersion ?? 'any';
    if (!expectedVersionMatches(expected, this.events.length)) throw new WrongExpectedVersionError(stream, expected, this.events.length);
    this.events.push(...fresh);
    return { nextExpectedVersion: this.events.length, appended: fresh.length };
  }
}

/** Named checkpoints in memory, refusing what fv_checkpoints refuses; `saves` in order. */
export class MemoryCheckpoints implements CheckpointStore {
  readonly values = new Map<string, string>();
  readonly saves: [string, string][] = [];

  async load(name: string): Promise<string> {
    return this.values.get(name) ?? START_CHECKPOINT;
  }

  async save(name: string, checkpoint: string): Promise<void> {
    parseCheckpoint(checkpoint);
    this.values.set(name, checkpoint);
    this.saves.push([name, checkpoint]);
  }
}

/** A lock nobody else holds. */
export class FreeLeaderLock implements LeaderLock {
  held = false;
  async tryAcquire(): Promise<boolean> {
    this.held = true;
    return true;
  }
  async release(): Promise<void> {
    this.held = false;
  }
  onLost(): void {}
}

type Callback = (err: Error | null, msg: Msg) => void;

/** The NatsConnection calls CommandBus makes (subscribe, flush, request), looped back in memory. */
export function loopbackNats(): NatsConnection {
  const subscriptions = new Map<string, Callback>();
  const nc = {
    subscribe(subject: string, opts: { callback: Callback }) {
      subscriptions.set(subject, opts.callback);
      let closed = false;
      return {
        isClosed: () => closed,
        drain: async () => {
          closed = true;
          if (subscriptions.get(subject) === opts.callback) subscriptions.delete(subject);
        },
      };
    },
    flush: async () => undefined,
    request(subject: string, data: Uint8Array, opts: { timeout?: number } = {}): Promise<{ data: Uint8Array }> {
      // Exact subjects, and `<prefix>.*` (a scoped command's server) for one more token.
      const deliver =
        subscriptions.get(subject) ??
        [...subscriptions].find(([p]) => p.endsWith('.*') && subject.startsWith(p.slice(0, -1)) && !subject.slice(p.length - 1).includes('.'))?.[1];
      if (!deliver) return Promise.reject(Object.assign(new Error('no responders'), { code: ErrorCode.NoResponders }));
      return new Promise((resolve, reject) => {
        // A subscriber that does not answer (a broadcast command it has no answer to) times out, as on NATS.
        const timer = setTimeout(() => reject(Object.assign(new Error('TIMEOUT'), { code: ErrorCode.Timeout })), opts.timeout ?? 5_000);
        const respond = (reply: Uint8Array) => {
          clearTimeout(timer);
          resolve({ data: reply });
          return true;
        };
        const msg = { subject, data, headers: undefined, reply: '_INBOX.loopback', respond };
        deliver(null, msg as unknown as Msg);
      });
    },
  };
  // Only the calls above are made by CommandBus; the rest of the interface is never reached.
  return nc as unknown as NatsConnection;
}

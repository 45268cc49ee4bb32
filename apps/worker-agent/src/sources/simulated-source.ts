// Thread state from a SimulatedWorker (libs/devnet) running in this process; optionally also
// served as damocles' VenusWorker JSON-RPC so tools (or a bridge agent) can talk to it.
import type { ThreadInfo } from '@fleetvisor/contracts';
import { SealingWorkerError, SimulatedWorker, startVenusWorkerRpcServer, type SimTransition, type VenusWorkerRpcServer } from '@fleetvisor/devnet';
import type { NewTransition } from '../report/transition-outbox';
import { ThreadSourceError, type DrainProgress, type ThreadSource } from './thread-source';

export function simTransitionToNew(t: SimTransition): NewTransition {
  const n: NewTransition = { index: t.index, plan: t.plan, location: t.location, prev: t.prev, next: t.next, event: t.event, at: new Date(t.at).toISOString() };
  if (t.sectorId !== undefined) n.sectorId = t.sectorId;
  if (t.failure) n.failure = t.failure;
  return n;
}

export class SimulatedSource implements ThreadSource {
  readonly kind = 'simulated' as const;
  private unsubscribe: (() => void) | undefined;
  private rpc: VenusWorkerRpcServer | undefined;

  constructor(
    readonly worker: SimulatedWorker,
    private readonly opts: { tickMs?: number; adminListen?: { host: string; port: number } } = {},
  ) {}

  /** The VenusWorker JSON-RPC server, when adminListen was given. */
  get adminServer(): VenusWorkerRpcServer | undefined {
    return this.rpc;
  }

  async start(onTransition: (t: NewTransition) => void): Promise<void> {
    this.unsubscribe = this.worker.onTransition((t) => onTransition(simTransitionToNew(t)));
    this.worker.start(this.opts.tickMs ?? 100);
    if (this.opts.adminListen) this.rpc = await startVenusWorkerRpcServer({ worker: this.worker, ...this.opts.adminListen });
  }

  async stop(): Promise<void> {
    this.worker.stop();
    this.unsubscribe?.();
    await this.rpc?.close();
  }

  version(): string {
    return this.worker.version;
  }

  async threads(): Promise<ThreadInfo[]> {
    return this.worker.threadInfos();
  }

  async pause(index: number): Promise<boolean> {
    return this.call(() => this.worker.pause(index));
  }

  async resume(index: number, state: string | undefined): Promise<boolean> {
    return this.call(() => this.worker.resume(index, state));
  }

  async drain(): Promise<DrainProgress> {
    return this.worker.drain();
  }

  private call<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof SealingWorkerError) throw new ThreadSourceError(e.code === 'not_found' ? 'not_found' : 'invalid_request', e.message);
      throw e;
    }
  }
}

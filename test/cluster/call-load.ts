// API-call load for the fault suite: a simulated venus chain service (libs/devnet/src/filecoin) and
// simulated storage-provider components calling it at a venus-sealer's steady rates, through the
// metering proxy (`fleetvisor meter`) that runs on a cluster host. The node and the callers are the
// world outside Fleetvisor, so they run in the test process and reach the host over the observer
// link; the meter, NATS, the collector and Postgres are the cluster's own.
//
// The callers are driven tick by tick here (not by their own timer) so that every tick is written
// down with when it started and ended and how many calls were answered or failed: that ledger is
// what the calls in the log are checked against (checks.ts, checkCallStats). The meter counts a call
// in the window in which its answer came back, which lies between the tick's start and end, so a
// tick that starts and ends in one window puts its calls in that window for certain.
import { SimulatedCaller, sealerReadProfile, sealerSendProfile, startFilecoinNode, type FilecoinNodeHandle } from '@fleetvisor/devnet';

export interface CallTick {
  /** When the tick started and ended (ms since the epoch). */
  t0: number;
  t1: number;
  /** Calls answered by the meter (any HTTP status): the meter counted each. */
  answered: number;
  /** Calls that failed (no answer, or a failed HTTP status): the meter may or may not have counted them. */
  failed: number;
}

/** The ticks' pacing, as SimulatedCaller.start() would pace them. */
const TICK_MS = 250;

export class CallLoad {
  readonly ticks: CallTick[] = [];
  private running = false;
  private readonly callers: SimulatedCaller[] = [];

  private constructor(readonly node: FilecoinNodeHandle) {}

  /** The simulated venus node, listening on `host` (the observer's address: every cluster host reaches it). */
  static async startNode(host: string): Promise<CallLoad> {
    return new CallLoad(await startFilecoinNode({ host, port: 0, miners: [{ id: 't01000', sectors: 2048 }, { id: 't01001', sectors: 4096 }] }));
  }

  /** Starts two sealers' calls (reads and message sending) through the meter at `meterUrl`. */
  start(meterUrl: string): void {
    if (this.running) return;
    this.running = true;
    for (const [id, scale] of [['t01000', 1], ['t01001', 0.5]] as const) {
      const token = this.node.token(`${id}-sealer`, 'sign');
      this.callers.push(new SimulatedCaller({ token, url: meterUrl, minerId: id, rates: [...sealerReadProfile(scale), ...sealerSendProfile(4)] }));
    }
    for (const c of this.callers) void this.drive(c);
  }

  private async drive(caller: SimulatedCaller): Promise<void> {
    while (this.running) {
      const t0 = Date.now();
      const calls = caller.calls;
      const failures = caller.failures;
      await caller.tick(t0);
      const t1 = Date.now();
      // SimulatedCaller adds every answered call to `calls` (one with a failed HTTP status to
      // `failures` too) and a call with no answer to `failures` only. The meter counted every answered
      // call; of the failures it may have counted some (an answer lost on the way back): they only
      // widen the upper bound.
      this.ticks.push({ t0, t1, answered: caller.calls - calls, failed: caller.failures - failures });
      const wait = TICK_MS - (Date.now() - t0);
      if (wait > 0 && this.running) await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** Stops the ticks and the node. A tick still waiting on a cut-off meter is not waited for: it ends with the namespaces. */
  async stop(): Promise<void> {
    this.running = false;
    await this.node.close();
  }
}

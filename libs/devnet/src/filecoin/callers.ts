// Simulated components calling a venus chain service at realistic, steady rates: a venus-sealer's
// reads by volume as the seed's chart shows them (ChainGetBlockMessages, ChainHead, ChainGetPath,
// StateMinerProvingDeadline, …) and its message sending (MpoolPushMessage for PreCommitSector,
// ProveCommitSector, SubmitWindowedPoSt) through venus-messager. A misbehaving caller sends its
// messages in bursts (a stuck retry loop), which is what the steady band is there to catch.
// Calls go over HTTP with the caller's token, one JSON-RPC request each (batches with `batch`).

export interface MethodRate {
  method: string;
  /** Calls per minute. */
  perMinute: number;
  params?: (minerId: string, n: number) => unknown[];
}

/** A venus-sealer's calls to the venus node, per minute, in the order of the seed's chart. */
export function sealerReadProfile(scale = 1): MethodRate[] {
  const m = (method: string, perMinute: number, params?: MethodRate['params']): MethodRate => ({ method: `Filecoin.${method}`, perMinute: perMinute * scale, ...(params ? { params } : {}) });
  const miner = (id: string) => [id, []];
  return [
    m('ChainGetBlockMessages', 120, () => [{ '/': 'bafy2bzacea' }]),
    m('ChainHead', 90),
    m('ChainGetPath', 60, () => [[], []]),
    m('StateMinerProvingDeadline', 40, miner),
    m('ChainGetTipSet', 30, () => [[]]),
    m('StateMinerPartitions', 24, (id, n) => [id, n % 48, []]),
    m('ChainGetRandomnessFromBeacon', 12, () => [[], 5, 100, 'AA==']),
    m('StateNetworkVersion', 10, () => [[]]),
    m('StateSectorGetInfo', 8, (id, n) => [id, n % 2048, []]),
    m('StateMinerSectors', 4, (id) => [id, null, []]),
    m('StateSectorExpiration', 3, (id, n) => [id, n % 2048, []]),
    m('StateMinerActiveSectors', 2, miner),
    m('StateMinerInfo', 2, miner),
  ];
}

/** Message sending of a sealing miner through venus-messager, per minute. */
export function sealerSendProfile(perMinute = 4): MethodRate[] {
  return [
    { method: 'Filecoin.MpoolPushMessage', perMinute, params: (id, n) => [{ To: id, Method: [6, 7, 5][n % 3], Params: '' }, null] },
    { method: 'Filecoin.StateSearchMsg', perMinute: perMinute * 2, params: (_id, n) => [[], { '/': `bafy2bzacemsg${n}` }, 100, true] },
  ];
}

export interface SimulatedCallerOptions {
  /** Caller's token (its name is who the calls are counted for). */
  token: string;
  /** JSON-RPC endpoint (a metering proxy in front of the service). */
  url: string;
  minerId: string;
  rates: MethodRate[];
  /** Misbehaving: every `burstEveryMs`, the message-sending rate is multiplied by `burstFactor` for `burstMs`. */
  burst?: { everyMs: number; forMs: number; factor: number };
  /** Calls per request (1: single requests; more: JSON-RPC batches). */
  batch?: number;
}

export class SimulatedCaller {
  private timer: NodeJS.Timeout | undefined;
  private readonly credit = new Map<string, number>();
  private n = 0;
  private last = Date.now();
  private readonly started = Date.now();
  calls = 0;
  failures = 0;

  constructor(private readonly opts: SimulatedCallerOptions) {}

  start(tickMs = 250): void {
    this.timer = setInterval(() => void this.tick(), tickMs);
    this.timer.unref();
  }

  private factor(method: string, now: number): number {
    const b = this.opts.burst;
    if (!b || !/MpoolPush/.test(method)) return 1;
    return (now - this.started) % b.everyMs < b.forMs ? b.factor : 1;
  }

  /** Sends the calls due since the last tick (fractional rates carry over). */
  async tick(now = Date.now()): Promise<void> {
    const dt = (now - this.last) / 60_000;
    this.last = now;
    const due: { jsonrpc: '2.0'; id: number; method: string; params: unknown[] }[] = [];
    for (const r of this.opts.rates) {
      let c = (this.credit.get(r.method) ?? 0) + r.perMinute * this.factor(r.method, now) * dt;
      while (c >= 1) {
        c -= 1;
        const n = ++this.n;
        due.push({ jsonrpc: '2.0', id: n, method: r.method, params: r.params ? r.params(this.opts.minerId, n) : [] });
      }
      this.credit.set(r.method, c);
    }
    const size = Math.max(1, this.opts.batch ?? 1);
    const sends: Promise<void>[] = [];
    for (let i = 0; i < due.length; i += size) {
      const body = size === 1 ? due[i] : due.slice(i, i + size);
      const count = size === 1 ? 1 : (body as unknown[]).length;
      sends.push(
        fetch(this.opts.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${this.opts.token}` }, body: JSON.stringify(body) })
          .then(async (res) => {
            await res.arrayBuffer();
            this.calls += count;
            if (!res.ok) this.failures += count;
          })
          .catch(() => {
            this.failures += count;
          }),
      );
    }
    await Promise.all(sends);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

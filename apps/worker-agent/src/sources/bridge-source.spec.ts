import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { BridgeSource } from './bridge-source';

const logger = pino({ level: 'silent' });

/** A deferred: a promise and its resolve, to hold one answer of the fake worker until the test says. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/**
 * A damocles-worker admin API (VenusWorker.WorkerList / WorkerPause / WorkerVersion over HTTP
 * JSON-RPC) whose answers a test can hold: a list is taken when the request arrives and answered
 * when its hook resolves, as a slow worker would.
 */
class HeldWorker {
  readonly paused = [false, false];
  onList: (() => Promise<void>) | undefined;
  onPause: ((index: number) => Promise<void>) | undefined;
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        void this.answer(JSON.parse(body) as { id: number; method: string; params: unknown[] }).then((result) => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ jsonrpc: '2.0', id: JSON.parse(body).id, result }));
        });
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  private async answer(req: { method: string; params: unknown[] }): Promise<unknown> {
    switch (req.method) {
      case 'VenusWorker.WorkerVersion':
        return '0.11.0';
      case 'VenusWorker.WorkerList': {
        const rows = this.paused.map((p, index) => ({
          location: `/data/store${index}`,
          plan: 'sealer',
          job_id: `s-t01000-${index}`,
          index,
          thread_state: { state: p ? 'Paused' : 'Running', elapsed: 1, proc: null },
          job_state: 'PC1Done',
          job_stage: 'PC2',
          last_error: null,
        }));
        const hook = this.onList;
        this.onList = undefined;
        if (hook) await hook();
        return rows;
      }
      case 'VenusWorker.WorkerPause': {
        const index = req.params[0] as number;
        const hook = this.onPause;
        this.onPause = undefined;
        if (hook) await hook(index);
        this.paused[index] = true;
        return true;
      }
      default:
        throw new Error(`unexpected ${req.method}`);
    }
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

let worker: HeldWorker | undefined;
let source: BridgeSource | undefined;
afterEach(async () => {
  await source?.stop();
  await worker?.close();
  source = undefined;
  worker = undefined;
});

describe('BridgeSource', () => {
  it('keeps why it paused a thread when a list that started before the pause took effect shows it still running', async () => {
    worker = new HeldWorker();
    const url = await worker.start();
    source = new BridgeSource({ adminUrl: url, pollMs: 3_600_000, logger });
    await source.start(() => undefined);

    // The drain's pause of thread #0 reaches the worker; before the worker carries it out, a poll
    // lists the threads (it sees #0 running) and its answer comes back after the pause's.
    const pauseArrived = gate();
    const releasePause = gate();
    worker.onPause = async () => {
      pauseArrived.open();
      await releasePause.promise;
    };
    const draining = source.drain();
    await pauseArrived.promise;
    const listArrived = gate();
    const releaseList = gate();
    worker.onList = async () => {
      listArrived.open();
      await releaseList.promise;
    };
    // Waits behind no other list: the drain's first list is done, its pause is not.
    const stale = source.threads();
    await listArrived.promise;
    releasePause.open();
    // The pause has answered; the list taken before it now answers with #0 running.
    await expect.poll(() => worker!.paused[0]).toBe(true);
    releaseList.open();
    expect((await stale).find((t) => t.index === 0)!.threadState).toBe('running');

    expect(await draining).toEqual({ threads: 2, paused: 2, finished: true });
    expect((await source.threads()).map((t) => [t.index, t.threadState, t.pauseReason])).toEqual([
      [0, 'paused', 'drain'],
      [1, 'paused', 'drain'],
    ]);
  });

  it('forgets the reason once a list started after the pause shows the thread running (resumed at the worker)', async () => {
    worker = new HeldWorker();
    const url = await worker.start();
    source = new BridgeSource({ adminUrl: url, pollMs: 3_600_000, logger });
    await source.start(() => undefined);
    expect(await source.pause(1)).toBe(true);
    expect((await source.threads())[1]).toMatchObject({ threadState: 'paused', pauseReason: 'manual' });
    // Resumed with damocles' own CLI, then paused by the worker itself: not the agent's manual pause.
    worker.paused[1] = false;
    expect((await source.threads())[1]!.threadState).toBe('running');
    worker.paused[1] = true;
    expect((await source.threads())[1]!.pauseReason).toBeUndefined();
  });
});

// The VenusWorker JSON-RPC server over real HTTP: damocles' method names, params and error shapes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from './clock';
import { SimulatedWorker } from './simulated-worker';
import { startVenusWorkerRpcServer, type VenusWorkerRpcServer } from './venus-worker-rpc';

let server: VenusWorkerRpcServer;
const clock = new ManualClock();
const worker = new SimulatedWorker({ threads: 2, stepMs: 1000, jitter: 0, idleMs: 1, temporaryErrorRate: 0, permanentErrorRate: 0, plans: ['sealer', 'unseal'], clock });

async function rpc(method: string, params: unknown, id: number | undefined = 1): Promise<unknown> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', method, params, ...(id === undefined ? {} : { id }) }) });
  return res.status === 204 ? undefined : res.json();
}

beforeAll(async () => {
  server = await startVenusWorkerRpcServer({ worker });
  clock.advance(1 + 2500);
});
afterAll(async () => {
  await server?.close();
});

describe('VenusWorker JSON-RPC server', () => {
  it('WorkerList returns damocles WorkerInfo items', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await rpc('VenusWorker.WorkerList', [])).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: [
        { location: '/data/store0', plan: 'sealer', job_id: 's-t01000-1', index: 0, thread_state: { state: 'Running', elapsed: 0, proc: null }, job_state: 'PieceAdded', job_stage: 'TreeD', last_error: null },
        { location: '/data/store1', plan: 'unseal', job_id: 's-t01000-3', index: 1, thread_state: { state: 'Running', elapsed: 0, proc: null }, job_state: 'Allocated', job_stage: 'Unseal', last_error: null },
      ],
    });
  });

  it('WorkerPause [index] and WorkerResume [index, set_to] return booleans', async () => {
    expect(await rpc('VenusWorker.WorkerPause', [0])).toEqual({ jsonrpc: '2.0', id: 1, result: true });
    expect(await rpc('VenusWorker.WorkerPause', [0], 2)).toEqual({ jsonrpc: '2.0', id: 2, result: false });
    expect(await rpc('VenusWorker.WorkerResume', [0, 'C1Done'])).toEqual({ jsonrpc: '2.0', id: 1, result: true });
    expect(worker.list()[0]).toMatchObject({ job_state: 'C1Done', job_stage: 'C2' });
    expect(await rpc('VenusWorker.WorkerResume', [0, null])).toEqual({ jsonrpc: '2.0', id: 1, result: false });
    expect(await rpc('VenusWorker.WorkerVersion', [])).toEqual({ jsonrpc: '2.0', id: 1, result: '0.11.0-sim' });
  });

  it('answers errors as damocles does: invalid params for an unknown index or a state outside the plan', async () => {
    expect(await rpc('VenusWorker.WorkerPause', [5])).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'worker #5 not found' } });
    await rpc('VenusWorker.WorkerPause', [1]);
    const bad = (await rpc('VenusWorker.WorkerResume', [1, 'PC1Done'])) as { error: { code: number; message: string } };
    expect(bad.error.code).toBe(-32602);
    expect(bad.error.message).toContain('valid: Empty, Allocated, Unsealed, Finished, Aborted');
    expect(worker.list()[1]!.thread_state.state).toBe('Paused');
    expect(await rpc('VenusWorker.WorkerPause', ['x'])).toMatchObject({ error: { code: -32602 } });
    expect(await rpc('VenusWorker.Nope', [])).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'Method not found' } });
    const res = await fetch(server.url, { method: 'POST', body: '{oops' });
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
  });
});

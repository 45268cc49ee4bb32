// Identical queries in flight share one bus request; commands never do. The bus here is a counting
// stand-in for CommandBus.request (the real one is exercised by the gateway's e2e suite).
import { describe, expect, it } from 'vitest';
import { WorkerInfo, WorkerListPage, WorkerPause, createSubjects, type CommandReply } from '@fleetvisor/contracts';
import { gatewayBus } from './gateway-bus';
import { Problem } from './problem';

function countingBus(answer: (verb: string) => CommandReply) {
  const calls: string[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const commands = {
    request: async (def: { verb: string }) => {
      calls.push(def.verb);
      await gate;
      return answer(def.verb);
    },
  };
  const bus = gatewayBus({ commands: commands as never, nc: undefined as never, subjects: createSubjects('t'), timeoutMs: 1_000, gatherMs: 10 });
  return { bus, calls, release };
}

describe('gatewayBus', () => {
  it('shares one request among identical queries in flight, not among different ones', async () => {
    const { bus, calls, release } = countingBus(() => ({ ok: true, result: { workers: [], total: 0 } }));
    const same = Array.from({ length: 10 }, () => bus.ask(WorkerListPage, { limit: 100 }));
    const other = bus.ask(WorkerListPage, { limit: 50 });
    release();
    await Promise.all([...same, other]);
    expect(calls).toEqual(['list-page', 'list-page']);
    // once answered, the next ask goes to the service again
    await bus.ask(WorkerListPage, { limit: 100 });
    expect(calls).toHaveLength(3);
  });

  it('never shares a command, and a refusal reaches every waiter as its HTTP problem', async () => {
    const { bus, calls, release } = countingBus((verb) => (verb === 'pause' ? { ok: true, result: { worker: 'w', index: 0, changed: true } } : { ok: false, error: { code: 'not_found', message: 'no worker w' } }));
    const pauses = [bus.ask(WorkerPause, { worker: 'w', index: 0 }, { act: { name: 'a', role: 'operate' } }), bus.ask(WorkerPause, { worker: 'w', index: 0 }, { act: { name: 'a', role: 'operate' } })];
    const infos = [bus.ask(WorkerInfo, { worker: 'w' }), bus.ask(WorkerInfo, { worker: 'w' })];
    release();
    await Promise.all(pauses);
    for (const i of infos) await expect(i).rejects.toSatisfy((e: unknown) => e instanceof Problem && e.status === 404);
    expect(calls.filter((c) => c === 'pause')).toHaveLength(2);
    expect(calls.filter((c) => c === 'info')).toHaveLength(1);
  });
});

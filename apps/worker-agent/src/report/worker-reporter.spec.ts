import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { CommandReply, ThreadInfo, WorkerReport } from '@fleetvisor/contracts';
import { TransitionOutbox } from './transition-outbox';
import { WorkerReporter, type ReportResult } from './worker-reporter';

const logger = pino({ level: 'silent' });
const threads: ThreadInfo[] = [{ index: 0, plan: 'sealer', threadState: 'running', state: 'Allocated', elapsedMs: 5 }];

function setup(reply: (r: WorkerReport) => CommandReply<ReportResult> | Promise<CommandReply<ReportResult>>) {
  const outbox = new TransitionOutbox();
  const sent: WorkerReport[] = [];
  const reporter = new WorkerReporter({
    identity: () => ({ name: 'w-01', dest: '10.0.0.1:17890', version: '0.11.0' }),
    threads: async () => threads,
    outbox,
    logger,
    now: () => Date.UTC(2025, 0, 1),
    send: async (r) => {
      sent.push(structuredClone(r));
      return reply(r);
    },
    maxTransitionsPerReport: 3,
  });
  const add = (n: number) => {
    for (let i = 0; i < n; i++) outbox.add({ index: 0, plan: 'sealer', prev: 'Empty', next: 'Allocated', at: '2025-01-01T00:00:00.000Z' });
  };
  return { outbox, sent, reporter, add };
}

const accept = (r: WorkerReport): CommandReply<ReportResult> => ({ ok: true, result: { appended: r.transitions.length, acceptedSeq: r.transitions.at(-1)?.seq ?? 0 } });

describe('WorkerReporter', () => {
  it('sends identity, every thread and pending transitions, and drops what the registry accepted', async () => {
    const { outbox, sent, reporter, add } = setup(accept);
    add(2);
    const out = await reporter.reportNow();
    expect(out).toEqual({ ok: true, result: { appended: 2, acceptedSeq: 2 }, transitions: 2 });
    expect(sent[0]).toMatchObject({ name: 'w-01', dest: '10.0.0.1:17890', version: '0.11.0', bootId: outbox.bootId, sentAt: '2025-01-01T00:00:00.000Z', threads });
    expect(sent[0]!.transitions.map((t) => t.seq)).toEqual([1, 2]);
    expect(outbox.size).toBe(0);
  });

  it('carries the command count read before the threads were listed (a command done during the list may not show in it)', async () => {
    let controls = 4;
    const sent: WorkerReport[] = [];
    const reporter = new WorkerReporter({
      identity: () => ({ name: 'w-01', dest: '10.0.0.1:17890', version: '0.11.0' }),
      threads: async () => {
        controls++;
        return threads;
      },
      controls: () => controls,
      outbox: new TransitionOutbox(),
      logger,
      send: async (r) => {
        sent.push(structuredClone(r));
        return accept(r);
      },
    });
    await reporter.reportNow();
    await reporter.reportNow();
    expect(sent.map((r) => r.controls)).toEqual([4, 5]);
  });

  it('drops only transitions up to acceptedSeq', async () => {
    const { outbox, reporter, add } = setup(() => ({ ok: true, result: { appended: 1, acceptedSeq: 1 } }));
    add(3);
    await reporter.reportNow();
    expect(outbox.pending().map((t) => t.seq)).toEqual([2, 3]);
  });

  it('keeps transitions while reports fail and sends them, once, when the registry answers again', async () => {
    let up = false;
    const { outbox, sent, reporter, add } = setup((r) => (up ? accept(r) : { ok: false, error: { code: 'unavailable', message: 'NATS connection unavailable' } }));
    add(2);
    expect(await reporter.reportNow()).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    add(1);
    expect(await reporter.reportNow()).toMatchObject({ ok: false });
    expect(reporter.stats).toMatchObject({ failed: 2, consecutiveFailures: 2, lastError: 'unavailable: NATS connection unavailable' });
    expect(outbox.size).toBe(3);
    up = true;
    await reporter.reportNow();
    expect(sent.at(-1)!.transitions.map((t) => t.seq)).toEqual([1, 2, 3]);
    expect(outbox.size).toBe(0);
    await reporter.reportNow();
    expect(sent.at(-1)!.transitions).toEqual([]);
    expect(reporter.stats).toMatchObject({ ok: 2, consecutiveFailures: 0 });
  });

  it('treats a thrown send like an unavailable registry', async () => {
    const { outbox, reporter, add } = setup(() => {
      throw new Error('boom');
    });
    add(1);
    expect(await reporter.reportNow()).toEqual({ ok: false, error: { code: 'unavailable', message: 'boom' }, transitions: 1 });
    expect(outbox.size).toBe(1);
  });

  it('sends one report at a time; asks made meanwhile become one follow-up with the newest state', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const { sent, reporter, add } = setup(async (r) => {
      calls++;
      if (calls === 1) await gate;
      return accept(r);
    });
    add(1);
    const first = reporter.reportNow();
    await expect.poll(() => sent.length).toBe(1);
    add(1);
    const second = reporter.reportNow();
    const third = reporter.reportNow();
    expect(second).toBe(third);
    release();
    await Promise.all([first, second]);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.transitions.map((t) => t.seq)).toEqual([2]);
  });

  it('sends a backlog longer than one report in follow-up reports at once', async () => {
    const { outbox, sent, reporter, add } = setup(accept);
    add(7);
    await reporter.reportNow();
    await expect.poll(() => outbox.size).toBe(0);
    expect(sent.map((r) => r.transitions.map((t) => t.seq))).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('reports a worker that cannot be listed as unreachable, with the error and no threads', async () => {
    const outbox = new TransitionOutbox();
    const sent: WorkerReport[] = [];
    const reporter = new WorkerReporter({
      identity: () => ({ name: 'w', dest: 'd:1', version: '1' }),
      threads: async () => {
        throw new Error('damocles-worker admin API at http://d:1/ unreachable: ECONNREFUSED');
      },
      outbox,
      logger,
      send: async (r) => {
        sent.push(r);
        return accept(r);
      },
    });
    expect(await reporter.reportNow()).toMatchObject({ ok: true });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ name: 'w', threads: [], unreachable: 'damocles-worker admin API at http://d:1/ unreachable: ECONNREFUSED' });
  });
});

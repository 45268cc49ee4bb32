import { describe, expect, it } from 'vitest';
import { WorkerReportSchema, type WorkerReport } from '@fleetvisor/contracts';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ManualClock } from '@fleetvisor/devnet';
import { SealingLoad, type ReportReply } from './sealing-load';

const checkReport = TypeCompiler.Compile(WorkerReportSchema);

describe('SealingLoad', () => {
  it('reports every worker once per interval, spread over it, with valid reports and transitions delivered once', async () => {
    const clock = new ManualClock();
    const sent: WorkerReport[] = [];
    const accepted = new Map<string, number>();
    const load = new SealingLoad({
      workers: 50,
      threadsPerWorker: 16,
      reportIntervalMs: 10_000,
      stepMs: 2_000,
      clock,
      send: async (r): Promise<ReportReply> => {
        sent.push(r);
        const acceptedSeq = r.transitions.at(-1)?.seq ?? accepted.get(r.bootId) ?? 0;
        accepted.set(r.bootId, acceptedSeq);
        return { ok: true, result: { appended: r.transitions.length, acceptedSeq } };
      },
    });
    // One interval in 100 ms ticks: each worker reports exactly once.
    for (let t = 0; t < 10_000; t += 100) {
      load.tick(clock.now());
      clock.advance(100);
      await Promise.resolve();
    }
    expect(new Set(sent.map((r) => r.name)).size).toBe(50);
    expect(sent).toHaveLength(50);
    for (let t = 0; t < 30_000; t += 100) {
      load.tick(clock.now());
      clock.advance(100);
      await new Promise((r) => setImmediate(r));
    }
    expect(sent).toHaveLength(200);
    for (const r of sent) expect(checkReport.Check(r)).toBe(true);
    expect(sent[0]!.threads).toHaveLength(16);
    const byWorker = new Map<string, number[]>();
    for (const r of sent) byWorker.set(r.name, [...(byWorker.get(r.name) ?? []), ...r.transitions.map((t) => t.seq)]);
    for (const seqs of byWorker.values()) expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const s = load.stats();
    expect(s).toMatchObject({ workers: 50, threads: 800, sent: 200, ok: 200, failed: 0, skipped: 0 });
    expect(s.transitions).toBeGreaterThan(50 * 16 * 10);
    expect(new Set(sent.flatMap((r) => r.threads.map((t) => t.sectorId)).filter(Boolean)).size).toBeGreaterThan(800);
    await load.stop();
  });

  it('keeps transitions of failed reports for the next one', async () => {
    const clock = new ManualClock();
    let fail = true;
    const sent: WorkerReport[] = [];
    const load = new SealingLoad({
      workers: 1,
      reportIntervalMs: 1_000,
      stepMs: 100,
      clock,
      send: async (r) => {
        sent.push(r);
        return fail ? { ok: false, error: { code: 'timeout', message: 'no reply' } } : { ok: true, result: { appended: 0, acceptedSeq: r.transitions.at(-1)?.seq ?? 0 } };
      },
    });
    load.tick();
    await new Promise((r) => setImmediate(r));
    clock.advance(1_000);
    load.tick();
    await new Promise((r) => setImmediate(r));
    fail = false;
    clock.advance(1_000);
    load.tick();
    await new Promise((r) => setImmediate(r));
    expect(sent[2]!.transitions[0]!.seq).toBe(1);
    expect(sent[2]!.transitions.length).toBeGreaterThan(sent[1]!.transitions.length);
    expect(load.stats()).toMatchObject({ sent: 3, ok: 1, failed: 2 });
  });
});

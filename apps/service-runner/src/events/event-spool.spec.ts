import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ServiceStopped, type EventEnvelope } from '@fleetvisor/contracts';
import { waitFor } from '@fleetvisor/testing';
import { EventRecorder } from './event-recorder';
import { EventSpool, SpoolFlusher } from './event-spool';
import { IntakeRefusedError, isIntakeRefusal } from './intake-sink';

const dir = mkdtempSync(path.join(tmpdir(), 'fv-spool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('event spool', () => {
  it('keeps events while the sink fails and flushes them in order, exactly once by id', async () => {
    const spool = new EventSpool(path.join(dir, 'a'));
    const recorder = new EventRecorder(spool, 'h1');
    const stored = new Map<string, EventEnvelope>();
    const order: string[] = [];
    let up = false;
    const flusher = new SpoolFlusher({
      spool,
      logger: pino({ level: 'silent' }),
      retryInitialMs: 10,
      retryMaxMs: 20,
      sink: () => ({
        append: async (events) => {
          if (!up) throw new Error('ECONNREFUSED');
          for (const e of events) {
            if (!stored.has(e.id)) order.push(e.id); // idempotent by id, like the log
            stored.set(e.id, e);
          }
        },
      }),
    });
    recorder.attach(flusher);
    const ids = [1, 2, 3].map((i) => recorder.record(ServiceStopped, { host: 'h1', service: `s${i}`, reason: 'test' }).id);
    await new Promise((r) => setTimeout(r, 50));
    expect(spool.count()).toBe(3);
    expect(stored.size).toBe(0);
    // A crash after the append but before the file was removed: the same event is appended again.
    up = true;
    stored.set(ids[0]!, spool.pending(1)[0]!.event);
    order.push(ids[0]!);
    await waitFor(() => spool.count() === 0, { timeoutMs: 2_000 });
    expect(order).toEqual(ids);
    expect(stored.size).toBe(3);
    await flusher.stop();
  });

  it('refuses an event that breaks its contract', () => {
    const recorder = new EventRecorder(new EventSpool(path.join(dir, 'b')), 'h1');
    expect(() => recorder.record(ServiceStopped, { host: 'h1', service: '../x', reason: 'r' })).toThrow(/invalid ServiceStopped/);
  });

  it('sends batches bounded in count and bytes, in recording order', async () => {
    const spool = new EventSpool(path.join(dir, 'c'));
    const recorder = new EventRecorder(spool, 'h1');
    const ids = Array.from({ length: 7 }, (_, i) => recorder.record(ServiceStopped, { host: 'h1', service: `s${i}`, reason: 'r'.repeat(400) }).id);
    const batches: string[][] = [];
    const flusher = new SpoolFlusher({
      spool,
      logger: pino({ level: 'silent' }),
      maxEvents: 3,
      maxBytes: 1_500, // about two of these events
      sink: () => ({ append: async (events) => void batches.push(events.map((e) => e.id)) }),
    });
    flusher.kick();
    await waitFor(() => spool.count() === 0, { timeoutMs: 2_000 });
    expect(batches.flat()).toEqual(ids);
    expect(Math.max(...batches.map((b) => b.length))).toBe(2);
    await flusher.stop();
  });

  it('a batch the intake refuses for good is sent again event by event: only the refused event is set aside', async () => {
    const spool = new EventSpool(path.join(dir, 'd'));
    const recorder = new EventRecorder(spool, 'h1');
    const ids = [0, 1, 2].map((i) => recorder.record(ServiceStopped, { host: 'h1', service: `s${i}`, reason: 'r' }).id);
    const stored: string[] = [];
    const flusher = new SpoolFlusher({
      spool,
      logger: pino({ level: 'silent' }),
      isPermanent: isIntakeRefusal,
      sink: () => ({
        append: async (events) => {
          if (events.some((e) => e.id === ids[1])) throw new IntakeRefusedError('forbidden', 'forbidden: not this host');
          stored.push(...events.map((e) => e.id));
        },
      }),
    });
    flusher.kick();
    await waitFor(() => spool.count() === 0, { timeoutMs: 2_000 });
    expect(stored).toEqual([ids[0], ids[2]]);
    expect(readdirSync(path.join(dir, 'd', 'rejected'))).toEqual([`${ids[1]}.json`]);
    await flusher.stop();
  });
});

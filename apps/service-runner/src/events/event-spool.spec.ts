import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ServiceStopped, type EventEnvelope } from '@fleetvisor/contracts';
import { waitFor } from '@fleetvisor/testing';
import { EventRecorder } from './event-recorder';
import { EventSpool, SpoolFlusher } from './event-spool';

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
});

import { describe, expect, it } from 'vitest';
import { newEventFor, ThreadPaused, ThreadStateChanged, WorkerRegistered, type EventEnvelope, type RecordedEvent } from '@fleetvisor/contracts';
import { createLogger } from '@fleetvisor/platform';
import { evolveWorker, type WorkerAggregate } from '../domain/worker-state';
import { ForeignEvents } from './foreign-events';
import { LiveWorkers } from './live-workers';

const logger = createLogger({ name: 'test', level: 'silent', format: 'json' });

function recorded(events: readonly EventEnvelope[], fromVersion = 1): RecordedEvent[] {
  return events.map((e, i) => ({ ...e, streamVersion: fromVersion + i, globalPosition: String(i + 1), checkpoint: `1:${i + 1}` }));
}

const log = recorded([
  newEventFor(WorkerRegistered, { name: 'w1', dest: '10.0.0.1:17890', version: '1.2.0', threads: 2 }),
  newEventFor(ThreadStateChanged, { worker: 'w1', index: 0, plan: 'sealer', prev: 'Empty', next: 'Allocated', sectorId: 's-t01000-1' }),
  newEventFor(ThreadPaused, { worker: 'w1', index: 0, reason: 'manual', actor: 'erin' }),
]);

function fold(events: readonly RecordedEvent[]): WorkerAggregate {
  let agg: WorkerAggregate | undefined;
  for (const e of events) agg = evolveWorker(agg, e);
  return agg!;
}

function setup(known: number) {
  const live = new LiveWorkers();
  if (known > 0) live.set('w1', fold(log.slice(0, known)), known, Date.now());
  const reads: string[] = [];
  const store = {
    readStream: async (stream: string) => {
      reads.push(stream);
      return { events: log, currentVersion: log.length };
    },
  };
  const foreign = new ForeignEvents(live, store, logger);
  foreign.active = true;
  return { live, foreign, reads };
}

describe('ForeignEvents', () => {
  it("events the registry wrote itself (at or below the version in memory) change nothing and read nothing", async () => {
    const { live, foreign, reads } = setup(3);
    const before = live.get('w1')!.agg;
    foreign.offer(log);
    await live.queue.idle();
    expect(live.get('w1')!.agg).toBe(before);
    expect(foreign.folded).toBe(0);
    expect(reads).toEqual([]);
  });

  it('events that follow the version in memory are folded into it', async () => {
    const { live, foreign, reads } = setup(2);
    foreign.offer(log);
    await live.queue.idle();
    expect(live.get('w1')!.version).toBe(3);
    expect(live.get('w1')!.agg.threads.get(0)).toMatchObject({ paused: true, pauseReason: 'manual' });
    expect(foreign.folded).toBe(1);
    expect(reads).toEqual([]);
  });

  it('events that do not follow it make the worker be read from its stream', async () => {
    const { live, foreign, reads } = setup(1);
    foreign.offer(log.slice(2));
    await live.queue.idle();
    expect(reads).toEqual(['worker-w1']);
    expect(live.get('w1')!.version).toBe(3);
    expect(live.get('w1')!.agg).toEqual(fold(log));
  });

  it('a worker only another writer knows is added; nothing is folded before the registry has loaded', async () => {
    const idle = setup(0);
    idle.foreign.active = false;
    idle.foreign.offer(log);
    await idle.live.queue.idle();
    expect(idle.live.has('w1')).toBe(false);
    const { live, foreign } = setup(0);
    foreign.offer(log);
    await live.queue.idle();
    expect(live.get('w1')).toMatchObject({ version: 3 });
    expect(live.get('w1')!.agg.worker.dest).toBe('10.0.0.1:17890');
  });
});

// OutboxRelay logic against in-memory fakes (the int tests run it against Postgres and NATS).
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from 'nats';
import { createSubjects, uuidv7, type RecordedEvent } from '@fleetvisor/contracts';
import type { CheckpointStore, EventStore, LeaderLock, ReadAllResult } from '@fleetvisor/event-store';
import { OutboxRelay, toEnvelope } from './outbox-relay';

const logger = pino({ level: 'silent' });
const subjects = createSubjects('unit');

function pos(checkpoint: string): number {
  return Number(checkpoint.split(':')[1]);
}

class FakeStore implements EventStore {
  events: RecordedEvent[] = [];
  private listeners = new Set<() => void>();
  add(n: number): RecordedEvent[] {
    const added: RecordedEvent[] = [];
    for (let i = 0; i < n; i++) {
      const p = this.events.length + 1;
      const e: RecordedEvent = {
        id: uuidv7(),
        type: 'HostOnline',
        stream: 'host-h1',
        version: 1,
        data: { n: p },
        metadata: {},
        occurredAt: new Date().toISOString(),
        streamVersion: p,
        globalPosition: String(p),
        checkpoint: `1:${p}`,
      };
      this.events.push(e);
      added.push(e);
    }
    for (const l of this.listeners) l();
    return added;
  }
  appendToStream(): never {
    throw new Error('not used');
  }
  readStream(): never {
    throw new Error('not used');
  }
  async readAll(after: string, limit: number): Promise<ReadAllResult> {
    const events = this.events.filter((e) => pos(e.checkpoint) > pos(after)).slice(0, limit);
    return { events, checkpoint: events.length ? events[events.length - 1]!.checkpoint : after };
  }
  async headCheckpoint(): Promise<string> {
    return this.events.length ? this.events[this.events.length - 1]!.checkpoint : '0:0';
  }
  onAppended(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

class FakeCheckpoints implements CheckpointStore {
  saved = new Map<string, string>();
  saves: string[] = [];
  async load(name: string): Promise<string> {
    return this.saved.get(name) ?? '0:0';
  }
  async save(name: string, checkpoint: string): Promise<void> {
    this.saved.set(name, checkpoint);
    this.saves.push(checkpoint);
  }
}

class FakeLock implements LeaderLock {
  available = true;
  private isHeld = false;
  private listeners: (() => void)[] = [];
  get held(): boolean {
    return this.isHeld;
  }
  async tryAcquire(): Promise<boolean> {
    if (this.isHeld) return true;
    if (!this.available) return false;
    this.isHeld = true;
    return true;
  }
  async release(): Promise<void> {
    this.isHeld = false;
  }
  onLost(l: () => void): void {
    this.listeners.push(l);
  }
  lose(): void {
    this.isHeld = false;
    this.available = false;
    for (const l of this.listeners) l();
  }
}

class FakeJs {
  stored: { subject: string; msgID: string; payload: string }[] = [];
  calls = 0;
  failWhen: ((msgID: string, call: number) => boolean) | undefined;
  onPublish: (() => void) | undefined;
  private ids = new Set<string>();
  async publish(subject: string, payload: Uint8Array, opts: Partial<JetStreamPublishOptions>): Promise<PubAck> {
    this.calls++;
    this.onPublish?.();
    const msgID = opts.msgID!;
    if (this.failWhen?.(msgID, this.calls)) throw new Error('TIMEOUT');
    const duplicate = this.ids.has(msgID);
    if (!duplicate) {
      this.ids.add(msgID);
      this.stored.push({ subject, msgID, payload: Buffer.from(payload).toString() });
    }
    return { stream: 'S', seq: this.stored.length, duplicate, domain: undefined } as unknown as PubAck;
  }
}

function setup(opts: { batchSize?: number; idleIntervalMs?: number } = {}) {
  const store = new FakeStore();
  const checkpoints = new FakeCheckpoints();
  const lock = new FakeLock();
  const js = new FakeJs();
  const relay = new OutboxRelay({
    store,
    checkpoints,
    lock,
    js: js as unknown as JetStreamClient,
    subjects,
    streamName: 'S',
    logger,
    batchSize: opts.batchSize ?? 10,
    idleIntervalMs: opts.idleIntervalMs ?? 5,
    standbyRetryMs: 10,
    retryBackoff: { initialMs: 5, maxMs: 20 },
  });
  return { store, checkpoints, lock, js, relay };
}

async function until(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const running: OutboxRelay[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

describe('OutboxRelay (fakes)', () => {
  it('publishes every event in log order with msgID = event id and the bare envelope as payload', async () => {
    const { store, checkpoints, js, relay } = setup({ batchSize: 7 });
    const events = store.add(25);
    running.push(relay);
    relay.start();
    await until(() => checkpoints.saved.get('relay') === '1:25');
    expect(js.stored.map((m) => m.msgID)).toEqual(events.map((e) => e.id));
    expect(js.stored[0]!.subject).toBe(subjects.event('host-h1', 'HostOnline'));
    expect(JSON.parse(js.stored[0]!.payload)).toEqual(toEnvelope(events[0]!));
    expect(JSON.parse(js.stored[0]!.payload)).not.toHaveProperty('checkpoint');
    // one save per batch: 7 + 7 + 7 + 4
    expect(checkpoints.saves).toEqual(['1:7', '1:14', '1:21', '1:25']);
    expect(relay.status()).toMatchObject({ leader: true, checkpoint: '1:25', published: 25, lastError: undefined });
  });

  it('does not move the checkpoint past a batch with a failed publish, and retries it', async () => {
    const { store, checkpoints, js, relay } = setup({ batchSize: 5 });
    const events = store.add(10);
    let failures = 0;
    js.failWhen = (id) => id === events[7]!.id && failures++ < 3;
    running.push(relay);
    relay.start();
    await until(() => checkpoints.saved.get('relay') === '1:10');
    // the batch holding event 8 was never saved before all its acks came
    expect(checkpoints.saves).toEqual(['1:5', '1:10']);
    expect(new Set(js.stored.map((m) => m.msgID))).toEqual(new Set(events.map((e) => e.id)));
    expect(js.stored).toHaveLength(10);
    expect(relay.metrics().publishFailures).toBe(3);
    expect(relay.metrics().duplicates).toBeGreaterThan(0);
    expect(relay.status().consecutiveFailures).toBe(0);
  });

  it('stands by without the lock and starts publishing once it gets it', async () => {
    const { store, checkpoints, lock, js, relay } = setup();
    lock.available = false;
    store.add(3);
    running.push(relay);
    relay.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(js.calls).toBe(0);
    expect(relay.status().leader).toBe(false);
    // another leader got as far as event 2
    checkpoints.saved.set('relay', '1:2');
    lock.available = true;
    await until(() => checkpoints.saved.get('relay') === '1:3');
    expect(js.stored.map((m) => m.msgID)).toEqual([store.events[2]!.id]);
  });

  it('stops publishing and never saves the checkpoint after losing the lock', async () => {
    const { store, checkpoints, lock, js, relay } = setup({ batchSize: 5 });
    store.add(5);
    running.push(relay);
    relay.start();
    await until(() => checkpoints.saved.get('relay') === '1:5');
    // lose the lock while the next batch is being published
    js.onPublish = () => {
      if (lock.held) lock.lose();
    };
    store.add(5);
    await until(() => js.calls >= 10);
    await new Promise((r) => setTimeout(r, 50));
    const calls = js.calls;
    expect(checkpoints.saved.get('relay')).toBe('1:5');
    expect(relay.status().leader).toBe(false);
    store.add(5);
    await new Promise((r) => setTimeout(r, 50));
    expect(js.calls).toBe(calls);
    expect(relay.metrics().leaderLost).toBe(1);
  });

  it('wakes on the store append hook instead of waiting for the poll interval', async () => {
    const { store, checkpoints, relay } = setup({ idleIntervalMs: 60_000 });
    running.push(relay);
    relay.start();
    await until(() => relay.status().leader);
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    store.add(1);
    await until(() => checkpoints.saved.get('relay') === '1:1', 1_000);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('rejects unsafe settings', () => {
    const base = setup();
    const mk = (o: Record<string, unknown>) =>
      new OutboxRelay({
        store: base.store,
        checkpoints: base.checkpoints,
        lock: base.lock,
        js: base.js as unknown as JetStreamClient,
        subjects,
        streamName: 'S',
        logger,
        ...o,
      });
    expect(() => mk({ batchSize: 0 })).toThrow(/batchSize/);
    expect(() => mk({ batchSize: 100_000 })).toThrow(/batchSize/);
    expect(() => mk({ standbyRetryMs: 5_000 })).toThrow(/standbyRetryMs/);
  });
});

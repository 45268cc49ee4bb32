// CommandBus request-reply against the shared NATS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Type } from '@sinclair/typebox';
import { connect, type NatsConnection } from 'nats';
import { createSubjects, defineCommand } from '@fleetvisor/contracts';
import { sharedNatsUrl, testBusNames, testTrust } from '@fleetvisor/testing';
import { COMMAND_AUTH_HEADER } from '@fleetvisor/contracts';
import { headers as natsHeaders } from 'nats';
import { encodeCommandAuth, signCommand } from '@fleetvisor/trust';
import { CommandBus, CommandFailure } from './command-bus';

const logger = pino({ level: 'silent' });
const subjects = createSubjects(testBusNames().subjectRoot);

const Pause = defineCommand({
  service: 'worker-registry',
  verb: 'pause',
  description: 'Pause a thread of a worker',
  request: Type.Object({ worker: Type.String({ minLength: 1 }), index: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
  result: Type.Object({ paused: Type.Boolean() }),
});

let serverNc: NatsConnection;
let clientNc: NatsConnection;
let server: CommandBus;
let client: CommandBus;

beforeAll(async () => {
  serverNc = await connect({ servers: sharedNatsUrl() });
  clientNc = await connect({ servers: sharedNatsUrl() });
  server = new CommandBus({ nc: serverNc, subjects, logger });
  client = new CommandBus({ nc: clientNc, subjects, logger });
});

afterAll(async () => {
  await server?.close();
  await serverNc?.close();
  await clientNc?.close();
});

describe('CommandBus (shared NATS)', () => {
  it('serves a typed command and returns its result', async () => {
    const seen: unknown[] = [];
    const s = server.serve(Pause, async (req) => {
      seen.push(req);
      return { paused: req.index === 2 };
    });
    await s.ready;
    expect(s.subject).toBe(subjects.command('worker-registry', 'pause'));
    const reply = await client.request(Pause, { worker: 'w-01', index: 2 }, { timeoutMs: 2_000 });
    expect(reply).toEqual({ ok: true, result: { paused: true } });
    expect(seen).toEqual([{ worker: 'w-01', index: 2 }]);
    await s.stop();
  });

  it('routes a request addressed to one instance to that instance only', async () => {
    const a = server.serve(Pause, async () => ({ paused: true }), { instance: 'w-01' });
    const b = server.serve(Pause, async () => ({ paused: false }), { instance: 'w.02' });
    await Promise.all([a.ready, b.ready]);
    expect(a.subject).toBe(subjects.instanceCommand('worker-registry', 'w-01', 'pause'));
    expect(await client.request(Pause, { worker: 'x', index: 0 }, { instance: 'w-01', timeoutMs: 2_000 })).toEqual({ ok: true, result: { paused: true } });
    expect(await client.request(Pause, { worker: 'x', index: 0 }, { instance: 'w.02', timeoutMs: 2_000 })).toEqual({ ok: true, result: { paused: false } });
    const none = await client.request(Pause, { worker: 'x', index: 0 }, { instance: 'w-03', timeoutMs: 2_000 });
    expect(none).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringContaining('worker-registry w-03 is not reachable') } });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('serves a scoped command: one queue group for every scope, the scope decoded from the subject', async () => {
    const scopes: (string | undefined)[] = [];
    const s = server.serve(
      Pause,
      async (req, ctx) => {
        scopes.push(ctx.scope);
        return { paused: ctx.scope === req.worker };
      },
      { scoped: true },
    );
    await s.ready;
    expect(s.subject).toBe(subjects.scopedCommandWildcard('worker-registry', 'pause'));
    expect(await client.request(Pause, { worker: 'w.01', index: 0 }, { scope: 'w.01', timeoutMs: 2_000 })).toEqual({ ok: true, result: { paused: true } });
    expect(await client.request(Pause, { worker: 'w.01', index: 0 }, { scope: 'w-02', timeoutMs: 2_000 })).toEqual({ ok: true, result: { paused: false } });
    expect(scopes).toEqual(['w.01', 'w-02']);
    // the unscoped subject is not served by a scoped server
    const unscoped = await client.request(Pause, { worker: 'w.01', index: 0 }, { timeoutMs: 2_000 });
    expect(unscoped).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    await s.stop();
  });

  describe('signed commands (a definition with a role)', () => {
    const Remove = defineCommand({
      service: 'worker-registry',
      verb: 'remove',
      role: 'admin',
      description: 'Forget a worker',
      request: Type.Object({ worker: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
      result: Type.Object({ by: Type.String() }),
    });
    const trust = testTrust();
    const refusals: string[] = [];
    let secured: CommandBus;
    const as = (role: 'read' | 'admin' | 'operate', name: string) => new CommandBus({ nc: clientNc, subjects, logger, signer: trust.signer(role, name) });

    beforeAll(() => {
      secured = new CommandBus({ nc: serverNc, subjects, logger, auth: { verifier: trust.verifier(), onRefused: (r) => refusals.push(`${r.code}: ${r.reason}`) } });
    });

    it('gives the handler the verified signer; refuses unsigned and too-weak requests before the handler runs', async () => {
      const calls: string[] = [];
      const s = secured.serve(Remove, async (req, ctx) => {
        calls.push(`${req.worker} by ${ctx.identity?.name} (${ctx.commandId})`);
        return { by: ctx.identity!.name };
      });
      await s.ready;
      expect(await as('admin', 'alice').request(Remove, { worker: 'w-1' }, { commandId: '0190b6e0-0000-7000-8000-000000000001', timeoutMs: 2_000 })).toEqual({ ok: true, result: { by: 'alice' } });
      expect(calls).toEqual(['w-1 by alice (0190b6e0-0000-7000-8000-000000000001)']);

      // the unsigned client refuses locally; a raw request without the header is refused by the server
      expect(await client.request(Remove, { worker: 'w-1' }, { timeoutMs: 2_000 })).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('FLEETVISOR_SIGNING_KEY_FILE') } });
      const raw = await clientNc.request(subjects.command('worker-registry', 'remove'), Buffer.from(JSON.stringify({ worker: 'w-1', actor: 'alice@ops-console' })), { timeout: 2_000 });
      expect(JSON.parse(Buffer.from(raw.data).toString())).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('not signed') } });
      expect(await as('read', 'bob').request(Remove, { worker: 'w-1' }, { timeoutMs: 2_000 })).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('bob has role read; this needs admin') } });
      expect(await as('operate', 'carol').request(Remove, { worker: 'w-1' }, { timeoutMs: 2_000 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(calls).toHaveLength(1);
      expect(refusals).toHaveLength(3);
      await s.stop();
    });

    it('refuses a replayed request (same header, same body) and one whose body was changed', async () => {
      let calls = 0;
      const s = secured.serve(Remove, async () => {
        calls++;
        return { by: 'x' };
      });
      await s.ready;
      // capture what a signing client sends, then send it again
      const subject = subjects.command('worker-registry', 'remove');
      const h = natsHeaders();
      h.set(COMMAND_AUTH_HEADER, encodeCommandAuth(signCommand({ subject, body: { worker: 'w-2' }, signer: trust.signer('admin', 'alice') })));
      const send = async (body: unknown, hdrs = h) => JSON.parse(Buffer.from((await clientNc.request(subject, Buffer.from(JSON.stringify(body)), { headers: hdrs, timeout: 2_000 })).data).toString());
      expect(await send({ worker: 'w-2' })).toEqual({ ok: true, result: { by: 'x' } });
      expect(await send({ worker: 'w-2' })).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('replay') } });
      const fresh = natsHeaders();
      fresh.set(COMMAND_AUTH_HEADER, encodeCommandAuth(signCommand({ subject, body: { worker: 'w-2' }, signer: trust.signer('admin', 'alice') })));
      expect(await send({ worker: 'w-3' }, fresh)).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('does not verify') } });
      expect(calls).toBe(1);
      await s.stop();
    });

    it('will not serve a command that needs a signer on a bus without a verifier', () => {
      expect(() => server.serve(Remove, async () => ({ by: 'x' }))).toThrow(/no trust verifier/);
    });
  });

  it('answers invalid_request for a payload that breaks the schema (checked by the server too)', async () => {
    let called = 0;
    const s = server.serve(Pause, async () => {
      called++;
      return { paused: true };
    });
    await s.ready;
    // the client refuses to send it
    const local = await client.request(Pause, { worker: '', index: 1 } as never, { timeoutMs: 2_000 });
    expect(local).toMatchObject({ ok: false, error: { code: 'invalid_request', message: expect.stringMatching(/request at \/worker/) } });
    // a raw request (another language, an old client) is refused by the server
    const raw = await clientNc.request(s.subject, Buffer.from(JSON.stringify({ worker: 'w', index: -1 })), { timeout: 2_000 });
    expect(raw.json()).toMatchObject({ ok: false, error: { code: 'invalid_request', message: expect.stringMatching(/request at \/index/) } });
    const notJson = await clientNc.request(s.subject, Buffer.from('{nope'), { timeout: 2_000 });
    expect(notJson.json()).toMatchObject({ ok: false, error: { code: 'invalid_request', message: expect.stringMatching(/not valid JSON/) } });
    expect(called).toBe(0);
    await s.stop();
  });

  it('maps handler errors: CommandFailure keeps its code, anything else is internal', async () => {
    const s = server.serve(Pause, async (req) => {
      if (req.worker === 'missing') throw new CommandFailure('not_found', 'worker #7 not found');
      throw new Error('database exploded');
    });
    await s.ready;
    expect(await client.request(Pause, { worker: 'missing', index: 7 })).toEqual({
      ok: false,
      error: { code: 'not_found', message: 'worker #7 not found' },
    });
    expect(await client.request(Pause, { worker: 'w', index: 7 })).toEqual({ ok: false, error: { code: 'internal', message: 'database exploded' } });
    await s.stop();
  });

  it('refuses a result that breaks the command contract', async () => {
    const s = server.serve(Pause, async () => ({ paused: 'yes' }) as never);
    await s.ready;
    expect(await client.request(Pause, { worker: 'w', index: 1 })).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringMatching(/invalid result/) } });
    await s.stop();
  });

  it('maps a slow server to timeout and a missing one to unavailable', async () => {
    const slow = server.serve({ service: 'slowpoke', verb: 'nap' }, async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      return 'late';
    });
    await slow.ready;
    const t0 = Date.now();
    expect(await client.request({ service: 'slowpoke', verb: 'nap' }, {}, { timeoutMs: 200 })).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(Date.now() - t0).toBeLessThan(900);
    await slow.stop();
    expect(await client.request({ service: 'nobody', verb: 'home' }, {}, { timeoutMs: 2_000 })).toMatchObject({ ok: false, error: { code: 'unavailable' } });
  });

  it('replicas in the queue group share requests; each request is answered once', async () => {
    const otherNc = await connect({ servers: sharedNatsUrl() });
    const other = new CommandBus({ nc: otherNc, subjects, logger });
    const hits = { a: 0, b: 0 };
    const ref = { service: 'shared', verb: 'work' };
    const sa = server.serve(ref, async () => (hits.a++, 'a'));
    await sa.ready;
    other.serve(ref, async () => (hits.b++, 'b'));
    await Promise.all([serverNc.flush(), otherNc.flush()]);
    const replies = await Promise.all(Array.from({ length: 40 }, () => client.request(ref, {}, { timeoutMs: 2_000 })));
    expect(replies.every((r) => r.ok)).toBe(true);
    expect(hits.a + hits.b).toBe(40);
    expect(hits.a).toBeGreaterThan(0);
    expect(hits.b).toBeGreaterThan(0);
    await sa.stop();
    await other.close();
    await otherNc.close();
  });

  it('stop() waits for requests in progress to be answered', async () => {
    const ref = { service: 'draining', verb: 'slow' };
    const s = server.serve(ref, async () => {
      await new Promise((r) => setTimeout(r, 300));
      return 'done';
    });
    await s.ready;
    await serverNc.flush();
    const pending = client.request(ref, {}, { timeoutMs: 2_000 });
    await new Promise((r) => setTimeout(r, 100));
    await s.stop();
    expect(await pending).toEqual({ ok: true, result: 'done' });
  });
});

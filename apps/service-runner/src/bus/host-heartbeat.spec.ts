import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetEvents, HostOnline, HostHeartbeat, type CommandDefinition } from '@fleetvisor/contracts';
import { EventRecorder } from '../events/event-recorder';
import { EventSpool } from '../events/event-spool';
import { HostHeartbeatSender } from './host-heartbeat';

const silent = pino({ level: 'silent' });
const dir = mkdtempSync(path.join(tmpdir(), 'fv-heartbeat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('host heartbeat', () => {
  it("sends its host's heartbeat on its host's scoped subject, and skips quietly while the bus is down or the registry refuses", async () => {
    const sent: { def: CommandDefinition; body: unknown; opts: unknown }[] = [];
    const link: { bus?: { request: (def: CommandDefinition, body: unknown, opts: unknown) => Promise<unknown> } } = {};
    let answer: unknown = { ok: true, result: { host: 'h1', state: 'online' } };
    const sender = new HostHeartbeatSender({
      host: 'h1',
      intervalMs: 30_000,
      commands: () => link.bus as never,
      services: () => 3,
      logger: silent,
    });
    expect(await sender.beat()).toBe(false); // NATS down: nothing sent, nothing thrown
    link.bus = {
      request: async (def, body, opts) => {
        sent.push({ def, body, opts });
        if (answer instanceof Error) throw answer;
        return answer;
      },
    };
    expect(await sender.beat()).toBe(true);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.def).toBe(HostHeartbeat);
    expect(sent[0]!.body).toMatchObject({ host: 'h1', services: 3, fleetvisorVersion: expect.any(String), sentAt: expect.any(String) });
    expect(sent[0]!.opts).toMatchObject({ scope: 'h1' });
    answer = { ok: false, error: { code: 'unavailable', message: 'no registry' } };
    expect(await sender.beat()).toBe(false);
    answer = new Error('timeout');
    expect(await sender.beat()).toBe(false);
  });

  it('an interval of 0 sends none', () => {
    let asked = 0;
    const sender = new HostHeartbeatSender({ host: 'h1', intervalMs: 0, commands: () => (asked++, undefined), services: () => 0, logger: silent });
    sender.start();
    sender.stop();
    expect(asked).toBe(0);
  });

  it("the recorder writes HostOnline in the host's own stream, valid for the catalog and the intake", () => {
    const recorder = new EventRecorder(new EventSpool(path.join(dir, 'spool')), 'h1');
    const e = recorder.recordIn(HostOnline, 'h1', { host: 'h1', process: 'service-runner', pid: 4242, fleetvisorVersion: '0.2.0' });
    expect(e).toMatchObject({ stream: 'host-h1', type: 'HostOnline', metadata: { host: 'h1', actor: 'service-runner' } });
    expect(fleetEvents.parse(JSON.parse(JSON.stringify(e)))).toMatchObject({ ok: true });
  });
});

import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { ALL_COMMANDS, ServicesList, ServicesStatus, WorkerList, WorkerPause, WorkerResume } from './command-defs';
import { COMMAND_NAME_PATTERN, defineCommand, parseCommandReply, parseCommandRequest } from './commands';
import { subjects } from './subjects';

describe('command definitions', () => {
  it('have unique subjects, names that need no encoding, and descriptions', () => {
    const subs = ALL_COMMANDS.map((c) => subjects.command(c.service, c.verb));
    expect(new Set(subs).size).toBe(subs.length);
    for (const c of ALL_COMMANDS) {
      expect(subjects.command(c.service, c.verb)).toBe(`fleet.cmd.${c.service}.${c.verb}`);
      expect(c.description.length).toBeGreaterThan(10);
    }
    expect(subs).toEqual(
      expect.arrayContaining([
        'fleet.cmd.worker-registry.list',
        'fleet.cmd.worker-registry.pause',
        'fleet.cmd.worker-registry.resume',
        'fleet.cmd.worker-registry.drain',
        'fleet.cmd.service-runner.list',
        'fleet.cmd.service-runner.status',
      ]),
    );
  });

  it('defineCommand refuses names that are not lowercase-dashed', () => {
    const schema = Type.Object({});
    expect(() => defineCommand({ service: 'Worker', verb: 'list', request: schema, result: schema, description: 'x' })).toThrow(COMMAND_NAME_PATTERN);
    expect(() => defineCommand({ service: 'worker', verb: 'a.b', request: schema, result: schema, description: 'x' })).toThrow(/must match/);
  });
});

describe('parseCommandRequest', () => {
  it('accepts valid requests', () => {
    expect(parseCommandRequest(WorkerPause, { worker: 'w-01', index: 3 })).toEqual({ ok: true, value: { worker: 'w-01', index: 3 } });
    expect(parseCommandRequest(WorkerResume, { worker: '10.0.0.5:17890', index: 0, state: 'PC1Done' }).ok).toBe(true);
    expect(parseCommandRequest(WorkerList, {}).ok).toBe(true);
    expect(parseCommandRequest(ServicesList, { chainId: 'lava-testnet-2' }).ok).toBe(true);
  });

  it('refuses invalid ones naming the field', () => {
    expect(parseCommandRequest(WorkerPause, { worker: 'w-01' })).toEqual({ ok: false, reason: 'worker-registry.pause request at /index: Expected required property' });
    expect(parseCommandRequest(WorkerPause, { worker: 'w-01', index: -1 })).toEqual({ ok: false, reason: expect.stringMatching(/^worker-registry\.pause request at \/index:/) });
    expect(parseCommandRequest(WorkerResume, { worker: 'w-01', index: 1, state: 'pc1 done' })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^worker-registry\.resume request at \/state:/),
    });
    expect(parseCommandRequest(WorkerList, { all: true })).toEqual({ ok: false, reason: 'worker-registry.list request at /all: Unexpected property' });
    expect(parseCommandRequest(ServicesStatus, { service: '../../etc' }).ok).toBe(false);
    expect(parseCommandRequest(WorkerList, undefined).ok).toBe(false);
  });
});

describe('parseCommandReply', () => {
  it('accepts ok and error replies of the right shape', () => {
    expect(parseCommandReply(WorkerPause, { ok: true, result: { worker: 'w-01', index: 3, changed: true } }).ok).toBe(true);
    expect(parseCommandReply(WorkerPause, { ok: false, error: { code: 'not_found', message: 'worker #9 not found; indexes 0-15 exist' } }).ok).toBe(true);
  });

  it('refuses a result of the wrong shape or an error with a bad code', () => {
    expect(parseCommandReply(WorkerPause, { ok: true, result: { worker: 'w-01' } }).ok).toBe(false);
    expect(parseCommandReply(WorkerPause, { ok: false, error: { code: 'Not Found', message: 'x' } }).ok).toBe(false);
    expect(parseCommandReply(WorkerPause, { ok: true }).ok).toBe(false);
  });
});

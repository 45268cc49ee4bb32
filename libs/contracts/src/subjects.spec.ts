import { describe, expect, it } from 'vitest';
import { createSubjects, decodeSubjectToken, encodeSubjectToken, parseStreamName, streamName, subjects } from './subjects';

describe('encodeSubjectToken', () => {
  it.each([
    ['lava.testnet', 'lava%2Etestnet'],
    ['a*b', 'a%2Ab'],
    ['a>b', 'a%3Eb'],
    ['a b', 'a%20b'],
    ['tab\there', 'tab%09here'],
    ['line\nbreak', 'line%0Abreak'],
    ['50%', '50%25'],
    ['%2E', '%252E'],
    ['no\u00a0break', 'no%C2%A0break'],
    ['ideographic\u3000space', 'ideographic%E3%80%80space'],
  ])('escapes %j as %s', (value, token) => {
    expect(encodeSubjectToken(value)).toBe(token);
    expect(token).not.toMatch(/[.*>\s]/u);
  });

  it('keeps every other character', () => {
    for (const v of ['lava-testnet-2', 'host-01/consumer-ETH1', '10:17890', 'w@x_y', 'Ünïcödé']) expect(encodeSubjectToken(v)).toBe(v);
  });

  it('refuses an empty token', () => {
    expect(() => encodeSubjectToken('')).toThrow('subject token must not be empty');
  });

  it('round-trips through decodeSubjectToken', () => {
    const values = ['a.b.c', '*', '>', ' ', '%', '%%', '%41', '%2e', 'a % b . c', 'x\u2028y', 'emoji 🚀.', '\t\r\n', 'host-01.example.com/consumer-ETH1'];
    for (const v of values) expect(decodeSubjectToken(encodeSubjectToken(v))).toBe(v);
  });
});

describe('parseStreamName / streamName', () => {
  it('splits area and id at the first dash', () => {
    expect(parseStreamName('chain-lava-testnet-2')).toEqual({ area: 'chain', id: 'lava-testnet-2' });
    expect(parseStreamName('service-host-01/consumer-ETH1')).toEqual({ area: 'service', id: 'host-01/consumer-ETH1' });
    expect(streamName('worker', 'w-01')).toBe('worker-w-01');
  });

  it.each(['chain', 'chain-', '-lava', 'nowhere-x', '', 'Chain-x'])('refuses %j', (s) => {
    expect(() => parseStreamName(s)).toThrow(`invalid stream name "${s}": expected <area>-<id> with area one of chain, service, worker, host, stats, system`);
  });
});

describe('createSubjects', () => {
  it('uses fleet by default and accepts lowercase roots', () => {
    expect(subjects.root).toBe('fleet');
    expect(createSubjects('t_run42').allEvents()).toBe('t_run42.evt.>');
  });

  it.each(['Fleet', '1fleet', 'a.b', 'a-b', 'a b', '', 'a'.repeat(33), 'fleet>'])('refuses the root %j', (root) => {
    expect(() => createSubjects(root)).toThrow(`invalid subject root "${root}"`);
  });

  it('builds event subjects from stream and type, encoding the stream id', () => {
    expect(subjects.event('chain-lava-testnet-2', 'VersionChanged')).toBe('fleet.evt.chain.lava-testnet-2.VersionChanged');
    expect(subjects.event('worker-w-01', 'ThreadPaused')).toBe('fleet.evt.worker.w-01.ThreadPaused');
    expect(subjects.event('service-host-01.example.com/consumer-ETH1', 'ServiceStarted')).toBe(
      'fleet.evt.service.host-01%2Eexample%2Ecom/consumer-ETH1.ServiceStarted',
    );
    expect(subjects.event('worker-10.0.0.5:17890', 'WorkerRegistered')).toBe('fleet.evt.worker.10%2E0%2E0%2E5:17890.WorkerRegistered');
    expect(() => subjects.event('nope', 'X')).toThrow(/invalid stream name/);
  });

  it('builds event filters', () => {
    expect(subjects.allEvents()).toBe('fleet.evt.>');
    expect(subjects.eventFilter({})).toBe('fleet.evt.*.*.*');
    expect(subjects.eventFilter({ area: 'worker' })).toBe('fleet.evt.worker.*.*');
    expect(subjects.eventFilter({ type: 'VersionChanged' })).toBe('fleet.evt.*.*.VersionChanged');
    expect(subjects.eventFilter({ area: 'chain', streamId: 'lava.x', type: 'ChainAnomaly' })).toBe('fleet.evt.chain.lava%2Ex.ChainAnomaly');
  });

  it('builds command and dead-letter subjects', () => {
    expect(subjects.command('worker-registry', 'pause')).toBe('fleet.cmd.worker-registry.pause');
    expect(subjects.command('service-runner', 'list')).toBe('fleet.cmd.service-runner.list');
    expect(subjects.command('a.b', 'c d')).toBe('fleet.cmd.a%2Eb.c%20d');
    expect(subjects.allCommands('worker-registry')).toBe('fleet.cmd.worker-registry.*');
    expect(subjects.deadLetter('relay')).toBe('fleet.dlq.relay');
    expect(subjects.deadLetter('worker.projection')).toBe('fleet.dlq.worker%2Eprojection');
    expect(subjects.allDeadLetters()).toBe('fleet.dlq.>');
    expect(createSubjects('t_x').command('worker-registry', 'drain')).toBe('t_x.cmd.worker-registry.drain');
  });

  it('builds scoped command subjects with the identity as the last token', () => {
    expect(subjects.scopedCommand('worker-registry', 'report', 'w-01')).toBe('fleet.cmd.worker-registry.report.w-01');
    expect(subjects.scopedCommand('event-intake', 'append', 'host.example.com')).toBe('fleet.cmd.event-intake.append.host%2Eexample%2Ecom');
    expect(subjects.scopedCommandWildcard('worker-registry', 'report')).toBe('fleet.cmd.worker-registry.report.*');
  });
});

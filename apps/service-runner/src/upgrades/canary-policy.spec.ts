import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ProtocolVersion, QuarantineStage } from '@fleetvisor/contracts';
import { consumerConfigYaml, providerConfigYaml } from '@fleetvisor/devnet';
import { parseHomeConfig, serializeHomeConfig, HomeError } from '../home/runner-home';
import { canaryArgs, canaryCandidates, canaryConfig, canaryTarget, nextCheckAt } from './canary-policy';
import type { ServiceQuarantine } from './quarantine';

const pv = (provider: string, consumer = provider): ProtocolVersion => ({ providerTarget: provider, providerMin: '0.1.0', consumerTarget: consumer, consumerMin: '0.1.0' });
const q = (version: string, at = '2026-12-07T10:00:00.000Z', stage: QuarantineStage = 'start'): ServiceQuarantine => ({ [version]: { stage, reason: 'exited with code 1', at } });
const MIN = 60_000;

describe('canary retry policy: when and what', () => {
  it('the first canary comes one interval after the quarantine, each next one an interval after the last check', () => {
    const at = '2026-12-07T10:00:00.000Z';
    expect(nextCheckAt({ at }, undefined, 10 * MIN)).toBe(Date.parse('2026-12-07T10:10:00.000Z'));
    expect(nextCheckAt({ at }, { at: '2026-12-07T10:10:03.000Z' }, 10 * MIN)).toBe(Date.parse('2026-12-07T10:20:03.000Z'));
    // Quarantined again after a check (a healthy canary, then a failed upgrade): the new quarantine counts.
    expect(nextCheckAt({ at: '2026-12-07T11:00:00.000Z' }, { at: '2026-12-07T10:10:00.000Z' }, 10 * MIN)).toBe(Date.parse('2026-12-07T11:10:00.000Z'));
  });

  it('proves only the quarantined target of the role, never a version an operator rolled back from, never during an upgrade', () => {
    const base = { role: 'provider' as const, protocol: pv('0.3.0'), linked: '0.2.0', upgrading: false };
    expect(canaryTarget({ ...base, quarantined: q('0.3.0') })).toBe('0.3.0');
    // Not the target (the chain moved on to 0.4.0): nothing would upgrade to it, nothing to prove.
    expect(canaryTarget({ ...base, protocol: pv('0.4.0'), quarantined: q('0.3.0') })).toBeUndefined();
    expect(canaryTarget({ ...base, quarantined: q('0.3.0', undefined, 'operator_rollback') })).toBeUndefined();
    expect(canaryTarget({ ...base, quarantined: q('0.3.0'), upgrading: true })).toBeUndefined();
    expect(canaryTarget({ ...base, quarantined: {} })).toBeUndefined();
    expect(canaryTarget({ ...base, protocol: undefined, quarantined: q('0.3.0') })).toBeUndefined();
    // At the target already (e.g. an operator's rollback back to it): no upgrade, no canary.
    expect(canaryTarget({ ...base, linked: '0.3.0', quarantined: q('0.3.0') })).toBeUndefined();
    // Roles follow their own target.
    expect(canaryTarget({ ...base, role: 'consumer', protocol: pv('0.3.0', '0.2.0'), quarantined: q('0.3.0') })).toBeUndefined();
    expect(canaryTarget({ ...base, role: 'wrapped', quarantined: q('0.3.0') })).toBeUndefined();
  });

  it('lists the due canaries of every service, soonest first, each with its own last check', () => {
    const got = canaryCandidates(
      [
        { name: 'p1', role: 'provider', linked: '0.2.0', upgrading: false },
        { name: 'p2', role: 'provider', linked: '0.2.0', upgrading: false },
        { name: 'c1', role: 'consumer', linked: '0.3.0', upgrading: false },
      ],
      {
        protocol: pv('0.3.0'),
        quarantine: { p1: q('0.3.0', '2026-12-07T10:00:00.000Z'), p2: q('0.3.0', '2026-12-07T09:00:00.000Z') },
        checks: { p2: { '0.3.0': { at: '2026-12-07T10:30:00.000Z', outcome: 'unhealthy', reason: 'x' } } },
        everyMs: 10 * MIN,
      },
    );
    expect(got).toEqual([
      { service: 'p1', version: '0.3.0', dueAt: Date.parse('2026-12-07T10:10:00.000Z') },
      { service: 'p2', version: '0.3.0', dueAt: Date.parse('2026-12-07T10:40:00.000Z') },
    ]);
  });
});

describe('canary config and args: beside the live service, never on its ports', () => {
  const ports = (): (() => number) => {
    let p = 41000;
    return () => ++p;
  };

  it('moves every endpoint of a provider config to a spare loopback port and keeps the rest', () => {
    const text = providerConfigYaml('LAV1', '0.0.0.0:2221', 'http://node:26657') + '  - api-interface: rest\n    chain-id: LAV1\n    network-address:\n      address: 10.0.0.5:2222\n    node-urls:\n      - url: http://node:1317\n';
    const c = canaryConfig(text, ports());
    const doc = parse(c.text) as { endpoints: { 'network-address': { address: string; 'disable-tls': boolean }; 'node-urls': { url: string }[] }[] };
    expect(doc.endpoints.map((e) => e['network-address'].address)).toEqual(['127.0.0.1:41001', '10.0.0.5:41002']);
    expect(doc.endpoints[0]!['network-address']['disable-tls']).toBe(true);
    expect(doc.endpoints[0]!['node-urls'].map((u) => u.url)).toEqual(['ws://node:26657/websocket', 'http://node:26657']);
    expect(c.networkAddress).toBe('127.0.0.1:41001');
  });

  it('moves a consumer endpoint and its metrics listener', () => {
    const c = canaryConfig(consumerConfigYaml('ETH1', '127.0.0.1:3333', ':7779'), ports());
    const doc = parse(c.text) as { endpoints: { 'network-address': string }[]; 'metrics-listen-address': string };
    expect(doc.endpoints[0]!['network-address']).toBe('127.0.0.1:41001');
    expect(doc['metrics-listen-address']).toBe('127.0.0.1:41002');
    expect(c.networkAddress).toBe('127.0.0.1:41001');
  });

  it('runs the service\'s own arguments on the copy, listener flags moved too', () => {
    const args = ['rpcprovider', '/h/services/configs/p1.yml', '--from', 'p1', '--keyring-backend', 'file', '--metrics-listen-address', '0.0.0.0:9000', '--pprof-address=127.0.0.1:6060', '--chain-id', 'lava'];
    expect(canaryArgs(args, '/h/services/configs/p1.yml', '/h/tmp/canary-p1-x/p1.yml', ports())).toEqual([
      'rpcprovider',
      '/h/tmp/canary-p1-x/p1.yml',
      '--from',
      'p1',
      '--keyring-backend',
      'file',
      '--metrics-listen-address',
      '127.0.0.1:41001',
      '--pprof-address=127.0.0.1:41002',
      '--chain-id',
      'lava',
    ]);
  });
});

describe('upgrade.retry in config.yml', () => {
  const base = 'chain-id: lava-1\nservices: []\n';
  it('reads { policy: canary, every } and writes it back', () => {
    const c = parseHomeConfig(base + 'upgrade:\n  retry:\n    policy: canary\n    every: 10m\n');
    expect(c.upgrade.retry).toEqual({ policy: 'canary', everyMs: 10 * MIN });
    expect(parseHomeConfig(serializeHomeConfig(c)).upgrade.retry).toEqual({ policy: 'canary', everyMs: 10 * MIN });
    expect(parseHomeConfig(base).upgrade.retry).toBeUndefined();
  });

  it('refuses another policy, a missing or too short interval and unknown keys, naming the field', () => {
    const bad = (retry: string): string => {
      try {
        parseHomeConfig(base + `upgrade:\n  retry: ${retry}\n`);
      } catch (e) {
        expect(e).toBeInstanceOf(HomeError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('{ policy: timer, every: 10m }')).toMatch(/upgrade\.retry\.policy must be canary/);
    expect(bad('{ policy: canary }')).toMatch(/upgrade\.retry\.every must be a duration/);
    expect(bad('{ policy: canary, every: soon }')).toMatch(/upgrade\.retry\.every must be a duration/);
    expect(bad('{ policy: canary, every: 10ms }')).toMatch(/at least 1s/);
    expect(bad('{ policy: canary, every: 10m, port: 1 }')).toMatch(/unknown key port/);
  });
});

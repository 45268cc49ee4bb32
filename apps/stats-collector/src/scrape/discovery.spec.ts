import { describe, expect, it } from 'vitest';
import { createLogger } from '@fleetvisor/platform';
import type { ScrapeTarget } from '../config';
import { discoveredTargets, metricsUrl, ScrapeDiscovery, type AskRunners } from './discovery';

const log = createLogger({ name: 'discovery-spec', level: 'silent', format: 'json' });
const svc = (service: string, metricsAddress?: string) => ({ service, role: 'consumer' as const, binary: 'lavap', state: 'running' as const, restarts: 0, ...(metricsAddress ? { metricsAddress } : {}) });

describe('metricsUrl', () => {
  it('keeps a named host, and reaches a missing or wildcard host at the runner', () => {
    expect(metricsUrl('127.0.0.1:7779', 'h1')).toBe('http://127.0.0.1:7779/metrics');
    expect(metricsUrl(':7779', 'h1.example')).toBe('http://h1.example:7779/metrics');
    expect(metricsUrl('0.0.0.0:7779', 'h1')).toBe('http://h1:7779/metrics');
    expect(metricsUrl('[::]:7779', 'h1')).toBe('http://h1:7779/metrics');
    expect(metricsUrl('[::1]:7779', 'h1')).toBe('http://[::1]:7779/metrics');
    expect(metricsUrl('h:99999', 'h1')).toBeUndefined();
  });
});

describe('discoveredTargets', () => {
  it('one target per service with a metrics address, named <host>.<service>, counted for the service', () => {
    const targets = discoveredTargets([
      { host: 'h1', services: [svc('lav1-consumer', '127.0.0.1:7779'), svc('lav1-provider')] },
      { host: 'h2', services: [svc('lav1-consumer', ':7779')] },
    ]);
    expect(targets).toEqual([
      { name: 'h1.lav1-consumer', url: 'http://127.0.0.1:7779/metrics', service: 'lav1-consumer', origin: 'discovered' },
      { name: 'h2.lav1-consumer', url: 'http://h2:7779/metrics', service: 'lav1-consumer', origin: 'discovered' },
    ]);
  });
});

describe('ScrapeDiscovery', () => {
  it('merges with the static targets, keeps a target one missed round and drops it after two', async () => {
    let answers: Awaited<ReturnType<AskRunners>> = [{ host: 'h1', services: [svc('a', ':1001'), svc('b', ':1002')] }];
    const set: ScrapeTarget[][] = [];
    const statics: ScrapeTarget[] = [{ name: 'node-1', url: 'http://10.0.0.9:9100/metrics', origin: 'static' }];
    const d = new ScrapeDiscovery(statics, async () => answers, { setTargets: (t) => set.push([...t]) }, log, { intervalMs: 60_000, waitMs: 10 });
    const names = () => set.at(-1)!.map((t) => t.name);
    await d.round();
    expect(names()).toEqual(['node-1', 'h1.a', 'h1.b']);
    answers = [{ host: 'h1', services: [svc('a', ':1001')] }];
    await d.round();
    expect(names()).toEqual(['node-1', 'h1.a', 'h1.b']);
    await d.round();
    expect(names()).toEqual(['node-1', 'h1.a']);
    // A silent fleet: the targets go after two rounds, the static one stays.
    answers = [];
    await d.round();
    await d.round();
    expect(names()).toEqual(['node-1']);
  });

  it('keeps what it had when asking fails', async () => {
    let fail = false;
    const set: ScrapeTarget[][] = [];
    const d = new ScrapeDiscovery([], async () => {
      if (fail) throw new Error('NATS down');
      return [{ host: 'h1', services: [svc('a', ':1001')] }];
    }, { setTargets: (t) => set.push([...t]) }, log, { intervalMs: 60_000, waitMs: 10 });
    await d.round();
    fail = true;
    await d.round();
    await d.round();
    expect(set).toHaveLength(1);
    expect(d.failures).toBe(2);
    expect(d.discovered.map((t) => t.name)).toEqual(['h1.a']);
  });
});

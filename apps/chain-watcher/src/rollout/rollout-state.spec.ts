import { describe, expect, it } from 'vitest';
import type { ProtocolVersion, RolloutPolicy } from '@fleetvisor/contracts';
import { decideRollout, emptyRollout, evolveRollout, foldRollout, rolloutView, type LatestVersion, type RolloutFact, type RolloutInput, type RolloutState } from './rollout-state';
import { DEFAULT_ROLLOUT_POLICY, parseRolloutPolicies } from './rollout-policy';

const V: ProtocolVersion = { providerTarget: '1.1.0', providerMin: '1.0.0', consumerTarget: '1.1.0', consumerMin: '1.0.0' };
const latest: LatestVersion = { id: '01946a2b-3c00-7000-8000-0000000000aa', height: 100, version: V };
const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (s: number): Date => new Date(t0 + s * 1000);
const policy = (p: Partial<RolloutPolicy>): RolloutPolicy => ({ ...DEFAULT_ROLLOUT_POLICY, canaryHosts: [], ...p });
const services = [{ service: 'consumer-1', toVersion: '1.1.0' }];

/** Applies inputs one after another, as the coordinator does, keeping the log of recorded facts. */
class Harness {
  state: RolloutState = emptyRollout('c1');
  log: RolloutFact[] = [];
  constructor(private readonly p: RolloutPolicy) {}
  run(input: RolloutInput, now: Date) {
    const d = decideRollout(this.state, input);
    for (const e of d.events) {
      const f = { type: e.def.type, data: e.data, occurredAt: now.toISOString() };
      this.log.push(f);
      this.state = evolveRollout(this.state, f);
    }
    return d;
  }
  admit(host: string, s: number) {
    return this.run({ kind: 'admit', host, version: V, services, latest, policy: this.p, now: at(s) }, at(s)).reply!;
  }
  healthy(host: string, s: number) {
    return this.run({ kind: 'observe', host, outcome: { kind: 'healthy' }, now: at(s) }, at(s));
  }
  failed(host: string, s: number) {
    return this.run({ kind: 'observe', host, outcome: { kind: 'failed', service: 'consumer-1', reason: 'health: exited with code 1' }, now: at(s) }, at(s));
  }
  tick(s: number) {
    return this.run({ kind: 'tick', now: at(s) }, at(s));
  }
}

describe('rollout waves', () => {
  it('admits one canary first, then one host at a time, each after the previous wave was healthy for min_healthy_time', () => {
    const h = new Harness(policy({ canary: 1, maxParallel: 1, minHealthyMs: 10_000 }));
    expect(h.admit('a', 0)).toMatchObject({ decision: 'admitted', wave: 0 });
    expect(h.log.map((e) => e.type)).toEqual(['RolloutStarted', 'RolloutWaveStarted', 'RolloutHostAdmitted']);
    expect(h.admit('b', 1)).toMatchObject({ decision: 'wait', reason: expect.stringContaining('a not healthy yet') });
    expect(h.admit('c', 1)).toMatchObject({ decision: 'wait' });
    // asking again records nothing new: each waiting host is recorded once
    const before = h.log.length;
    h.admit('b', 2);
    expect(h.log.length).toBe(before);
    h.healthy('a', 5);
    const w = h.admit('b', 10);
    expect(w).toMatchObject({ decision: 'wait', retryAfterMs: 5_000 });
    expect(h.admit('b', 15)).toMatchObject({ decision: 'admitted', wave: 1 });
    expect(h.admit('c', 15)).toMatchObject({ decision: 'wait', reason: expect.stringContaining('wave 1: b not healthy yet') });
    h.healthy('b', 20);
    expect(h.admit('c', 29)).toMatchObject({ decision: 'wait' });
    expect(h.admit('c', 30)).toMatchObject({ decision: 'admitted', wave: 2 });
    expect(h.tick(31).events).toEqual([]);
    h.healthy('c', 32);
    expect(h.tick(41).events).toEqual([]);
    expect(h.tick(42).events.map((e) => e.def.type)).toEqual(['RolloutCompleted']);
    expect(h.state.status).toBe('completed');
    // a late host goes at once after completion
    expect(h.admit('d', 50)).toMatchObject({ decision: 'admitted' });
  });

  it('fills a wave with at most max_parallel hosts, and waits while the canary is not healthy', () => {
    const h = new Harness(policy({ canary: 1, maxParallel: 2, minHealthyMs: 0 }));
    h.admit('a', 0);
    h.healthy('a', 1);
    expect(h.admit('b', 2)).toMatchObject({ decision: 'admitted', wave: 1 });
    expect(h.admit('c', 2)).toMatchObject({ decision: 'admitted', wave: 1 });
    expect(h.admit('d', 2)).toMatchObject({ decision: 'wait' });
    expect(h.state.waves.map((w) => w.hosts)).toEqual([['a'], ['b', 'c']]);
  });

  it('admits everyone at once under the default policy (today\'s behaviour)', () => {
    const h = new Harness(parseRolloutPolicies(undefined).of('c1'));
    for (const host of ['a', 'b', 'c']) expect(h.admit(host, 0)).toMatchObject({ decision: 'admitted', wave: 1 });
  });

  it('admits only the named canaries first', () => {
    const h = new Harness(policy({ canary: 1, canaryHosts: ['c'], maxParallel: 1 }));
    expect(h.admit('a', 0)).toMatchObject({ decision: 'wait', reason: expect.stringContaining('canary hosts c') });
    expect(h.admit('c', 1)).toMatchObject({ decision: 'admitted', wave: 0 });
    h.healthy('c', 2);
    expect(h.admit('a', 3)).toMatchObject({ decision: 'admitted', wave: 1 });
  });

  it('halts fleet-wide on a failure; resume lets the next wave start past the failed host; abort refuses the hosts not admitted', () => {
    const h = new Harness(policy({ canary: 1, maxParallel: 1 }));
    h.admit('a', 0);
    h.admit('b', 1);
    h.admit('c', 1);
    h.failed('a', 3);
    expect(h.state.status).toBe('halted');
    expect(h.admit('b', 4)).toMatchObject({ decision: 'wait', reason: expect.stringContaining('rollout halted: a/consumer-1: health: exited with code 1') });
    expect(h.admit('a', 4)).toMatchObject({ decision: 'refused' });
    expect(rolloutView(h.state, at(4))).toMatchObject({ state: 'halted', haltReason: expect.stringContaining('a/consumer-1'), hosts: [{ host: 'a', state: 'failed' }, { host: 'b', state: 'waiting' }, { host: 'c', state: 'waiting' }] });
    expect(decideRollout(h.state, { kind: 'abort', actor: 'x', reason: 'r' }).refusal).toBeUndefined();
    const resumed = h.run({ kind: 'resume', actor: 'alice' }, at(5));
    expect(resumed.events.map((e) => e.def.type)).toEqual(['RolloutResumed']);
    // the resume is the operator's decision to go on past the failed canary
    expect(h.admit('b', 6)).toMatchObject({ decision: 'admitted', wave: 1 });
    const aborted = h.run({ kind: 'abort', actor: 'alice', reason: 'bad release' }, at(7));
    expect(aborted.events.map((e) => e.def.type)).toEqual(['RolloutAborted']);
    expect(h.admit('c', 8)).toMatchObject({ decision: 'refused', reason: expect.stringContaining('bad release (by alice)') });
    expect(decideRollout(h.state, { kind: 'resume', actor: 'alice' }).refusal).toMatch(/aborted, not halted/);
  });

  it('resume after a failed host in a later wave moves on to the next wave', () => {
    const h = new Harness(policy({ canary: 1, maxParallel: 1 }));
    h.admit('a', 0);
    h.healthy('a', 1);
    h.admit('b', 2);
    h.admit('c', 2);
    h.failed('b', 3);
    h.run({ kind: 'resume', actor: 'alice' }, at(4));
    expect(h.admit('c', 5)).toMatchObject({ decision: 'admitted', wave: 2 });
  });

  it('halts when an admitted host misses its healthy_deadline', () => {
    const h = new Harness(policy({ canary: 1, maxParallel: 1, healthyDeadlineMs: 60_000 }));
    h.admit('a', 0);
    expect(h.tick(60).events).toEqual([]);
    expect(h.tick(61).events.map((e) => e.def.type)).toEqual(['RolloutHalted']);
    expect(h.state.haltReason).toMatch(/not healthy within healthy_deadline 60s/);
  });

  it('waits while the asked version is not the chain\'s newest, and supersedes an older rollout', () => {
    const h = new Harness(policy({ canary: 1, maxParallel: 1 }));
    const other = { ...V, consumerTarget: '1.2.0' };
    expect(decideRollout(h.state, { kind: 'admit', host: 'a', version: other, services, latest, policy: policy({}), now: at(0) })).toMatchObject({ events: [], reply: { decision: 'wait' } });
    h.admit('a', 0);
    const newer: LatestVersion = { id: '01946a2b-3c00-7000-8000-0000000000bb', height: 200, version: other };
    const d = h.run({ kind: 'admit', host: 'b', version: other, services, latest: newer, policy: policy({ canary: 1 }), now: at(1) }, at(1));
    expect(d.events.map((e) => e.def.type)).toEqual(['RolloutAborted', 'RolloutStarted', 'RolloutWaveStarted', 'RolloutHostAdmitted']);
    expect(h.state.rolloutId).toBe(newer.id);
  });

  it('rebuilds the same state from the recorded events (a restarted coordinator decides the same)', () => {
    const h = new Harness(policy({ canary: 1, maxParallel: 1, minHealthyMs: 10_000 }));
    h.admit('a', 0);
    h.admit('b', 1);
    h.healthy('a', 2);
    const rebuilt = foldRollout('c1', h.log);
    expect(rolloutView(rebuilt, at(3))).toEqual(rolloutView(h.state, at(3)));
    expect(decideRollout(rebuilt, { kind: 'admit', host: 'b', version: V, services, latest, policy: policy({}), now: at(12) }).reply).toMatchObject({ decision: 'admitted', wave: 1 });
  });
});

describe('rollout policies (FLEETVISOR_ROLLOUT)', () => {
  it('reads per-chain policies with a * default', () => {
    const p = parseRolloutPolicies('c1:canary=2,max_parallel=3,min_healthy_time=30s,healthy_deadline=5m,auto_revert=true; *:max_parallel=all,canary=h1+h2');
    expect(p.of('c1')).toEqual({ canary: 2, canaryHosts: [], maxParallel: 3, minHealthyMs: 30_000, healthyDeadlineMs: 300_000, autoRevert: true });
    expect(p.of('other')).toMatchObject({ canary: 2, canaryHosts: ['h1', 'h2'], maxParallel: 0 });
    expect(parseRolloutPolicies('').of('x')).toEqual({ ...DEFAULT_ROLLOUT_POLICY, canaryHosts: [] });
  });

  it('names the variable and the faulty part', () => {
    expect(() => parseRolloutPolicies('c1:max_parallel=0')).toThrow(/FLEETVISOR_ROLLOUT.*max_parallel must be at least 1/);
    expect(() => parseRolloutPolicies('c1:speed=3')).toThrow(/unknown key "speed"/);
    expect(() => parseRolloutPolicies('c1 canary=1')).toThrow(/must be <chain-id/);
    expect(() => parseRolloutPolicies('c1:canary=../x')).toThrow(/neither a count nor a host name/);
  });
});

import { describe, expect, it } from 'vitest';
import { restartDelay, withoutVariables } from './stack';

describe('restartDelay', () => {
  it('doubles from the base per restart and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => restartDelay(n, 500, 15_000))).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
    expect(restartDelay(1_000, 500, 15_000)).toBe(15_000);
  });
});

describe('withoutVariables', () => {
  it("leaves out what a component must not get (the demo host's database settings), keeps the rest", () => {
    const env = { PATH: '/bin', FLEETVISOR_DATABASE_URL: 'postgres://x', FLEETVISOR_DATABASE_PASSWORD: 'pw', FLEETVISOR_NATS_URL: 'nats://n' };
    expect(withoutVariables(env, /^FLEETVISOR_DATABASE_/)).toEqual({ PATH: '/bin', FLEETVISOR_NATS_URL: 'nats://n' });
    expect(withoutVariables(env, undefined)).toBe(env);
  });
});

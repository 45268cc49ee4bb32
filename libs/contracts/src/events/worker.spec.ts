import { describe, expect, it } from 'vitest';
import { fleetEvents } from './index';
import { exampleEnvelope } from './examples';
import {
  isValidStateForPlan,
  PLAN_STATES,
  stateFitsPlan,
  REBUILD_STATES,
  SEALER_STATES,
  SEALING_PLANS,
  SNAPUP_STATES,
  UNSEAL_STATES,
  validStatesForPlan,
  WDPOST_STATES,
} from './worker';

describe('sealing plans and states', () => {
  it('sealer follows the damocles flow, Aborted reachable from any state', () => {
    expect(SEALER_STATES.slice(0, 7)).toEqual(['Empty', 'Allocated', 'DealsAcquired', 'PieceAdded', 'TreeDBuilt', 'TicketAssigned', 'PC1Done']);
    expect(SEALER_STATES.slice(-3)).toEqual(['ProofSubmitted', 'Finished', 'Aborted']);
    expect(SEALER_STATES).toContain('SyntheticPoRepNeeded');
  });

  it('has the states of every plan', () => {
    expect(validStatesForPlan('sealer')).toBe(SEALER_STATES);
    expect(validStatesForPlan('snapup')).toEqual(['Empty', 'Allocated', 'PieceAdded', 'TreeDBuilt', 'SnapEncoded', 'SnapProved', 'Persisted', 'Finished', 'Aborted']);
    expect(validStatesForPlan('rebuild')).toBe(REBUILD_STATES);
    expect(validStatesForPlan('unseal')).toEqual(['Empty', 'Allocated', 'Unsealed', 'Finished', 'Aborted']);
    expect(validStatesForPlan('wdpost')).toEqual(['Empty', 'Allocated', 'Generated', 'Finished', 'Aborted']);
    expect(Object.keys(PLAN_STATES)).toEqual([...SEALING_PLANS]);
    for (const states of [SEALER_STATES, SNAPUP_STATES, REBUILD_STATES, UNSEAL_STATES, WDPOST_STATES]) {
      expect(new Set(states).size).toBe(states.length);
      expect(states[0]).toBe('Empty');
      expect(states).toContain('Finished');
    }
  });

  it('refuses an unknown plan, listing the known ones', () => {
    expect(() => validStatesForPlan('supra')).toThrow('unknown sealing plan "supra": expected one of sealer, snapup, rebuild, unseal, wdpost');
  });

  it('checks a state against a plan', () => {
    expect(isValidStateForPlan('sealer', 'PC2Done')).toBe(true);
    expect(isValidStateForPlan('unseal', 'PC2Done')).toBe(false);
    expect(isValidStateForPlan('rebuild', 'SealedChecked')).toBe(true);
    expect(isValidStateForPlan('sealer', 'SealedChecked')).toBe(false);
    expect(isValidStateForPlan('nope', 'Empty')).toBe(false);
    expect(stateFitsPlan('nope', 'Whatever')).toBe(true);
    expect(stateFitsPlan('sealer', 'Whatever')).toBe(false);
    expect(isValidStateForPlan('sealer', 'empty')).toBe(false);
  });

  it('ThreadStateChanged accepts the transitions of each plan and refuses foreign states', () => {
    const base = exampleEnvelope('ThreadStateChanged');
    const withData = (d: object) => ({ ...base, data: { ...(base.data as object), ...d } });
    expect(fleetEvents.parse(withData({ plan: 'snapup', prev: 'TreeDBuilt', next: 'SnapEncoded' })).ok).toBe(true);
    expect(fleetEvents.parse(withData({ plan: 'wdpost', prev: 'Allocated', next: 'Generated', sectorId: undefined })).ok).toBe(true);
    expect(fleetEvents.parse(withData({ plan: 'sealer', prev: 'C2Done', next: 'Aborted', failure: { level: 'abort', desc: 'x' } })).ok).toBe(true);
    const r = fleetEvents.parse(withData({ plan: 'wdpost', prev: 'Bogus', next: 'Generated' }));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/^ThreadStateChanged data: prev "Bogus" is not a state of plan wdpost/) });
    // Another damocles plan: its states as the worker gives them; a plan name must still be one.
    expect(fleetEvents.parse(withData({ plan: 'supra', prev: 'Anything', next: 'Else' })).ok).toBe(true);
    expect(fleetEvents.parse(withData({ plan: 'Not A Plan' })).ok).toBe(false);
    expect(fleetEvents.parse(withData({ failure: { level: 'fatal', desc: 'x' } }))).toEqual({
      ok: false,
      reason: 'ThreadStateChanged data at /failure/level: Expected one of "temporary", "permanent", "critical", "abort"',
    });
  });
});

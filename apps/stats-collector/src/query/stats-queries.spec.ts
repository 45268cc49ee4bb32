import { describe, expect, it } from 'vitest';
import { VIEWS } from '../projection/rollup-sql';
import { exactGrouping, resolutionFor, viewFor } from './stats-queries';

describe('which rollups a query reads', () => {
  it('the smallest view holding every dimension it groups or filters by', () => {
    expect(viewFor(undefined, {})).toBe(VIEWS.callerComponent);
    expect(viewFor('caller', { component: 'venus' })).toBe(VIEWS.callerComponent);
    expect(viewFor('method', { component: 'venus' })).toBe(VIEWS.componentMethod);
    expect(viewFor('component', { method: 'Filecoin.ChainHead' })).toBe(VIEWS.componentMethod);
    expect(viewFor('method', { caller: 't01000-sealer' })).toBe(VIEWS.full);
    expect(viewFor('caller', { method: 'Filecoin.ChainHead' })).toBe(VIEWS.full);
  });

  it('the coarsest resolution dividing the step (or both ends of a range)', () => {
    expect(resolutionFor(60)).toBe(60);
    expect(resolutionFor(300)).toBe(60);
    expect(resolutionFor(1800)).toBe(600);
    expect(resolutionFor(7200)).toBe(3600);
    expect(resolutionFor(1_765_000_800, 1_765_004_400)).toBe(3600);
    expect(resolutionFor(1_765_001_400, 1_765_005_000)).toBe(600);
    expect(resolutionFor(1_765_004_400.5, 1_765_008_000)).toBe(60);
  });

  it('reads rows as they are only when they are one per series key and bucket', () => {
    expect(exactGrouping(VIEWS.callerComponent, 'component', { caller: 't01000-sealer' })).toBe(true);
    expect(exactGrouping(VIEWS.callerComponent, 'caller', {})).toBe(false); // several components per caller
    expect(exactGrouping(VIEWS.componentMethod, 'method', { component: 'venus' })).toBe(true);
    expect(exactGrouping(VIEWS.full, 'method', { caller: 'c', component: 'venus' })).toBe(true);
    expect(exactGrouping(VIEWS.full, 'method', { caller: 'c' })).toBe(false);
    expect(exactGrouping(VIEWS.callerComponent, undefined, {})).toBe(false);
  });
});

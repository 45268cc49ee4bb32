import { describe, expect, it } from 'vitest';
import { createSubjects } from '@fleetvisor/contracts';
import { anySubjectMatches, subjectMatches, versionAtLeast } from './subject-match';

describe('subjectMatches', () => {
  it.each([
    ['a.b.c', 'a.b.c', true],
    ['a.b.c', 'a.b', false],
    ['a.b', 'a.b.c', false],
    ['a.*.c', 'a.x.c', true],
    ['a.*.c', 'a.x.d', false],
    ['a.*', 'a.x.c', false],
    ['a.>', 'a.x.c', true],
    ['a.>', 'a', false],
    ['>', 'a', true],
    ['*.*.*', 'a.b.c', true],
    ['a.*.>', 'a.b', false],
    ['a.*.>', 'a.b.c.d', true],
  ])('%s vs %s -> %s', (filter, subject, expected) => {
    expect(subjectMatches(filter, subject)).toBe(expected);
  });

  it('matches filters built by the subjects helper', () => {
    const s = createSubjects('t1');
    const subject = s.event('worker-w.01', 'ThreadPaused');
    expect(subjectMatches(s.eventFilter({ area: 'worker' }), subject)).toBe(true);
    expect(subjectMatches(s.eventFilter({ area: 'worker', streamId: 'w.01' }), subject)).toBe(true);
    expect(subjectMatches(s.eventFilter({ area: 'chain' }), subject)).toBe(false);
    expect(subjectMatches(s.eventFilter({ type: 'ThreadPaused' }), subject)).toBe(true);
    expect(subjectMatches(s.allEvents(), subject)).toBe(true);
  });

  it('anySubjectMatches: no filter means everything', () => {
    expect(anySubjectMatches([], 'x.y')).toBe(true);
    expect(anySubjectMatches(['a.*', 'x.*'], 'x.y')).toBe(true);
    expect(anySubjectMatches(['a.*'], 'x.y')).toBe(false);
  });
});

describe('versionAtLeast', () => {
  it('compares major.minor.patch', () => {
    expect(versionAtLeast('2.9.10', [2, 10, 0])).toBe(false);
    expect(versionAtLeast('2.10.0', [2, 10, 0])).toBe(true);
    expect(versionAtLeast('2.10.0-beta.1', [2, 10, 0])).toBe(true);
    expect(versionAtLeast('3.0.0', [2, 10, 0])).toBe(true);
    expect(versionAtLeast('v2.11.3', [2, 10, 0])).toBe(true);
    expect(versionAtLeast(undefined, [2, 10, 0])).toBe(false);
    expect(versionAtLeast('garbage', [0, 0, 0])).toBe(false);
  });
});

import { describe, expect, it } from 'vitest';
import { callerOf, jwtClaim, sanitizeCaller } from './caller';

function jwt(payload: object): string {
  const enc = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}.c2ln`;
}

describe('caller of a call', () => {
  it('is the named claim of the bearer token (case-insensitive claim name), unverified', () => {
    const token = jwt({ Name: 't01000-sealer', Perm: 'write' });
    expect(jwtClaim(token, 'name')).toBe('t01000-sealer');
    expect(callerOf({ authorization: `Bearer ${token}` }, { kind: 'claim', claim: 'name' })).toBe('t01000-sealer');
    expect(callerOf({ authorization: `bearer ${jwt({ sub: 42 })}` }, { kind: 'claim', claim: 'sub' })).toBe('42');
  });

  it('is a header when configured so', () => {
    expect(callerOf({ 'x-caller': 'lava-consumer-1' }, { kind: 'header', header: 'X-Caller' })).toBe('lava-consumer-1');
  });

  it('is "unknown" without a token, with a malformed one, or without the claim', () => {
    const src = { kind: 'claim', claim: 'name' } as const;
    expect(callerOf({}, src)).toBe('unknown');
    expect(callerOf({ authorization: 'Bearer not-a-jwt' }, src)).toBe('unknown');
    expect(callerOf({ authorization: `Bearer a.${Buffer.from('{oops').toString('base64url')}.c` }, src)).toBe('unknown');
    expect(callerOf({ authorization: `Bearer ${jwt({ perm: 'read' })}` }, src)).toBe('unknown');
  });

  it('is made safe to store: odd characters become _, at most 128 characters', () => {
    expect(sanitizeCaller('miner one/"x"')).toBe('miner_one/_x_');
    expect(sanitizeCaller('-x')).toBe('x');
    expect(sanitizeCaller('y'.repeat(300))).toHaveLength(128);
    expect(sanitizeCaller('***')).toBe('unknown');
  });
});

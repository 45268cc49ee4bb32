import { describe, expect, it } from 'vitest';
import { connectOrExplain, DependencyUnreachableError, isConnectFailure } from './unreachable';

describe('connectOrExplain', () => {
  it('names the variable and hides the password when the server is unreachable', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const p = connectOrExplain('PostgreSQL', 'FLEETVISOR_DATABASE_URL', 'postgres://u:hunter2@127.0.0.1:1/db', () => Promise.reject(refused));
    await expect(p).rejects.toBeInstanceOf(DependencyUnreachableError);
    await expect(p).rejects.toThrow(/cannot reach PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db \(set by FLEETVISOR_DATABASE_URL\): connect ECONNREFUSED/);
    await expect(p).rejects.not.toThrow(/hunter2/);
  });

  it('passes other failures through unchanged', async () => {
    const sqlError = Object.assign(new Error('syntax error'), { code: '42601' });
    await expect(connectOrExplain('PostgreSQL', 'X', 'postgres://h/db', () => Promise.reject(sqlError))).rejects.toBe(sqlError);
  });

  it('recognises aggregate connect errors (IPv4 and IPv6 both refused)', () => {
    const agg = Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]), {});
    expect(isConnectFailure(agg)).toBe(true);
    expect(isConnectFailure(new Error('boom'))).toBe(false);
  });
});

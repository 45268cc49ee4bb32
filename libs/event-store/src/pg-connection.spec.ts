import { describe, expect, it } from 'vitest';
import { Secret } from '@fleetvisor/platform';
import { databaseUrlOf, explainPgRefusal, pgConnectionSettings, withDatabaseName } from './pg-connection';

const url = 'postgres://fleet@db.example:5432/fleetvisor';

describe('pgConnectionSettings', () => {
  it('puts the configured password into the connection string only (a bare URL is used as it is)', () => {
    expect(pgConnectionSettings(url)).toEqual({ connectionString: url });
    const s = pgConnectionSettings({ databaseUrl: url, database: { password: new Secret('p@ss/w:rd'), passwordVariable: 'FLEETVISOR_DATABASE_PASSWORD' } });
    expect(s.connectionString).toBe('postgres://fleet:p%40ss%2Fw%3Ard@db.example:5432/fleetvisor');
    expect(new URL(s.connectionString).password).toBe('p%40ss%2Fw%3Ard');
    expect(s.ssl).toBeUndefined();
  });

  it('maps each sslmode to node TLS options as libpq means them', () => {
    const ssl = (sslMode: 'disable' | 'require' | 'verify-ca' | 'verify-full', sslCa?: string) =>
      pgConnectionSettings({ databaseUrl: url, database: { sslMode, ...(sslCa ? { sslCa } : {}) } }).ssl;
    expect(ssl('disable')).toBe(false);
    expect(ssl('require')).toEqual({ rejectUnauthorized: false });
    expect(ssl('require', 'CA')).toMatchObject({ ca: 'CA', rejectUnauthorized: true });
    const verifyCa = ssl('verify-ca', 'CA');
    expect(verifyCa).toMatchObject({ ca: 'CA', rejectUnauthorized: true });
    expect(verifyCa && verifyCa.checkServerIdentity?.('other.host', {} as never)).toBeUndefined();
    expect(ssl('verify-full', 'CA')).toEqual({ ca: 'CA', rejectUnauthorized: true });
  });

  it('keeps the credentials when it points at another database; the shown URL has no password', () => {
    const target = { databaseUrl: url, database: { password: new Secret('pw') } };
    const admin = withDatabaseName(target, 'postgres');
    expect(databaseUrlOf(admin)).toBe('postgres://fleet@db.example:5432/postgres');
    expect(pgConnectionSettings(admin).connectionString).toBe('postgres://fleet:pw@db.example:5432/postgres');
  });
});

describe('explainPgRefusal', () => {
  const target = { databaseUrl: url, database: { password: new Secret('pw'), passwordVariable: 'FLEETVISOR_DATABASE_PASSWORD_FILE' } };
  it('names the password variable on 28P01, and the sslmode too on 28000; leaves other errors alone', () => {
    const e28P01 = Object.assign(new Error('password authentication failed for user "fleet"'), { code: '28P01' });
    expect((explainPgRefusal(e28P01, target) as Error).message).toBe(
      'PostgreSQL refused the credentials (password authentication failed for user "fleet"): check FLEETVISOR_DATABASE_PASSWORD_FILE',
    );
    expect((explainPgRefusal(e28P01, target) as { code: string }).code).toBe('28P01');
    const e28000 = Object.assign(new Error('no pg_hba.conf entry'), { code: '28000' });
    expect((explainPgRefusal(e28000, target) as Error).message).toMatch(/check FLEETVISOR_DATABASE_PASSWORD_FILE and FLEETVISOR_DATABASE_SSLMODE$/);
    const other = Object.assign(new Error('boom'), { code: '42P01' });
    expect(explainPgRefusal(other, target)).toBe(other);
  });
});

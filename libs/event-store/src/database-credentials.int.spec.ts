// Postgres credentials and TLS from the config (FLEETVISOR_DATABASE_PASSWORD[_FILE], _SSLMODE,
// _SSL_CA), against a private Postgres where roles log in with scram-sha-256 passwords and one
// role only over TLS: every connection the event store opens (the admin connection that creates
// the database, migrate's lock and DataSource, the pool, the TypeORM DataSource, a leader lock)
// gets them, and a refusal names the variable without showing the password.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { readCoreConfig, type CoreConfig, type Env } from '@fleetvisor/platform';
import { createTestCa, credentialsDir, postgresAuthSettings, startPrivatePostgres, type PrivatePostgres } from '@fleetvisor/testing';
import { openEventStore } from './event-store-connection';
import { DatabaseCredentialsRefusedError, DatabaseTlsError } from './pg-connection';

const PASSWORD = 'pg-' + Math.random().toString(36).slice(2);
const TLS_PASSWORD = 'pgtls-' + Math.random().toString(36).slice(2);

describe('Postgres credentials', () => {
  const files = credentialsDir('fv-pg-creds-');
  let pg: PrivatePostgres;
  let caFile: string;
  let otherCaFile: string;

  beforeAll(async () => {
    const ca = createTestCa(files.dir, 'pg-ca');
    caFile = ca.caFile;
    otherCaFile = createTestCa(files.dir, 'other-ca').caFile;
    pg = await startPrivatePostgres({ settings: postgresAuthSettings(files.dir, { tls: ca.issue('pg-server', 'server'), tlsOnlyRoles: ['fleet_tls'] }) });
    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    await admin.query(`CREATE ROLE fleet LOGIN CREATEDB PASSWORD '${PASSWORD}'`);
    await admin.query(`CREATE ROLE fleet_tls LOGIN CREATEDB PASSWORD '${TLS_PASSWORD}'`);
    await admin.end();
  });

  afterAll(async () => {
    await pg?.stop();
    files.remove();
  });

  function secretFile(name: string, value: string): string {
    const f = path.join(files.dir, name);
    writeFileSync(f, `${value}\n`, { mode: 0o600 });
    return f;
  }

  const url = (role: string, db: string) => `postgres://${role}@127.0.0.1:${pg.port}/${db}`;
  const config = (env: Env): CoreConfig => readCoreConfig(env);

  async function refusal(step: Promise<unknown>): Promise<Error> {
    const err = await step.then(
      () => new Error('expected the login to be refused'),
      (e: unknown) => e as Error,
    );
    expect(err.message).not.toContain(PASSWORD);
    expect(err.message).not.toContain(TLS_PASSWORD);
    return err;
  }

  it('opens the event store with FLEETVISOR_DATABASE_PASSWORD_FILE: creates the database, migrates, pools, TypeORM, leader lock', async () => {
    const c = config({ FLEETVISOR_DATABASE_URL: url('fleet', 'fv_creds'), FLEETVISOR_DATABASE_PASSWORD_FILE: secretFile('pg-pw', PASSWORD) });
    expect(JSON.stringify(c) + inspect(c, { depth: 5 })).not.toContain(PASSWORD);
    const conn = await openEventStore(c, { migrate: true, applicationName: 'creds-test' });
    try {
      const who = await conn.pool.query<{ u: string }>('SELECT current_user AS u');
      expect(who.rows[0]?.u).toBe('fleet');
      expect(await conn.migrationsPending()).toBe(false);
      await expect((await conn.typeorm()).query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
      const lock = conn.leaderLock('creds-test');
      expect(await lock.tryAcquire()).toBe(true);
      await lock.release();
      expect(conn.url).toBe(url('fleet', 'fv_creds'));
    } finally {
      await conn.close();
    }
  });

  it('is refused with a wrong password, naming the variable; without one, says which to set', async () => {
    const wrong = await refusal(openEventStore(config({ FLEETVISOR_DATABASE_URL: url('fleet', 'fv_creds'), FLEETVISOR_DATABASE_PASSWORD: 'not-' + PASSWORD })));
    expect(wrong).toBeInstanceOf(DatabaseCredentialsRefusedError);
    expect(wrong.message).toBe('PostgreSQL refused the credentials (password authentication failed for user "fleet"): check FLEETVISOR_DATABASE_PASSWORD');
    const none = await refusal(openEventStore(config({ FLEETVISOR_DATABASE_URL: url('fleet', 'fv_creds') }), { migrate: true }));
    expect(none).toBeInstanceOf(DatabaseCredentialsRefusedError);
    expect(none.message).toMatch(/PostgreSQL asks for a password and none is configured: set FLEETVISOR_DATABASE_PASSWORD or FLEETVISOR_DATABASE_PASSWORD_FILE$/);
  });

  it('sslmode=require connects a TLS-only role over TLS; disable is refused, naming the variables', async () => {
    const base = { FLEETVISOR_DATABASE_URL: url('fleet_tls', 'fv_creds_tls'), FLEETVISOR_DATABASE_PASSWORD: TLS_PASSWORD };
    const conn = await openEventStore(config({ ...base, FLEETVISOR_DATABASE_SSLMODE: 'require' }), { migrate: true });
    try {
      const ssl = await conn.pool.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(ssl.rows[0]?.ssl).toBe(true);
      const lock = conn.leaderLock('creds-tls');
      expect(await lock.tryAcquire()).toBe(true);
      await lock.release();
    } finally {
      await conn.close();
    }
    const plain = await refusal(openEventStore(config({ ...base, FLEETVISOR_DATABASE_SSLMODE: 'disable' })));
    expect(plain).toBeInstanceOf(DatabaseCredentialsRefusedError);
    expect(plain.message).toMatch(/no encryption\): check FLEETVISOR_DATABASE_PASSWORD and FLEETVISOR_DATABASE_SSLMODE$/);
  });

  it('verify-full checks the server certificate against FLEETVISOR_DATABASE_SSL_CA', async () => {
    const base = { FLEETVISOR_DATABASE_URL: url('fleet_tls', 'fv_creds_tls'), FLEETVISOR_DATABASE_PASSWORD: TLS_PASSWORD };
    const conn = await openEventStore(config({ ...base, FLEETVISOR_DATABASE_SSLMODE: 'verify-full', FLEETVISOR_DATABASE_SSL_CA: caFile }));
    await conn.close();
    const err = await refusal(openEventStore(config({ ...base, FLEETVISOR_DATABASE_SSLMODE: 'verify-full', FLEETVISOR_DATABASE_SSL_CA: otherCaFile })));
    expect(err).toBeInstanceOf(DatabaseTlsError);
    expect(err.message).toMatch(/^TLS with PostgreSQL failed \(.*certificate.*\): check FLEETVISOR_DATABASE_SSLMODE and FLEETVISOR_DATABASE_SSL_CA$/);
  });
});

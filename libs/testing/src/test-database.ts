// A database of its own for each test suite, on the shared Postgres: created empty, dropped after.
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { readTestingConfig } from './config';

/** Admin connection used to create and drop test databases (the `postgres` database). */
export function adminDatabaseUrl(): string {
  return readTestingConfig().adminDatabaseUrl;
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = '/' + name;
  return u.toString();
}

export async function createTestDatabase(prefix = 'fvt', adminUrl = adminDatabaseUrl()): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(adminUrl, name),
    async drop() {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

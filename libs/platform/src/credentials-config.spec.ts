import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, readCoreConfig, redactUrl, Secret, type Env } from './config';
import { createLogger } from './logger';

const dir = mkdtempSync(path.join(tmpdir(), 'fv-creds-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, content);
  return f;
}

const SEED = 'SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4'; // a throwaway user seed
const CREDS = `-----BEGIN NATS USER JWT-----\neyJ0eXAi.fake.jwt\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${SEED}\n------END USER NKEY SEED------\n`;
const SECRETS = ['n4ts-pw', 't0ken-xyz', SEED, 'eyJ0eXAi.fake.jwt', 'pg-pw-1', 'url-pw-9'];

/** What a log line (our pino logger), a printed object (util.inspect) and string conversion show of the config. */
function shown(env: Env): string {
  const c = readCoreConfig(env, () => 'box');
  let logged = '';
  const log = createLogger({ name: 'creds-test', level: 'info', format: 'json', destination: { write: (line: string) => void (logged += line) } });
  log.info({ config: c }, 'starting');
  expect(logged).toContain('"config":');
  return logged + JSON.stringify(c) + inspect(c, { depth: 10 }) + String(c.nats.auth && Object.values(c.nats.auth).join(' '));
}

function errorOf(env: Env): ConfigError {
  try {
    readCoreConfig(env, () => 'box');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    for (const s of SECRETS) expect((e as Error).message).not.toContain(s);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('Secret', () => {
  it('shows [redacted] to JSON, inspect and string conversion; reveal() gives the value', () => {
    const s = new Secret('hunter2');
    expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
    expect(inspect({ s })).not.toContain('hunter2');
    expect(`${s}`).toBe('[redacted]');
    expect(Object.keys(s)).toEqual([]);
    expect(s.reveal()).toBe('hunter2');
  });
});

describe('NATS credentials (readCoreConfig)', () => {
  it('reads user + password, from the variable or from a _FILE (a trailing newline dropped)', () => {
    const a = readCoreConfig({ FLEETVISOR_NATS_USER: 'fleet', FLEETVISOR_NATS_PASSWORD: 'n4ts-pw' });
    expect(a.nats.auth).toMatchObject({ kind: 'user-password', user: 'fleet', variables: ['FLEETVISOR_NATS_USER', 'FLEETVISOR_NATS_PASSWORD'] });
    expect(a.nats.auth?.kind === 'user-password' && a.nats.auth.password.reveal()).toBe('n4ts-pw');
    const b = readCoreConfig({ FLEETVISOR_NATS_USER: 'fleet', FLEETVISOR_NATS_PASSWORD_FILE: file('pw', 'n4ts-pw\n') });
    expect(b.nats.auth?.kind === 'user-password' && b.nats.auth.password.reveal()).toBe('n4ts-pw');
    expect(b.nats.auth?.variables).toEqual(['FLEETVISOR_NATS_USER', 'FLEETVISOR_NATS_PASSWORD_FILE']);
  });

  it('reads a token, an NKey seed and a .creds file', () => {
    const t = readCoreConfig({ FLEETVISOR_NATS_TOKEN_FILE: file('tok', 't0ken-xyz') });
    expect(t.nats.auth?.kind === 'token' && t.nats.auth.token.reveal()).toBe('t0ken-xyz');
    const n = readCoreConfig({ FLEETVISOR_NATS_NKEY_SEED: SEED });
    expect(n.nats.auth?.kind === 'nkey' && n.nats.auth.seed.reveal()).toBe(SEED);
    const c = readCoreConfig({ FLEETVISOR_NATS_CREDS: file('u.creds', CREDS) });
    expect(c.nats.auth).toMatchObject({ kind: 'creds', variables: ['FLEETVISOR_NATS_CREDS'] });
    expect(c.nats.auth?.kind === 'creds' && c.nats.auth.creds.reveal()).toBe(CREDS);
  });

  it('takes user:password or a token out of the URL, leaving a URL without them', () => {
    const a = readCoreConfig({ FLEETVISOR_NATS_URL: 'nats://fleet:url-pw-9@127.0.0.1:4222' });
    expect(a.natsUrl).toBe('nats://127.0.0.1:4222');
    expect(a.nats.auth).toMatchObject({ kind: 'user-password', user: 'fleet', variables: ['FLEETVISOR_NATS_URL'] });
    const b = readCoreConfig({ FLEETVISOR_NATS_URL: 'nats://t0ken-xyz@127.0.0.1:4222' });
    expect(b.natsUrl).toBe('nats://127.0.0.1:4222');
    expect(b.nats.auth?.kind === 'token' && b.nats.auth.token.reveal()).toBe('t0ken-xyz');
  });

  it('requires TLS for a tls:// URL, a CA or a client certificate, and checks the files at start', () => {
    expect(readCoreConfig({}).nats.tls).toBeUndefined();
    expect(readCoreConfig({ FLEETVISOR_NATS_URL: 'tls://127.0.0.1:4222' }).nats.tls).toEqual({});
    const ca = file('ca.pem', 'x');
    const cert = file('cert.pem', 'x');
    const key = file('key.pem', 'x');
    expect(readCoreConfig({ FLEETVISOR_NATS_TLS_CA: ca }).nats.tls).toEqual({ caFile: ca });
    expect(readCoreConfig({ FLEETVISOR_NATS_TLS_CERT: cert, FLEETVISOR_NATS_TLS_KEY: key }).nats.tls).toEqual({ certFile: cert, keyFile: key });
    expect(errorOf({ FLEETVISOR_NATS_TLS_CA: path.join(dir, 'missing.pem') }).message).toMatch(/^FLEETVISOR_NATS_TLS_CA: cannot read ".*missing.pem": ENOENT$/);
    expect(errorOf({ FLEETVISOR_NATS_TLS_CERT: cert }).variable).toBe('FLEETVISOR_NATS_TLS_KEY');
    expect(errorOf({ FLEETVISOR_NATS_TLS_KEY: key }).variable).toBe('FLEETVISOR_NATS_TLS_CERT');
  });

  it('reads the inbox prefix, and refuses one with wildcards or spaces', () => {
    expect(readCoreConfig({}).nats.inboxPrefix).toBeUndefined();
    expect(readCoreConfig({ FLEETVISOR_NATS_INBOX_PREFIX: '_INBOX_agent_w-01' }).nats.inboxPrefix).toBe('_INBOX_agent_w-01');
    expect(errorOf({ FLEETVISOR_NATS_INBOX_PREFIX: '_INBOX.>' }).variable).toBe('FLEETVISOR_NATS_INBOX_PREFIX');
    expect(errorOf({ FLEETVISOR_NATS_INBOX_PREFIX: 'a b' }).variable).toBe('FLEETVISOR_NATS_INBOX_PREFIX');
  });

  it('fails at start on invalid combinations, naming the variable and never the secret', () => {
    expect(errorOf({ FLEETVISOR_NATS_PASSWORD: 'n4ts-pw', FLEETVISOR_NATS_PASSWORD_FILE: file('pw2', 'n4ts-pw') }).message).toBe(
      'FLEETVISOR_NATS_PASSWORD_FILE: FLEETVISOR_NATS_PASSWORD is set too; set only one of them',
    );
    expect(errorOf({ FLEETVISOR_NATS_USER: 'fleet' }).variable).toBe('FLEETVISOR_NATS_PASSWORD');
    expect(errorOf({ FLEETVISOR_NATS_PASSWORD: 'n4ts-pw' }).variable).toBe('FLEETVISOR_NATS_USER');
    expect(errorOf({ FLEETVISOR_NATS_TOKEN: 't0ken-xyz', FLEETVISOR_NATS_NKEY_SEED: SEED }).message).toMatch(
      /^FLEETVISOR_NATS_NKEY_SEED: more than one NATS credential is set \(FLEETVISOR_NATS_TOKEN, FLEETVISOR_NATS_NKEY_SEED\)/,
    );
    expect(errorOf({ FLEETVISOR_NATS_URL: 'nats://fleet:url-pw-9@h:4222', FLEETVISOR_NATS_TOKEN: 't0ken-xyz' }).variable).toBe('FLEETVISOR_NATS_TOKEN');
    expect(errorOf({ FLEETVISOR_NATS_NKEY_SEED: 'SXnot-a-seed' }).message).toBe('FLEETVISOR_NATS_NKEY_SEED: not an NKey user seed (58 characters starting with SU)');
    expect(errorOf({ FLEETVISOR_NATS_TOKEN_FILE: path.join(dir, 'nope') }).variable).toBe('FLEETVISOR_NATS_TOKEN_FILE');
    expect(errorOf({ FLEETVISOR_NATS_TOKEN_FILE: file('empty', '\n') }).message).toMatch(/FLEETVISOR_NATS_TOKEN_FILE: ".*empty" is empty/);
    expect(errorOf({ FLEETVISOR_NATS_CREDS: file('notcreds', 'hello') }).variable).toBe('FLEETVISOR_NATS_CREDS');
  });
});

describe('Postgres credentials (readCoreConfig)', () => {
  it('reads the password from FLEETVISOR_DATABASE_PASSWORD[_FILE]; a password in the URL moves out of it', () => {
    const a = readCoreConfig({ FLEETVISOR_DATABASE_URL: 'postgres://fleet@db:5432/fv', FLEETVISOR_DATABASE_PASSWORD_FILE: file('pgpw', 'pg-pw-1\n') });
    expect(a.databaseUrl).toBe('postgres://fleet@db:5432/fv');
    expect(a.database.password?.reveal()).toBe('pg-pw-1');
    expect(a.database.passwordVariable).toBe('FLEETVISOR_DATABASE_PASSWORD_FILE');
    const b = readCoreConfig({ FLEETVISOR_DATABASE_URL: 'postgres://fleet:url-pw-9@db:5432/fv' });
    expect(b.databaseUrl).toBe('postgres://fleet@db:5432/fv');
    expect(b.database.password?.reveal()).toBe('url-pw-9');
    expect(b.database.passwordVariable).toBe('FLEETVISOR_DATABASE_URL');
    expect(readCoreConfig({}).database).toEqual({});
  });

  it('reads sslmode and the CA; a CA alone means verify-full', () => {
    const ca = file('pgca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(readCoreConfig({ FLEETVISOR_DATABASE_SSLMODE: 'require' }).database).toEqual({ sslMode: 'require' });
    expect(readCoreConfig({ FLEETVISOR_DATABASE_SSL_CA: ca }).database).toMatchObject({ sslMode: 'verify-full', sslCa: expect.stringContaining('MIIB') });
    expect(errorOf({ FLEETVISOR_DATABASE_SSLMODE: 'prefer' }).message).toBe('FLEETVISOR_DATABASE_SSLMODE: expected one of disable, require, verify-ca, verify-full, got "prefer"');
    expect(errorOf({ FLEETVISOR_DATABASE_SSL_CA: file('notpem', 'x') }).variable).toBe('FLEETVISOR_DATABASE_SSL_CA');
    expect(errorOf({ FLEETVISOR_DATABASE_SSL_CA: ca, FLEETVISOR_DATABASE_SSLMODE: 'disable' }).variable).toBe('FLEETVISOR_DATABASE_SSL_CA');
    expect(errorOf({ FLEETVISOR_DATABASE_URL: 'postgres://h/db?sslmode=disable', FLEETVISOR_DATABASE_SSLMODE: 'require' }).variable).toBe('FLEETVISOR_DATABASE_SSLMODE');
  });

  it('refuses a password given twice, naming the variable, not echoing either', () => {
    expect(errorOf({ FLEETVISOR_DATABASE_PASSWORD: 'pg-pw-1', FLEETVISOR_DATABASE_PASSWORD_FILE: file('pgpw2', 'pg-pw-1') }).variable).toBe('FLEETVISOR_DATABASE_PASSWORD_FILE');
    expect(errorOf({ FLEETVISOR_DATABASE_URL: 'postgres://u:url-pw-9@h/db', FLEETVISOR_DATABASE_PASSWORD: 'pg-pw-1' }).message).toBe(
      'FLEETVISOR_DATABASE_PASSWORD: FLEETVISOR_DATABASE_URL carries a password too; give it one way',
    );
  });
});

describe('a logged config', () => {
  it('holds no secret, whichever way they were given', () => {
    const envs: Env[] = [
      { FLEETVISOR_NATS_USER: 'fleet', FLEETVISOR_NATS_PASSWORD: 'n4ts-pw', FLEETVISOR_DATABASE_PASSWORD: 'pg-pw-1' },
      { FLEETVISOR_NATS_TOKEN: 't0ken-xyz', FLEETVISOR_DATABASE_URL: 'postgres://u:url-pw-9@h/db' },
      { FLEETVISOR_NATS_NKEY_SEED_FILE: file('seed', SEED) },
      { FLEETVISOR_NATS_CREDS: file('v.creds', CREDS) },
      { FLEETVISOR_NATS_URL: 'nats://fleet:url-pw-9@127.0.0.1:4222' },
      { FLEETVISOR_NATS_URL: 'tls://t0ken-xyz@127.0.0.1:4222' },
    ];
    for (const env of envs) {
      const text = shown(env);
      for (const s of SECRETS) expect(text, JSON.stringify(env)).not.toContain(s);
      expect(text).toContain('[redacted]');
    }
  });

  it('redactUrl hides a token in a NATS URL (a lone user part of a postgres URL is a user name)', () => {
    expect(redactUrl('nats://t0ken-xyz@h:4222')).toBe('nats://***@h:4222');
    expect(redactUrl('tls://fleet:n4ts-pw@h:4222')).toBe('tls://fleet:***@h:4222');
    expect(redactUrl('postgres://fleet@h:5432/d')).toBe('postgres://fleet@h:5432/d');
  });
});

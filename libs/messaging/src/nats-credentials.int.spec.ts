// Credentials and TLS towards NATS, each kind against a private nats-server set up for it: the
// process's config (readCoreConfig over FLEETVISOR_NATS_*) connects with the right settings, is
// refused with wrong ones, and the refusal names the variable to fix without showing the secret.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { NatsConnection } from 'nats';
import { readCoreConfig, type CoreConfig, type Env } from '@fleetvisor/platform';
import {
  createTestCa,
  createTestDatabase,
  credentialsDir,
  expectEventually,
  natsNkeySetup,
  natsOperatorSetup,
  natsTlsConfig,
  natsTokenConfig,
  natsUserPasswordConfig,
  startPrivateNats,
  testBusNames,
  type PrivateNats,
  type TestDatabase,
} from '@fleetvisor/testing';
import { EdgeBus } from './edge-bus';
import { migrateFleetStreams } from './migrate-streams';
import { FleetCore } from './fleet-core';
import { connectNats, NatsCredentialsRefusedError, NatsTlsError } from './nats-connection';

const logger = pino({ level: 'silent' });
const files = credentialsDir('fv-nats-creds-');
afterAll(() => files.remove());

const secrets: string[] = [];
function secretFile(name: string, value: string): string {
  secrets.push(value);
  const f = path.join(files.dir, name);
  writeFileSync(f, `${value}\n`, { mode: 0o600 });
  return f;
}

function config(env: Env): CoreConfig {
  return { ...readCoreConfig(env), ...testBusNames(), logLevel: 'silent' };
}

/** A message makes the round trip: the server let this client in and lets it publish and subscribe. */
async function roundTrip(nc: NatsConnection): Promise<void> {
  const sub = nc.subscribe('creds.check', { max: 1 });
  nc.publish('creds.check', 'ping');
  for await (const m of sub) expect(m.string()).toBe('ping');
}

async function refusal(step: Promise<unknown>): Promise<Error> {
  const err = await step.then(
    () => new Error('expected the connection to be refused'),
    (e: unknown) => e as Error,
  );
  for (const s of secrets) expect(err.message).not.toContain(s);
  return err;
}

describe('NATS credentials', () => {
  const servers: PrivateNats[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });
  const start = async (serverConfig: string, jetstream = false): Promise<PrivateNats> => {
    const s = await startPrivateNats({ config: serverConfig, jetstream });
    servers.push(s);
    return s;
  };

  describe('user and password', () => {
    let nats: PrivateNats;
    let db: TestDatabase;
    const password = 'pw-' + Math.random().toString(36).slice(2);
    beforeAll(async () => {
      [nats, db] = await Promise.all([start(natsUserPasswordConfig('fleet', password), true), createTestDatabase('fvmsg_creds')]);
    });
    afterAll(() => db?.drop());

    it('migrate makes the streams and a FleetCore connects with FLEETVISOR_NATS_USER + FLEETVISOR_NATS_PASSWORD_FILE', async () => {
      const cfg = config({ FLEETVISOR_DATABASE_URL: db.url, FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_NATS_USER: 'fleet', FLEETVISOR_NATS_PASSWORD_FILE: secretFile('nats-pw', password) });
      // A service only checks the streams exist: before migrate it refuses to start, naming migrate.
      await expect(FleetCore.open({ serviceName: 'creds-test', config: cfg, logger })).rejects.toThrow(/run it once with the admin NATS credential/);
      expect((await migrateFleetStreams(cfg, logger)).events.action).toBe('created');
      const core = await FleetCore.open({
        serviceName: 'creds-test',
        config: cfg,
        logger,
      });
      try {
        await roundTrip(core.nc);
      } finally {
        await core.close();
      }
    });

    it('is refused with a wrong password, naming the variables', async () => {
      const err = await refusal(
        FleetCore.open({
          serviceName: 'creds-test',
          config: config({ FLEETVISOR_DATABASE_URL: db.url, FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_NATS_USER: 'fleet', FLEETVISOR_NATS_PASSWORD: 'wrong-' + password }),
          logger,
        }),
      );
      expect(err).toBeInstanceOf(NatsCredentialsRefusedError);
      expect(err.message).toBe(`NATS at ${nats.url} refused the credentials (Authorization Violation): check FLEETVISOR_NATS_USER / FLEETVISOR_NATS_PASSWORD`);
    });

    it('without credentials, the refusal lists the variables that can give them', async () => {
      const err = await refusal(connectNats(config({ FLEETVISOR_NATS_URL: nats.url }), logger));
      expect(err.message).toMatch(/requires credentials \(Authorization Violation\): set FLEETVISOR_NATS_USER \+ FLEETVISOR_NATS_PASSWORD, FLEETVISOR_NATS_TOKEN, FLEETVISOR_NATS_NKEY_SEED or FLEETVISOR_NATS_CREDS/);
    });

    it('honours user:password in the URL, from the config and as a bare URL', async () => {
      const withCreds = nats.url.replace('nats://', `nats://fleet:${password}@`);
      for (const target of [config({ FLEETVISOR_NATS_URL: withCreds }), withCreds]) {
        const nc = await connectNats(target, logger);
        await roundTrip(nc);
        await nc.close();
      }
      const err = await refusal(connectNats(config({ FLEETVISOR_NATS_URL: nats.url.replace('nats://', 'nats://fleet:nope@') }), logger));
      expect(err.message).toMatch(/refused the credentials \(Authorization Violation\): check FLEETVISOR_NATS_URL$/);
    });
  });

  it('a password changed on the server: the reconnecting client logs the refusal naming the variables, then closes', async () => {
    const oldPassword = 'old-' + Math.random().toString(36).slice(2);
    const newPassword = 'new-' + Math.random().toString(36).slice(2);
    secrets.push(oldPassword, newPassword);
    const nats = await start(natsUserPasswordConfig('fleet', oldPassword));
    let logged = '';
    const log = pino({ level: 'info' }, { write: (line: string) => void (logged += line) });
    const nc = await connectNats(config({ FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_NATS_USER: 'fleet', FLEETVISOR_NATS_PASSWORD: oldPassword }), log, { reconnectTimeWaitMs: 50 });
    writeFileSync(nats.configFile!, natsUserPasswordConfig('fleet', newPassword));
    await nats.restart();
    const closedWith = await nc.closed();
    expect(closedWith).toBeInstanceOf(Error);
    await expectEventually(() => expect(logged).toContain('NATS connection closed with an error'));
    expect(logged).toContain(`NATS at ${nats.url} refused the credentials (AUTHORIZATION_VIOLATION): check FLEETVISOR_NATS_USER / FLEETVISOR_NATS_PASSWORD`);
    for (const s of secrets) expect(logged).not.toContain(s);
  });

  describe('token', () => {
    let nats: PrivateNats;
    const token = 'tok-' + Math.random().toString(36).slice(2);
    beforeAll(async () => {
      nats = await start(natsTokenConfig(token));
    });

    it('an EdgeBus connects with FLEETVISOR_NATS_TOKEN_FILE', async () => {
      const edge = new EdgeBus({ serviceName: 'creds-test', config: config({ FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_NATS_TOKEN_FILE: secretFile('nats-token', token) }), logger });
      try {
        await roundTrip((await edge.ready()).nc);
      } finally {
        await edge.close();
      }
    });

    it('an EdgeBus with a wrong token gives up with an error naming FLEETVISOR_NATS_TOKEN (it does not wait forever)', async () => {
      const edge = new EdgeBus({ serviceName: 'creds-test', config: config({ FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_NATS_TOKEN: 'not-' + token }), logger, reconnectTimeWaitMs: 50 });
      try {
        const err = await refusal(edge.ready());
        expect(err).toBeInstanceOf(NatsCredentialsRefusedError);
        expect(err.message).toMatch(/refused the credentials \(Authorization Violation\): check FLEETVISOR_NATS_TOKEN$/);
      } finally {
        await edge.close();
      }
    });
  });

  describe('NKey', () => {
    let nats: PrivateNats;
    let seed: string;
    beforeAll(async () => {
      const setup = natsNkeySetup();
      seed = setup.seed;
      nats = await start(setup.config);
    });

    it('connects with FLEETVISOR_NATS_NKEY_SEED_FILE; another seed is refused, naming the variable', async () => {
      const nc = await connectNats(config({ FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_NATS_NKEY_SEED_FILE: secretFile('nkey.seed', seed) }), logger);
      await roundTrip(nc);
      await nc.close();
      const other = natsNkeySetup().seed;
      secrets.push(other);
      const err = await refusal(connectNats(config({ FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_NATS_NKEY_SEED: other }), logger));
      expect(err.message).toMatch(/refused the credentials \(Authorization Violation\): check FLEETVISOR_NATS_NKEY_SEED$/);
    });
  });

  describe('.creds (operator mode, memory resolver)', () => {
    let nats: PrivateNats;
    let setup: Awaited<ReturnType<typeof natsOperatorSetup>>;
    beforeAll(async () => {
      setup = await natsOperatorSetup();
      nats = await start(setup.config);
    });

    it('connects with FLEETVISOR_NATS_CREDS; a user of an unknown account is refused, naming the variable', async () => {
      const credsFile = secretFile('fleet.creds', setup.creds);
      const nc = await connectNats(config({ FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_NATS_CREDS: credsFile }), logger);
      await roundTrip(nc);
      await nc.close();
      const stranger = secretFile('stranger.creds', setup.strangerCreds);
      const err = await refusal(connectNats(config({ FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_NATS_CREDS: stranger }), logger));
      expect(err).toBeInstanceOf(NatsCredentialsRefusedError);
      expect(err.message).toMatch(/refused the credentials \(Authorization Violation\): check FLEETVISOR_NATS_CREDS$/);
    });
  });

  describe('TLS with a CA and a client certificate', () => {
    let nats: PrivateNats;
    let plain: PrivateNats;
    let tlsEnv: Env;
    let strangerEnv: Env;
    beforeAll(async () => {
      const ca = createTestCa(files.dir, 'nats-ca');
      const server = ca.issue('nats-server', 'server');
      const client = ca.issue('nats-client', 'client');
      const otherCa = createTestCa(files.dir, 'other-ca');
      const otherClient = otherCa.issue('other-client', 'client');
      tlsEnv = { FLEETVISOR_NATS_TLS_CA: ca.caFile, FLEETVISOR_NATS_TLS_CERT: client.certFile, FLEETVISOR_NATS_TLS_KEY: client.keyFile };
      strangerEnv = { FLEETVISOR_NATS_TLS_CA: ca.caFile, FLEETVISOR_NATS_TLS_CERT: otherClient.certFile, FLEETVISOR_NATS_TLS_KEY: otherClient.keyFile };
      [nats, plain] = await Promise.all([start(natsTlsConfig(server, ca.caFile), true), start('')]);
    });

    it('an EdgeBus connects over tls:// with the CA and its client certificate, and finds the streams migrate made', async () => {
      const cfg = config({ FLEETVISOR_NATS_URL: nats.url.replace('nats://', 'tls://'), ...tlsEnv });
      await migrateFleetStreams(cfg, logger);
      const edge = new EdgeBus({ serviceName: 'creds-test', config: cfg, logger, eventStream: true });
      try {
        const bus = await edge.ready();
        await roundTrip(bus.nc);
        expect(bus.nc.info?.tls_required).toBe(true);
      } finally {
        await edge.close();
      }
    });

    it('is refused without a client certificate the server trusts, naming the TLS variables', async () => {
      const noCert = await refusal(connectNats(config({ FLEETVISOR_NATS_URL: nats.url, FLEETVISOR_NATS_TLS_CA: tlsEnv['FLEETVISOR_NATS_TLS_CA'] }), logger, { connectTimeoutMs: 1_000 }));
      expect(noCert).toBeInstanceOf(NatsTlsError);
      expect(noCert.message).toMatch(/FLEETVISOR_NATS_TLS_CERT \/ FLEETVISOR_NATS_TLS_KEY/);
      const stranger = await refusal(connectNats(config({ FLEETVISOR_NATS_URL: nats.url, ...strangerEnv }), logger, { connectTimeoutMs: 1_000 }));
      expect(stranger.message).toMatch(/FLEETVISOR_NATS_TLS_CERT \/ FLEETVISOR_NATS_TLS_KEY/);
    });

    it('does not trust a server certificate from another CA, naming FLEETVISOR_NATS_TLS_CA', async () => {
      const otherCa = createTestCa(files.dir, 'unrelated-ca');
      const err = await refusal(connectNats(config({ FLEETVISOR_NATS_URL: nats.url, ...tlsEnv, FLEETVISOR_NATS_TLS_CA: otherCa.caFile }), logger));
      expect(err).toBeInstanceOf(NatsTlsError);
      expect(err.message).toMatch(/^TLS with NATS at .* failed \(.*certificate.*\): check FLEETVISOR_NATS_TLS_CA/);
    });

    it('requires TLS when asked for it: a tls:// URL or a CA against a server without TLS fails', async () => {
      for (const env of [{ FLEETVISOR_NATS_URL: plain.url.replace('nats://', 'tls://') }, { FLEETVISOR_NATS_URL: plain.url, FLEETVISOR_NATS_TLS_CA: tlsEnv['FLEETVISOR_NATS_TLS_CA'] }]) {
        const err = await refusal(connectNats(config(env), logger));
        expect(err).toBeInstanceOf(NatsTlsError);
        expect(err.message).toMatch(/failed \(the server offers no TLS\)/);
      }
    });
  });
});

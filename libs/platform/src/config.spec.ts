import { describe, expect, it } from 'vitest';
import { ConfigError, envReader, parseDuration, readCoreConfig, redactUrl } from './config';

describe('readCoreConfig', () => {
  it('uses the documented defaults', () => {
    const c = readCoreConfig({}, () => 'box1');
    expect(c.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/fleetvisor');
    expect(c.natsUrl).toBe('nats://127.0.0.1:4222');
    expect(c.eventStreamName).toBe('FLEET_EVENTS');
    expect(c.subjectRoot).toBe('fleet');
    expect(c.host).toBe('box1');
    expect(c.eventStreamMaxAgeMs).toBe(30 * 86_400_000);
  });

  it('rejects an invalid database URL naming the variable, without echoing the password', () => {
    expect(() => readCoreConfig({ FLEETVISOR_DATABASE_URL: 'mysql://u:pw@h/db' })).toThrow(ConfigError);
    expect(() => readCoreConfig({ FLEETVISOR_DATABASE_URL: 'mysql://u:pw@h/db' })).toThrow(/^FLEETVISOR_DATABASE_URL: expected a postgres or postgresql URL, got "mysql:\/\/u:\*\*\*@h\/db"$/);
    expect(() => readCoreConfig({ FLEETVISOR_NATS_URL: 'not a url' })).toThrow(/^FLEETVISOR_NATS_URL: not a valid URL/);
  });

  it('takes the servers of a cluster as a comma-separated list, credentials out of each', () => {
    const c = readCoreConfig({ FLEETVISOR_NATS_URL: 'nats://u:pw@n1:4222, nats://u:pw@n2:4222,nats://u:pw@n3:4222' });
    expect(c.natsUrl).toBe('nats://n1:4222,nats://n2:4222,nats://n3:4222');
    expect(c.nats.auth).toMatchObject({ kind: 'user-password', user: 'u' });
    expect(readCoreConfig({ FLEETVISOR_NATS_URL: 'nats://n1:4222,tls://n2:4222' }).nats.tls).toEqual({});
    expect(readCoreConfig({ FLEETVISOR_EVENT_STREAM_REPLICAS: '3' }).eventStreamReplicas).toBe(3);
    expect(readCoreConfig({}).eventStreamReplicas).toBe(1);
  });

  it('refuses a server list with an empty entry, a non-NATS URL or two identities', () => {
    expect(() => readCoreConfig({ FLEETVISOR_NATS_URL: 'nats://n1:4222,,nats://n2:4222' })).toThrow(/^FLEETVISOR_NATS_URL: an empty server/);
    expect(() => readCoreConfig({ FLEETVISOR_NATS_URL: 'nats://n1:4222,http://n2:4222' })).toThrow(/^FLEETVISOR_NATS_URL: expected a nats or tls or ws or wss URL/);
    expect(() => readCoreConfig({ FLEETVISOR_NATS_URL: 'nats://a:pw@n1:4222,nats://b:pw@n2:4222' })).toThrow(/different credentials/);
    expect(() => readCoreConfig({ FLEETVISOR_EVENT_STREAM_REPLICAS: '7' })).toThrow(/FLEETVISOR_EVENT_STREAM_REPLICAS/);
    expect(redactUrl('nats://u:pw@n1:4222,nats://u:pw@n2:4222')).toBe('nats://u:***@n1:4222,nats://u:***@n2:4222');
  });

  it('rejects bad enums, durations and names', () => {
    expect(() => readCoreConfig({ FLEETVISOR_LOG_LEVEL: 'loud' })).toThrow(/FLEETVISOR_LOG_LEVEL: expected one of trace, debug/);
    expect(() => readCoreConfig({ FLEETVISOR_EVENT_STREAM_MAX_AGE: 'forever' })).toThrow(/FLEETVISOR_EVENT_STREAM_MAX_AGE/);
    expect(() => readCoreConfig({ FLEETVISOR_SUBJECT_ROOT: 'Fleet.Evt' })).toThrow(/FLEETVISOR_SUBJECT_ROOT/);
  });
});

describe('envReader', () => {
  it('parses integers with bounds and booleans', () => {
    const r = envReader({ N: '42', B: 'yes', BAD: '4x' });
    expect(r.int('N', 1, { max: 100 })).toBe(42);
    expect(() => r.int('N', 1, { max: 10 })).toThrow(/N: must be <= 10/);
    expect(() => r.int('BAD', 1)).toThrow(/BAD: expected an integer/);
    expect(r.bool('B', false)).toBe(true);
    expect(r.int('MISSING', 7)).toBe(7);
  });

  it('parses durations', () => {
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('250')).toBe(250);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('soon')).toBeUndefined();
  });

  it('redacts passwords in URLs', () => {
    expect(redactUrl('postgres://a:secret@h:5432/d')).toBe('postgres://a:***@h:5432/d');
    expect(redactUrl('nats://h:4222')).toBe('nats://h:4222');
  });
});

// A service's own environment (services/<name>.yml `env:`) and what a child gets of the runner's.
import { describe, expect, it } from 'vitest';
import { childEnvironmentFrom } from '../config';
import { HomeError, parseServiceDefinition, serializeServiceDefinition, type ServiceDefinition } from './runner-home';

const def: ServiceDefinition = { name: 'provider1-LAV1', role: 'provider', binary: 'lavap', configPath: '/h/p.yml', args: ['rpcprovider'], keyringPassword: false };

describe('service env', () => {
  it('round-trips through the definition file', () => {
    const withEnv = { ...def, env: { LAVA_LOG_FORMAT: 'json', GOMAXPROCS: '2' } };
    expect(parseServiceDefinition(serializeServiceDefinition(withEnv), 'x.yml')).toEqual(withEnv);
    expect(parseServiceDefinition(serializeServiceDefinition(def), 'x.yml')).toEqual(def);
  });

  it("refuses FLEETVISOR_* names (the runner's own settings), bad names and non-scalar values", () => {
    const text = (env: string) => `${serializeServiceDefinition(def)}env:\n${env}\n`;
    expect(() => parseServiceDefinition(text('  FLEETVISOR_DATABASE_URL: postgres://x'), 'x.yml')).toThrow(/FLEETVISOR_\* variables are the runner's own/);
    expect(() => parseServiceDefinition(text('  fleetvisor_secrets_passphrase: p'), 'x.yml')).toThrow(HomeError);
    expect(() => parseServiceDefinition(text('  "A-B": x'), 'x.yml')).toThrow(/not a variable name/);
    expect(() => parseServiceDefinition(text('  A: [1]'), 'x.yml')).toThrow(/env.A must be a string/);
    expect(parseServiceDefinition(text('  N: 2'), 'x.yml').env).toEqual({ N: '2' });
  });
});

describe('childEnvironmentFrom', () => {
  it('keeps PATH, HOME, LANG and TZ only', () => {
    expect(
      childEnvironmentFrom({ PATH: '/p', HOME: '/h', LANG: 'C.UTF-8', TZ: 'UTC', FLEETVISOR_SECRETS_PASSPHRASE: 's', FLEETVISOR_DATABASE_URL: 'postgres://u:p@h/db', AWS_SECRET_ACCESS_KEY: 'k' }),
    ).toEqual({ PATH: '/p', HOME: '/h', LANG: 'C.UTF-8', TZ: 'UTC' });
    expect(childEnvironmentFrom({})).toEqual({ PATH: '/usr/local/bin:/usr/bin:/bin' });
  });
});

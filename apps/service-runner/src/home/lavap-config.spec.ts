import { describe, expect, it } from 'vitest';
import { validateLavapConfig } from './lavap-config';
import { consumerConfigYaml, providerConfigYaml } from '@fleetvisor/devnet';
import { validServiceName, validVersion } from './names';

describe('lavap config validation', () => {
  it('accepts the provider and consumer shapes of lavap and reports the first endpoint', () => {
    expect(validateLavapConfig('provider', providerConfigYaml('LAV1', '127.0.0.1:2221'))).toEqual({ firstChainId: 'LAV1', networkAddress: '127.0.0.1:2221', endpoints: 1 });
    expect(validateLavapConfig('consumer', consumerConfigYaml('ETH1', '0.0.0.0:3333'))).toEqual({ firstChainId: 'ETH1', networkAddress: '127.0.0.1:3333', endpoints: 1 });
  });

  it('names the wrong field', () => {
    const bad = providerConfigYaml('LAV1', '127.0.0.1:2221').replace('tendermintrpc', 'soap');
    expect(() => validateLavapConfig('provider', bad)).toThrow(/^endpoints\[0\]\.api-interface: must be one of/);
    expect(() => validateLavapConfig('provider', providerConfigYaml('LAV1', 'nohost'))).toThrow(/^endpoints\[0\]\.network-address\.address: must be host:port/);
    expect(() => validateLavapConfig('provider', providerConfigYaml('LAV1', '127.0.0.1:1').replace(/node-urls:[\s\S]*$/, 'node-urls: []\n'))).toThrow(/^endpoints\[0\]\.node-urls:/);
    expect(() => validateLavapConfig('consumer', consumerConfigYaml('ETH1', '127.0.0.1:99999'))).toThrow(/^endpoints\[0\]\.network-address: must be host:port/);
    expect(() => validateLavapConfig('consumer', consumerConfigYaml('ETH1', '127.0.0.1:3333').replace('":7779"', 'nope'))).toThrow(/^metrics-listen-address:/);
    expect(() => validateLavapConfig('consumer', 'endpoints: []')).toThrow(/^endpoints: must be a non-empty list/);
    expect(() => validateLavapConfig('consumer', consumerConfigYaml('../x', '127.0.0.1:3333'))).toThrow(/^endpoints\[0\]\.chain-id/);
    expect(() => validateLavapConfig('provider', ': : :\n\t-')).toThrow(/^\(file\)/);
  });

  it('refuses names and versions that could leave the home', () => {
    expect(validServiceName('provider1-LAV1')).toBe('provider1-LAV1');
    for (const bad of ['../etc', 'a/b', '.hidden', 'a..b', '', 'x'.repeat(65)]) expect(() => validServiceName(bad)).toThrow(/service name/);
    expect(validVersion('v0.23.2')).toBe('0.23.2');
    for (const bad of ['0.23', '../0.1.0', '0.1.0/../../x', '1.2.3-rc1']) expect(() => validVersion(bad)).toThrow(/version/);
  });
});

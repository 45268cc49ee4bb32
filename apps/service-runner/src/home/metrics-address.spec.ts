import { describe, expect, it } from 'vitest';
import { metricsAddressInArgs, metricsAddressOf } from './metrics-address';

describe('metricsAddressOf', () => {
  it('takes the command-line flag first, in either form, the last one winning', () => {
    expect(metricsAddressInArgs(['rpcprovider', 'c.yml', '--metrics-listen-address', '127.0.0.1:7780'])).toBe('127.0.0.1:7780');
    expect(metricsAddressInArgs(['--metrics-listen-address=:7781', '--geolocation', '1'])).toBe(':7781');
    expect(metricsAddressInArgs(['--metrics-listen-address=:1', '--metrics-listen-address', ':2'])).toBe(':2');
    expect(metricsAddressOf({ args: ['--metrics-listen-address', ':7780'], configPath: '/x.yml' }, () => 'metrics-listen-address: ":9999"\n')).toBe(':7780');
  });

  it("falls back to the config file's metrics-listen-address", () => {
    expect(metricsAddressOf({ args: ['rpcconsumer', '/c.yml'], configPath: '/c.yml' }, () => 'endpoints: []\nmetrics-listen-address: "[::1]:7779"\n')).toBe('[::1]:7779');
  });

  it('has none without either, with an unreadable config, or with an address that is not [host]:port', () => {
    expect(metricsAddressOf({ args: [], configPath: '/c.yml' }, () => 'endpoints: []\n')).toBeUndefined();
    expect(metricsAddressOf({ args: [], configPath: '/c.yml' }, () => {
      throw new Error('ENOENT');
    })).toBeUndefined();
    expect(metricsAddressOf({ args: ['--metrics-listen-address', 'http://x:1/metrics'], configPath: '/c.yml' }, () => '')).toBeUndefined();
    expect(metricsAddressOf({ args: [], configPath: '/c.yml' }, () => 'metrics-listen-address: 7779\n')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { UsageError, type BusConfig } from '@fleetvisor/platform';
import { withLogFlags } from './common';

const core = { logLevel: 'info', logFormat: 'auto' } as BusConfig;

describe("the runner commands' log flags (LavaVisor: --log_level, --log_format)", () => {
  it('override the configured level and format; LavaVisor/zerolog words map to ours', () => {
    expect(withLogFlags(core, { 'log-level': 'debug', 'log-format': 'json' })).toMatchObject({ logLevel: 'debug', logFormat: 'json' });
    expect(withLogFlags(core, { 'log-level': 'warning' }).logLevel).toBe('warn');
    expect(withLogFlags(core, { 'log-level': 'panic' }).logLevel).toBe('fatal');
    expect(withLogFlags(core, {})).toMatchObject({ logLevel: 'info', logFormat: 'auto' });
  });

  it('refuse other words as a usage error naming the flag and the choices', () => {
    expect(() => withLogFlags(core, { 'log-level': 'loud' })).toThrow(UsageError);
    expect(() => withLogFlags(core, { 'log-level': 'loud' })).toThrow(/--log-level must be one of trace, debug, info, warn, error, fatal, silent, got "loud"/);
    expect(() => withLogFlags(core, { 'log-format': 'xml' })).toThrow(/--log-format must be json, pretty or auto/);
  });
});

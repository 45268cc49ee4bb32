import { describe, expect, it } from 'vitest';
import { createLogger } from '@fleetvisor/platform';
import { RpcAnswerError, type ChainConnector, type ChainRpc } from './chain-rpc';
import { AllEndpointsFailedError, EndpointPool } from './endpoint-pool';

const logger = createLogger({ name: 'test', level: 'silent', format: 'json' });

/** Endpoints that are down, that answer every query with an error code, or that answer at a height. */
function connector(behaviour: Record<string, 'down' | 'refuses' | number>): ChainConnector {
  return {
    rpc: (endpoint): ChainRpc => {
      // Read at each call: a test changes an endpoint's behaviour as it goes.
      const answer = async <T>(value: T): Promise<T> => {
        if (behaviour[endpoint] === 'down') throw new Error(`${endpoint}: connection refused`);
        if (behaviour[endpoint] === 'refuses') throw new RpcAnswerError('code 26', { code: 26 });
        return value;
      };
      const height = (): number => {
        const b = behaviour[endpoint];
        return typeof b === 'number' ? b : 0;
      };
      return {
        status: async () => answer({ chainId: 'c1', height: height(), time: new Date() }),
        blockEvents: () => answer([]),
        abciQuery: (_path, height) => answer({ value: new Uint8Array(0), height: height ?? 0 }),
        close: () => undefined,
      };
    },
    subscribe: () => Promise.reject(new Error('unused')),
  };
}

describe('EndpointPool', () => {
  it('fails over in configured order on transport errors, counting them, and says so once', async () => {
    const switches: string[] = [];
    const pool = new EndpointPool({ chainId: 'c1', endpoints: ['http://a', 'http://b', 'http://c'], connector: connector({ 'http://a': 'down', 'http://b': 'down', 'http://c': 7 }), logger, onSwitch: () => switches.push(pool.current) });
    expect((await pool.call((rpc) => rpc.status())).height).toBe(7);
    expect(pool).toMatchObject({ current: 'http://c', onPreferred: false, rpcErrors: 2 });
    expect(switches).toEqual(['http://c']);
  });

  it('does not fail over on an answer with an error code (the node answered)', async () => {
    const pool = new EndpointPool({ chainId: 'c1', endpoints: ['http://a', 'http://b'], connector: connector({ 'http://a': 'refuses', 'http://b': 7 }), logger, onSwitch: () => undefined });
    await expect(pool.call((rpc) => rpc.abciQuery('/x', 5))).rejects.toBeInstanceOf(RpcAnswerError);
    expect(pool).toMatchObject({ current: 'http://a', rpcErrors: 0 });
  });

  it('throws AllEndpointsFailedError when none answers', async () => {
    const pool = new EndpointPool({ chainId: 'c1', endpoints: ['http://a', 'http://b'], connector: connector({ 'http://a': 'down', 'http://b': 'down' }), logger, onSwitch: () => undefined });
    await expect(pool.call((rpc) => rpc.status())).rejects.toThrow(AllEndpointsFailedError);
  });

  it('takes the preferred endpoint back once it answers and is not behind', async () => {
    const behaviour: Record<string, 'down' | number> = { 'http://a': 'down', 'http://b': 20 };
    const pool = new EndpointPool({ chainId: 'c1', endpoints: ['http://a', 'http://b'], connector: connector(behaviour), logger, onSwitch: () => undefined });
    await pool.call((rpc) => rpc.status());
    expect(pool.onPreferred).toBe(false);
    await pool.probePreferred(20);
    expect(pool.onPreferred).toBe(false);
    behaviour['http://a'] = 15; // answers, but five blocks behind what was processed
    await pool.probePreferred(20);
    expect(pool.onPreferred).toBe(false);
    behaviour['http://a'] = 19;
    await pool.probePreferred(20);
    expect(pool).toMatchObject({ onPreferred: true, current: 'http://a' });
  });
});

import { describe, expect, it } from 'vitest';
import { clusterNodes } from './nats-config.command';

describe('nats-config --cluster / --node', () => {
  it('is one server without --cluster, and refuses --node without it', () => {
    expect(clusterNodes(undefined, undefined, undefined)).toBeUndefined();
    expect(() => clusterNodes(undefined, ['n1=h1'], undefined)).toThrow(/need --cluster/);
  });

  it('reads NAME=HOST[:ROUTE_PORT] with 6222 by default, and a node-local client address', () => {
    expect(clusterNodes('fleet', ['n1=nats-1', 'n2=10.0.0.2:7222', 'n3=[::1]:6223'], ['n1=127.0.0.1:14222'])).toEqual({
      cluster: 'fleet',
      list: [
        { name: 'n1', host: 'nats-1', routePort: 6222, listen: '127.0.0.1:14222' },
        { name: 'n2', host: '10.0.0.2', routePort: 7222 },
        { name: 'n3', host: '[::1]', routePort: 6223 },
      ],
    });
  });

  it('refuses fewer than three nodes, a node twice, bad specs and an unknown --node-listen', () => {
    expect(() => clusterNodes('fleet', ['n1=a', 'n2=b'], undefined)).toThrow(/at least three --node/);
    expect(() => clusterNodes('fleet', ['n1=a', 'n1=b', 'n3=c'], undefined)).toThrow(/n1 given twice/);
    expect(() => clusterNodes('fleet', ['n1=a', 'n2', 'n3=c'], undefined)).toThrow(/expected NAME=HOST\[:ROUTE_PORT\], got "n2"/);
    expect(() => clusterNodes('fleet', ['n1=a', 'n2=b:99999', 'n3=c'], undefined)).toThrow(/route port out of range/);
    expect(() => clusterNodes('fleet', ['n1=a', 'n2=b', 'n3=c'], ['n9=127.0.0.1:1'])).toThrow(/--node-listen/);
    expect(() => clusterNodes('bad name', ['n1=a', 'n2=b', 'n3=c'], undefined)).toThrow(/not a valid cluster name/);
  });
});

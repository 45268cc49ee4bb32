// BlockFeed with a fake connector on fake timers: reconnect backoff, polling while the socket is
// down, and a silent socket counted as dropped.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@fleetvisor/platform';
import { BlockFeed } from './block-feed';
import type { BlockHandlers, ChainConnector, NewBlock } from './chain-rpc';
import { EndpointPool } from './endpoint-pool';

const logger = createLogger({ name: 'test', level: 'silent', format: 'json' });
const settings = { pollIntervalMs: 1_000, wsRetryMinMs: 100, wsRetryMaxMs: 500, wsStallMs: 3_000 };

class FakeConnector implements ChainConnector {
  subscribeAt: number[] = [];
  polls = 0;
  accept = false;
  handlers: BlockHandlers | undefined;
  closed = 0;
  rpc() {
    return {
      status: async () => {
        this.polls++;
        return { chainId: 'c1', height: 7, time: new Date(0) };
      },
      blockEvents: async () => [],
      abciQuery: async () => ({ value: new Uint8Array(0), height: 0 }),
      close: () => undefined,
    };
  }
  subscribe(_endpoint: string, handlers: BlockHandlers) {
    this.subscribeAt.push(Date.now());
    if (!this.accept) return Promise.reject(new Error('connection refused'));
    this.handlers = handlers;
    return Promise.resolve({ close: () => void this.closed++ });
  }
}

let feed: BlockFeed | undefined;
beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => {
  feed?.stop();
  vi.useRealTimers();
});

function start(connector: FakeConnector, blocks: NewBlock[] = [], ws: boolean[] = []): BlockFeed {
  const endpoints = new EndpointPool({ chainId: 'c1', endpoints: ['http://a'], connector, logger, onSwitch: () => undefined });
  feed = new BlockFeed({ chainId: 'c1', connector, endpoints, settings, logger, onBlock: (b) => void blocks.push(b), onPollProblem: () => undefined, onWebSocket: (up) => ws.push(up) });
  feed.start();
  return feed;
}

describe('BlockFeed', () => {
  it('polls while the socket cannot subscribe and retries it with capped exponential backoff', async () => {
    const chain = new FakeConnector();
    const blocks: NewBlock[] = [];
    start(chain, blocks);
    await vi.advanceTimersByTimeAsync(0);
    expect(blocks.map((b) => b.height)).toEqual([7]); // a poll right away
    await vi.advanceTimersByTimeAsync(2_000);
    expect(chain.subscribeAt).toEqual([0, 100, 300, 700, 1_200, 1_700]);
    expect(chain.polls).toBe(3); // at 0, 1000, 2000

    chain.accept = true;
    await vi.advanceTimersByTimeAsync(500);
    expect(feed!.webSocketUp).toBe(true);
    const polls = chain.polls;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(chain.polls, 'no polling while subscribed').toBe(polls);
  });

  it('counts a silent socket as dropped: polling, then a fresh subscription', async () => {
    const chain = new FakeConnector();
    chain.accept = true;
    const ws: boolean[] = [];
    start(chain, [], ws);
    await vi.advanceTimersByTimeAsync(0);
    expect(feed!.webSocketUp).toBe(true);
    await vi.advanceTimersByTimeAsync(2_000);
    chain.handlers!.onBlock({ height: 8, time: new Date() }); // a block re-arms the stall timer
    await vi.advanceTimersByTimeAsync(2_999);
    expect(feed!.webSocketUp).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(ws).toEqual([true, false]);
    expect(chain.closed).toBe(1);
    expect(chain.polls).toBe(1);
    await vi.advanceTimersByTimeAsync(100);
    expect(chain.subscribeAt).toHaveLength(2);
    expect(ws).toEqual([true, false, true]);
  });
});

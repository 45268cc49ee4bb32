// Own-node confirmation against the devnet node (CometBFT JSON-RPC): Params at the event's height,
// not the latest (the node keeps every height's state), CurrentPlan for a plan, and a node that
// cannot answer (errors, unreachable, a height it has not reached) as "cannot tell yet".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEventFor, UpgradePlanned, VersionChanged, type ProtocolVersion } from '@fleetvisor/contracts';
import { startDevnetChain, type DevnetChain } from '@fleetvisor/devnet';
import { freePort } from '@fleetvisor/testing';
import { abciQueryAt, NodeConfirmer } from './node-confirmation';
import { LAVA_PARAMS_PATH, decodeLavaProtocolVersion } from '@fleetvisor/lava';

const V1: ProtocolVersion = { providerTarget: '0.21.0', providerMin: '0.20.0', consumerTarget: '0.21.0', consumerMin: '0.20.0' };
const V2: ProtocolVersion = { providerTarget: '0.22.0', providerMin: '0.21.0', consumerTarget: '0.22.0', consumerMin: '0.21.0' };
const changed = (chainId: string, height: number, current: ProtocolVersion) => newEventFor(VersionChanged, { chainId, height, previous: null, current });

let chain: DevnetChain;
beforeAll(async () => {
  chain = await startDevnetChain({ chainId: 'lava-confirm-1', blockTimeMs: 100, version: V1 });
});
afterAll(async () => chain?.stop());

describe('NodeConfirmer (devnet)', () => {
  it('answers Params at the height asked, not the latest', async () => {
    const { height } = await chain.setVersion(V2);
    await chain.waitForHeight(height + 2);
    const at = async (h: number) => decodeLavaProtocolVersion((await abciQueryAt(chain.rpcUrl, LAVA_PARAMS_PATH, h, 2_000)).value);
    expect(await at(height - 1)).toEqual(V1);
    expect(await at(height)).toEqual(V2);
    expect((await abciQueryAt(chain.rpcUrl, LAVA_PARAMS_PATH, height - 1, 2_000)).height).toBe(height - 1);

    const node = new NodeConfirmer(chain.rpcUrl, 2_000);
    expect(await node.confirm(changed(chain.chainId, height, V2))).toEqual({ kind: 'confirmed' });
    // The version the chain had at that height was V1: an event saying V1 changed there is false.
    expect(await node.confirm(changed(chain.chainId, height, V1))).toMatchObject({ kind: 'mismatch', reason: expect.stringContaining(`at height ${height}`) });
    // A forged "older targets at a high height": the node has not reached it, so it cannot confirm it (yet).
    expect(await node.confirm(changed(chain.chainId, height + 1_000_000, V1))).toMatchObject({ kind: 'unavailable', reason: expect.stringContaining('height in the future') });
  });

  it('confirms a plan the chain has, refuses one it has not', async () => {
    const info = 'https://example.org/v3';
    const plan = { name: 'v3.0.0', height: chain.height() + 10_000, info };
    await chain.scheduleUpgrade(plan);
    const node = new NodeConfirmer(chain.rpcUrl, 2_000);
    expect(await node.confirm(newEventFor(UpgradePlanned, { chainId: chain.chainId, ...plan }))).toEqual({ kind: 'confirmed' });
    expect(await node.confirm(newEventFor(UpgradePlanned, { chainId: chain.chainId, ...plan, info: 'https://evil.example/v3' }))).toMatchObject({ kind: 'mismatch' });
  });

  it('a node that fails or is not there cannot confirm: unavailable, never a mismatch', async () => {
    const { height } = await chain.setVersion(V1);
    const node = new NodeConfirmer(chain.rpcUrl, 2_000);
    chain.faults.failResponses(Infinity, ['abci_query']);
    try {
      expect(await node.confirm(changed(chain.chainId, height, V1))).toMatchObject({ kind: 'unavailable' });
    } finally {
      chain.faults.reset();
    }
    expect(await node.confirm(changed(chain.chainId, height, V1))).toEqual({ kind: 'confirmed' });
    const nowhere = new NodeConfirmer(`http://127.0.0.1:${await freePort()}`, 1_000);
    expect(await nowhere.confirm(changed(chain.chainId, height, V1))).toMatchObject({ kind: 'unavailable', reason: expect.stringContaining('unreachable') });
  });
});

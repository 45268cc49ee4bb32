// `fleetvisor devnet …` as an operator runs it: a real node process, driven by the CLI, observed
// through CosmJS like any chain client.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createProtobufRpcClient, QueryClient } from '@cosmjs/stargate';
import { Comet38Client, connectComet } from '@cosmjs/tendermint-rpc';
import { decodeLavaParamsResponse, LAVA_PARAMS_QUERY_PATH, LavaParamsDecodeError } from '@fleetvisor/devnet';
import { freePort, waitFor, inheritedEnvironment } from '@fleetvisor/testing';
import { QueryClientImpl as UpgradeQuery } from 'cosmjs-types/cosmos/upgrade/v1beta1/query';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const BIN = path.resolve(__dirname, '../../../../bin/fleetvisor.js');
const baseEnv = { ...inheritedEnvironment(), FLEETVISOR_LOG_FORMAT: 'json', FLEETVISOR_LOG_LEVEL: 'info' };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...baseEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const V2 = ['--provider-target', '0.23.2', '--provider-min', '0.22.0', '--consumer-target', '0.23.4', '--consumer-min', '0.22.1'];

let node: ChildProcess;
let nodeOut = '';
let nodeErr = '';
let nodeExit: Promise<number | null>;
let rpcUrl = '';
let client: Comet38Client;

beforeAll(async () => {
  node = spawn(process.execPath, [BIN, 'devnet', 'start', '--port', '0', '--block-time', '200ms', '--chain-id', 'lava-e2e-1', '--initial-height', '40', '--json'], {
    env: baseEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  node.stdout!.on('data', (d: Buffer) => (nodeOut += d.toString()));
  node.stderr!.on('data', (d: Buffer) => (nodeErr += d.toString()));
  nodeExit = new Promise((resolve) => node.on('close', (code) => resolve(code)));
  await waitFor(() => nodeOut.includes('\n'), { timeoutMs: 30_000, message: `devnet did not print its URL; stderr: ${nodeErr}` });
  const where = JSON.parse(nodeOut.split('\n')[0]!) as { rpcUrl: string; chainId: string };
  expect(where.chainId).toBe('lava-e2e-1');
  rpcUrl = where.rpcUrl;
  const c = await connectComet(rpcUrl);
  if (!(c instanceof Comet38Client)) throw new Error('devnet not detected as CometBFT 0.38');
  client = c;
});

afterAll(async () => {
  client?.disconnect();
  if (node && node.exitCode === null) node.kill('SIGKILL');
});

async function paramsAt(height?: number) {
  const qc = new QueryClient(client);
  const res = await qc.queryAbci(LAVA_PARAMS_QUERY_PATH, new Uint8Array(0), height);
  return decodeLavaParamsResponse(res.value);
}

describe('fleetvisor devnet', () => {
  it('start serves the chain under the given id from the given height', async () => {
    const status = await client.status();
    expect(status.nodeInfo.network).toBe('lava-e2e-1');
    expect(status.syncInfo.earliestBlockHeight).toBe(40);
    expect(await paramsAt()).toEqual({ providerTarget: '0.21.0', providerMin: '0.20.0', consumerTarget: '0.21.0', consumerMin: '0.20.0' });
  });

  it('set-version changes the params in the block it prints, with lava_param_change in that block', async () => {
    const r = await run(['devnet', 'set-version', ...V2, '--node', rpcUrl, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { height } = JSON.parse(r.stdout) as { height: number };
    const expected = { providerTarget: '0.23.2', providerMin: '0.22.0', consumerTarget: '0.23.4', consumerMin: '0.22.1' };
    expect(await paramsAt(height)).toEqual(expected);
    expect((await paramsAt(height - 1)).providerTarget).toBe('0.21.0');
    const results = await client.blockResults(height);
    expect(results.finalizeBlockEvents.find((e) => e.type === 'lava_param_change')?.attributes).toContainEqual({ key: 'param', value: 'Version' });
    // The node logged the change at info on stderr.
    await waitFor(() => nodeErr.includes('"msg":"lava_param_change"'));
    const line = nodeErr.split('\n').find((l) => l.includes('"msg":"lava_param_change"'))!;
    expect(JSON.parse(line)).toMatchObject({ height, param: 'Version' });
  });

  it('set-version refuses what the chain would refuse, unless --unchecked; FLEETVISOR_DEVNET_URL sets the node', async () => {
    const before = await paramsAt();
    const bad = await run(['devnet', 'set-version', '--provider-target', '0.23', '--provider-min', '0.22.0', '--consumer-target', '0.23.2', '--consumer-min', '0.24.0', '--node', rpcUrl]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--provider-target must be X\.Y\.Z, got "0\.23"/);
    const missing = await run(['devnet', 'set-version', '--provider-target', '1.0.0', '--node', rpcUrl]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing --provider-min, --consumer-target, --consumer-min/);
    expect(await paramsAt()).toEqual(before);

    const unchecked = await run(['devnet', 'set-version', '--provider-target', 'banana', '--provider-min', '0.22.0', '--consumer-target', '0.23.2', '--consumer-min', '0.22.0', '--unchecked'], { FLEETVISOR_DEVNET_URL: rpcUrl });
    expect(unchecked.code, unchecked.stderr).toBe(0);
    expect(unchecked.stdout).toMatch(/version params changed in block \d+/);
    expect((await paramsAt()).providerTarget).toBe('banana');
  });

  it('schedule-upgrade and cancel-upgrade drive x/upgrade CurrentPlan', async () => {
    const upgrade = new UpgradeQuery(createProtobufRpcClient(new QueryClient(client)));
    const info = '{"binaries":{"linux/amd64":"http://127.0.0.1:1/lavap?checksum=sha256:00"}}';
    const r = await run(['devnet', 'schedule-upgrade', '--name', 'v5', '--height', '900', '--info', info, '--node', rpcUrl, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((await upgrade.CurrentPlan({})).plan).toMatchObject({ name: 'v5', height: 900n, info });
    const bad = await run(['devnet', 'schedule-upgrade', '--name', 'v6', '--height', 'soon', '--node', rpcUrl]);
    expect(bad.code).toBe(2);
    expect((await upgrade.CurrentPlan({})).plan?.name).toBe('v5');
    const c = await run(['devnet', 'cancel-upgrade', '--node', rpcUrl]);
    expect(c.code, c.stderr).toBe(0);
    expect((await upgrade.CurrentPlan({})).plan).toBeUndefined();
  });

  it('fault switches malformed params on and off; status shows the state', async () => {
    const on = await run(['devnet', 'fault', '--malformed-params', 'on', '--node', rpcUrl]);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toMatch(/malformed params\s+ON/);
    await expect(paramsAt()).rejects.toThrow(LavaParamsDecodeError);
    const status = await run(['devnet', 'status', '--node', rpcUrl, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ chainId: 'lava-e2e-1', faults: { malformedParams: true } });
    const off = await run(['devnet', 'fault', '--reset', '--node', rpcUrl]);
    expect(off.code).toBe(0);
    await expect(paramsAt()).resolves.toMatchObject({ providerTarget: 'banana' });
  });

  it('client commands explain an unreachable node', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await run(['devnet', 'status', '--node', url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach the devnet node at ${url} (set by --node)`);
  });

  it('start stops cleanly on SIGTERM', async () => {
    node.kill('SIGTERM');
    expect(await nodeExit).toBe(0);
    expect(nodeErr).toMatch(/"msg":"stopping devnet"/);
  });
});

// `fleetvisor devnet filecoin start`: run the simulated Filecoin node of the proving watch
// (libs/devnet, Lotus JSON-RPC on /rpc/v1, trouble injected on /control) in the foreground until
// SIGINT/SIGTERM. Prints where it listens on stdout.
import { defineCliCommand, parseDuration, UsageError } from '@fleetvisor/platform';
import { jsonOption, positiveInt } from './devnet-shared';

const MINER = /^[ft]0[0-9]{1,20}$/;

export const devnetFilecoinStartCommand = defineCliCommand({
  path: ['devnet', 'filecoin', 'start'],
  summary: 'Run a simulated Filecoin node (Lotus JSON-RPC: deadlines, partitions, faults) for the proving watch',
  description:
    'Serves Filecoin.ChainHead, StateMinerProvingDeadline, StateMinerDeadlines, StateMinerPartitions, StateMinerFaults, ' +
    'StateMinerRecoveries and StateMinerInfo in Lotus JSON shapes on POST /rpc/v1, with an epoch every --epoch. Trouble is ' +
    'injected on POST /control: {"action":"fault","miner":"t01000","sectors":[13]}, {"action":"recover",…}, ' +
    '{"action":"miss","miner":"t01000","deadline":2}; GET /control shows the state. Runs until interrupted.',
  options: {
    host: { type: 'string', description: 'address to listen on', default: '127.0.0.1', placeholder: 'addr' },
    port: { type: 'string', description: 'port to listen on (0 = any free port)', default: '1234', placeholder: 'port' },
    epoch: { type: 'string', description: 'epoch length, e.g. 1s, 200ms (mainnet: 30s)', default: '1s', placeholder: 'duration' },
    miners: { type: 'string', description: 'miner ids, comma-separated', default: 't01000,t01001', placeholder: 'ids' },
    deadlines: { type: 'string', description: 'deadlines per proving period (WPoStPeriodDeadlines)', default: '48', placeholder: 'n' },
    window: { type: 'string', description: 'epochs per deadline (WPoStChallengeWindow)', default: '60', placeholder: 'n' },
    partitions: { type: 'string', description: 'partitions per deadline', default: '1', placeholder: 'n' },
    sectors: { type: 'string', description: 'sectors per partition', default: '4', placeholder: 'n' },
    json: { ...jsonOption, description: 'print the URLs as one JSON line' },
  },
  examples: ['fleetvisor devnet filecoin start', 'fleetvisor devnet filecoin start --port 0 --epoch 200ms --deadlines 4 --window 5 --json'],
  async run({ options, io }) {
    const epochMs = parseDuration(options.epoch);
    if (epochMs === undefined || epochMs < 10) throw new UsageError(`--epoch must be a duration of at least 10ms, got "${options.epoch}"`);
    const port = Number(options.port);
    if (!/^\d+$/.test(options.port) || port > 65535) throw new UsageError(`--port must be 0-65535, got "${options.port}"`);
    const miners = options.miners.split(',').map((m) => m.trim()).filter((m) => m !== '');
    const bad = miners.find((m) => !MINER.test(m));
    if (miners.length === 0 || bad !== undefined) throw new UsageError(`--miners must be miner ID addresses such as t01000${bad ? `, got "${bad}"` : ''}`);
    const periodDeadlines = positiveInt(options.deadlines, '--deadlines') ?? 48;
    const challengeWindow = positiveInt(options.window, '--window') ?? 60;
    if (challengeWindow < 2) throw new UsageError('--window must be at least 2 epochs');
    const partitionsPerDeadline = positiveInt(options.partitions, '--partitions') ?? 1;
    const sectorsPerPartition = positiveInt(options.sectors, '--sectors') ?? 4;
    const { startProvingNode } = await import('@fleetvisor/devnet');
    const node = await startProvingNode({
      host: options.host,
      port,
      epochMs,
      params: { periodDeadlines, challengeWindow },
      miners: miners.map((id) => ({ id, partitionsPerDeadline, sectorsPerPartition })),
    });
    const controlUrl = node.url.replace(/\/rpc\/v1$/, '/control');
    const where = { rpcUrl: node.url, controlUrl, epochMs, miners, height: node.chain.height };
    io.out(options.json ? JSON.stringify(where) + '\n' : `filecoin devnet running: rpc ${node.url}  control ${controlUrl}\n  epoch ${epochMs} ms, miners ${miners.join(', ')}\n  stop with Ctrl-C\n`);
    await io.interrupted;
    await node.close();
    return 0;
  },
});

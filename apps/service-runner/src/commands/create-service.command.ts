import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { createService } from '../home/create-service';
import { BinaryStore } from '../upgrades/binary-store';
import { directoryOption, jsonOption, setup } from './common';
import { flushOnce, openRecorder } from './one-shot';

export const createServiceCommand = defineCliCommand({
  path: ['create-service'],
  args: 'provider|consumer <config.yml>',
  summary: 'define a lavap provider or consumer service from its config file (validated), add it to config.yml',
  description:
    'The service is named <from>-<chain-id of the first endpoint> (e.g. provider1-LAV1, consumer-ETH1) and runs\n' +
    '`lavap rpcprovider|rpcconsumer <config> --from .. --keyring-backend .. --parallel-connections .. --chain-id .. --geolocation .. --log_level .. --node ..`.\n' +
    'Running it again with the same input changes nothing. A running runner picks the service up at its next start.',
  options: {
    ...directoryOption,
    geolocation: { type: 'string', description: 'geolocation (required)', placeholder: 'n' },
    from: { type: 'string', description: 'key name that signs (required)', placeholder: 'key' },
    'keyring-backend': { type: 'string', description: 'os, file, kwallet, pass, test, memory (required)', placeholder: 'backend' },
    'chain-id': { type: 'string', description: 'Lava chain id (default: the home\'s)', placeholder: 'id' },
    node: { type: 'string', description: 'Lava node RPC (default: the home\'s)', placeholder: 'rpc' },
    'log-level': { type: 'string', description: 'lavap log level', default: 'debug', placeholder: 'level' },
    'parallel-connections': { type: 'string', description: 'lavap --parallel-connections', default: '10', placeholder: 'n' },
    ...jsonOption,
  },
  examples: ['fleetvisor create-service provider ./provider1-LAV1.yml --geolocation 1 --from provider1 --keyring-backend test --chain-id lava-testnet-2'],
  async run(ctx) {
    const [role, file] = ctx.positionals;
    if (!role || !file || ctx.positionals.length > 2) throw new UsageError('expected: create-service provider|consumer <config.yml>');
    const o = ctx.options;
    for (const req of ['geolocation', 'from', 'keyring-backend'] as const) if (!o[req]) throw new UsageError(`--${req} is required`);
    const { config, home, logger } = setup(o.directory);
    const { spool, recorder } = openRecorder(home, config.core);
    const res = createService(home, new BinaryStore(home), recorder, {
      role,
      configFile: file,
      from: o.from!,
      geolocation: o.geolocation!,
      keyringBackend: o['keyring-backend']!,
      ...(o['chain-id'] ? { chainId: o['chain-id'] } : {}),
      ...(o.node ? { node: o.node } : {}),
      logLevel: o['log-level'],
      parallelConnections: o['parallel-connections'],
    });
    const pending = await flushOnce(spool, config.core, logger);
    if (o.json) ctx.io.out(JSON.stringify({ service: res.name, outcome: res.outcome, linkedVersion: res.linkedVersion ?? null, spooledEvents: pending }) + '\n');
    else ctx.io.out(`${res.outcome} ${res.name} (${role}, ${res.linkedVersion ? `binary v${res.linkedVersion}` : 'no binary linked'})${pending ? `; ${pending} event(s) spooled until the log is reachable` : ''}\n`);
    return 0;
  },
});

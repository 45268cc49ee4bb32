import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import type { ServiceStatus } from '@fleetvisor/contracts';
import { createService } from '../home/create-service';
import { controlRequest, type ControlReply } from '../supervision/control-socket';
import { BinaryStore } from '../upgrades/binary-store';
import { chainIdAliases, directoryOption, jsonOption, LAVAVISOR_FLAGS, setup } from './common';
import { flushOnce, openRecorder } from './one-shot';

type RunnerTook =
  | { outcome: 'started'; pid: number | null; state: string }
  | { outcome: 'already-supervised' }
  | { outcome: 'no-runner' }
  | { outcome: 'refused'; error: string };

/**
 * Tells the runner running for this home, if any, to take the service up now. The socket exists
 * exactly while a runner serves this home, and its answer says whether the service was started.
 */
async function handToRunner(socket: string, service: string): Promise<RunnerTook> {
  let reply: ControlReply;
  try {
    reply = await controlRequest(socket, { op: 'add', service });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return { outcome: 'no-runner' };
    return { outcome: 'refused', error: (e as Error).message };
  }
  if (!reply.ok) return { outcome: 'refused', error: reply.error };
  const r = reply.result as { outcome: 'started' | 'already-supervised'; status?: ServiceStatus };
  if (r.outcome === 'already-supervised') return { outcome: 'already-supervised' };
  return { outcome: 'started', pid: r.status?.pid ?? null, state: r.status?.state ?? 'unknown' };
}

function runnerText(r: RunnerTook, created: string, socket: string): string {
  switch (r.outcome) {
    case 'started':
      return `the running runner took it: ${r.state}${r.pid ? ` (pid ${r.pid})` : ''}`;
    case 'already-supervised':
      return created === 'updated'
        ? 'the running runner supervises it with its previous definition: restart the runner (`fleetvisor start`) to apply the change'
        : 'the running runner already supervises it';
    case 'no-runner':
      return `no runner is running for this home (${socket}): \`fleetvisor start\` starts it`;
    case 'refused':
      return `the running runner did not take it: ${r.error}; it starts with the runner's next start`;
  }
}

export const createServiceCommand = defineCliCommand({
  path: ['create-service'],
  args: 'provider|consumer <config.yml>',
  summary: 'define a lavap provider or consumer service from its config file (validated), add it to config.yml',
  description:
    'The service is named <from>-<chain-id of the first endpoint> (e.g. provider1-LAV1, consumer-ETH1) and runs\n' +
    '`lavap rpcprovider|rpcconsumer <config> --from .. --keyring-backend .. --parallel-connections .. --chain-id .. --geolocation .. --log_level .. --node ..`.\n' +
    'Running it again with the same input changes nothing. A runner running for this home is handed the new service over its\n' +
    'control socket and starts it at once; the output says whether it did.',
  options: {
    ...directoryOption,
    geolocation: { type: 'string', description: 'geolocation (required)', placeholder: 'n' },
    from: { type: 'string', description: 'key name that signs (required)', placeholder: 'key' },
    'keyring-backend': { type: 'string', description: 'os, file, kwallet, pass, test, memory (required)', placeholder: 'backend' },
    'chain-id': { type: 'string', description: 'Lava chain id (default: the home\'s)', placeholder: 'id', aliases: chainIdAliases },
    node: { type: 'string', description: 'Lava node RPC (default: the home\'s)', placeholder: 'rpc' },
    'log-level': { type: 'string', description: 'lavap log level', default: 'debug', placeholder: 'level', aliases: ['log_level'] },
    'parallel-connections': { type: 'string', description: 'lavap --parallel-connections', default: '10', placeholder: 'n' },
    ...jsonOption,
  },
  aliasesNote: LAVAVISOR_FLAGS,
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
    const runner = await handToRunner(home.socketPath, res.name);
    if (o.json) ctx.io.out(JSON.stringify({ service: res.name, outcome: res.outcome, linkedVersion: res.linkedVersion ?? null, spooledEvents: pending, runner }) + '\n');
    else {
      ctx.io.out(`${res.outcome} ${res.name} (${role}, ${res.linkedVersion ? `binary v${res.linkedVersion}` : 'no binary linked'})${pending ? `; ${pending} event(s) spooled until the log is reachable` : ''}\n`);
      ctx.io.out(`${runnerText(runner, res.outcome, home.socketPath)}\n`);
    }
    return 0;
  },
});

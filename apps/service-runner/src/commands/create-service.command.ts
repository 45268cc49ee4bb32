import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import type { ServiceStatus } from '@fleetvisor/contracts';
import { createService, type CreateServiceResult } from '../home/create-service';
import { createVenusService, isVenusKind, VENUS_KINDS } from '../home/create-venus-service';
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
  args: `provider|consumer <config.yml> | ${VENUS_KINDS.join('|')}`,
  summary: 'define a lavap provider or consumer from its config file (validated), or a venus component; add it to config.yml',
  description: [
    'lavap: the service is named <from>-<chain-id of the first endpoint> (e.g. provider1-LAV1, consumer-ETH1) and runs `lavap rpcprovider|rpcconsumer <config> --from .. --keyring-backend .. --parallel-connections .. --chain-id .. --geolocation .. --log_level .. --node ..`.',
    `Venus components (${VENUS_KINDS.join(', ')}): --cmd "<absolute binary> <args>" and --config <its config file> (its folder is the working directory). The kind brings the health probe (JSON-RPC on its default address, or --probe-address), the log patterns that become ServiceNeedsAttention and, for venus-wallet, the password delivered through its API (needs --token-file, an admin token). Named after the kind unless --name. They follow no chain: run as they are, never upgraded by the runner.`,
    'Running it again with the same input changes nothing. A runner running for this home is handed the new service over its control socket and starts it at once; the output says whether it did.',
  ].join('\n'),
  options: {
    ...directoryOption,
    geolocation: { type: 'string', description: 'lavap: geolocation (required)', placeholder: 'n' },
    from: { type: 'string', description: 'lavap: key name that signs (required)', placeholder: 'key' },
    'keyring-backend': { type: 'string', description: 'lavap: os, file, kwallet, pass, test, memory (required)', placeholder: 'backend' },
    'chain-id': { type: 'string', description: 'Lava chain id (default: the home\'s)', placeholder: 'id', aliases: chainIdAliases },
    node: { type: 'string', description: 'Lava node RPC (default: the home\'s)', placeholder: 'rpc' },
    'log-level': { type: 'string', description: 'lavap log level', default: 'debug', placeholder: 'level', aliases: ['log_level'] },
    'parallel-connections': { type: 'string', description: 'lavap --parallel-connections', default: '10', placeholder: 'n' },
    cmd: { type: 'string', description: 'venus component: its command line, the binary by absolute path (no password in it)', placeholder: 'cmd' },
    config: { type: 'string', description: "venus component: its config file (e.g. ~/.venus_wallet/config.toml)", placeholder: 'file' },
    name: { type: 'string', description: 'venus component: the service name (default: the kind)', placeholder: 'name' },
    'token-file': { type: 'string', description: 'venus component: file with its API token (api-info form or the token; 0600); venus-wallet: admin, required', placeholder: 'file' },
    'probe-address': { type: 'string', description: "venus component: host:port of its API when not the kind's default", placeholder: 'host:port' },
    'probe-every': { type: 'string', description: 'venus component: how often its health is probed', default: '10s', placeholder: 'duration' },
    ...jsonOption,
  },
  aliasesNote: LAVAVISOR_FLAGS,
  examples: [
    'fleetvisor create-service provider ./provider1-LAV1.yml --geolocation 1 --from provider1 --keyring-backend test --chain-id lava-testnet-2',
    'fleetvisor create-service venus-wallet --cmd "/usr/local/bin/venus-wallet --repo /home/venus/.venus_wallet run" --config /home/venus/.venus_wallet/config.toml --token-file /etc/fleetvisor/wallet.token',
    'fleetvisor create-service damocles-manager --cmd "/usr/local/bin/damocles-manager daemon run" --config /home/venus/.damocles-manager/sector-manager.cfg',
  ],
  async run(ctx) {
    const [role, file] = ctx.positionals;
    const o = ctx.options;
    if (role !== undefined && isVenusKind(role)) {
      if (ctx.positionals.length > 1) throw new UsageError(`create-service ${role} takes no file argument: --config names its config file`);
      if (!o.cmd) throw new UsageError(`--cmd is required: the ${role} command line, e.g. --cmd "/usr/local/bin/${role} run"`);
      if (!o.config) throw new UsageError(`--config is required: the ${role} config file (its folder is the working directory)`);
      for (const lavapOnly of ['geolocation', 'from', 'keyring-backend'] as const) if (o[lavapOnly]) throw new UsageError(`--${lavapOnly} is for lavap services, not ${role}`);
      const { config, home, logger } = setup(o.directory);
      const { spool, recorder } = openRecorder(home, config.core);
      const res = createVenusService(home, recorder, {
        kind: role,
        cmd: o.cmd,
        configFile: o.config,
        ...(o.name ? { name: o.name } : {}),
        ...(o['token-file'] ? { tokenFile: o['token-file'] } : {}),
        ...(o['probe-address'] ? { probeAddress: o['probe-address'] } : {}),
        probeEvery: o['probe-every'],
      });
      return report(ctx, res, role, await flushOnce(spool, config.core, logger), await handToRunner(home.socketPath, res.name), home.socketPath);
    }
    if (!role || !file || ctx.positionals.length > 2) throw new UsageError(`expected: create-service provider|consumer <config.yml>, or create-service ${VENUS_KINDS.join('|')} --cmd .. --config ..`);
    for (const venusOnly of ['cmd', 'config', 'name', 'token-file', 'probe-address'] as const) if (o[venusOnly]) throw new UsageError(`--${venusOnly} is for venus components; a lavap ${role} is defined by its config file and --from, --geolocation, --keyring-backend`);
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
    return report(ctx, res, role, await flushOnce(spool, config.core, logger), await handToRunner(home.socketPath, res.name), home.socketPath);
  },
});

function report(ctx: { options: { json?: boolean | undefined }; io: { out(s: string): void } }, res: CreateServiceResult, role: string, pending: number, runner: RunnerTook, socket: string): number {
  if (ctx.options.json) {
    ctx.io.out(JSON.stringify({ service: res.name, outcome: res.outcome, linkedVersion: res.linkedVersion ?? null, spooledEvents: pending, runner }) + '\n');
    return 0;
  }
  const what = isVenusKind(role) ? `${role}, ${res.definition.command ?? ''}${res.definition.probe ? `, probed every ${res.definition.probe.everyMs / 1000} s` : ''}` : `${role}, ${res.linkedVersion ? `binary v${res.linkedVersion}` : 'no binary linked'}`;
  ctx.io.out(`${res.outcome} ${res.name} (${what})${pending ? `; ${pending} event(s) spooled until the log is reachable` : ''}\n`);
  ctx.io.out(`${runnerText(runner, res.outcome, socket)}\n`);
  return 0;
}

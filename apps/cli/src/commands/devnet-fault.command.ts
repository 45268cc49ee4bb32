// `fleetvisor devnet fault`: flip the fault switches of a running devnet (drop WebSockets, delay
// or fail answers, malformed Params bytes) and show the switches now in force.
import type { DevnetFaultsBody } from '@fleetvisor/devnet';
import { defineCliCommand, parseDuration, UsageError } from '@fleetvisor/platform';
import { adminClient, jsonOption, nodeOption } from './devnet-shared';

const methods = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((m) => m.trim()).filter(Boolean));

export function formatFaults(f: Record<string, unknown>): string {
  const list = (v: unknown) => (Array.isArray(v) ? ` (${v.join(', ')})` : ' (all methods)');
  const lines = [
    `websockets        ${f['webSocketsDropped'] ? 'DROPPED (new connections refused)' : 'allowed'}`,
    `delay             ${Number(f['delayMs']) > 0 ? `${String(f['delayMs'])} ms${list(f['delayMethods'])}` : 'off'}`,
    `fail              ${f['failRemaining'] === null ? `every request until reset${list(f['failMethods'])}` : Number(f['failRemaining']) > 0 ? `next ${String(f['failRemaining'])}${list(f['failMethods'])}` : 'off'}`,
    `malformed params  ${f['malformedParams'] ? 'ON' : 'off'}`,
  ];
  return lines.join('\n') + '\n';
}

export const devnetFaultCommand = defineCliCommand({
  path: ['devnet', 'fault'],
  summary: 'Switch fault injection on a running devnet (drop WebSockets, delay/fail answers, bad Params)',
  description: 'Switches apply from the next request on and stay until changed or --reset. Given together, --reset applies first.',
  options: {
    reset: { type: 'boolean', description: 'clear every fault switch' },
    'drop-websockets': { type: 'boolean', description: 'close open WebSockets and refuse new ones' },
    'allow-websockets': { type: 'boolean', description: 'accept WebSockets again' },
    delay: { type: 'string', description: 'delay every JSON-RPC answer by this long (0 = off)', placeholder: 'duration' },
    'delay-methods': { type: 'string', description: 'only delay these methods, e.g. abci_query,status', placeholder: 'm[,m]' },
    fail: { type: 'string', description: 'fail the next N requests (HTTP 503 / JSON-RPC error); "all" = until reset', placeholder: 'n|all' },
    'fail-methods': { type: 'string', description: 'only fail these methods', placeholder: 'm[,m]' },
    'malformed-params': { type: 'string', description: 'answer the Params query with undecodable bytes: on|off', placeholder: 'on|off' },
    node: nodeOption,
    json: jsonOption,
  },
  examples: [
    'fleetvisor devnet fault --drop-websockets',
    'fleetvisor devnet fault --delay 500ms --delay-methods abci_query',
    'fleetvisor devnet fault --fail all --fail-methods abci_query',
    'fleetvisor devnet fault --malformed-params on',
    'fleetvisor devnet fault --reset',
  ],
  async run({ options, io }) {
    const body: DevnetFaultsBody = {};
    if (options.reset) body.reset = true;
    if (options['drop-websockets'] && options['allow-websockets']) throw new UsageError('--drop-websockets and --allow-websockets contradict each other');
    if (options['drop-websockets']) body.dropWebSockets = true;
    if (options['allow-websockets']) body.dropWebSockets = false;
    if (options.delay !== undefined) {
      const ms = parseDuration(options.delay);
      if (ms === undefined) throw new UsageError(`--delay must be a duration like 500ms or 2s, got "${options.delay}"`);
      body.delayMs = ms;
      const m = methods(options['delay-methods']);
      if (m) body.delayMethods = m;
    } else if (options['delay-methods'] !== undefined) throw new UsageError('--delay-methods needs --delay');
    if (options.fail !== undefined) {
      if (options.fail === 'all') body.fail = null;
      else if (/^\d+$/.test(options.fail)) body.fail = Number(options.fail);
      else throw new UsageError(`--fail must be a number of requests or "all", got "${options.fail}"`);
      const m = methods(options['fail-methods']);
      if (m) body.failMethods = m;
    } else if (options['fail-methods'] !== undefined) throw new UsageError('--fail-methods needs --fail');
    if (options['malformed-params'] !== undefined) {
      if (options['malformed-params'] !== 'on' && options['malformed-params'] !== 'off') throw new UsageError(`--malformed-params must be on or off, got "${options['malformed-params']}"`);
      body.malformedParams = options['malformed-params'] === 'on';
    }
    const client = await adminClient(options.node);
    // No switch given: just show the current ones.
    const faults = Object.keys(body).length === 0 ? (await client.state()).faults : (await client.faults(body)).faults;
    if (options.json) io.out(JSON.stringify({ faults }) + '\n');
    else io.out(formatFaults(faults));
  },
});

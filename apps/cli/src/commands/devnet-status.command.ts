// `fleetvisor devnet status`: what a running devnet is doing: height, version params, upgrade
// plan, fault switches and the RPC requests it has answered.
import { defineCliCommand } from '@fleetvisor/platform';
import { formatFaults } from './devnet-fault.command';
import { adminClient, formatVersion, jsonOption, nodeOption } from './devnet-shared';

export const devnetStatusCommand = defineCliCommand({
  path: ['devnet', 'status'],
  summary: 'Show a running devnet: height, version params, upgrade plan, faults, request counts',
  options: { node: nodeOption, json: jsonOption },
  examples: ['fleetvisor devnet status', 'fleetvisor devnet status --node http://127.0.0.1:26657 --json'],
  async run({ options, io }) {
    const s = await (await adminClient(options.node)).state();
    if (options.json) {
      io.out(JSON.stringify(s) + '\n');
      return;
    }
    const plan = s.upgradePlan ? `"${s.upgradePlan.name}" at height ${s.upgradePlan.height}${s.upgradePlan.info ? ` (info ${s.upgradePlan.info.length > 60 ? s.upgradePlan.info.slice(0, 57) + '...' : s.upgradePlan.info})` : ''}` : 'none';
    const methods = Object.entries(s.stats.byMethod).sort(([a], [b]) => a.localeCompare(b)).map(([m, n]) => `${m} ${n}`).join(', ') || 'none';
    io.out(
      [
        `chain             ${s.chainId}`,
        `rpc               ${s.rpcUrl}  (websocket ${s.wsUrl})`,
        `height            ${s.height}  (block time ${s.blockTimeMs} ms)`,
        `version           ${formatVersion(s.version)}`,
        `upgrade plan      ${plan}`,
        `requests          ${s.stats.total}: ${methods}`,
      ].join('\n') +
        '\n' +
        formatFaults(s.faults),
    );
  },
});

// `fleetvisor devnet schedule-upgrade` / `cancel-upgrade`: set or clear the x/upgrade plan that a
// running devnet answers on /cosmos.upgrade.v1beta1.Query/CurrentPlan.
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { adminClient, jsonOption, nodeOption, positiveInt } from './devnet-shared';

export const devnetScheduleUpgradeCommand = defineCliCommand({
  path: ['devnet', 'schedule-upgrade'],
  summary: 'Set the x/upgrade plan of a running devnet (lands in the next block)',
  description:
    "Cosmovisor reads the binaries from the plan's info: " +
    '{"binaries":{"linux/amd64":"https://…/lavap?checksum=sha256:<hex>"}}. The plan stays until cancelled ' +
    '(the devnet does not halt at the upgrade height).',
  options: {
    name: { type: 'string', description: 'plan name (the upgrade handler name), e.g. v2', placeholder: 'name' },
    height: { type: 'string', description: 'height at which the upgrade must happen', placeholder: 'n' },
    info: { type: 'string', description: 'free text, usually the binaries JSON', default: '', placeholder: 'text' },
    node: nodeOption,
    json: jsonOption,
  },
  examples: [
    'fleetvisor devnet schedule-upgrade --name v2 --height 100',
    `fleetvisor devnet schedule-upgrade --name v2 --height 100 --info '{"binaries":{"linux/amd64":"http://127.0.0.1:8080/lavap?checksum=sha256:ab…"}}'`,
  ],
  async run({ options, io }) {
    if (!options.name || options.name.trim() === '') throw new UsageError('--name is required');
    const height = positiveInt(options.height, '--height');
    if (height === undefined) throw new UsageError('--height is required');
    const client = await adminClient(options.node);
    const res = await client.scheduleUpgrade({ name: options.name, height, info: options.info });
    if (options.json) io.out(JSON.stringify(res) + '\n');
    else io.out(`upgrade plan "${options.name}" at height ${height} set in block ${res.height}\n`);
  },
});

export const devnetCancelUpgradeCommand = defineCliCommand({
  path: ['devnet', 'cancel-upgrade'],
  summary: 'Clear the x/upgrade plan of a running devnet (lands in the next block)',
  options: { node: nodeOption, json: jsonOption },
  examples: ['fleetvisor devnet cancel-upgrade'],
  async run({ options, io }) {
    const client = await adminClient(options.node);
    const res = await client.clearUpgrade();
    if (options.json) io.out(JSON.stringify(res) + '\n');
    else io.out(`upgrade plan cleared in block ${res.height}\n`);
  },
});

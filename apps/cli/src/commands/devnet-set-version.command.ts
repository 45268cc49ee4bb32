// `fleetvisor devnet set-version`: change Lava's protocol version params on a running devnet,
// as a passed governance proposal would; prints the height of the block that carries the change.
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { adminClient, formatVersion, jsonOption, nodeOption, versionProblems } from './devnet-shared';

export const devnetSetVersionCommand = defineCliCommand({
  path: ['devnet', 'set-version'],
  summary: "Change Lava's protocol version params on a running devnet (lands in the next block)",
  description:
    'The change applies in the next block, whose results carry the event lava_param_change (param=Version). ' +
    'Like the chain, this refuses versions that are not strict X.Y.Z or have min above target, unless --unchecked ' +
    '(to test how watchers handle bad values).',
  options: {
    'provider-target': { type: 'string', description: 'Version.provider_target', placeholder: 'X.Y.Z' },
    'provider-min': { type: 'string', description: 'Version.provider_min', placeholder: 'X.Y.Z' },
    'consumer-target': { type: 'string', description: 'Version.consumer_target', placeholder: 'X.Y.Z' },
    'consumer-min': { type: 'string', description: 'Version.consumer_min', placeholder: 'X.Y.Z' },
    unchecked: { type: 'boolean', description: 'send the values as they are, even if the chain would refuse them' },
    node: nodeOption,
    json: jsonOption,
  },
  examples: [
    'fleetvisor devnet set-version --provider-target 0.23.2 --provider-min 0.22.0 --consumer-target 0.23.2 --consumer-min 0.22.0',
    'fleetvisor devnet set-version --provider-target 1.2 --provider-min 0.22.0 --consumer-target 0.23.2 --consumer-min 0.22.0 --unchecked --json',
  ],
  async run({ options, io }) {
    const given = {
      providerTarget: options['provider-target'],
      providerMin: options['provider-min'],
      consumerTarget: options['consumer-target'],
      consumerMin: options['consumer-min'],
    };
    const missing = Object.entries(given).filter(([, v]) => v === undefined).map(([k]) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()));
    if (missing.length) throw new UsageError(`missing ${missing.join(', ')} (all four are required, as in Lava's Version param)`);
    const version = given as { providerTarget: string; providerMin: string; consumerTarget: string; consumerMin: string };
    if (!options.unchecked) {
      const problems = versionProblems(version);
      if (problems.length) throw new UsageError(`${problems.join('; ')} (the chain would refuse it; --unchecked sends it anyway)`);
    }
    const client = await adminClient(options.node);
    const { height } = await client.setVersion(version);
    if (options.json) io.out(JSON.stringify({ height, version }) + '\n');
    else io.out(`version params changed in block ${height}: ${formatVersion(version)}\n`);
  },
});

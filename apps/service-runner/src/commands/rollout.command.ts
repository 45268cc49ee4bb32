// `fleetvisor upgrades rollout status|resume|abort [--chain-id] [--json]` (ADR 0009): the fleet-wide
// rollout of a chain's version change, as the chain-watcher's log holds it. status is a query;
// resume and abort are signed with the operator's key (role operate) and recorded with its name.
import { ChainRolloutAbort, ChainRolloutResume, ChainRolloutStatus, CHAIN_ID_PATTERN, createSubjects, type CommandDefinition, type CommandRequestOf, type RolloutView } from '@fleetvisor/contracts';
import { CommandBus, connectNats } from '@fleetvisor/messaging/core';
import { defineCliCommand, UsageError, type CliCommand, type Logger } from '@fleetvisor/platform';
import { cliSigner } from '@fleetvisor/trust';
import type { RunnerConfig } from '../config';
import { directoryOption, jsonOption, setup, table } from './common';
import { timeoutMs } from './services.command';

const chainOption = {
  'chain-id': { type: 'string', description: "the chain (status: default every watched chain; resume/abort: default this host's chain from config.yml)", placeholder: 'id' },
  timeout: { type: 'string', description: 'how long to wait for the chain-watcher (ms)', default: '5000', placeholder: 'ms' },
} as const;

async function askWatcher<C extends CommandDefinition>(config: RunnerConfig, logger: Logger, def: C, payload: CommandRequestOf<C>, timeout: number): Promise<unknown> {
  const nc = await connectNats(config.core, logger, { name: 'fleetvisor:rollout-cli' });
  try {
    const signer = def.role === undefined ? undefined : cliSigner();
    if (def.role !== undefined && !signer) throw new Error(`${def.service}.${def.verb} is signed with an operator key (role ${def.role}): set FLEETVISOR_SIGNING_KEY_FILE (\`fleetvisor keys create --role operate --name …\`)`);
    const bus = new CommandBus({ nc, subjects: createSubjects(config.core.subjectRoot), logger, ...(signer ? { signer } : {}) });
    const reply = await bus.request(def, payload, { timeoutMs: timeout });
    if (!reply.ok) throw new Error(`chain-watcher: ${reply.error.message} (${reply.error.code})`);
    return reply.result;
  } finally {
    await nc.close();
  }
}

function chainIdOf(value: string | undefined, fallback: () => string | undefined): string | undefined {
  const id = value ?? fallback();
  if (id !== undefined && !new RegExp(CHAIN_ID_PATTERN).test(id)) throw new UsageError(`--chain-id "${id}" is not a valid chain id`);
  return id;
}

/** The home's chain, when this machine has a runner home. */
function homeChain(home: { readConfig(): { chainId: string } }): string | undefined {
  try {
    return home.readConfig().chainId;
  } catch {
    return undefined;
  }
}

const vshow = (r: RolloutView): string => (r.version ? `provider ${r.version.providerTarget}, consumer ${r.version.consumerTarget}` : '-');

export function rolloutText(r: RolloutView): string {
  if (r.state === 'none') return `${r.chainId}: no rollout recorded\n`;
  const p = r.policy;
  const lines = [
    `${r.chainId}: rollout ${r.rolloutId} of the version change at height ${r.height ?? '-'} (${vshow(r)}): ${r.state.toUpperCase()}`,
    `  started ${r.startedAt ?? '-'}${r.endedAt ? `, ended ${r.endedAt}` : ''}`,
  ];
  if (p) {
    lines.push(
      `  policy: canary ${p.canaryHosts.length ? p.canaryHosts.join('+') : p.canary}, max_parallel ${p.maxParallel === 0 ? 'all' : p.maxParallel}, min_healthy_time ${p.minHealthyMs / 1000}s, healthy_deadline ${p.healthyDeadlineMs / 1000}s, auto_revert ${p.autoRevert}`,
    );
  }
  if (r.haltReason) lines.push(`  halted: ${r.haltReason}`);
  if (r.abortReason) lines.push(`  aborted: ${r.abortReason}`);
  if (r.next) lines.push(`  waiting for: ${r.next}`);
  lines.push(
    ...r.waves.map((w) => `  wave ${w.wave}${w.canary ? ' (canary)' : ''}: ${w.hosts.join(', ') || '-'} (at most ${w.size}), from ${w.startedAt}`),
  );
  const out = lines.join('\n') + '\n';
  if (r.hosts.length === 0) return out;
  return (
    out +
    table([
      ['HOST', 'STATE', 'WAVE', 'SINCE', 'SERVICES', 'REASON'],
      ...r.hosts.map((h) => [h.host, h.state, h.wave === undefined ? '-' : String(h.wave), h.since ?? '-', h.services.map((s) => `${s.service}@${s.toVersion}`).join(',') || '-', h.reason ?? '-']),
    ])
  );
}

const statusCommand = defineCliCommand({
  path: ['upgrades', 'rollout', 'status'],
  summary: 'the fleet-wide rollout of each watched chain (or --chain-id): waves, hosts and their state, why it halted, what it waits for',
  options: { ...directoryOption, ...chainOption, ...jsonOption },
  async run(ctx) {
    const o = ctx.options;
    if (ctx.positionals.length) throw new UsageError('expected: upgrades rollout status [--chain-id X] [--json]');
    const chainId = chainIdOf(o['chain-id'], () => undefined);
    const { config, logger } = setup(o.directory, { query: true });
    const r = (await askWatcher(config, logger, ChainRolloutStatus, chainId ? { chainId } : {}, timeoutMs(o.timeout))) as { rollouts: RolloutView[] };
    ctx.io.out(o.json ? JSON.stringify(r.rollouts) + '\n' : r.rollouts.map(rolloutText).join('\n') || 'no chain is watched\n');
    return 0;
  },
});

const resumeCommand = defineCliCommand({
  path: ['upgrades', 'rollout', 'resume'],
  summary: 'resume a halted rollout (signed, role operate): failed hosts stay failed, the next wave may start',
  options: { ...directoryOption, ...chainOption, ...jsonOption },
  async run(ctx) {
    const o = ctx.options;
    if (ctx.positionals.length) throw new UsageError('expected: upgrades rollout resume [--chain-id X]');
    const { config, logger, home } = setup(o.directory, { query: true });
    const chainId = chainIdOf(o['chain-id'], () => homeChain(home));
    if (!chainId) throw new UsageError('--chain-id is required (no runner home with a chain here)');
    const r = (await askWatcher(config, logger, ChainRolloutResume, { chainId }, timeoutMs(o.timeout))) as RolloutView;
    ctx.io.out(o.json ? JSON.stringify(r) + '\n' : `resumed\n${rolloutText(r)}`);
    return 0;
  },
});

const abortCommand = defineCliCommand({
  path: ['upgrades', 'rollout', 'abort'],
  summary: 'abort a running or halted rollout (signed, role operate): hosts not admitted stay on their version',
  options: { ...directoryOption, ...chainOption, reason: { type: 'string', description: 'why (recorded in RolloutAborted)', placeholder: 'text' }, ...jsonOption },
  async run(ctx) {
    const o = ctx.options;
    if (ctx.positionals.length) throw new UsageError('expected: upgrades rollout abort [--chain-id X] [--reason TEXT]');
    const { config, logger, home } = setup(o.directory, { query: true });
    const chainId = chainIdOf(o['chain-id'], () => homeChain(home));
    if (!chainId) throw new UsageError('--chain-id is required (no runner home with a chain here)');
    if (o.reason !== undefined && (o.reason.length === 0 || o.reason.length > 2000)) throw new UsageError('--reason must be 1 to 2000 characters');
    const r = (await askWatcher(config, logger, ChainRolloutAbort, { chainId, ...(o.reason ? { reason: o.reason } : {}) }, timeoutMs(o.timeout))) as RolloutView;
    ctx.io.out(o.json ? JSON.stringify(r) + '\n' : `aborted\n${rolloutText(r)}`);
    return 0;
  },
});

export const rolloutCommands: CliCommand[] = [statusCommand as unknown as CliCommand, resumeCommand as unknown as CliCommand, abortCommand as unknown as CliCommand];

// `fleetvisor upgrades list|show|retry|rollback`: what each service runs, has installed and has
// quarantined (show: one service, with its upgrade history); trying a quarantined version again; going back to an installed version. `list` asks
// this host's runner through its control socket, or the fleet (--fleet [--host H]) over the bus;
// `retry` and `rollback` are commands over the bus addressed to one host (this one by default),
// recorded with their actor.
import { UpgradeRetry, UpgradeRollback, UpgradesList, UpgradesShow, type CommandResultOf, type ServiceUpgrades, type UpgradeHistoryEntry } from '@fleetvisor/contracts';
import { defineCliCommand, UsageError, type CliCommand } from '@fleetvisor/platform';
import { validServiceName, validVersion } from '../home/names';
import { validHost } from '../runner';
import { directoryOption, jsonOption, setup, table } from './common';
import { askFleet, askHost, fleetOptions, local, timeoutMs } from './services.command';

type HostUpgrades = { host: string; services: ServiceUpgrades[] };

/** "next retry at" of a quarantined version under the canary retry policy (ADR 0008). */
function retryText(q: { nextRetryAt?: string; lastCheck?: string }): string {
  if (!q.nextRetryAt) return '';
  return `\n      next retry at ${q.nextRetryAt} (canary)${q.lastCheck ? `; last canary ${q.lastCheck}` : ''}`;
}

function listText(results: HostUpgrades[]): string {
  const rows = results.flatMap((r) => r.services.map((s) => ({ host: r.host, ...s }))).sort((a, b) => a.host.localeCompare(b.host) || a.service.localeCompare(b.service));
  const out = [
    table([
      ['HOST', 'SERVICE', 'ROLE', 'RUNNING', 'LINKED', 'INSTALLED', 'QUARANTINED'],
      ...rows.map((r) => [r.host, r.service, r.role, r.running ?? '-', r.linked ?? '-', r.installed.join(',') || '-', r.quarantined.map((q) => q.version).join(',') || '-']),
    ]),
  ];
  const quarantined = rows.flatMap((r) => r.quarantined.map((q) => `  ${r.host}/${r.service} ${q.version} since ${q.at} (${q.stage}): ${q.reason}${retryText(q)}`));
  if (quarantined.length) out.push(`quarantined (not tried again until the chain announces it anew, \`fleetvisor upgrades retry\`, or a healthy canary where upgrade.retry is set):\n${quarantined.join('\n')}\n`);
  return out.join('\n');
}

const listCommand = defineCliCommand({
  path: ['upgrades', 'list'],
  summary: 'per service: running, linked and installed versions, and the quarantined ones with why and since when',
  options: { ...directoryOption, ...fleetOptions, ...jsonOption },
  async run(ctx) {
    const o = ctx.options;
    const { config, logger } = setup(o.directory, { query: true });
    let results: HostUpgrades[];
    if (o.fleet) {
      const wait = timeoutMs(o.timeout);
      results = (o.host ? [await askHost(config, logger, UpgradesList, {}, validHost(o.host), wait)] : await askFleet(config, logger, UpgradesList.verb, {}, wait)) as HostUpgrades[];
    } else {
      results = [(await local(config, { op: 'upgrades' })) as HostUpgrades];
    }
    results.sort((a, b) => a.host.localeCompare(b.host));
    ctx.io.out(o.json ? JSON.stringify(results) + '\n' : listText(results));
    return 0;
  },
});

type ShowResult = CommandResultOf<typeof UpgradesShow>;

function historyLine(h: UpgradeHistoryEntry): string {
  const what = (() => {
    switch (h.type) {
      case 'UpgradeStarted':
        return `${h.fromVersion} -> ${h.toVersion}${h.reason ? `: ${h.reason}` : ''}`;
      case 'ServiceUpgraded':
        return `${h.fromVersion} -> ${h.toVersion} healthy${h.durationMs !== undefined ? ` after ${h.durationMs} ms` : ''}`;
      case 'UpgradeFailed':
        return `${h.fromVersion} -> ${h.toVersion} failed at ${h.stage}: ${h.reason}`;
      case 'UpgradeRolledBack':
        return `back on ${h.restoredVersion} (left ${h.failedVersion}): ${h.reason}`;
      case 'VersionQuarantined':
        return `${h.version} quarantined (${h.stage}): ${h.reason}`;
      case 'QuarantineLifted':
        return `${h.version} may be tried again: ${h.reason}`;
      case 'CanaryChecked':
        return `${h.version} canary ${h.outcome ?? ''}${h.stage ? ` at ${h.stage}` : ''}: ${h.reason}${h.nextCheckAt ? `; next canary at ${h.nextCheckAt}` : ''}`;
    }
  })();
  const cause = [`by ${h.actor}`, h.causationId ? `cause ${h.causationId}` : '', h.correlationId ? `attempt ${h.correlationId}` : ''].filter(Boolean).join(', ');
  return `  ${h.at}  ${h.type.padEnd(18)} ${what}\n      event ${h.eventId} (${cause})`;
}

export function showText(r: ShowResult): string {
  const u = r.upgrades;
  const out = [
    `${r.host}/${u.service} (${u.role}, ${u.binary})`,
    `  running ${u.running ?? '-'}, linked ${u.linked ?? '-'}${r.lastGood ? `, last good ${r.lastGood}` : ''}`,
    `  installed: ${u.installed.join(', ') || '-'}`,
    u.quarantined.length ? `  quarantined:\n${u.quarantined.map((q) => `    ${q.version} since ${q.at} (${q.stage}): ${q.reason}${retryText(q)}`).join('\n')}` : '  quarantined: none',
    r.history.length ? `history (oldest first):\n${r.history.map(historyLine).join('\n')}` : 'history: no upgrade recorded',
  ];
  if (r.historyNote) out.push(`note: ${r.historyNote}`);
  return out.join('\n') + '\n';
}

const showCommand = defineCliCommand({
  path: ['upgrades', 'show'],
  args: '<service>',
  summary: "one service: installed versions, its upgrade history with outcome and cause (event ids, actors), quarantined versions and why",
  description: "Asked of this host's runner through its control socket, or of --host's runner over the bus. Read-only.",
  options: {
    ...directoryOption,
    host: { type: 'string', description: "ask this host's runner over the bus (default: this machine's runner, locally)", placeholder: 'host' },
    timeout: { type: 'string', description: 'how long to wait for the runner over the bus (ms)', default: '5000', placeholder: 'ms' },
    ...jsonOption,
  },
  async run(ctx) {
    const [name, ...rest] = ctx.positionals;
    if (!name || rest.length) throw new UsageError('expected: upgrades show <service> [--host H]');
    const o = ctx.options;
    const service = validServiceName(name);
    const { config, logger } = setup(o.directory, { query: true });
    const r = (o.host ? await askHost(config, logger, UpgradesShow, { service }, validHost(o.host), timeoutMs(o.timeout)) : await local(config, { op: 'upgrades-show', service })) as ShowResult;
    ctx.io.out(o.json ? JSON.stringify(r) + '\n' : showText(r));
    return 0;
  },
});

const retryCommand = defineCliCommand({
  path: ['upgrades', 'retry'],
  args: '<service>',
  summary: "try a quarantined version of a service again (default: each quarantined version of it); the chain's target is reconciled at once",
  options: {
    ...directoryOption,
    version: { type: 'string', description: 'only this quarantined version (X.Y.Z)', placeholder: 'X.Y.Z' },
    host: { type: 'string', description: "the runner's host (default: FLEETVISOR_HOST of this machine)", placeholder: 'host' },
    timeout: { type: 'string', description: 'how long to wait for the runner (ms)', default: '5000', placeholder: 'ms' },
    ...jsonOption,
  },
  async run(ctx) {
    const [name, ...rest] = ctx.positionals;
    if (!name || rest.length) throw new UsageError('expected: upgrades retry <service> [--version X.Y.Z]');
    const o = ctx.options;
    const service = validServiceName(name);
    const version = o.version === undefined ? undefined : validVersion(o.version);
    const { config, logger } = setup(o.directory, { query: true });
    const host = validHost(o.host ?? config.core.host);
    const r = (await askHost(config, logger, UpgradeRetry, { service, ...(version ? { version } : {}) }, host, timeoutMs(o.timeout))) as { host: string; service: string; lifted: string[] };
    ctx.io.out(o.json ? JSON.stringify(r) + '\n' : `${r.host}/${r.service}: quarantine lifted for ${r.lifted.join(', ')}; the chain's target is tried again now\n`);
    return 0;
  },
});

const rollbackCommand = defineCliCommand({
  path: ['upgrades', 'rollback'],
  args: '<service>',
  summary: 'switch a service to an installed version (--version), health-checked; the version it leaves is quarantined',
  options: {
    ...directoryOption,
    version: { type: 'string', description: 'the installed version to run (required)', placeholder: 'X.Y.Z' },
    host: { type: 'string', description: "the runner's host (default: FLEETVISOR_HOST of this machine)", placeholder: 'host' },
    timeout: { type: 'string', description: 'how long to wait for the switch and its health check (ms)', default: '120000', placeholder: 'ms' },
    ...jsonOption,
  },
  async run(ctx) {
    const [name, ...rest] = ctx.positionals;
    if (!name || rest.length) throw new UsageError('expected: upgrades rollback <service> --version X.Y.Z');
    const o = ctx.options;
    if (o.version === undefined) throw new UsageError('--version is required');
    const service = validServiceName(name);
    const version = validVersion(o.version);
    const { config, logger } = setup(o.directory, { query: true });
    const host = validHost(o.host ?? config.core.host);
    const r = (await askHost(config, logger, UpgradeRollback, { service, version }, host, timeoutMs(o.timeout))) as CommandResultOf<typeof UpgradeRollback>;
    if (o.json) ctx.io.out(JSON.stringify(r) + '\n');
    else if (r.outcome === 'switched') ctx.io.out(`${r.host}/${r.service}: ${r.fromVersion} -> ${r.version}, healthy; ${r.fromVersion} is quarantined\n`);
    else ctx.io.out(`${r.host}/${r.service}: ${r.version} failed (${r.reason ?? 'see UpgradeFailed'}); back on ${r.fromVersion}\n`);
    return r.outcome === 'switched' ? 0 : 1;
  },
});

export const upgradesCommands: CliCommand[] = [listCommand as unknown as CliCommand, showCommand as unknown as CliCommand, retryCommand as unknown as CliCommand, rollbackCommand as unknown as CliCommand];

// `fleetvisor install-systemd <service>`: a hardened systemd unit for one of Fleetvisor's central
// services or a worker-agent. The runner's own unit is written by the service-runner app
// (`install-systemd service-runner`, routed before this command loads), because it depends on the
// runner's home; every unit is rendered by the same renderer (libs/platform systemd.ts).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { defineCliCommand, renderEnvironmentFile, renderServiceUnit, UsageError } from '@fleetvisor/platform';
import { fleetvisorSettings } from '../config';
import { writePrivateFile, writePublicFile } from './install-files';

export interface SystemdServiceSpec {
  /** The `fleetvisor` words that run the service in the foreground. */
  words: readonly string[];
  /** Node flags from the service's start definition (the same as `up` and the benches use). */
  nodeFlags: readonly string[];
  description: string;
  /** A worker-agent runs once per sealing worker on a host: its unit is named per instance. */
  perInstance?: boolean;
}

export const SYSTEMD_SERVICES: Readonly<Record<string, SystemdServiceSpec>> = {
  'chain-watcher': { words: ['chain-watcher', 'run'], nodeFlags: [], description: 'Fleetvisor chain-watcher (one watch of each chain for the whole fleet)' },
  // The registry's 2 x 32 MB young generation, as `up` starts it (docs/operations.md, process memory).
  'worker-registry': { words: ['worker-registry', 'run'], nodeFlags: ['--max-semi-space-size=32'], description: 'Fleetvisor worker registry (sealing workers, pause/resume, host liveness)' },
  'stats-collector': { words: ['stats-collector', 'run'], nodeFlags: [], description: 'Fleetvisor stats-collector (API-call statistics, rollups, steady band)' },
  gateway: { words: ['gateway', 'run'], nodeFlags: [], description: 'Fleetvisor gateway (REST API and dashboard)' },
  'worker-agent': { words: ['worker-agent', 'run'], nodeFlags: [], description: 'Fleetvisor worker-agent', perInstance: true },
};

const SERVICE_NAMES = ['service-runner', ...Object.keys(SYSTEMD_SERVICES)];

export interface UnitPlan {
  unitName: string;
  unit: string;
  environmentFile: string;
}

export function planServiceUnit(input: { service: string; instance?: string; user: string; program: string; nodePath: string; environmentFile?: string }): UnitPlan {
  const spec = SYSTEMD_SERVICES[input.service];
  if (!spec) throw new UsageError(`unknown service "${input.service}": one of ${SERVICE_NAMES.join(', ')}`);
  if (spec.perInstance && !input.instance) throw new UsageError(`${input.service} runs once per worker: give --instance <worker name>`);
  if (!spec.perInstance && input.instance) throw new UsageError(`${input.service} takes no --instance`);
  if (input.instance !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(input.instance)) throw new UsageError(`--instance "${input.instance}": letters, digits, '.', '_' and '-' only`);
  const name = input.instance ? `${input.service}-${input.instance}` : input.service;
  const environmentFile = input.environmentFile ?? `/etc/fleetvisor/${name}.env`;
  const unit = renderServiceUnit({
    description: input.instance ? `${spec.description} for ${input.instance}` : spec.description,
    execStart: [input.nodePath, ...spec.nodeFlags, input.program, ...spec.words],
    user: input.user,
    workingDirectory: `/var/lib/fleetvisor/${name}`,
    stateDirectory: `fleetvisor/${name}`,
    environmentFile,
    // These services have no children: SIGTERM lets them finish in-flight work and leave their
    // queue groups; anything left after the timeout is killed.
    killMode: 'mixed',
    stopTimeoutSec: 30,
    protectHome: 'yes',
  });
  return { unitName: `fleetvisor-${name}.service`, unit, environmentFile };
}

export const installSystemdCommand = defineCliCommand({
  path: ['install-systemd'],
  args: '<service>',
  summary: 'Write a hardened systemd unit for a service: service-runner, chain-watcher, worker-registry, stats-collector, gateway, worker-agent',
  description: [
    'The unit runs the compiled `fleetvisor` program as a dedicated user, in a sandbox (systemd-analyze security: exposure at most 1.5, "OK";',
    'docs/deployment.md), with its settings in an environment file (mode 0600) that the unit names and never copies.',
    '`install-systemd service-runner` writes the runner unit for a runner home (see its own --help).',
  ].join('\n'),
  options: {
    instance: { type: 'string', description: 'the worker a worker-agent unit serves (one unit per worker)', placeholder: 'name' },
    user: { type: 'string', description: 'User= and Group= of the unit (create it first: useradd --system fleetvisor)', default: 'fleetvisor', placeholder: 'name' },
    output: { type: 'string', description: 'where to write the unit (default ./fleetvisor-<service>.service)', placeholder: 'file' },
    // Not --env-file: Node 20 takes that flag for itself even after the script name.
    'environment-file': { type: 'string', description: 'the environment file the unit reads (default /etc/fleetvisor/<service>.env)', placeholder: 'file' },
    'write-env': { type: 'boolean', description: "also write the environment file (mode 0600) from this shell's FLEETVISOR_* settings" },
    force: { type: 'boolean', description: 'replace an existing environment file' },
    json: { type: 'boolean', description: 'print what was written as one JSON object' },
  },
  examples: [
    'fleetvisor install-systemd chain-watcher --write-env',
    'fleetvisor install-systemd worker-agent --instance w-01 --environment-file /etc/fleetvisor/agent-w-01.env',
    'fleetvisor install-systemd service-runner --directory /var/lib/fleetvisor/runner',
  ],
  async run({ options, positionals, io }) {
    const service = positionals[0];
    if (!service) throw new UsageError(`name the service: ${SERVICE_NAMES.join(', ')}`);
    if (positionals.length > 1) throw new UsageError(`one service at a time (got ${positionals.join(' ')})`);
    const program = path.resolve(process.argv[1] ?? '');
    const plan = planServiceUnit({
      service,
      ...(options.instance !== undefined ? { instance: options.instance } : {}),
      user: options.user,
      program,
      nodePath: process.execPath,
      ...(options['environment-file'] !== undefined ? { environmentFile: path.resolve(options['environment-file']) } : {}),
    });
    const out = path.resolve(options.output ?? plan.unitName);
    let envWritten = false;
    if (options['write-env']) {
      if (existsSync(plan.environmentFile) && !options.force) throw new Error(`${plan.environmentFile} exists: keep it, or replace it with --force`);
      writePrivateFile(plan.environmentFile, renderEnvironmentFile(fleetvisorSettings()));
      envWritten = true;
    }
    writePublicFile(out, plan.unit);
    if (options.json) {
      io.out(JSON.stringify({ unit: out, unitName: plan.unitName, environmentFile: plan.environmentFile, environmentFileWritten: envWritten }) + '\n');
      return 0;
    }
    io.out(
      [
        `wrote ${out}${envWritten ? ` and ${plan.environmentFile} (mode 0600)` : ''}`,
        ...(envWritten ? [] : [`  settings: put FLEETVISOR_* lines in ${plan.environmentFile} (mode 0600, owned by root), or rerun with --write-env`]),
        `  sudo useradd --system --no-create-home --shell /usr/sbin/nologin ${options.user}  # once per host`,
        `  sudo install -m 0644 ${out} /etc/systemd/system/${plan.unitName} && sudo systemctl daemon-reload && sudo systemctl enable --now ${plan.unitName}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
});

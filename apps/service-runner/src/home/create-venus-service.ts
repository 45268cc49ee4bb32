// `create-service venus-wallet|damocles-manager|venus-sealer --cmd "<binary args…>" --config F`:
// a venus component as a service of role `wrapped` with its kind (the kind brings the probe, the
// attention patterns and how a password is delivered: README "Venus components"). The definition is
// built as the YAML an operator would write and read back through the same parser, so the command
// and a hand-written services/<name>.yml cannot disagree. Idempotent like `create-service provider`.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { ServiceCreated } from '@fleetvisor/contracts';
import type { EventRecorder } from '../events/event-recorder';
import { splitCommandLine } from './command-line';
import { validServiceName } from './names';
import { parseServiceDefinition, serializeServiceDefinition, type RunnerHome, type ServiceDefinition } from './runner-home';
import { CreateServiceError, type CreateServiceResult } from './create-service';

export const VENUS_KINDS = ['venus-wallet', 'damocles-manager', 'venus-sealer'] as const;
export type VenusKind = (typeof VENUS_KINDS)[number];

export interface CreateVenusServiceInput {
  kind: VenusKind;
  /** The command line: an absolute binary and its arguments (never a secret: they are in /proc). */
  cmd: string;
  /** The component's own config file (its folder is the working directory). */
  configFile: string;
  name?: string;
  /** A file holding the component's API token (venus' `api-info` form or the token alone). */
  tokenFile?: string;
  /** host:port of the component's API, when not its default listen address. */
  probeAddress?: string;
  /** How often the probe runs (a duration, default 10s). */
  probeEvery?: string;
}

export function isVenusKind(v: string): v is VenusKind {
  return (VENUS_KINDS as readonly string[]).includes(v);
}

export function createVenusService(home: RunnerHome, recorder: EventRecorder, input: CreateVenusServiceInput): CreateServiceResult {
  const config = home.readConfig();
  const argv = splitCommandLine(input.cmd);
  const command = argv[0];
  if (!command) throw new CreateServiceError('--cmd is empty');
  if (!path.isAbsolute(command)) throw new CreateServiceError(`--cmd must start with the binary's absolute path (it is run as it is, no PATH lookup), got "${command}"`);
  if (!existsSync(command) || !statSync(command).isFile()) throw new CreateServiceError(`--cmd: ${command} is not a file`);
  if (argv.some((a) => /^--?password(=|$)/.test(a))) throw new CreateServiceError('--cmd must not carry a password (it would be readable in /proc/<pid>/cmdline): store it with `fleetvisor secrets set-password <service>`');
  const configFile = path.resolve(input.configFile);
  if (!existsSync(configFile)) throw new CreateServiceError(`--config: ${configFile} does not exist`);
  const tokenFile = input.tokenFile;
  if (tokenFile !== undefined) {
    if (!path.isAbsolute(tokenFile)) throw new CreateServiceError(`--token-file must be an absolute path, got "${tokenFile}"`);
    if (!existsSync(tokenFile)) throw new CreateServiceError(`--token-file: ${tokenFile} does not exist`);
    if ((statSync(tokenFile).mode & 0o077) !== 0) throw new CreateServiceError(`--token-file: ${tokenFile} is readable by others: chmod 600 it (it holds an API token)`);
  }
  if (input.kind === 'venus-wallet' && input.tokenFile === undefined) {
    throw new CreateServiceError('venus-wallet needs --token-file: an admin token (`venus-wallet auth api-info --perm admin`), with which the runner probes it and delivers its password (Filecoin.Unlock)');
  }
  const name = validServiceName(input.name ?? input.kind);
  const probe: Record<string, string> = {
    ...(input.probeAddress !== undefined ? { address: input.probeAddress } : {}),
    ...(input.tokenFile !== undefined ? { 'token-file': input.tokenFile } : {}),
    ...(input.probeEvery !== undefined ? { every: input.probeEvery } : {}),
  };
  const yaml = stringifyYaml({
    name,
    role: 'wrapped',
    kind: input.kind,
    binary: path.basename(command).replace(/[^A-Za-z0-9._-]/g, '-'),
    command,
    config: configFile,
    args: argv.slice(1),
    ...(Object.keys(probe).length > 0 ? { probe } : {}),
  });
  let definition: ServiceDefinition;
  try {
    definition = parseServiceDefinition(yaml, `services/${name}.yml`);
  } catch (e) {
    throw new CreateServiceError((e as Error).message.replace(`services/${name}.yml: `, ''));
  }
  const defFile = home.serviceFile(name);
  const existed = existsSync(defFile);
  if (existed) {
    let prior: ServiceDefinition | undefined;
    try {
      prior = home.readService(name);
    } catch {
      // an unreadable definition is replaced whole
    }
    if (prior && prior.role !== 'wrapped') throw new CreateServiceError(`service ${name} exists as a lavap ${prior.role}: choose another --name`);
    // What the operator added by hand (env, attention patterns) is not create-service's to drop.
    if (prior?.env) definition.env = prior.env;
    if (prior?.attention) definition.attention = prior.attention;
  }
  if (!config.services.includes(name)) home.writeConfig({ ...config, services: [...config.services, name] });
  if (existed && readFileSync(defFile, 'utf8') === serializeServiceDefinition(definition)) return { name, outcome: 'unchanged', definition, linkedVersion: undefined };
  home.writeService(definition);
  recorder.record(ServiceCreated, { host: recorder.host, service: name, role: 'wrapped', binary: definition.binary, configPath: configFile });
  return { name, outcome: existed ? 'updated' : 'created', definition, linkedVersion: undefined };
}

// `create-service provider|consumer <config.yml>`: validates the lavap config and the flags,
// copies the config under services/configs/, writes the service definition, links the service to
// the current binary, adds it to config.yml. Idempotent: the same call again changes nothing and
// records nothing; a changed call updates the definition and records ServiceCreated again.
import { existsSync, readFileSync } from 'node:fs';
import { ServiceCreated } from '@fleetvisor/contracts';
import { writeFileAtomic } from './atomic-file';
import { validateLavapConfig } from './lavap-config';
import { validChainId, validServiceName } from './names';
import { HomeError, serializeServiceDefinition, type RunnerHome, type ServiceDefinition } from './runner-home';
import type { EventRecorder } from '../events/event-recorder';
import type { BinaryStore } from '../upgrades/binary-store';

export const KEYRING_BACKENDS = ['os', 'file', 'kwallet', 'pass', 'test', 'memory'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'panic'] as const;

export interface CreateServiceInput {
  role: string;
  configFile: string;
  from: string;
  geolocation: string;
  keyringBackend: string;
  chainId?: string;
  node?: string;
  logLevel?: string;
  parallelConnections?: string;
}

export interface CreateServiceResult {
  name: string;
  outcome: 'created' | 'updated' | 'unchanged';
  definition: ServiceDefinition;
  linkedVersion: string | undefined;
}

export class CreateServiceError extends Error {
  override name = 'CreateServiceError';
}

function intFlag(v: string | undefined, flag: string, def: number | undefined, min: number, max: number): number {
  if (v === undefined) {
    if (def === undefined) throw new CreateServiceError(`--${flag} is required`);
    return def;
  }
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new CreateServiceError(`--${flag} must be an integer in ${min}..${max}, got "${v}"`);
  return Number(v);
}

export function createService(home: RunnerHome, store: BinaryStore, recorder: EventRecorder, input: CreateServiceInput): CreateServiceResult {
  const config = home.readConfig();
  if (input.role !== 'provider' && input.role !== 'consumer') throw new CreateServiceError(`service type must be provider or consumer, got "${input.role}"`);
  if (!existsSync(input.configFile)) throw new CreateServiceError(`config file ${input.configFile} does not exist`);
  const text = readFileSync(input.configFile, 'utf8');
  const summary = validateLavapConfig(input.role, text);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(input.from)) throw new CreateServiceError(`--from must be a key name (letters, digits, . _ -), got "${input.from}"`);
  const geolocation = intFlag(input.geolocation, 'geolocation', undefined, 0, 2 ** 32 - 1);
  if (!(KEYRING_BACKENDS as readonly string[]).includes(input.keyringBackend)) {
    throw new CreateServiceError(`--keyring-backend must be one of ${KEYRING_BACKENDS.join(', ')}, got "${input.keyringBackend}"`);
  }
  const logLevel = input.logLevel ?? 'debug';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new CreateServiceError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const parallel = intFlag(input.parallelConnections, 'parallel-connections', 10, 1, 1000);
  const chainId = validChainId(input.chainId ?? config.chainId);
  const node = input.node ?? config.node;
  if (node !== undefined) {
    try {
      new URL(node);
    } catch {
      throw new CreateServiceError(`--node must be a URL, got "${node}"`);
    }
  }
  // lavavisor's naming: <from>-<chain-id of the first endpoint>, e.g. provider1-LAV1, consumer-ETH1.
  const name = validServiceName(`${input.from}-${summary.firstChainId}`);
  const configPath = home.serviceConfigFile(name);
  const definition: ServiceDefinition = {
    name,
    role: input.role,
    chainId,
    binary: config.binary,
    configPath,
    args: [
      input.role === 'provider' ? 'rpcprovider' : 'rpcconsumer',
      configPath,
      '--from', input.from,
      '--keyring-backend', input.keyringBackend,
      '--parallel-connections', String(parallel),
      '--chain-id', chainId,
      '--geolocation', String(geolocation),
      '--log_level', logLevel,
      ...(node ? ['--node', node] : []),
    ],
    networkAddress: summary.networkAddress,
    keyringPassword: input.keyringBackend === 'file',
  };
  const defFile = home.serviceFile(name);
  const existed = existsSync(defFile);
  // The operator's `env:` is not create-service's to drop: it is kept across a re-create.
  if (existed) {
    let priorEnv: Record<string, string> | undefined;
    try {
      priorEnv = home.readService(name).env;
    } catch {
      // an unreadable definition is replaced whole, as before
    }
    if (priorEnv) definition.env = priorEnv;
  }
  const same = existed && existsSync(configPath) && readFileSync(defFile, 'utf8') === serializeServiceDefinition(definition) && readFileSync(configPath, 'utf8') === text;
  let linkedVersion = store.linkedVersion(home.serviceLink(name));
  if (!linkedVersion) {
    const current = store.linkedVersion(home.currentLink(config.binary));
    if (current) {
      store.switchLink(home.serviceLink(name), current, config.binary);
      linkedVersion = current;
    }
  }
  if (!config.services.includes(name)) home.writeConfig({ ...config, services: [...config.services, name] });
  if (same) return { name, outcome: 'unchanged', definition, linkedVersion };
  writeFileAtomic(configPath, text);
  home.writeService(definition);
  recorder.record(ServiceCreated, { host: recorder.host, service: name, role: input.role, chainId, binary: config.binary, configPath });
  if (!existsSync(home.serviceLink(name))) throw new HomeError(`service ${name} was created but has no binary yet: run \`fleetvisor init\` so that current/${config.binary} exists`);
  return { name, outcome: existed ? 'updated' : 'created', definition, linkedVersion };
}

// Where a supervised service serves Prometheus /metrics, for the stats-collector's scrape
// discovery (it asks every runner's `services list`): lavap's --metrics-listen-address argument
// (rpcprovider and rpcconsumer both take it), else its config file's `metrics-listen-address`
// (a consumer's). Read as configured; the collector decides how to reach a wildcard host.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { METRICS_ADDRESS_PATTERN } from '@fleetvisor/contracts';
import type { ServiceDefinition } from './runner-home';

const ADDRESS = new RegExp(METRICS_ADDRESS_PATTERN);
const FLAG = '--metrics-listen-address';

/** The flag's value in a command line (`--flag value` or `--flag=value`), the last one winning as in lavap's flag parsing. */
export function metricsAddressInArgs(args: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === FLAG && i + 1 < args.length) found = args[++i];
    else if (a.startsWith(`${FLAG}=`)) found = a.slice(FLAG.length + 1);
  }
  return found;
}

/** The service's metrics address when it has a valid one; a config that cannot be read has none. */
export function metricsAddressOf(def: Pick<ServiceDefinition, 'args' | 'configPath'>, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): string | undefined {
  let address = metricsAddressInArgs(def.args);
  if (address === undefined) {
    try {
      const doc = parseYaml(read(def.configPath)) as unknown;
      const v = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>)['metrics-listen-address'] : undefined;
      if (typeof v === 'string') address = v;
    } catch {
      return undefined;
    }
  }
  return address !== undefined && ADDRESS.test(address) ? address : undefined;
}

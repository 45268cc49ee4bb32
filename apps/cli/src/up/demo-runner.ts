// The service-runner part of `fleetvisor up`: a demo host with one lavap provider and one consumer
// (simulated binaries from libs/devnet), whose releases a local server publishes with checksums.
// Prepared with the operator's own commands (`init`, `create-service`) in a fresh directory, then
// run with `start` like any other component. Change the chain's version with
// `fleetvisor devnet set-version` and watch the runner upgrade them (0.23.1 crashes at start: it
// is rolled back).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, PARENT_PID_VARIABLE, type Env, type Logger } from '@fleetvisor/platform';
import { appProcess } from '../app-routes';
import { withoutVariables, type ComponentSpec } from './stack';

/** What a host must not hold: the log's credentials. */
const HOST_DROPS = /^FLEETVISOR_DATABASE_/;

/** Versions the demo release server publishes; 0.23.1 is a broken release (crashes at start). */
export const DEMO_RELEASES: readonly { version: string; behaviour?: 'crash-at-start' }[] = [
  { version: '0.20.0' },
  { version: '0.21.0' },
  { version: '0.21.1' },
  { version: '0.22.0' },
  { version: '0.22.1' },
  { version: '0.23.0' },
  { version: '0.23.1', behaviour: 'crash-at-start' },
  { version: '0.23.2' },
  { version: '0.24.0' },
];

export interface DemoRunner {
  component: ComponentSpec;
  directory: string;
  close(): Promise<void>;
}

/** Runs one app command to completion, its output relayed; throws with its output if it fails. */
async function runApp(logger: Logger, onLine: (line: string) => void, app: string, args: string[], env: Env): Promise<void> {
  const { file, argv } = appProcess(app, args);
  const child = spawn(file, argv, { env: { ...env, [PARENT_PID_VARIABLE]: String(process.pid) }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  for (const s of [child.stdout, child.stderr]) {
    createInterface({ input: s }).on('line', (l) => {
      lines.push(l);
      onLine(l);
    });
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`fleetvisor ${args.join(' ')} failed (exit ${code}):\n${lines.slice(-20).join('\n')}`);
  logger.debug({ args }, 'demo host prepared a step');
}

/** Listen ports of the demo services: chosen once, kept in the demo host's directory for later starts. */
interface DemoPorts {
  provider: number;
  consumer: number;
  consumerMetrics: number;
}

async function demoPorts(directory: string): Promise<DemoPorts> {
  const file = path.join(directory, 'demo-ports.json');
  if (existsSync(file)) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoPorts>;
    if (Number.isInteger(p.provider) && Number.isInteger(p.consumer) && Number.isInteger(p.consumerMetrics)) return p as DemoPorts;
  }
  const ports = { provider: await freePort(), consumer: await freePort(), consumerMetrics: await freePort() };
  writeFileSync(file, JSON.stringify(ports) + '\n');
  return ports;
}

/**
 * The demo host in `directory`, kept between starts of `up`: the first start makes it with the
 * operator's own `init` and `create-service`; a later start runs them again over the same home
 * (both update what is there), so the host keeps its installed binaries and upgrade history and
 * only the addresses of this start (local chain, release server) change.
 */
export async function prepareDemoRunner(opts: { logger: Logger; env: Env; chainId: string; rpcUrl: string; directory: string; onLine: (line: string) => void }): Promise<DemoRunner> {
  const { startLavapReleaseServer, providerConfigYaml, consumerConfigYaml } = await import('@fleetvisor/devnet');
  const directory = opts.directory;
  mkdirSync(directory, { recursive: true });
  const again = existsSync(path.join(directory, 'demo-ports.json'));
  const releases = await startLavapReleaseServer({ releases: [...DEMO_RELEASES] });
  try {
    // A host holds only NATS credentials (ADR 0006): the demo host's commands get no database setting.
    const env: Env = { ...withoutVariables(opts.env, HOST_DROPS), FLEETVISOR_RUNNER_DIRECTORY: directory, FLEETVISOR_LOG_FORMAT: 'json' };
    const run = (args: string[]) => runApp(opts.logger, opts.onLine, 'service-runner', args, env);
    await run(['init', '--directory', directory, '--chain-id', opts.chainId, '--node', opts.rpcUrl, '--auto-download', '--manifest-url', releases.manifestUrlTemplate]);
    const ports = await demoPorts(directory);
    const provider = path.join(directory, 'provider1-LAV1.yml');
    const consumer = path.join(directory, 'consumer-ETH1.yml');
    writeFileSync(provider, providerConfigYaml('LAV1', `127.0.0.1:${ports.provider}`, opts.rpcUrl));
    writeFileSync(consumer, consumerConfigYaml('ETH1', `127.0.0.1:${ports.consumer}`, `127.0.0.1:${ports.consumerMetrics}`));
    const common = ['--geolocation', '1', '--keyring-backend', 'test', '--chain-id', opts.chainId, '--node', opts.rpcUrl];
    await run(['create-service', 'provider', provider, '--from', 'provider1', ...common]);
    await run(['create-service', 'consumer', consumer, '--from', 'consumer', ...common]);
    if (again) opts.logger.info({ directory }, 'demo host kept from an earlier start (`fleetvisor up --reset` starts clean)');
    opts.logger.info({ directory, releases: releases.manifestUrlTemplate }, 'demo host ready: provider1-LAV1 and consumer-ETH1 on lavap');
    return {
      directory,
      component: {
        name: 'service-runner',
        app: 'service-runner',
        args: ['start'],
        // As its systemd unit starts it: the runner allocates little once started.
        nodeFlags: ['--max-semi-space-size=1'],
        // A short health window so the demo moves at the pace of the local chain. Live-restore off:
        // `up` is the one owner that tears its whole demo tree down, lavap children included (ADR 0007).
        env: { FLEETVISOR_RUNNER_DIRECTORY: directory, FLEETVISOR_RUNNER_HEALTH_STABLE: '2s', FLEETVISOR_RUNNER_STOP_GRACE: '3s', FLEETVISOR_RUNNER_LIVE_RESTORE: 'false' },
        // Its events reach the log through the registry's and chain-watcher's event intake.
        dropEnv: HOST_DROPS,
      },
      close: () => releases.close(),
    };
  } catch (e) {
    await releases.close();
    throw e;
  }
}

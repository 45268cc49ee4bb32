import { existsSync } from 'node:fs';
import path from 'node:path';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { validBinaryName, validServiceName } from '../home/names';
import { directoryOption, setup } from './common';

/** Splits a command line on whitespace, honouring single and double quotes (no shell expansion). */
export function splitCommandLine(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let has = false;
  for (const ch of cmd) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (quote) throw new UsageError('unbalanced quote in --cmd');
  if (has || cur) out.push(cur);
  return out;
}

function which(bin: string, pathVar: string): string | undefined {
  if (bin.includes('/')) return existsSync(bin) ? path.resolve(bin) : undefined;
  for (const dir of pathVar.split(':')) if (dir && existsSync(path.join(dir, bin))) return path.join(dir, bin);
  return undefined;
}

export const wrapCommand = defineCliCommand({
  path: ['wrap'],
  summary: 'supervise one process (for containers): restarts with backoff, output to stdout and a log file, events recorded',
  options: {
    ...directoryOption,
    cmd: { type: 'string', description: 'the command line, e.g. "lavap rpcprovider provider.yml --from p1"', placeholder: 'cmd' },
    name: { type: 'string', description: 'service name (default wrapped-<binary>)', placeholder: 'name' },
    path: { type: 'string', description: 'PATH to find the binary in', default: '/usr/local/bin:/usr/bin:/bin', placeholder: 'dirs' },
  },
  async run(ctx) {
    const o = ctx.options;
    if (!o.cmd) throw new UsageError('--cmd is required');
    const [bin, ...args] = splitCommandLine(o.cmd);
    if (!bin) throw new UsageError('--cmd is empty');
    const file = which(bin, o.path);
    if (!file) throw new UsageError(`binary ${bin} not found`);
    const binary = validBinaryName(path.basename(file));
    const name = validServiceName(o.name ?? `wrapped-${binary}`);
    const { config, logger } = setup(o.directory);
    // Nest is loaded by the commands that run the service only, not by every word of this entry point.
    const { startServiceRunner } = await import('../service-runner.module');
    const runner = await startServiceRunner({
      config,
      logger,
      echo: true,
      wrapped: [{ name, role: 'wrapped', binary, configPath: file, args, keyringPassword: false }],
    });
    const sig = await ctx.io.interrupted;
    await runner.close(`runner received ${sig}`);
    logger.flush?.();
    // The child's last words were echoed to a pipe: let them out before the process exits.
    await new Promise<void>((r) => process.stdout.write('', () => r()));
    return 0;
  },
});

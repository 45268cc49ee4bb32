// `init --from-lavavisor [DIR]`: the import (home/lavavisor-import.ts) with its report on stdout.
import type { CliContext } from '@fleetvisor/platform';
import { importLavavisorHome, type LavavisorImportReport } from '../home/lavavisor-import';
import { BinaryStore } from '../upgrades/binary-store';
import { setup } from './common';
import { flushOnce, openRecorder } from './one-shot';

interface ImportOptions {
  directory: string | undefined;
  'chain-id': string | undefined;
  node: string | undefined;
  'auto-download': boolean;
  'manifest-url': string | undefined;
  'url-template': string | undefined;
  'checksum-url': string | undefined;
  'build-command': string | undefined;
  'log-level'?: string | undefined;
  'log-format'?: string | undefined;
  json: boolean;
}

export function importText(r: LavavisorImportReport, spooled: number): string {
  const out = [`imported the LavaVisor home ${r.source} into ${r.home} (chain ${r.chainId}); ${r.source} is unchanged`];
  out.push(r.binaries.length ? `binaries:\n${r.binaries.map((b) => `  ${b.version}  ${b.outcome === 'imported' ? 'copied from' : 'already installed, same as'} ${b.from}`).join('\n')}` : 'binaries: none');
  out.push(r.current ? `current version: ${r.current.version} (${r.current.how})` : 'current version: none (no binary imported): run `fleetvisor init --chain-id <id> --auto-download` to install one');
  out.push(r.services.length ? `services:\n${r.services.map((s) => `  ${s.name}  ${s.role}  ${s.outcome}${s.linkedVersion ? `, on ${s.linkedVersion}` : ''}`).join('\n')}` : 'services: none');
  if (r.skipped.length) out.push(`not imported:\n${r.skipped.map((s) => `  ${s.what}: ${s.why}`).join('\n')}`);
  if (spooled) out.push(`${spooled} event(s) spooled until the log is reachable`);
  if (!r.download) out.push('upgrades: no download source in config.yml, so a version LavaVisor had not installed cannot be obtained: run again with --manifest-url (or --url-template + --checksum-url, or --build-command)');
  out.push('next: `fleetvisor start` supervises the imported services (stop LavaVisor\'s own services first, they use the same ports)');
  return out.join('\n') + '\n';
}

export async function importFromLavavisor(ctx: CliContext<ImportOptions>, dir: string): Promise<number> {
  const o = ctx.options;
  const { config, home, logger } = setup(o.directory, { log: o });
  const { spool, recorder } = openRecorder(home, config.core);
  const report = await importLavavisorHome(home, new BinaryStore(home), recorder, {
    dir,
    // The runner's PATH and HOME: LavaVisor links the lavap on PATH, else in ~/go/bin.
    env: config.childEnvironment,
    ...(o['chain-id'] ? { chainId: o['chain-id'] } : {}),
    ...(o.node ? { node: o.node } : {}),
    autoDownload: o['auto-download'],
    download: {
      ...(o['manifest-url'] ? { manifestUrl: o['manifest-url'] } : {}),
      ...(o['url-template'] ? { urlTemplate: o['url-template'] } : {}),
      ...(o['checksum-url'] ? { checksumUrl: o['checksum-url'] } : {}),
      ...(o['build-command'] ? { buildCommand: o['build-command'] } : {}),
    },
  });
  const spooled = await flushOnce(spool, config.core, logger);
  logger.flush?.();
  ctx.io.out(o.json ? JSON.stringify({ ...report, spooledEvents: spooled }) + '\n' : importText(report, spooled));
  return 0;
}

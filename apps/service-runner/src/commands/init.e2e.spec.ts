// `fleetvisor init` with no recorded version to read (the bus unreachable, so neither the event
// stream nor a chain-watcher; a host has no database settings at all): the
// protocol version comes from a real devnet node (--node, ABCI Params query), and the binary
// from each download source: URL template + checksum file, a configured build command. The
// sha256 is required and checked before anything is linked.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevnetChain, startLavapReleaseServer, writeFakeLavap, type DevnetChain, type LavapReleaseServer } from '@fleetvisor/devnet';
import { freePort, inheritedEnvironment } from '@fleetvisor/testing';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/fleetvisor.js');
const CHAIN = 'lava-init-1';

let chain: DevnetChain;
let releases: LavapReleaseServer;
let base: string;
let env: Record<string, string>;
let closed: number;

function init(dir: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'init', '--chain-id', CHAIN, '--directory', dir, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const home = (dir: string) => path.join(dir, '.fleetvisor');
const current = (dir: string): string | undefined => {
  try {
    return path.basename(path.dirname(readlinkSync(path.join(home(dir), 'current', 'lavap'))));
  } catch {
    return undefined;
  }
};
const lastJson = (s: string): Record<string, unknown> => JSON.parse(s.trim().split('\n').pop()!) as Record<string, unknown>;
let n = 0;
const freshDir = () => path.join(base, `home-${++n}`);

beforeAll(async () => {
  chain = await startDevnetChain({ chainId: CHAIN, blockTimeMs: 1000, version: { providerTarget: '0.7.1', providerMin: '0.7.0', consumerTarget: '0.7.0', consumerMin: '0.6.0' } });
  releases = await startLavapReleaseServer({ releases: [{ version: '0.7.1' }, { version: '0.8.0', wrongChecksum: true }] });
  base = mkdtempSync(path.join(tmpdir(), 'fv-init-node-'));
  closed = await freePort();
  env = {
    PATH: inheritedEnvironment()['PATH'] ?? '/usr/bin:/bin',
    HOME: base,
    // No bus to read from: nothing listens there.
    FLEETVISOR_NATS_URL: `nats://127.0.0.1:${closed}`,
    FLEETVISOR_HOST: 'init-e2e-host',
    FLEETVISOR_LOG_FORMAT: 'json',
    FLEETVISOR_LOG_LEVEL: 'warn',
    FLEETVISOR_RUNNER_PLATFORM: releases.platform,
  };
}, 60_000);

afterAll(async () => {
  await releases?.close();
  await chain?.stop();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('fleetvisor init --node (no log available)', () => {
  it('reads provider_target from the node and downloads it by URL template, verified against the checksum file', async () => {
    const dir = freshDir();
    const r = await init(dir, ['--node', chain.rpcUrl, '--auto-download', '--url-template', releases.urlTemplate, '--checksum-url', releases.checksumUrlTemplate, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ source: 'node', version: '0.7.1', downloaded: true, obtained: 'downloaded' });
    expect(current(dir)).toBe('v0.7.1');
    expect(readFileSync(path.join(home(dir), 'upgrades', 'v0.7.1', 'lavap'))).toEqual(releases.binary('0.7.1'));
    const [os, arch] = releases.platform.split('/');
    expect(releases.requests(`/bin/lavap-0.7.1-${os}-${arch}`)).toBe(1);
    expect(releases.requests('/bin/lavap-0.7.1.sha256')).toBe(1);
    const cfg = parse(readFileSync(path.join(home(dir), 'config.yml'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ 'chain-id': CHAIN, node: chain.rpcUrl, download: { 'url-template': releases.urlTemplate, 'checksum-url': releases.checksumUrlTemplate } });
    const state = JSON.parse(readFileSync(path.join(home(dir), 'state', 'upgrade-state.json'), 'utf8')) as { protocol: { version: unknown } };
    expect(state.protocol.version).toEqual({ providerTarget: '0.7.1', providerMin: '0.7.0', consumerTarget: '0.7.0', consumerMin: '0.6.0' });

    // The chain moves to 0.8.0, whose published checksum does not match: refused, deleted, nothing relinked.
    // The node and the download source are remembered in config.yml.
    const { height } = await chain.setVersion({ providerTarget: '0.8.0', providerMin: '0.7.0', consumerTarget: '0.7.0', consumerMin: '0.6.0' });
    expect(height).toBeGreaterThan(0);
    const again = await init(dir, ['--json']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/bin\/lavap-0\.8\.0-[a-z0-9]+-[a-z0-9]+: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}; file deleted/);
    expect(existsSync(path.join(home(dir), 'upgrades', 'v0.8.0'))).toBe(false);
    expect(readdirSync(path.join(home(dir), 'tmp'))).toEqual([]);
    expect(current(dir)).toBe('v0.7.1');
    await chain.setVersion({ providerTarget: '0.7.1', providerMin: '0.7.0', consumerTarget: '0.7.0', consumerMin: '0.6.0' });
  }, 60_000);

  it('a URL template without a sha256 source is refused before anything is downloaded', async () => {
    const dir = freshDir();
    const binPath = `/bin/lavap-0.7.1-${releases.platform.replace('/', '-')}`;
    const before = releases.requests(binPath);
    const r = await init(dir, ['--node', chain.rpcUrl, '--auto-download', '--url-template', releases.urlTemplate]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no sha256 for 0.7.1: set download.checksums or download.checksum-url');
    expect(releases.requests(binPath)).toBe(before);
    expect(current(dir)).toBeUndefined();
    expect(existsSync(path.join(home(dir), 'config.yml'))).toBe(false);
  }, 30_000);

  it('builds the version with the configured build command (FLEETVISOR_BUILD_VERSION/OUTPUT) and says it was built; a failing build shows the end of its stderr, secrets blanked', async () => {
    const src = path.join(base, 'src');
    writeFakeLavap(src, { version: '0.7.1', fileName: 'lavap-0.7.1' });
    const dir = freshDir();
    const noisy = 'for i in $(seq 1 30); do echo "compile step $i" >&2; done; echo "fetch https://builder:hunter2@git.example.org/lava.git?token=s3cr3t failed" >&2; echo "GITHUB_TOKEN=ghp_abc123 rejected" >&2; exit 2';
    const failing = await init(dir, ['--node', chain.rpcUrl, '--auto-download', '--build-command', noisy]);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain('build command exited with 2; the end of its stderr:');
    expect(failing.stderr).toContain('compile step 30');
    expect(failing.stderr).toContain('compile step 13');
    expect(failing.stderr).not.toContain('compile step 12\n');
    expect(failing.stderr).toContain('fetch https://***@git.example.org/lava.git?*** failed');
    expect(failing.stderr).toContain('GITHUB_TOKEN=*** rejected');
    expect(failing.stderr).not.toMatch(/hunter2|s3cr3t|ghp_abc123/);
    expect(current(dir)).toBeUndefined();

    const build = `cp ${src}/lavap-$FLEETVISOR_BUILD_VERSION "$FLEETVISOR_BUILD_OUTPUT"`;
    const r = await init(dir, ['--node', chain.rpcUrl, '--auto-download', '--build-command', build, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson(r.stdout)).toMatchObject({ source: 'node', version: '0.7.1', downloaded: false, obtained: 'built' });
    expect(current(dir)).toBe('v0.7.1');

    const text = await init(freshDir(), ['--node', chain.rpcUrl, '--auto-download', '--build-command', build]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/binary \S+\/upgrades\/v0\.7\.1\/lavap \(built by the build command\)\n/);
    expect(text.stdout).not.toContain('downloaded');
  }, 60_000);

  it('with no version anywhere it names why for each source: the log, the bus, the node, with the setting to fix', async () => {
    const dir = freshDir();
    const r = await init(dir, ['--auto-download']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot learn the protocol version of ${CHAIN}:`);
    expect(r.stderr).toContain(`log: the recorded VersionChanged cannot be read: the bus is unreachable: cannot connect to NATS at nats://127.0.0.1:${closed} (set FLEETVISOR_NATS_URL`);
    // A host reads no database: nothing names one.
    expect(r.stderr).not.toMatch(/PostgreSQL|FLEETVISOR_DATABASE/);
    expect(r.stderr).toContain(`bus: the bus is unreachable: cannot connect to NATS at nats://127.0.0.1:${closed} (set FLEETVISOR_NATS_URL`);
    expect(r.stderr).toContain('node: no node to ask: give --node <rpc>');
    expect(current(dir)).toBeUndefined();

    const nodeDown = await init(freshDir(), ['--auto-download', '--node', `http://127.0.0.1:${closed}`]);
    expect(nodeDown.code).toBe(1);
    expect(nodeDown.stderr).toContain(`node: the node http://127.0.0.1:${closed} is unreachable (set by --node or node: in config.yml):`);
    expect(nodeDown.stderr).toContain('log: the recorded VersionChanged cannot be read: the bus is unreachable');
  }, 30_000);
});

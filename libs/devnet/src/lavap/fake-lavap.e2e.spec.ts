// The simulated lavap as real processes, and its release server over loopback HTTP.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '@fleetvisor/testing';
import { providerConfigYaml, writeFakeLavap } from './fake-lavap';
import { startLavapReleaseServer, type LavapReleaseServer } from './release-server';

let dir: string;
const children: ChildProcess[] = [];

function run(bin: string, cfg: string): { child: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const child = spawn(bin, ['rpcprovider', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out, exit: new Promise((r) => child.once('exit', (code) => r(code))) };
}

const tcpAnswer = (port: number, send?: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('connect', () => send && s.write(send));
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => resolve(got));
    s.on('error', reject);
  });

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fv-fake-lavap-'));
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('writeFakeLavap', () => {
  it('answers `version`, listens on the config network-address (TCP banner, HTTP 200) and stops on SIGTERM', async () => {
    const bin = writeFakeLavap(path.join(dir, 'ok'), { version: '1.2.3' });
    expect(bin).toBe(path.join(dir, 'ok', 'lavap'));
    expect(execFileSync(bin, ['version']).toString().trim()).toBe('1.2.3');
    const port = await freePort();
    const cfg = path.join(dir, 'ok.yml');
    writeFileSync(cfg, providerConfigYaml('LAV1', `127.0.0.1:${port}`));
    const p = run(bin, cfg);
    await waitFor(() => p.out().includes(`listening on 127.0.0.1:${port}`));
    expect(await tcpAnswer(port)).toBe('lavap 1.2.3\n');
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', version: '1.2.3' });
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  });

  it('crash-at-start exits 1 with a panic; no-listen runs but refuses connections', async () => {
    const port = await freePort();
    const cfg = path.join(dir, 'c.yml');
    writeFileSync(cfg, providerConfigYaml('LAV1', `127.0.0.1:${port}`));
    const crash = run(writeFakeLavap(path.join(dir, 'crash'), { version: '1.0.0', behaviour: 'crash-at-start' }), cfg);
    expect(await crash.exit).toBe(1);
    expect(crash.out()).toContain('panic: fake crash at start');
    const idle = run(writeFakeLavap(path.join(dir, 'idle'), { version: '1.0.0', behaviour: 'no-listen', fileName: 'lavap-idle' }), cfg);
    await waitFor(() => idle.out().includes('not listening'));
    await expect(tcpAnswer(port)).rejects.toThrow(/ECONNREFUSED/);
    expect(idle.child.exitCode).toBeNull();
    idle.child.kill('SIGTERM');
    await idle.exit;
  });
});

describe('startLavapReleaseServer', () => {
  let rs: LavapReleaseServer;
  beforeAll(async () => {
    rs = await startLavapReleaseServer({ platform: 'linux/amd64', releases: [{ version: '0.2.0' }, { version: '0.3.0', wrongChecksum: true }] });
  });
  afterAll(() => rs.close());

  it('serves a Cosmovisor manifest whose checksum matches the binary, and a checksum file', async () => {
    const manifest = (await (await fetch(rs.manifestUrlTemplate.replace('{version}', '0.2.0'))).json()) as { binaries: Record<string, string> };
    const entry = manifest.binaries['linux/amd64']!;
    expect(entry).toBe(`${rs.url}/bin/lavap-0.2.0-linux-amd64?checksum=sha256:${rs.sha256('0.2.0')}`);
    const bytes = Buffer.from(await (await fetch(entry.split('?')[0]!)).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(rs.sha256('0.2.0'));
    expect(bytes.toString()).toContain('const VERSION = "0.2.0"');
    const sum = await (await fetch(rs.checksumUrlTemplate.replace('{version}', '0.2.0'))).text();
    expect(sum).toBe(`${rs.sha256('0.2.0')}  lavap\n`);
    expect(rs.requests('/bin/lavap-0.2.0.sha256')).toBe(1);
  });

  it('wrongChecksum announces other bytes; unknown or removed versions are 404', async () => {
    const sum = await (await fetch(rs.checksumUrlTemplate.replace('{version}', '0.3.0'))).text();
    expect(sum.split(' ')[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(sum.split(' ')[0]).not.toBe(rs.sha256('0.3.0'));
    expect((await fetch(rs.manifestUrlTemplate.replace('{version}', '9.9.9'))).status).toBe(404);
    rs.add({ version: '0.4.0' });
    expect((await fetch(`${rs.url}/bin/lavap-0.4.0`)).status).toBe(200);
    rs.remove('0.4.0');
    expect((await fetch(`${rs.url}/bin/lavap-0.4.0`)).status).toBe(404);
  });
});

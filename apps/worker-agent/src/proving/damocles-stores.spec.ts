// Reading the stores out of a damocles-worker configuration: [[attached]] and scan_persist_stores,
// amid the rest of a real-shaped file (sections, inline tables, multi-line arrays, comments).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { damoclesStores, expandDirGlob, parseTomlSubset, TomlSubsetError } from './damocles-stores';

const CONFIG = (dir: string) => `
# a damocles-worker configuration
[worker]
name = "sealer-07"
rpc_server.host = "0.0.0.0"
rpc_server.port = 17890
scan_persist_stores = ["${dir}/nfs/*"]

[sector_manager]
rpc_client.addr = "/ip4/10.0.0.2/tcp/1789"
rpc_client.headers = { User-Agent = "jsonrpc-core-client" }   # inline table

[sealing]
allowed_sizes = [
  "32GiB",  # trailing comment
  "64GiB",
]
max_retries = 3
enable_deals = true

[[sealing_thread]]
location = "/scratch/t0"
sealing.plan = 'snapup'

[[attached]]
name = "persist-a"
location = "${dir}/a"

[[attached]]
location = 'b'
readonly = true

[processors.limitation.concurrent]
pc1 = 3

[[processors.pc1]]
envs = { FIL_PROOFS_USE_MULTICORE_SDR = "1", NOTE = """multi
line""" }
`;

describe('damocles-worker configuration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fv-damocles-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('parses the TOML such a file uses', () => {
    const t = parseTomlSubset(CONFIG('/x'));
    expect(t['worker']).toEqual({ name: 'sealer-07', rpc_server: { host: '0.0.0.0', port: 17890 }, scan_persist_stores: ['/x/nfs/*'] });
    expect(t['sealing']).toMatchObject({ allowed_sizes: ['32GiB', '64GiB'], max_retries: 3, enable_deals: true });
    expect(t['attached']).toEqual([{ name: 'persist-a', location: '/x/a' }, { location: 'b', readonly: true }]);
    expect((t['sealing_thread'] as unknown[])[0]).toEqual({ location: '/scratch/t0', sealing: { plan: 'snapup' } });
    expect(t['processors']).toMatchObject({ limitation: { concurrent: { pc1: 3 } }, pc1: [{ envs: { FIL_PROOFS_USE_MULTICORE_SDR: '1', NOTE: 'multi\nline' } }] });
  });

  it('says which line it cannot read', () => {
    expect(() => parseTomlSubset('[worker]\nname = "unterminated\n')).toThrow(/line 2: unterminated string/);
    expect(() => parseTomlSubset('a = 1 2\n')).toThrow(TomlSubsetError);
  });

  it('the stores: [[attached]] (relative to the file), then the scanned directories that hold a sectorstore.json', () => {
    for (const d of ['a', 'b', 'nfs/s1', 'nfs/s2', 'nfs/empty']) mkdirSync(path.join(dir, d), { recursive: true });
    writeFileSync(path.join(dir, 'nfs/s1/sectorstore.json'), JSON.stringify({ ID: 'id-1', Name: 'store-1', ReadOnly: true }));
    writeFileSync(path.join(dir, 'nfs/s2/sectorstore.json'), JSON.stringify({ ID: 'id-2' }));
    const file = path.join(dir, 'damocles-worker.toml');
    writeFileSync(file, CONFIG(dir));
    expect(damoclesStores(file)).toEqual([
      { location: path.join(dir, 'a'), name: 'persist-a', readonly: false },
      { location: path.join(dir, 'b'), name: path.join(dir, 'b'), readonly: true },
      { location: path.join(dir, 'nfs/s1'), name: 'store-1', readonly: true },
      { location: path.join(dir, 'nfs/s2'), name: 'id-2', readonly: false },
    ]);
  });

  it('ScanPersistStores (the alias) is read too; an [[attached]] without location is an error', () => {
    mkdirSync(path.join(dir, 'p/one'), { recursive: true });
    writeFileSync(path.join(dir, 'p/one/sectorstore.json'), '{}');
    const file = path.join(dir, 'w.toml');
    writeFileSync(file, `[worker]\nScanPersistStores = ["${dir}/p/o?e"]\n`);
    expect(damoclesStores(file)).toEqual([{ location: path.join(dir, 'p/one'), name: path.join(dir, 'p/one'), readonly: false }]);
    writeFileSync(file, '[[attached]]\nname = "x"\n');
    expect(() => damoclesStores(file)).toThrow(/\[\[attached\]\] #1 has no location/);
  });

  it('globs match directories within a segment only', () => {
    for (const d of ['m/a1', 'm/a2', 'm/b1', 'm/a3/deeper']) mkdirSync(path.join(dir, d), { recursive: true });
    writeFileSync(path.join(dir, 'm/a4'), 'a file');
    expect(expandDirGlob(`${dir}/m/a*`)).toEqual([path.join(dir, 'm/a1'), path.join(dir, 'm/a2'), path.join(dir, 'm/a3')]);
    expect(expandDirGlob(`${dir}/m/[ab]1`)).toEqual([path.join(dir, 'm/a1'), path.join(dir, 'm/b1')]);
    expect(expandDirGlob(`${dir}/nothing/*`)).toEqual([]);
  });
});

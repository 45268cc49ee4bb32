// Serves fake lavap releases over loopback HTTP the way real ones are published, so a runner can
// download them: a Cosmovisor-style release manifest per version
// (`{"binaries":{"linux/amd64":"<url>?checksum=sha256:<hex>"}}`), the binary itself and a
// `<hex>  lavap` checksum file (for a URL template + checksum URL setup).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fakeLavapScript, sha256Hex, type FakeLavapBehaviour } from './fake-lavap';

export interface FakeLavapRelease {
  version: string;
  /** Default `ok`. */
  behaviour?: FakeLavapBehaviour;
  /** The manifest and checksum file announce the sha256 of other bytes (a tampered download). */
  wrongChecksum?: boolean;
}

export interface LavapReleaseServerOptions {
  releases?: FakeLavapRelease[];
  /** Manifest key, Go-style `<os>/<arch>`. Default: this machine's (e.g. `linux/amd64`). */
  platform?: string;
  /** Default 127.0.0.1; port 0 = a free port. */
  host?: string;
  port?: number;
}

export interface LavapReleaseServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly platform: string;
  /** `<url>/releases/v{version}/manifest.json`: config.yml `download.manifest-url`. */
  readonly manifestUrlTemplate: string;
  /** `<url>/bin/lavap-{version}-{os}-{arch}`: config.yml `download.url-template`. */
  readonly urlTemplate: string;
  /** `<url>/bin/lavap-{version}.sha256`: config.yml `download.checksum-url`. */
  readonly checksumUrlTemplate: string;
  /** Publishes (or replaces) a release. */
  add(release: FakeLavapRelease): void;
  /** Unpublishes a version (its URLs answer 404). */
  remove(version: string): void;
  /** The bytes served for a version's binary. */
  binary(version: string): Buffer;
  /** The real sha256 of a version's binary. */
  sha256(version: string): string;
  /** GET requests per path so far (e.g. to assert a binary was or was not downloaded). */
  requests(path: string): number;
  close(): Promise<void>;
}

/** This machine's platform with Go names (`linux/amd64`, `darwin/arm64`), as Cosmovisor keys manifests. */
export function goPlatform(): string {
  const arch = ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' } as Record<string, string>)[process.arch] ?? process.arch;
  return `${process.platform}/${arch}`;
}

export async function startLavapReleaseServer(o: LavapReleaseServerOptions = {}): Promise<LavapReleaseServer> {
  const platform = o.platform ?? goPlatform();
  const releases = new Map<string, { bytes: Buffer; announced: string }>();
  const counts = new Map<string, number>();
  let url = '';

  const add = (r: FakeLavapRelease): void => {
    const bytes = Buffer.from(fakeLavapScript({ version: r.version, behaviour: r.behaviour ?? 'ok' }));
    releases.set(r.version, { bytes, announced: r.wrongChecksum ? sha256Hex(Buffer.concat([bytes, Buffer.from('tampered')])) : sha256Hex(bytes) });
  };
  for (const r of o.releases ?? []) add(r);

  const server: Server = createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    counts.set(p, (counts.get(p) ?? 0) + 1);
    const send = (status: number, body: string | Buffer, type: string) => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    let m = /^\/releases\/v([^/]+)\/manifest\.json$/.exec(p);
    const manifest = m && releases.get(m[1]!);
    if (m && manifest) {
      const [os, arch] = platform.split('/');
      const bin = `${url}/bin/lavap-${m[1]}-${os}-${arch}?checksum=sha256:${manifest.announced}`;
      return send(200, JSON.stringify({ binaries: { [platform]: bin } }), 'application/json');
    }
    m = /^\/bin\/lavap-(\d+\.\d+\.\d+)\.sha256$/.exec(p);
    const sum = m && releases.get(m[1]!);
    if (m && sum) return send(200, `${sum.announced}  lavap\n`, 'text/plain');
    m = /^\/bin\/lavap-(\d+\.\d+\.\d+)(?:-[^/]*)?$/.exec(p);
    const bin = m && releases.get(m[1]!);
    if (m && bin) return send(200, bin.bytes, 'application/octet-stream');
    send(404, 'not found\n', 'text/plain');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  const get = (version: string) => {
    const r = releases.get(version);
    if (!r) throw new Error(`no fake lavap release ${version}`);
    return r;
  };
  return {
    url,
    platform,
    manifestUrlTemplate: `${url}/releases/v{version}/manifest.json`,
    urlTemplate: `${url}/bin/lavap-{version}-{os}-{arch}`,
    checksumUrlTemplate: `${url}/bin/lavap-{version}.sha256`,
    add,
    remove: (version) => void releases.delete(version),
    binary: (version) => get(version).bytes,
    sha256: (version) => sha256Hex(get(version).bytes),
    requests: (path) => counts.get(path) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Gets a binary version that is not installed yet: from a Cosmovisor-style release manifest, from
// a URL template with a required sha256, or by a configured build command. Downloads stream to a
// temp file while the sha256 is computed; the file becomes executable and moves into
// upgrades/v<X.Y.Z>/ only after the checksum matched, so nothing unverified is ever run.
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DownloadSettings, RunnerHome } from '../home/runner-home';
import { validBinaryName, validVersion } from '../home/names';

export type ObtainStage = 'obtain' | 'verify';

export class ObtainError extends Error {
  constructor(
    readonly stage: ObtainStage,
    message: string,
  ) {
    super(message);
    this.name = 'ObtainError';
  }
}

/** How a missing binary was obtained. */
export type ObtainedBy = 'downloaded' | 'built';

/** Lines of a failed build's stderr kept for its error. */
const BUILD_TAIL_LINES = 20;
const BUILD_TAIL_BYTES = 64 * 1024;

/**
 * The last lines of a build's stderr, fit for an error message: URL credentials and query strings
 * and `name=value` pairs whose name says secret are blanked, control characters dropped.
 */
export function buildErrorTail(stderr: string, lines = BUILD_TAIL_LINES): string {
  const kept = stderr.replace(/\r\n?/g, '\n').split('\n').filter((l) => l.trim() !== '').slice(-lines);
  return kept
    .map((l) =>
      l
        .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
        .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@')
        .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)\?[^\s#]*/gi, '$1?***')
        .replace(/\b([A-Za-z0-9_]*(?:token|secret|password|passwd|apikey|api_key|credential|auth)[A-Za-z0-9_]*)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1$2***')
        .slice(0, 400),
    )
    .join('\n');
}

export interface DownloadProgress {
  version: string;
  receivedBytes: number;
  totalBytes: number | undefined;
}

const MAX_REDIRECTS = 5;
const MAX_MANIFEST_BYTES = 1024 * 1024;

function openUrl(url: string, redirects = 0): Promise<{ body: NodeJS.ReadableStream; length: number | undefined }> {
  const u = new URL(url);
  if (u.protocol === 'file:') {
    const file = fileURLToPath(u);
    if (!existsSync(file)) return Promise.reject(new ObtainError('obtain', `no file at ${file}`));
    return Promise.resolve({ body: createReadStream(file), length: undefined });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.reject(new ObtainError('obtain', `unsupported URL scheme ${u.protocol}`));
  const get = u.protocol === 'https:' ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const req = get(u, { timeout: 30_000 }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new ObtainError('obtain', `too many redirects from ${redact(url)}`));
        return resolve(openUrl(new URL(res.headers.location, u).toString(), redirects + 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(new ObtainError('obtain', `GET ${redact(url)} answered HTTP ${status}`));
      }
      const len = Number(res.headers['content-length']);
      resolve({ body: res, length: Number.isFinite(len) ? len : undefined });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(e instanceof ObtainError ? e : new ObtainError('obtain', `GET ${redact(url)} failed: ${e.message}`)));
  });
}

/** URLs in messages and events: no user info, no query (tokens often live there). */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '');
  }
}

async function fetchText(url: string, max: number): Promise<string> {
  const { body } = await openUrl(url);
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new ObtainError('obtain', `${redact(url)} is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Cosmovisor's `?checksum=sha256:<hex>` on a binary URL: the URL without it, and the hex. */
export function splitChecksumUrl(url: string): { url: string; sha256: string } {
  const u = new URL(url);
  const c = u.searchParams.get('checksum');
  if (!c) throw new ObtainError('verify', `binary URL ${redact(url)} has no ?checksum=sha256:<hex>: refusing an unverifiable download`);
  const m = /^sha256:([0-9a-fA-F]{64})$/.exec(c);
  if (!m) throw new ObtainError('verify', `binary URL ${redact(url)} has checksum "${c.slice(0, 80)}", expected sha256:<64 hex>`);
  u.searchParams.delete('checksum');
  return { url: u.toString(), sha256: m[1]!.toLowerCase() };
}

export function expandTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\{(version|os|arch|platform)\}/g, (_, k: string) => encodeURIComponent(vars[k] ?? ''));
}

export interface BinaryFetcherOptions {
  home: RunnerHome;
  platform: string;
  onProgress?: (p: DownloadProgress) => void;
  buildTimeoutMs?: number;
}

export class BinaryFetcher {
  constructor(private readonly opts: BinaryFetcherOptions) {}

  /** Installs upgrades/v<version>/<binary> from the configured source. Returns its path. */
  async obtain(version: string, binary: string, settings: DownloadSettings): Promise<string> {
    return (await this.obtainBinary(version, binary, settings)).path;
  }

  /** Like obtain, and says how: downloaded and checksum-verified, or built (or 'installed' when it was there). */
  async obtainBinary(version: string, binary: string, settings: DownloadSettings): Promise<{ path: string; obtainedBy: ObtainedBy | 'installed' }> {
    validVersion(version);
    validBinaryName(binary);
    const { home } = this.opts;
    const dest = home.binaryPath(version, binary);
    if (existsSync(dest)) return { path: dest, obtainedBy: 'installed' };
    let obtainedBy: ObtainedBy;
    mkdirSync(home.tmpDir, { recursive: true });
    const tmp = path.join(home.tmpDir, `${binary}-${version}-${randomBytes(6).toString('hex')}`);
    try {
      if (settings.manifestUrl || settings.urlTemplate) {
        const { url, sha256 } = await this.resolveDownload(version, settings);
        await this.download(url, tmp, sha256, version);
        obtainedBy = 'downloaded';
      } else if (settings.buildCommand) {
        await this.build(version, tmp, settings.buildCommand);
        obtainedBy = 'built';
      } else {
        throw new ObtainError('obtain', `version ${version} of ${binary} is not in ${home.upgradesDir} and no download or build is configured (config.yml download:)`);
      }
      chmodSync(tmp, 0o755);
      mkdirSync(home.versionDir(version), { recursive: true });
      renameSync(tmp, dest);
      return { path: dest, obtainedBy };
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  private async resolveDownload(version: string, s: DownloadSettings): Promise<{ url: string; sha256: string }> {
    const [os, arch] = this.opts.platform.split('/') as [string, string];
    const vars = { version, os, arch, platform: this.opts.platform };
    if (s.manifestUrl) {
      const murl = expandTemplate(s.manifestUrl, vars);
      let manifest: unknown;
      try {
        manifest = JSON.parse(await fetchText(murl, MAX_MANIFEST_BYTES));
      } catch (e) {
        if (e instanceof ObtainError) throw e;
        throw new ObtainError('obtain', `release manifest ${redact(murl)} is not JSON`);
      }
      const bins = (manifest as { binaries?: unknown }).binaries;
      if (typeof bins !== 'object' || bins === null) throw new ObtainError('obtain', `release manifest ${redact(murl)} has no binaries`);
      const entry = (bins as Record<string, unknown>)[this.opts.platform] ?? (bins as Record<string, unknown>)['any'];
      if (typeof entry !== 'string') throw new ObtainError('obtain', `release manifest ${redact(murl)} has no binary for ${this.opts.platform}`);
      return splitChecksumUrl(entry);
    }
    const url = expandTemplate(s.urlTemplate!, vars);
    let sha256 = s.checksums?.[version];
    if (!sha256 && s.checksumUrl) {
      const text = await fetchText(expandTemplate(s.checksumUrl, vars), 64 * 1024);
      sha256 = /\b([0-9a-fA-F]{64})\b/.exec(text)?.[1]?.toLowerCase();
      if (!sha256) throw new ObtainError('verify', `checksum file ${redact(expandTemplate(s.checksumUrl, vars))} holds no sha256`);
    }
    if (!sha256) throw new ObtainError('verify', `no sha256 for ${version}: set download.checksums or download.checksum-url (an unverified binary is never run)`);
    return { url, sha256 };
  }

  private async download(url: string, tmp: string, sha256: string, version: string): Promise<void> {
    const { body, length } = await openUrl(url);
    const hash = createHash('sha256');
    const out = createWriteStream(tmp, { mode: 0o600 });
    let received = 0;
    let lastReport = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        received += chunk.length;
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
        if (this.opts.onProgress && Date.now() - lastReport > 200) {
          lastReport = Date.now();
          this.opts.onProgress({ version, receivedBytes: received, totalBytes: length });
        }
      }
    } finally {
      // Wait for 'close', not just 'finish': until the descriptor is closed, exec of the file
      // (`<binary> version` right after) fails with ETXTBSY.
      await new Promise<void>((resolve, reject) => {
        if (out.closed) return resolve();
        out.once('error', reject);
        out.once('close', () => resolve());
        out.end();
      });
    }
    this.opts.onProgress?.({ version, receivedBytes: received, totalBytes: length });
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      rmSync(tmp, { force: true });
      throw new ObtainError('verify', `checksum mismatch for ${redact(url)}: expected sha256 ${sha256}, got ${actual}; file deleted`);
    }
  }

  private build(version: string, output: string, command: string): Promise<void> {
    return new Promise((resolve, reject) => {
      // The version was validated (strict X.Y.Z) and goes through the environment, never into the command text.
      const child = spawn('/bin/sh', ['-c', command], {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', FLEETVISOR_BUILD_VERSION: version, FLEETVISOR_BUILD_OUTPUT: output },
        timeout: this.opts.buildTimeoutMs ?? 30 * 60_000,
      });
      // Only the end of stderr matters for the error: keep a bounded window of it.
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString('utf8');
        if (stderr.length > BUILD_TAIL_BYTES) stderr = stderr.slice(-BUILD_TAIL_BYTES);
      });
      child.once('error', (e) => reject(new ObtainError('obtain', `build command failed to start: ${e.message}`)));
      child.once('close', (code, signal) => {
        if (code === 0 && existsSync(output)) return resolve();
        const tail = buildErrorTail(stderr);
        const what = code === 0 ? 'produced no file at FLEETVISOR_BUILD_OUTPUT' : `exited with ${code ?? signal}`;
        reject(new ObtainError('obtain', `build command ${what}${tail ? `; the end of its stderr:\n${tail}` : ' (nothing on stderr)'}`));
      });
    });
  }
}

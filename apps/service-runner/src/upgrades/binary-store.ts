// Installed binaries and the links that select them. A link switch is atomic: a new symlink is
// made under a temp name and renamed over the old one, so a process starting at any moment (or a
// runner killed in the middle) finds either the old target or the new one.
import { execFile } from 'node:child_process';
import { existsSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { RunnerHome } from '../home/runner-home';
import { DEFAULT_CHILD_PATH } from '../config';
import { fsyncDir } from '../home/atomic-file';

/** First X.Y.Z in `<binary> version` output (lavap prints e.g. "0.23.2" or "v0.23.2"). */
export function parseVersionOutput(text: string): string | undefined {
  return /(?:^|[^0-9.])v?(\d+\.\d+\.\d+)(?![0-9.])/.exec(text)?.[1];
}

export class BinaryStore {
  private readonly versionCache = new Map<string, { mtimeMs: number; version: string | undefined }>();

  constructor(readonly home: RunnerHome) {}

  /** Points `link` at upgrades/v<version>/<binary> (relative link), atomically. */
  switchLink(link: string, version: string, binary: string): void {
    const target = this.home.binaryPath(version, binary);
    if (!existsSync(target)) throw new Error(`cannot link ${path.basename(link)}: ${target} is not installed`);
    const dir = path.dirname(link);
    mkdirSync(dir, { recursive: true });
    const rel = path.relative(dir, target);
    const tmp = path.join(dir, `.${path.basename(link)}.${randomBytes(6).toString('hex')}.tmp`);
    symlinkSync(rel, tmp);
    try {
      renameSync(tmp, link);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    fsyncDir(dir);
  }

  linkedVersion(link: string): string | undefined {
    return this.home.linkedVersion(link);
  }

  /** The file a link resolves to, or undefined when it is missing or dangling. */
  resolve(link: string): string | undefined {
    try {
      readlinkSync(link);
      return realpathSync(link);
    } catch {
      return undefined;
    }
  }

  /** What `<binary> version` says (cached per file and mtime); undefined when it answers nothing usable. */
  async reportedVersion(binaryPath: string): Promise<string | undefined> {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(binaryPath).mtimeMs;
    } catch {
      return undefined;
    }
    const cached = this.versionCache.get(binaryPath);
    if (cached && cached.mtimeMs === mtimeMs) return cached.version;
    const ask = () =>
      new Promise<{ version: string | undefined; busy: boolean }>((resolve) => {
        execFile(binaryPath, ['version'], { timeout: 10_000, maxBuffer: 64 * 1024, env: { PATH: DEFAULT_CHILD_PATH } }, (err, stdout, stderr) => {
          if (err && !stdout) return resolve({ version: undefined, busy: (err as NodeJS.ErrnoException).code === 'ETXTBSY' });
          resolve({ version: parseVersionOutput(`${stdout}\n${stderr}`), busy: false });
        });
      });
    // ETXTBSY: a file just written is still open for writing somewhere (a child forked by this
    // process in that instant holds the descriptor until it execs); it passes in milliseconds.
    let answer = await ask();
    for (let i = 0; answer.busy && i < 10; i++) {
      await new Promise((r) => setTimeout(r, 20 * (i + 1)));
      answer = await ask();
    }
    const { version } = answer;
    // Only a usable answer is cached: a transient failure must not stick to the file.
    if (version !== undefined) this.versionCache.set(binaryPath, { mtimeMs, version });
    return version;
  }
}

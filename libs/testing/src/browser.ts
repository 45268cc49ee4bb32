// A real headless browser for the dashboard's tests: Debian's chromium, driven by playwright-core
// (which ships no browser of its own). Screenshots go to tmp/artifacts, kept after the run.
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { readTestingConfig } from './config';

export function findChromium(): string {
  const cfg = readTestingConfig();
  if (cfg.chromiumBin) return cfg.chromiumBin;
  for (const dir of cfg.searchPath.split(':').filter(Boolean)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const file = path.join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  throw new Error('no chromium on PATH: install Debian\'s chromium package (.ci/run does) or set FLEETVISOR_TEST_CHROMIUM');
}

/** Debian's /usr/bin/chromium is a wrapper script; playwright needs the browser binary itself. */
function browserBinary(file: string): string {
  const real = '/usr/lib/chromium/chromium';
  if (file === '/usr/bin/chromium') {
    try {
      accessSync(real, constants.X_OK);
      return real;
    } catch {
      return file;
    }
  }
  return file;
}

export async function launchBrowser(): Promise<Browser> {
  // Loaded here, not at the top: most tests import the harness and never open a browser.
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: browserBinary(findChromium()),
    headless: true,
    // Running as root in CI: chromium refuses its sandbox there.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** Where tests keep screenshots (tmp/artifacts under the repository, gitignored). */
export function artifactsDir(): string {
  const dir = path.resolve(__dirname, '../../../tmp/artifacts');
  mkdirSync(dir, { recursive: true });
  return dir;
}

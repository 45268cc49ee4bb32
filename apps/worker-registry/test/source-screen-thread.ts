// The report screen thread from TypeScript source, for tests that run the registry without the
// compiled build: the thread loads report-screen.thread.ts through the workspace's dev loader.
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');

export function sourceScreenThreadScript(): string {
  // The loader compiles with SWC's native binding. A native addon first loaded by a worker thread is
  // unloaded when that thread ends, and the next thread to load it crashes the process (SIGSEGV with
  // two registries in one test process): loading it here first keeps it for the process's life.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@swc/core');
  const loader = path.join(ROOT, 'bin', 'register.js');
  const entry = path.join(ROOT, 'apps', 'worker-registry', 'src', 'registry', 'report-screen.thread.ts');
  return `require(${JSON.stringify(loader)}); require(${JSON.stringify(entry)});`;
}

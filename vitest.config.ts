import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';
import path from 'node:path';

// One runner, three tiers chosen by file suffix (see docs/adr/0001-workspace.md):
//   *.spec.ts      pure logic, milliseconds, no servers
//   *.int.spec.ts  real Postgres + NATS
//   *.e2e.spec.ts  real processes, CLI, HTTP
//   test/cluster/*.faults.spec.ts  a multi-host cluster in network namespaces, faults injected (root)
const alias = {
  '@fleetvisor/contracts': path.resolve(__dirname, 'libs/contracts/src/index.ts'),
  '@fleetvisor/event-store/core': path.resolve(__dirname, 'libs/event-store/src/core.ts'),
  '@fleetvisor/event-store': path.resolve(__dirname, 'libs/event-store/src/index.ts'),
  // (more specific first: the first matching alias wins)
  '@fleetvisor/messaging/testing': path.resolve(__dirname, 'libs/messaging/testing/index.ts'),
  '@fleetvisor/messaging/core': path.resolve(__dirname, 'libs/messaging/src/core.ts'),
  '@fleetvisor/messaging': path.resolve(__dirname, 'libs/messaging/src/index.ts'),
  '@fleetvisor/testing': path.resolve(__dirname, 'libs/testing/src/index.ts'),
  '@fleetvisor/platform/cli': path.resolve(__dirname, 'libs/platform/src/cli/index.ts'),
  '@fleetvisor/platform': path.resolve(__dirname, 'libs/platform/src/index.ts'),
  '@fleetvisor/devnet': path.resolve(__dirname, 'libs/devnet/src/index.ts'),
  '@fleetvisor/lava': path.resolve(__dirname, 'libs/lava/src/index.ts'),
  '@fleetvisor/trust': path.resolve(__dirname, 'libs/trust/src/index.ts'),
};
const roots = ['apps/**', 'libs/**', 'test/**', 'bench/**'];
const plugins = [swc.vite({ module: { type: 'es6' } })];

export default defineConfig({
  plugins,
  resolve: { alias },
  test: {
    projects: [
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: roots.map((r) => `${r}/*.spec.ts`),
          exclude: ['**/*.int.spec.ts', '**/*.e2e.spec.ts', '**/*.faults.spec.ts', '**/node_modules/**'],
          testTimeout: 5_000,
          // Pure logic: the files of a worker share one module graph instead of importing
          // contracts, TypeBox and pino again per file (most of this tier's time when isolated).
          isolate: false,
        },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'int',
          sequence: { groupOrder: 1 },
          include: roots.map((r) => `${r}/*.int.spec.ts`),
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
          maxWorkers: 2,
        },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'e2e',
          sequence: { groupOrder: 2 },
          globalSetup: ['test/setup/build-once.ts'],
          include: roots.map((r) => `${r}/*.e2e.spec.ts`),
          exclude: ['**/node_modules/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 1,
        },
      },
      {
        plugins,
        resolve: { alias },
        test: {
          name: 'faults',
          sequence: { groupOrder: 3 },
          // The cluster runs the compiled program, like the e2e tier.
          globalSetup: ['test/setup/build-once.ts'],
          include: ['test/cluster/**/*.faults.spec.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          // One cluster at a time: each file builds its own namespaces and servers.
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});

// The dashboard's bundle: React + Mantine, built once into dist/apps/dashboard, which the gateway
// serves at `/`. JSX goes through Vite's own esbuild transform (automatic runtime): the React
// plugin adds only fast refresh for a dev server, which the gateway-served bundle does not use.
import path from 'node:path';
import { defineConfig } from 'vite';

const root = path.resolve(__dirname);

export default defineConfig({
  root,
  base: './',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic' },
  resolve: {
    alias: { '@fleetvisor/contracts/plans': path.resolve(root, '../../libs/contracts/src/plans.ts') },
  },
  build: {
    outDir: path.resolve(root, '../../dist/apps/dashboard'),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2_000,
    rollupOptions: {
      // Mantine marks its modules "use client" for React Server Components; a client bundle
      // ignores the directive, which is all Rollup's warning says.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
});

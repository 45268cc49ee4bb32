#!/usr/bin/env node
// Compiles one project's TypeScript (its src/, without tests) to CommonJS under dist/<project>/src,
// the tree mirrored so that the @fleetvisor/* aliases, which SWC rewrites to relative paths
// (jsc.paths), point at the other projects' compiled files. The Nx `build` target of every app and
// lib runs this (cached by Nx on its inputs); type checking stays with `npm run typecheck`.
// Usage: node scripts/build-project.js <projectRoot>   e.g. apps/worker-registry
//
// SWC rather than tsc: NestJS needs decorator metadata, which SWC emits like tsc does, in a
// fraction of tsc's time; see docs/adr/0005-service-shape.md.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const root = path.join(__dirname, '..');
const projectRoot = process.argv[2];
if (!projectRoot || !fs.existsSync(path.join(root, projectRoot, 'project.json'))) {
  process.stderr.write(`usage: build-project.js <projectRoot>   (no project.json under "${projectRoot ?? ''}")\n`);
  process.exit(2);
}

const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
const options = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
    target: 'es2022',
    keepClassNames: true,
    baseUrl: root,
    paths: tsconfig.compilerOptions.paths,
  },
  module: { type: 'commonjs', strictMode: true, noInterop: false },
  sourceMaps: true,
  inlineSourcesContent: false,
  swcrc: false,
  configFile: false,
};

/** Tests and their stand-ins stay out of what ships. */
function isShipped(file) {
  return file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.endsWith('.spec.ts');
}

function sourceFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (isShipped(entry.name)) out.push(full);
  }
  return out;
}

const srcDir = path.join(root, projectRoot, 'src');
const outDir = path.join(root, 'dist', projectRoot);
// Start from nothing: a compiled file whose source was deleted must not stay loadable.
fs.rmSync(outDir, { recursive: true, force: true });
const started = Date.now();
const files = sourceFiles(srcDir);
for (const file of files) {
  const rel = path.relative(path.join(root, projectRoot), file);
  const target = path.join(outDir, rel.replace(/\.ts$/, '.js'));
  const { code, map } = swc.transformFileSync(file, { ...options, filename: file, sourceFileName: path.relative(path.dirname(target), file) });
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, `${code}\n//# sourceMappingURL=${path.basename(target)}.map\n`);
  if (map) fs.writeFileSync(`${target}.map`, map);
}
process.stdout.write(`${projectRoot}: ${files.length} files -> ${path.relative(root, outDir)} (${Date.now() - started} ms)\n`);

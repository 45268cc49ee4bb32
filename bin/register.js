// Development only (benches, scripts, tests of a thread loaded from source): runs the workspace's
// TypeScript from source, a require hook that transpiles each .ts file with
// SWC on load (CommonJS, ES2022, legacy decorators with metadata for NestJS, inline source maps
// for stack traces) and resolves the @fleetvisor/* aliases of tsconfig.base.json.
//
// It replaces @swc-node/register, which loads the TypeScript compiler to read tsconfig in every
// process. What ships is compiled instead (`npm run build`, ADR 0005);
// type checking stays with `npm run typecheck`.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const swc = require('@swc/core');

const root = path.join(__dirname, '..');
const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));
const aliases = new Map(
  Object.entries(tsconfig.compilerOptions.paths || {}).map(([alias, targets]) => [alias, path.resolve(root, tsconfig.compilerOptions.baseUrl || '.', targets[0])]),
);

const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs', strictMode: true, noInterop: false },
  sourceMaps: 'inline',
  swcrc: false,
  configFile: false,
};

// Transpiled code is cached on disk by content hash (node_modules/.cache/fleetvisor-ts), so a
// process only pays SWC for files that changed since any earlier run. A cache that cannot be
// written (read-only install) is simply not used.
const cacheDir = path.join(root, 'node_modules', '.cache', 'fleetvisor-ts');
const cacheSalt = JSON.stringify(swcOptions) + swc.version + process.version;
let cacheWritable = true;

function transpile(source, filename) {
  const key = crypto.createHash('sha1').update(cacheSalt).update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, key + '.js');
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not cached yet
  }
  const { code } = swc.transformSync(source, { ...swcOptions, filename });
  if (cacheWritable) {
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      const tmp = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, code);
      fs.renameSync(tmp, cached);
    } catch {
      cacheWritable = false;
    }
  }
  return code;
}

if (!global.__fleetvisorRegistered) {
  global.__fleetvisorRegistered = true;
  process.setSourceMapsEnabled(true);

  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function resolveAlias(request, parent, isMain, options) {
    const target = aliases.get(request);
    return resolveFilename.call(this, target === undefined ? request : target, parent, isMain, options);
  };

  Module._extensions['.ts'] = function compileTs(module, filename) {
    module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
  };
}

#!/usr/bin/env node
// The `fleetvisor` command: the compiled CLI (`npm run build` writes dist/; `npm start` builds first).
'use strict';
const path = require('node:path');
const main = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
try {
  require.resolve(main);
} catch {
  process.stderr.write(`fleetvisor: not built yet (no ${path.relative(process.cwd(), main) || main}); run \`npm run build\` in ${path.join(__dirname, '..')}\n`);
  process.exit(1);
}
require(main);

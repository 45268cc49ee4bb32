#!/usr/bin/env node
// Development only (benches, scripts): runs a TypeScript entry point from source: SWC transpiles on load (with decorator metadata
// for NestJS) and tsconfig paths resolve the @fleetvisor/* libraries (bin/register.js). Usage: run-ts.js <file.ts> [args]
'use strict';
const path = require('node:path');
require('./register');
const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  process.stderr.write('usage: run-ts.js <file.ts> [args...]\n');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...rest];
require(path.resolve(entry));

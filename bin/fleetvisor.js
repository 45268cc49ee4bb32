#!/usr/bin/env node
// The `fleetvisor` command. Runs apps/cli from source through SWC (see bin/run-ts.js).
'use strict';
const path = require('node:path');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || path.join(__dirname, '..', 'tsconfig.base.json');
require('@swc-node/register');
require(path.join(__dirname, '..', 'apps', 'cli', 'src', 'main.ts'));

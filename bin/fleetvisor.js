#!/usr/bin/env node
// The `fleetvisor` command. Runs apps/cli from source, transpiled by SWC on load (bin/register.js).
'use strict';
const path = require('node:path');
require('./register');
require(path.join(__dirname, '..', 'apps', 'cli', 'src', 'main.ts'));

#!/usr/bin/env node
// Our registry mirror serves only the platform packages of this machine (linux x64 glibc), so
// `npm install` writes a lock without entries for other platforms' optional binaries (@swc/core-*,
// @rollup/rollup-*), and `npm ci` then refuses the lock as out of sync. This adds those entries,
// marked optional with the os/cpu/libc they are for, so `npm ci` sees a complete lock and skips
// them on this platform without fetching. Run after any `npm install` that changes the lock.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const pkgs = lock.packages;

const OS = ['darwin', 'win32', 'linux', 'android', 'freebsd', 'openbsd', 'openharmony', 'sunos', 'aix', 'netbsd'];
const CPU = { arm64: 'arm64', x64: 'x64', ia32: 'ia32', arm: 'arm', ppc64: 'ppc64', s390x: 's390x', riscv64: 'riscv64', loong64: 'loong64', wasm32: 'wasm32', universal: null };

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpuToken = parts.find((p) => p in CPU);
  const libc = parts.includes('musl') ? 'musl' : parts.includes('gnu') || parts.includes('gnueabihf') ? 'glibc' : undefined;
  return { os, cpu: cpuToken ? CPU[cpuToken] : undefined, libc };
}

let added = 0;
for (const [key, entry] of Object.entries(pkgs)) {
  for (const [dep, spec] of Object.entries(entry.optionalDependencies || {})) {
    const nested = key ? `${key}/node_modules/${dep}` : `node_modules/${dep}`;
    const top = `node_modules/${dep}`;
    if (pkgs[nested] || pkgs[top]) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (!os) throw new Error(`cannot tell the platform of optional dependency ${dep} (of ${key}); add it by hand`);
    if (os === process.platform && (!cpu || cpu === process.arch) && libc !== 'musl') {
      throw new Error(`${dep} is for this platform but missing from the lock: run npm install again`);
    }
    const stub = { version: spec, optional: true, os: [os] };
    if (cpu) stub.cpu = [cpu];
    if (libc) stub.libc = [libc];
    if (entry.dev) stub.dev = true;
    pkgs[top] = stub;
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
fs.writeFileSync(lockPath, JSON.stringify(lock, null, 2) + '\n');
process.stdout.write(`lock-platform-stubs: added ${added} entries\n`);

#!/usr/bin/env node
// Builds the release tree: what a host or an image runs, and nothing else. The compiled output
// (dist/), the `fleetvisor` launcher and the production dependencies from the lock, no TypeScript
// sources, tests, benches or dev tools. The Dockerfile copies this tree as it is, and the tests run
// it as an unprivileged user, so what ships is what was tested.
//
//   node scripts/release-tree.js [--out DIR] [--skip-build] [--json]
//
// The output directory is replaced only when it is a release tree itself (it holds RELEASE.json), so
// a mistyped --out never deletes anything else.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

function usage(message) {
  if (message) process.stderr.write(`release-tree: ${message}\n`);
  process.stderr.write(
    [
      'usage: node scripts/release-tree.js [--out DIR] [--skip-build] [--json]',
      '',
      '  --out DIR      where to write the tree (default: release/fleetvisor-<version>)',
      '  --skip-build   use the dist/ already built (npm run build) instead of building first',
      '  --json         print one JSON object describing the tree on the last line',
      '',
      'examples:',
      '  node scripts/release-tree.js',
      '  node scripts/release-tree.js --out /tmp/fleetvisor --skip-build --json',
      '',
    ].join('\n'),
  );
  process.exit(message ? 2 : 0);
}

function parseArgs(argv) {
  const opts = { out: undefined, build: true, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') usage();
    else if (a === '--skip-build') opts.build = false;
    else if (a === '--json') opts.json = true;
    else if (a === '--out') {
      if (!argv[i + 1]) usage('--out needs a directory');
      opts.out = argv[++i];
    } else usage(`unknown argument ${a}`);
  }
  return opts;
}

function say(opts, line) {
  // Progress goes to stderr so that --json's stdout stays one parseable object.
  process.stderr.write(`release-tree: ${line}\n`);
}

function run(cmd, args, cwd) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, NX_DAEMON: 'false' } });
}

/** Empties `dir` only when it is missing, empty, or an earlier release tree. */
function prepareOut(dir) {
  if (!fs.existsSync(dir)) return fs.mkdirSync(dir, { recursive: true });
  const entries = fs.readdirSync(dir);
  if (entries.length > 0 && !entries.includes('RELEASE.json')) {
    throw new Error(`${dir} exists and is not a release tree (no RELEASE.json); choose another --out or remove it yourself`);
  }
  for (const e of entries) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
}

function copyDir(from, to, keep) {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) copyDir(src, dst, keep);
    else if (e.isFile() && keep(src)) fs.copyFileSync(src, dst);
  }
}

/** Files the compiled program never loads: type declarations and source maps stay behind. */
function shipped(file) {
  return !file.endsWith('.d.ts') && !file.endsWith('.tsbuildinfo');
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function dirSize(dir) {
  let bytes = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) bytes += dirSize(p);
    else if (e.isFile()) bytes += fs.statSync(p).size;
  }
  return bytes;
}

/** Readable by any user (the service's own account), writable by nobody but the builder. */
function openUp(dir) {
  fs.chmodSync(dir, 0o755);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) openUp(p);
    else if (e.isFile()) fs.chmodSync(p, fs.statSync(p).mode & 0o111 ? 0o755 : 0o644);
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const out = path.resolve(opts.out ?? path.join(root, 'release', `fleetvisor-${pkg.version}`));

  if (opts.build) {
    say(opts, 'compiling (npm run build)');
    run('npm', ['run', 'build', '--silent'], root);
  }
  const dist = path.join(root, 'dist');
  if (!fs.existsSync(path.join(dist, 'apps', 'cli', 'src', 'main.js'))) throw new Error('dist/ holds no compiled CLI: run npm run build (or drop --skip-build)');

  prepareOut(out);
  say(opts, `writing ${out}`);
  copyDir(dist, path.join(out, 'dist'), shipped);
  fs.mkdirSync(path.join(out, 'bin'));
  for (const f of ['fleetvisor.js', 'healthcheck.js']) fs.copyFileSync(path.join(root, 'bin', f), path.join(out, 'bin', f));
  // The lock must match package.json for `npm ci`, so the manifest keeps its dependency lists;
  // the scripts go, because they drive tools the release does not carry.
  const { scripts: _scripts, ...manifest } = pkg;
  fs.writeFileSync(path.join(out, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  for (const f of ['package-lock.json', '.npmrc', 'README.md']) {
    if (fs.existsSync(path.join(root, f))) fs.copyFileSync(path.join(root, f), path.join(out, f));
  }

  say(opts, 'installing production dependencies (npm ci --omit=dev)');
  // --ignore-scripts: no package's install script runs on a release host; none of the production
  // dependencies needs one (they are pure JavaScript).
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], out);

  const release = { name: 'fleetvisor', version: pkg.version, commit: gitCommit(), node: pkg.engines?.node, builtAt: new Date().toISOString() };
  fs.writeFileSync(path.join(out, 'RELEASE.json'), JSON.stringify(release, null, 2) + '\n');
  openUp(out);

  const summary = { ...release, dir: out, bytes: dirSize(out) };
  say(opts, `done: ${out} (${(summary.bytes / 1048576).toFixed(1)} MiB)`);
  if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else process.stdout.write(out + '\n');
}

try {
  main();
} catch (e) {
  process.stderr.write(`release-tree: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}

// Writes the JSON Schemas and docs/events.md generated from libs/contracts.
//   node bin/run-ts.js libs/contracts/scripts/generate-schemas.ts           (npm run gen:schemas)
//   node bin/run-ts.js libs/contracts/scripts/generate-schemas.ts --check   exit 1 if docs are stale
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GENERATED_DIRS, generateSchemaDocs } from './schema-docs';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface Drift {
  changed: string[];
  missing: string[];
  stale: string[];
}

/** Compares what would be generated with what is on disk under `root`. */
export function findDrift(files: Map<string, string>, root = REPO_ROOT): Drift {
  const drift: Drift = { changed: [], missing: [], stale: [] };
  for (const [rel, content] of files) {
    const abs = path.join(root, rel);
    if (!existsSync(abs)) drift.missing.push(rel);
    else if (readFileSync(abs, 'utf8') !== content) drift.changed.push(rel);
  }
  for (const dir of GENERATED_DIRS) {
    const abs = path.join(root, dir);
    if (!existsSync(abs)) continue;
    for (const name of readdirSync(abs)) {
      const rel = `${dir}/${name}`;
      if (!files.has(rel)) drift.stale.push(rel);
    }
  }
  return drift;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const files = generateSchemaDocs();
  const drift = findDrift(files);
  const count = drift.changed.length + drift.missing.length + drift.stale.length;
  if (check) {
    if (count === 0) {
      process.stdout.write(`schemas up to date (${files.size} files)\n`);
      return 0;
    }
    for (const f of drift.changed) process.stderr.write(`differs: ${f}\n`);
    for (const f of drift.missing) process.stderr.write(`missing: ${f}\n`);
    for (const f of drift.stale) process.stderr.write(`not generated (stale): ${f}\n`);
    process.stderr.write(`${count} file(s) out of date: run npm run gen:schemas\n`);
    return 1;
  }
  for (const rel of [...drift.changed, ...drift.missing]) {
    const abs = path.join(REPO_ROOT, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, files.get(rel)!);
  }
  for (const rel of drift.stale) rmSync(path.join(REPO_ROOT, rel));
  process.stdout.write(
    `${files.size} files: ${drift.missing.length} written, ${drift.changed.length} updated, ${drift.stale.length} stale removed, ${files.size - drift.missing.length - drift.changed.length} unchanged\n`,
  );
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(__filename)) {
  process.exitCode = main(process.argv.slice(2));
}

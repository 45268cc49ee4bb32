// Runs one bench phase in a fresh Node process (its own heap, RSS and pg type parsers) and reads
// back its result: the phase prints progress on stderr and one JSON object as its last stdout line.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { emitResult } from './log';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const RUN_TS = path.join(REPO_ROOT, 'bin', 'run-ts.js');

export async function runPhase<TResult>(entryFile: string, input: unknown): Promise<TResult> {
  const child = spawn(process.execPath, [RUN_TS, entryFile, JSON.stringify(input)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  const lines = stdout.split('\n').filter((l) => l.trim() !== '');
  const last = lines[lines.length - 1];
  if (code !== 0 || last === undefined) {
    throw new Error(`phase ${path.basename(entryFile)} exited with code ${code}${last ? `; last output: ${last.slice(0, 500)}` : ''}`);
  }
  return JSON.parse(last) as TResult;
}

/** True when `filename` is the entry point given to bin/run-ts.js (it rewrites argv[1]). */
export function isEntryPoint(filename: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === filename;
}

/** The body of a phase process: parses its JSON input, runs, prints the result, exits. */
export function phaseMain<TInput, TResult>(run: (input: TInput) => Promise<TResult>): void {
  const raw = process.argv[2];
  if (raw === undefined) {
    process.stderr.write('usage: run-ts.js <phase.ts> <json-input>\n');
    process.exit(2);
  }
  run(JSON.parse(raw) as TInput).then(
    (result) => {
      emitResult(result);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`phase failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

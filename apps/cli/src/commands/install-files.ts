// Files the CLI writes for an operator to install (units, configs, credentials): never half written,
// and a private file is never readable by others, not even for the moment before a chmod.
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes a file through a temporary one in the same directory, with its mode set before the rename. */
export function writeFileAtomic(file: string, text: string, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/** A file that holds secrets: mode 0600. */
export const writePrivateFile = (file: string, text: string): void => writeFileAtomic(file, text, 0o600);
/** A file anyone may read (a unit): mode 0644. */
export const writePublicFile = (file: string, text: string): void => writeFileAtomic(file, text, 0o644);

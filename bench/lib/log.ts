// Human progress output goes to stderr, so the last stdout line stays the machine-readable result.
export function progress(message: string): void {
  const t = new Date().toISOString().slice(11, 23);
  process.stderr.write(`[bench ${t}] ${message}\n`);
}

/** Prints one JSON object as the last line of stdout (the bench's result contract). */
export function emitResult(result: unknown): void {
  process.stdout.write(JSON.stringify(result) + '\n');
}

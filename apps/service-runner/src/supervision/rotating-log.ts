// Per-service log file with size-based rotation: <name>.log, <name>.log.1 ... <name>.log.<keep>.
// Two ways in: the runner writes what it reads from a child's pipes (`wrap`: synchronous appends,
// order kept across stdout/stderr, rotation by rename at the exact size), or the child writes the
// file itself (`start`: the child holds its own O_APPEND descriptor so that it outlives the runner,
// ADR 0007) and the runner rotates by copy-then-truncate, as logrotate's copytruncate does: the
// child's descriptor stays valid and its next append lands at the start of the emptied file.
import { closeSync, copyFileSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import path from 'node:path';

export class RotatingLog {
  private fd: number | undefined;
  private size = 0;

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
  }

  write(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.fd === undefined) this.open();
    if (this.size > 0 && this.size + buf.length > this.maxBytes) this.rotate();
    writeSync(this.fd!, buf);
    this.size += buf.length;
  }

  /**
   * A descriptor on the file opened for appending, for a child's stdout and stderr. The caller
   * closes it once the child is spawned (the child keeps its own copy).
   */
  openForChild(): number {
    return openSync(this.file, 'a', 0o640);
  }

  /**
   * Rotation of a file a child writes itself: when it is past the size limit, the file is copied
   * to .1 (older ones shifted) and truncated in place. Output the child appends between the copy
   * and the truncation is lost (a few bytes at most, logrotate's copytruncate has the same window),
   * and a file can pass the limit by what the child writes between two checks.
   */
  rotateIfFull(): boolean {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return false;
    }
    if (size <= this.maxBytes) return false;
    rmSync(`${this.file}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) {
      if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    }
    if (this.keep >= 1) copyFileSync(this.file, `${this.file}.1`);
    truncateSync(this.file, 0);
    return true;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    this.fd = openSync(this.file, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.close();
    rmSync(`${this.file}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) {
      if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    }
    if (this.keep >= 1) renameSync(this.file, `${this.file}.1`);
    this.open();
  }
}

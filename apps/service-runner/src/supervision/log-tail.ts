// Reads what a child appends to its log file (the child writes the file itself, ADR 0007): the
// runner still has to see a keyring prompt to answer it, without holding a pipe the child would
// die on (SIGPIPE) once the runner is gone. Polls from a start offset. A rotation (copy then
// truncate, by this same runner) calls rewind(): the file may have grown past the old offset again
// before the next poll, so its size alone cannot tell; a file found shorter than the offset is read
// from 0 as well.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export class LogTail {
  private fd: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private offset: number,
    private readonly onData: (chunk: Buffer) => void,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.poll(), this.intervalMs);
  }

  /** Reads what is new now. */
  poll(): void {
    try {
      this.fd ??= openSync(this.file, 'r');
      const size = fstatSync(this.fd).size;
      if (size < this.offset) this.offset = 0;
      while (this.offset < size) {
        const buf = Buffer.alloc(Math.min(64 * 1024, size - this.offset));
        const n = readSync(this.fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        this.onData(buf.subarray(0, n));
      }
    } catch {
      // the file is being rotated or not there yet: the next poll reads it
    }
  }

  /** The file was truncated (rotated): read it from its start. */
  rewind(): void {
    this.offset = 0;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

// Rotation of a log file a child writes itself (live-restore, ADR 0007): copy-then-truncate keeps
// the child's O_APPEND descriptor valid, and its next write lands at the start of the emptied file.
import { closeSync, existsSync, mkdtempSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LogTail } from './log-tail';
import { RotatingLog } from './rotating-log';

const dir = mkdtempSync(path.join(tmpdir(), 'fv-rotlog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RotatingLog for a child that writes the file itself', () => {
  it('copies and truncates past the limit; the writer\'s descriptor goes on at offset 0; N files kept', () => {
    const file = path.join(dir, 'svc.log');
    const log = new RotatingLog(file, 100, 2);
    const fd = log.openForChild(); // what the child holds as stdout/stderr
    try {
      writeSync(fd, 'a'.repeat(60) + '\n');
      expect(log.rotateIfFull()).toBe(false);
      writeSync(fd, 'b'.repeat(60) + '\n');
      expect(log.rotateIfFull()).toBe(true);
      expect(readFileSync(`${file}.1`, 'utf8')).toBe('a'.repeat(60) + '\n' + 'b'.repeat(60) + '\n');
      expect(readFileSync(file, 'utf8')).toBe('');
      // The same descriptor (O_APPEND) writes at the new end: no hole of zeros, no lost file.
      writeSync(fd, 'c'.repeat(120) + '\n');
      expect(readFileSync(file, 'utf8')).toBe('c'.repeat(120) + '\n');
      expect(log.rotateIfFull()).toBe(true);
      writeSync(fd, 'd\n');
      expect(log.rotateIfFull()).toBe(false);
      expect(readFileSync(`${file}.2`, 'utf8')).toMatch(/^a+\nb+\n$/);
      expect(readFileSync(`${file}.1`, 'utf8')).toBe('c'.repeat(120) + '\n');
      expect(readFileSync(file, 'utf8')).toBe('d\n');
      expect(log.rotateIfFull()).toBe(false);
      writeSync(fd, 'e'.repeat(200));
      expect(log.rotateIfFull()).toBe(true);
      expect(existsSync(`${file}.3`)).toBe(false); // only 2 kept: the oldest (a, b) dropped
      expect(readFileSync(`${file}.2`, 'utf8')).toBe('c'.repeat(120) + '\n');
    } finally {
      closeSync(fd);
    }
  });

  it('a tail of the file (the keyring prompt) sees new output and starts over after a rotation', () => {
    const file = path.join(dir, 'tail.log');
    const log = new RotatingLog(file, 10, 1);
    const fd = log.openForChild();
    const seen: string[] = [];
    const tail = new LogTail(file, 0, (d) => seen.push(d.toString()));
    try {
      writeSync(fd, 'lavap starting\n');
      tail.poll();
      expect(log.rotateIfFull()).toBe(true);
      tail.rewind(); // as the supervisor does after each rotation
      // The child writes more than the old offset before the tail looks again: only the rewind tells.
      writeSync(fd, 'Enter keyring passphrase: ');
      tail.poll();
      expect(seen).toEqual(['lavap starting\n', 'Enter keyring passphrase: ']);
    } finally {
      tail.stop();
      closeSync(fd);
    }
  });
});

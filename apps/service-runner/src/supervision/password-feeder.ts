// Writes the keyring password to a child's stdin when the child asks for it on stdout/stderr
// ("Enter keyring passphrase:"). The password never goes into an argument, an environment
// variable, a log line or an event; the prompt line itself is logged, the answer is not.
import type { Writable } from 'node:stream';

export const DEFAULT_PROMPT = /(passphrase|password)[^\n]*:\s*$/i;

export class PasswordFeeder {
  private tail = '';

  constructor(
    private readonly stdin: Writable,
    private readonly password: () => string | undefined,
    private readonly prompt: RegExp = DEFAULT_PROMPT,
  ) {}

  /** Feed every chunk the child prints; answers when the text so far ends in a prompt. True once it answered. */
  onOutput(chunk: Buffer): boolean {
    this.tail = (this.tail + chunk.toString('utf8')).slice(-512);
    const lastLine = this.tail.slice(this.tail.lastIndexOf('\n') + 1);
    if (!this.prompt.test(lastLine)) return false;
    this.tail = '';
    const pw = this.password();
    if (pw === undefined || this.stdin.destroyed) return false;
    this.stdin.write(pw + '\n');
    return true;
  }
}

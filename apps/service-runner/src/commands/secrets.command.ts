// `fleetvisor secrets set-password`: stores the keyring password encrypted (scrypt + AES-256-GCM).
// The password is read from stdin (typed without echo on a terminal), never from an argument; the
// key comes from FLEETVISOR_SECRETS_PASSPHRASE or the key file (FLEETVISOR_SECRETS_KEY_FILE / --key-file).
import path from 'node:path';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { KeyringPasswordStore, type KeySource } from '../secrets/secret-box';
import { directoryOption, setup } from './common';

function readSecretLine(prompt: string, err: (t: string) => void): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let buf = '';
    const tty = stdin.isTTY === true;
    if (tty) {
      err(prompt);
      stdin.setRawMode(true);
    }
    stdin.setEncoding('utf8');
    const done = (value: string | Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      if (tty) {
        stdin.setRawMode(false);
        err('\n');
      }
      stdin.pause();
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\u0003') return done(new Error('interrupted'));
        if (ch === '\r' || ch === '\n') return done(buf);
        if (ch === '\u007f') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    const onEnd = () => done(buf);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}

export const secretsSetPasswordCommand = defineCliCommand({
  path: ['secrets', 'set-password'],
  summary: 'store the keyring password, encrypted at rest; the runner types it into a service that asks for it',
  description:
    'Reads the password from stdin (on a terminal: typed without echo). The encryption key is derived with scrypt from ' +
    'FLEETVISOR_SECRETS_PASSPHRASE, or from the contents of a key file (--key-file or FLEETVISOR_SECRETS_KEY_FILE). ' +
    'The runner needs the same passphrase or key file in its environment.',
  options: {
    ...directoryOption,
    'key-file': { type: 'string', description: 'key file (absolute path) instead of a passphrase', placeholder: 'file' },
  },
  examples: ['FLEETVISOR_SECRETS_KEY_FILE=/etc/fleetvisor/key fleetvisor secrets set-password < password.txt'],
  async run(ctx) {
    const { config, home } = setup(ctx.options.directory);
    const keyFile = ctx.options['key-file'] ?? config.secretsKeyFile;
    let src: KeySource;
    if (keyFile) src = { keyFile: path.resolve(keyFile) };
    else if (config.secretsPassphrase) src = { passphrase: config.secretsPassphrase };
    else throw new UsageError('no key: set FLEETVISOR_SECRETS_PASSPHRASE or FLEETVISOR_SECRETS_KEY_FILE, or give --key-file');
    const password = await readSecretLine('keyring password: ', ctx.io.err);
    if (!password) throw new UsageError('no password on stdin');
    home.ensureLayout();
    const store = new KeyringPasswordStore(home.secretsDir);
    store.set(password, src);
    ctx.io.out(`keyring password stored encrypted in ${store.file}\n`);
    return 0;
  },
});

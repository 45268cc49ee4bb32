// `fleetvisor secrets set-password [<service>]`: stores the keyring password, or one service's own
// password, encrypted (scrypt + AES-256-GCM). The password is read from stdin (typed without echo on
// a terminal), never from an argument; the key comes from FLEETVISOR_SECRETS_PASSPHRASE or the key
// file (FLEETVISOR_SECRETS_KEY_FILE / --key-file). A runner running for the home is told over its
// control socket, so that a service taking its password through its API (venus-wallet) gets it now.
import path from 'node:path';
import { defineCliCommand, UsageError } from '@fleetvisor/platform';
import { validServiceName } from '../home/names';
import { KeyringPasswordStore, type KeySource } from '../secrets/secret-box';
import { controlRequest } from '../supervision/control-socket';
import { directoryOption, jsonOption, setup } from './common';

type RunnerTold = { outcome: 'delivering' | 'next-start' } | { outcome: 'no-runner' } | { outcome: 'refused'; error: string };

async function tellRunner(socket: string, service: string): Promise<RunnerTold> {
  try {
    const reply = await controlRequest(socket, { op: 'password', service });
    if (!reply.ok) return { outcome: 'refused', error: reply.error };
    return { outcome: (reply.result as { outcome: 'delivering' | 'next-start' }).outcome };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED') return { outcome: 'no-runner' };
    return { outcome: 'refused', error: (e as Error).message };
  }
}

function runnerText(r: RunnerTold, service: string): string {
  switch (r.outcome) {
    case 'delivering':
      return `the running runner is delivering it to ${service} now (services status ${service} shows when its attention clears)`;
    case 'next-start':
      return `${service} gets it at its next start (fleetvisor services restart ${service})`;
    case 'no-runner':
      return `no runner is running for this home: ${service} gets it when \`fleetvisor start\` starts it`;
    case 'refused':
      return `the running runner did not take it: ${r.error}`;
  }
}

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
  args: '[<service>]',
  summary: "store the keyring password, or one service's password, encrypted at rest; the runner gives it to the service",
  description:
    'Reads the password from stdin (on a terminal: typed without echo). The encryption key is derived with scrypt from ' +
    'FLEETVISOR_SECRETS_PASSPHRASE, or from the contents of a key file (--key-file or FLEETVISOR_SECRETS_KEY_FILE). ' +
    'The runner needs the same passphrase or key file in its environment.\n' +
    'Without <service>: the keyring password, typed into every service that prompts for one (lavap). With <service>: that ' +
    "service's own password, used instead of the keyring one. A venus-wallet gets it through its own API (Filecoin.Unlock, " +
    'as `venus-wallet setpwd` does) after every start, and at once when a runner is running: the remedy of ' +
    "ServiceNeedsAttention \"password not set\". Private keys never pass through Fleetvisor: import and export them with venus-wallet.",
  options: {
    ...directoryOption,
    'key-file': { type: 'string', description: 'key file (absolute path) instead of a passphrase', placeholder: 'file' },
    ...jsonOption,
  },
  examples: [
    'FLEETVISOR_SECRETS_KEY_FILE=/etc/fleetvisor/key fleetvisor secrets set-password < password.txt',
    'fleetvisor secrets set-password wallet-1          # venus-wallet\'s password, typed without echo',
  ],
  async run(ctx) {
    if (ctx.positionals.length > 1) throw new UsageError('expected: secrets set-password [<service>]');
    const service = ctx.positionals[0] === undefined ? undefined : validServiceName(ctx.positionals[0]);
    const { config, home } = setup(ctx.options.directory);
    if (service !== undefined && !home.readConfig().services.includes(service)) throw new UsageError(`no service ${service} in ${home.configFile}`);
    const keyFile = ctx.options['key-file'] ?? config.secretsKeyFile;
    let src: KeySource;
    if (keyFile) src = { keyFile: path.resolve(keyFile) };
    else if (config.secretsPassphrase) src = { passphrase: config.secretsPassphrase };
    else throw new UsageError('no key: set FLEETVISOR_SECRETS_PASSPHRASE or FLEETVISOR_SECRETS_KEY_FILE, or give --key-file');
    const password = await readSecretLine(service ? `password of ${service}: ` : 'keyring password: ', ctx.io.err);
    if (!password) throw new UsageError('no password on stdin');
    home.ensureLayout();
    const store = new KeyringPasswordStore(home.secretsDir, service);
    store.set(password, src);
    const runner = service ? await tellRunner(home.socketPath, service) : undefined;
    if (ctx.options.json) {
      ctx.io.out(`${JSON.stringify({ file: store.file, ...(service ? { service } : {}), ...(runner ? { runner } : {}) })}\n`);
    } else {
      ctx.io.out(`${service ? `password of ${service}` : 'keyring password'} stored encrypted in ${store.file}\n`);
      if (runner && service) ctx.io.out(`${runnerText(runner, service)}\n`);
    }
    // Stored, but the running service does not get it: the operator has something left to fix.
    return runner?.outcome === 'refused' ? 1 : 0;
  },
});
